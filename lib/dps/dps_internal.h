/* SPDX-License-Identifier: MIT */
/* Shared state of a provisioning handle and the contract between the polling loop and the two
 * transports (MQTT in dps_mqtt.c, HTTPS in dps_https.c). */
#ifndef IOTC_DPS_INTERNAL_H
#define IOTC_DPS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "iotc/dps.h"

/* Responses larger than this are refused as a protocol violation (real ones are < 2 KiB). */
#define IOTC__DPS_MAX_RESPONSE 65536

struct iotc_dps {
  char *id_scope;
  char *registration_id;
  char *host;              /* without brackets or port */
  int port;
  iotc_dps_transport transport;
  iotc_dps_credential credential;
  char *device_key;        /* secret: individual key, or the key derived from the group key */
  char *cert_file;
  char *key_file;
  char *ca_file;
  char *request_body;      /* {"registrationId":...,"payload":...} */
  uint32_t timeout_ms;
  uint32_t request_timeout_ms;
  uint32_t max_poll_ms;

  /* Guarded by lock: cancellation and everything a transport's callbacks hand over. */
  pthread_mutex_t lock;
  pthread_cond_t cond;     /* CLOCK_MONOTONIC */
  bool cancelled;

  unsigned rid_counter;
  unsigned jitter_state;

  /* iotc__dps_keep_open(): a successful run's connection, closed by the next run or destroy. */
  bool keep_open;
  const struct iotc__dps_transport *open_transport;
  void *open_state;
};

/* One answer from DPS, whatever the transport. */
typedef struct iotc__dps_reply {
  int status;              /* HTTP-like status */
  bool has_retry_after;
  uint32_t retry_after_s;
  char *body;              /* NUL-terminated, owned (malloc) */
  size_t body_len;
} iotc__dps_reply;

void iotc__dps_reply_clear(iotc__dps_reply *reply);

/* A transport: open once, then one request per register/poll, then close (always called). */
typedef struct iotc__dps_transport {
  iotc_result (*open)(iotc_dps *dps, void **state, uint64_t deadline_ms, iotc_error *err);
  /* operation_id NULL: the register request; otherwise the operation-status query. */
  iotc_result (*request)(iotc_dps *dps, void *state, const char *operation_id,
                         uint64_t deadline_ms, iotc__dps_reply *reply, iotc_error *err);
  void (*close)(iotc_dps *dps, void *state);
} iotc__dps_transport;

/* The two transports (functions rather than global objects: no exported data symbols). */
const iotc__dps_transport *iotc__dps_mqtt_transport(void);
const iotc__dps_transport *iotc__dps_https_transport(void);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t iotc__dps_now_ms(void);

/* Absolute CLOCK_MONOTONIC time for pthread_cond_timedwait. */
struct timespec iotc__dps_abstime(uint64_t at_ms);

/* True once iotc_dps_cancel() was called (takes the lock). */
bool iotc__dps_cancelled(iotc_dps *dps);

/* Wait on dps->cond until at_ms or cancellation. Returns IOTC_ERR_CANCELLED or IOTC_OK. */
iotc_result iotc__dps_sleep_until(iotc_dps *dps, uint64_t at_ms);

/* Fill err (nullable) and return result (dps_fail.c). The message is formatted; no secrets. */
iotc_result iotc__dps_fail(iotc_error *err, iotc_result result, int status, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Copy text into err->transport (nullable err). */
void iotc__dps_set_transport_text(iotc_error *err, const char *text);

/* SAS password for the registration, valid for an hour; caller wipes and frees (secret). */
iotc_result iotc__dps_sas(const iotc_dps *dps, char **out, iotc_error *err);

/* Interpret one reply. On IOTC_OK with *done false, *operation_id (malloc) names the operation
 * to poll and *wait_ms the pause before polling. With *done true, out is filled. Retryable
 * refusals (429, 5xx) return IOTC_ERR_THROTTLED / IOTC_ERR_SERVICE with *retryable set. */
iotc_result iotc__dps_interpret(const iotc__dps_reply *reply, bool *done, char **operation_id,
                                bool *retryable, iotc_dps_registration *out, iotc_error *err);

/* Build {"registrationId":...,"payload":...}; payload_json must be a JSON object. */
iotc_result iotc__dps_request_body(const char *registration_id, const char *model_id,
                                   const char *payload_json, char **out, iotc_error *err);

#endif
