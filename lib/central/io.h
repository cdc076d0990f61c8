/* SPDX-License-Identifier: MIT */
/* The client's I/O seam: every call the connection state machine makes to the outside world
 * (the MQTT session, DPS provisioning, the clock, randomness, the CA-file check) goes through
 * one table of function pointers, so the state machine can run against a scripted fake with a
 * fake clock (tests/unit/test_client_conn.c) as well as against Paho and DPS (io_system.c).
 *
 * Locking: the table is immutable and shared. The session functions follow hub/session.h
 * (called from the worker; publish from any thread while the session is kept alive). now_ms
 * and random may be called from any thread, under any of the client's locks. dps_cancel may be
 * called from any thread with mu held. dps_destroy runs on the provisioning thread after a failed
 * run, and on the worker after a successful one (whose connection stays open until the hub
 * connect has started). */
#ifndef IOTC_CENTRAL_IO_H
#define IOTC_CENTRAL_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/session.h"
#include "iotc/dps.h"

typedef struct iotc__io {
  void *ctx; /* passed to now_ms and random */
  uint64_t (*now_ms)(void *ctx);   /* monotonic milliseconds */
  uint32_t (*random)(void *ctx);   /* uniform 32-bit value, for back-off jitter */
  iotc_result (*session_create)(const iotc__session_config *cfg, const iotc__session_sink *sink,
                                iotc__session **out, const char **why);
  iotc_result (*session_connect)(iotc__session *s, const char *password);
  iotc_result (*session_subscribe)(iotc__session *s, const char *device_id);
  iotc_result (*session_publish)(iotc__session *s, const char *topic, const void *payload,
                                 size_t payload_len, int qos, iotc__session_op *op);
  iotc_result (*session_disconnect)(iotc__session *s, uint32_t timeout_ms);
  bool (*session_tls_failure)(iotc__session *s, char *out, size_t size);
  bool (*session_connect_cause)(iotc__session *s, char *out, size_t size);
  void (*session_destroy)(iotc__session *s);
  iotc_result (*dps_create)(const iotc_dps_config *cfg, iotc_dps **out, iotc_error *err);
  iotc_result (*dps_run)(iotc_dps *dps, iotc_dps_registration *reg, iotc_error *err);
  void (*dps_cancel)(iotc_dps *dps);
  void (*dps_destroy)(iotc_dps *dps);
  void (*check_ca_file)(const char *ca_file); /* warn when the trust bundle expires soon */
} iotc__io;

/** The real world: Paho sessions, DPS, CLOCK_MONOTONIC. */
extern const iotc__io iotc__io_system;

#endif
