/* SPDX-License-Identifier: MIT */
/* Why a TLS connection failed, in words a field engineer can act on (internal).
 *
 * Paho reports OpenSSL's errors only through its ssl_error_cb, and says nothing at all when the
 * server's certificate does not name the host (its post-handshake name check). A note collects
 * what the callback reports; after a failed connect, iotc__tls_probe() repeats the handshake on
 * the calling thread to name the exact cause (verify result, host name, refused client
 * certificate). */
#ifndef IOTC_NET_TLS_DIAG_H
#define IOTC_NET_TLS_DIAG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IOTC__TLS_NOTE_SIZE 160

/** OpenSSL's first error line for one connect; written on Paho's thread, read on ours. */
typedef struct iotc__tls_note {
  pthread_mutex_t mu;
  char text[IOTC__TLS_NOTE_SIZE];
} iotc__tls_note;

void iotc__tls_note_init(iotc__tls_note *n);
void iotc__tls_note_destroy(iotc__tls_note *n);
void iotc__tls_note_clear(iotc__tls_note *n);

/** Paho's ssl_error_cb (context: the note). Copies the first reason and nothing else. */
int iotc__tls_note_cb(const char *str, size_t len, void *ctx);

/** Copy the note out ("" when OpenSSL reported nothing). */
void iotc__tls_note_get(iotc__tls_note *n, char *out, size_t size);

/**
 * Shorten one OpenSSL error line ("tid:error:code:lib:func:reason:file:line:data") to
 * "reason" (plus ": data" when present) in @p out. Other text is copied unchanged.
 */
void iotc__tls_reason(const char *line, size_t len, char *out, size_t size);

/**
 * Handshake with @p host:@p port as Paho does (trust only @p ca_file, check the host name,
 * present the client certificate when given) and describe what failed in @p out.
 * Blocks up to @p timeout_ms. Returns true when TLS failed (out filled); false when the
 * handshake passes or the server cannot be reached at all (not a TLS problem).
 */
bool iotc__tls_probe(const char *host, int port, const char *ca_file, const char *cert_file,
                     const char *key_file, uint32_t timeout_ms, char *out, size_t size);

#endif
