/* SPDX-License-Identifier: MIT */
/* The I/O seam's real side (see io.h): Paho sessions (hub/session.c), DPS, CLOCK_MONOTONIC.
 * Stateless; the locking rules are those of io.h. */
#include <time.h>

#include "central/backoff.h"
#include "central/io.h"
#include "dps/dps_keep_open.h"
#include "net/ca_expiry.h"

uint64_t iotc__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t system_now(void *ctx) {
  (void)ctx;
  return iotc__now_ms();
}

static uint32_t system_random(void *ctx) {
  (void)ctx;
  return iotc__backoff_random();
}

/* The client connects to the assigned hub next: DPS's connection stays open until then. */
static iotc_result system_dps_create(const iotc_dps_config *cfg, iotc_dps **out, iotc_error *err) {
  iotc_result r = iotc_dps_create(cfg, out, err);
  if (r == IOTC_OK) iotc__dps_keep_open(*out);
  return r;
}

static void system_check_ca(const char *ca_file) { (void)iotc__ca_warn_expiring(ca_file); }

const iotc__io iotc__io_system = {
    .ctx = NULL,
    .now_ms = system_now,
    .random = system_random,
    .session_create = iotc__session_create,
    .session_connect = iotc__session_connect,
    .session_subscribe = iotc__session_subscribe,
    .session_publish = iotc__session_publish,
    .session_disconnect = iotc__session_disconnect,
    .session_tls_failure = iotc__session_tls_failure,
    .session_connect_cause = iotc__session_connect_cause,
    .session_destroy = iotc__session_destroy,
    .dps_create = system_dps_create,
    .dps_run = iotc_dps_run,
    .dps_cancel = iotc_dps_cancel,
    .dps_destroy = iotc_dps_destroy,
    .check_ca_file = system_check_ca,
};
