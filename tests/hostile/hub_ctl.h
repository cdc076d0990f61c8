/* SPDX-License-Identifier: MIT */
/* Test support: start, script and stop the hostile hub (hub_server.mjs), and record what a client
 * tells its status callback. Functions print one line to stderr when they fail. */
#ifndef IOTC_TEST_HUB_CTL_H
#define IOTC_TEST_HUB_CTL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "iotc/client.h"
#include "record.h"

/** Guard for every wait: a test fails when one runs out; nothing asserts on durations. */
#define HUB_WAIT_MS 30000

typedef struct hub_ctl {
  int pid;            /* the server process, stopped by hub_stop() */
  int to_fd, from_fd; /* its stdin and stdout */
  int port;
  char address[64];   /* localhost:PORT */
  char ca_file[1024];
  char *buf;          /* its answers, one JSON line each */
  size_t len, cap;
} hub_ctl;

/** Start a hostile hub of this test's own (bounded wait for its ready line); 0 or -1. */
int hub_start(hub_ctl *h);

/** Stop it by its pid (SIGTERM, SIGKILL after 5 s) and reap it. No-op when not running. */
void hub_stop(hub_ctl *h);

/** Send one command (a JSON object, printf-style) and return its answer (new reference), or NULL
 * when the server did not answer within HUB_WAIT_MS plus the command's own wait. */
json_t *hub_cmd(hub_ctl *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** hub_cmd() for commands whose answer is only {"ok":true}: 0 when it was. */
int hub_do(hub_ctl *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Wait until the server's counter @p key reaches @p at_least (HUB_WAIT_MS); its value, or -1. */
long hub_wait(hub_ctl *h, const char *key, long at_least);

/** The server's counter @p key now, or -1. */
long hub_stat(hub_ctl *h, const char *key);

/** The server's recorded list @p key ("telemetryLog", "reportedLog", "responseLog"): new ref. */
json_t *hub_log(hub_ctl *h, const char *key);

/** A client configuration for the hub: connection string with a random key (the hub accepts any),
 * the hub's CA, short back-offs. @p cs is where the connection string is kept (>= 512 bytes). */
void hub_client_config(const hub_ctl *h, const char *device_id, char *cs, size_t cs_size,
                       iotc_client_config *cfg);

/* ---- what the status callback saw: record.h (central_statuses, central_on_status) ---- */

/* ---- outcomes of sends: record.h (central_results, central_on_done) ---- */

/** Send one telemetry message whose outcome goes to @p d. */
iotc_result hub_send(iotc_client *client, const char *json, central_results *d);

/* ---- one hub and one client, the common shape of a test ---- */

typedef struct hub_test {
  hub_ctl hub;
  central_statuses log;
  char cs[512];
  iotc_client_config cfg; /* hub_client_config(); adjust before hub_test_client() */
  iotc_client *client;
} hub_test;

/** Start a hub and fill t->cfg for @p device_id; NULL when the hub did not start. With
 * HUB_TEST_LOG=0..3 in the environment the library's log lines up to that level go to stderr. */
hub_test *hub_test_new(const char *device_id);
/** Create t->client from t->cfg with the status log as its status callback; NULL on failure. */
iotc_client *hub_test_client(hub_test *t);
/** Destroy the client (if any), stop the hub, free @p t. NULL is a no-op. */
void hub_test_free(hub_test *t);

#endif
