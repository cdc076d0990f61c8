/* SPDX-License-Identifier: MIT */
/* Test support: start the hostile DPS (dps_server.mjs) with a script, read what it counted, stop
 * it by PID. Functions print one line to stderr on failure. */
#ifndef IOTC_TEST_DPS_HARNESS_H
#define IOTC_TEST_DPS_HARNESS_H

#include <sys/types.h>

#include "iotc/dps.h"

typedef struct dps_hostile {
  pid_t pid;
  int https_port;
  int mqtt_port;
  char ca_file[1024];
  char log_file[1024];
} dps_hostile;

/* Start the server with @p script_json (see dps_server.mjs) on ephemeral loopback ports.
 * Waits up to 30 s for its ready line. Returns 0, or -1 with nothing left running. */
int dps_hostile_start(const char *script_json, dps_hostile *h);

/* Stop it by PID (SIGTERM, SIGKILL after 5 s), reap it and remove its log. No-op when pid is 0. */
void dps_hostile_stop(dps_hostile *h);

/* How many events of @p kind ("connect", "register", "poll") it logged so far. */
int dps_hostile_count(const dps_hostile *h, const char *kind);

/* A DPS configuration for this server: device-key credential, its CA, endpoint
 * localhost:<port of transport t>; the strings live in @p h and static storage. */
void dps_hostile_config(dps_hostile *h, iotc_dps_transport t, iotc_dps_config *cfg);

#endif
