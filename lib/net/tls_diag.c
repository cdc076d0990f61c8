/* SPDX-License-Identifier: MIT */
/* TLS failure detail: Paho's error callback note and a diagnostic handshake. */
#include "net/tls_diag.h"

#include "net/net_diag.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* Wait for a refusal alert this long after a completed handshake: with TLS 1.3 the server
 * judges the client certificate only after the client has finished. */
#define ALERT_WAIT_MS 1000u

void iotc__tls_note_init(iotc__tls_note *n) {
  pthread_mutex_init(&n->mu, NULL);
  n->text[0] = '\0';
}

void iotc__tls_note_destroy(iotc__tls_note *n) { pthread_mutex_destroy(&n->mu); }

void iotc__tls_note_clear(iotc__tls_note *n) {
  pthread_mutex_lock(&n->mu);
  n->text[0] = '\0';
  pthread_mutex_unlock(&n->mu);
}

void iotc__tls_reason(const char *line, size_t len, char *out, size_t size) {
  if (size == 0) return;
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) --len;
  const char *end = line + len;
  const char *p = NULL;
  for (const char *q = line; q + 7 <= end; ++q) {
    if (memcmp(q, ":error:", 7) == 0) {
      p = q + 7;
      break;
    }
  }
  /* Fields after "error:": code, library, function, reason, file, line, data. */
  const char *field[7] = {0};
  size_t flen[7] = {0};
  int nf = 0;
  while (p != NULL && nf < 7 && p <= end) {
    const char *colon = nf < 6 ? memchr(p, ':', (size_t)(end - p)) : NULL;
    const char *stop = colon ? colon : end;
    field[nf] = p;
    flen[nf] = (size_t)(stop - p);
    ++nf;
    if (colon == NULL) break;
    p = colon + 1;
  }
  if (nf < 4 || flen[3] == 0) {
    snprintf(out, size, "%.*s", (int)len, line);
    return;
  }
  if (nf == 7 && flen[6] > 0) {
    snprintf(out, size, "%.*s (%.*s)", (int)flen[3], field[3], (int)flen[6], field[6]);
  } else {
    snprintf(out, size, "%.*s", (int)flen[3], field[3]);
  }
}

int iotc__tls_note_cb(const char *str, size_t len, void *ctx) {
  iotc__tls_note *n = ctx;
  char reason[IOTC__TLS_NOTE_SIZE];
  iotc__tls_reason(str, len, reason, sizeof reason);
  pthread_mutex_lock(&n->mu);
  if (n->text[0] == '\0') memcpy(n->text, reason, sizeof reason);
  pthread_mutex_unlock(&n->mu);
  return 0;
}

void iotc__tls_note_get(iotc__tls_note *n, char *out, size_t size) {
  pthread_mutex_lock(&n->mu);
  snprintf(out, size, "%s", n->text);
  pthread_mutex_unlock(&n->mu);
}

/* ---- the diagnostic handshake -------------------------------------------------------------- */

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void set_timeouts(int fd, uint64_t ms) {
  struct timeval tv = {(time_t)(ms / 1000u), (suseconds_t)((ms % 1000u) * 1000u)};
  if (ms == 0) tv.tv_usec = 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static const char *first_reason(void) {
  unsigned long e = ERR_peek_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  return r ? r : "unknown reason";
}

/* The server certificate's subject, for "it is for ..." (a DNS name when there is one). */
static void cert_names(X509 *cert, char *out, size_t size) {
  out[0] = '\0';
  GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  size_t used = 0;
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && used + 1 < size; ++i) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
    if (g->type != GEN_DNS) continue;
    const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
    int n = snprintf(out + used, size - used, "%s%.*s", used ? ", " : "",
                     ASN1_STRING_length(g->d.dNSName), (const char *)d);
    if (n < 0) break;
    used += (size_t)n < size - used ? (size_t)n : size - used - 1;
  }
  GENERAL_NAMES_free(sans);
  if (used == 0) {
    X509_NAME_oneline(X509_get_subject_name(cert), out, (int)size);
  }
}

static bool handshake(SSL *ssl, const char *host, uint64_t until, char *out, size_t size) {
  ERR_clear_error();
  if (SSL_connect(ssl) != 1) {
    long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK) {
      snprintf(out, size, "the server certificate was not accepted: %s (X509 error %ld)",
               X509_verify_cert_error_string(vr), vr);
      return true;
    }
    if (ERR_peek_error() == 0) return false; /* closed during the handshake: not TLS itself */
    snprintf(out, size, "the TLS handshake failed: %s", first_reason());
    return true;
  }
  X509 *cert = SSL_get1_peer_certificate(ssl);
  if (cert == NULL) {
    snprintf(out, size, "the server sent no certificate");
    return true;
  }
  bool named = X509_check_host(cert, host, 0, 0, NULL) == 1 || X509_check_ip_asc(cert, host, 0) == 1;
  if (!named) {
    char names[96];
    cert_names(cert, names, sizeof names);
    snprintf(out, size, "host name mismatch: the server certificate is for %s, not %s", names,
             host);
  }
  X509_free(cert);
  if (!named) return true;
  /* TLS 1.3: a refused client certificate arrives as an alert after the handshake. */
  uint64_t now = mono_ms();
  uint64_t wait = until > now ? until - now : 0;
  set_timeouts(SSL_get_fd(ssl), wait < ALERT_WAIT_MS ? wait : ALERT_WAIT_MS);
  char byte;
  ERR_clear_error();
  if (SSL_read(ssl, &byte, 1) <= 0 && SSL_get_error(ssl, 0) == SSL_ERROR_SSL) {
    snprintf(out, size, "the server refused the client certificate: %s", first_reason());
    return true;
  }
  return false;
}

bool iotc__tls_probe(const char *host, int port, const char *ca_file, const char *cert_file,
                     const char *key_file, uint32_t timeout_ms, char *out, size_t size) {
  if (host == NULL || out == NULL || size == 0) return false;
  out[0] = '\0';
  uint64_t until = mono_ms() + timeout_ms;
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == NULL) return false;
  bool failed = false;
  ERR_clear_error();
  if (ca_file != NULL && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
    snprintf(out, size, "the CA file %s cannot be used: %s", ca_file, first_reason());
    failed = true;
  } else if (cert_file != NULL &&
             (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
              SSL_CTX_use_PrivateKey_file(ctx, key_file ? key_file : cert_file,
                                          SSL_FILETYPE_PEM) != 1)) {
    snprintf(out, size, "the client certificate or key cannot be used: %s", first_reason());
    failed = true;
  }
  if (!failed) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int fd = iotc__tcp_connect(host, port, until, NULL, 0);
    if (fd >= 0) {
      uint64_t now = mono_ms();
      set_timeouts(fd, until > now ? until - now : 0);
      SSL *ssl = SSL_new(ctx);
      if (ssl != NULL && SSL_set_fd(ssl, fd) == 1) {
        SSL_set_tlsext_host_name(ssl, host);
        failed = handshake(ssl, host, until, out, size);
      }
      SSL_free(ssl); /* no close_notify: the server is told nothing more */
      close(fd);
    }
  }
  SSL_CTX_free(ctx);
  ERR_clear_error(); /* the queue is per thread: leave nothing for curl or Paho */
  return failed;
}
