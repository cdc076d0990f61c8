/* SPDX-License-Identifier: MIT */
/* Test support: what the client's callbacks reported, for tests to wait on and check. Counters,
 * completions (on_done) in order, statuses (on_status) per kind, and log lines to stderr.
 * Every function may be called from any thread; waits are bounded by CENTRAL_WAIT_MS and print
 * one line to stderr when they run out. */
#ifndef IOTC_TEST_RECORD_H
#define IOTC_TEST_RECORD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/client.h"
#include "iotc/log.h"

/** Generous guard for every wait: a test fails when one runs out; nothing asserts on durations. */
#define CENTRAL_WAIT_MS 30000

/** A counter that callbacks bump and tests wait on. */
typedef struct central_counter {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  uint64_t value;
} central_counter;

void central_counter_init(central_counter *c);
void central_counter_destroy(central_counter *c);
void central_counter_add(central_counter *c, uint64_t n);
uint64_t central_counter_get(central_counter *c);
/** Wait until the counter reaches at least @p target. True when it did. */
bool central_counter_wait(central_counter *c, uint64_t target);

/* ---- completions ------------------------------------------------------------------------- */

#define CENTRAL_RESULTS_KEPT 16

/** The completions of sends and reports: counted by outcome, the first few kept in order. */
typedef struct central_results {
  central_counter ok;
  central_counter failed;
  central_counter all; /* bumped after the result is kept */
  pthread_mutex_t lock;
  iotc_result last_error; /* the last failure; IOTC_OK when none */
  iotc_result kept[CENTRAL_RESULTS_KEPT];
} central_results;

void central_results_init(central_results *r);
void central_results_destroy(central_results *r);
/** An iotc_done_fn: user_context is the central_results. */
void central_on_done(iotc_client *client, iotc_result result, void *user_context);
/** The result of the @p n-th completion (1-based, up to CENTRAL_RESULTS_KEPT), waiting for it;
 * IOTC_ERR_TIMEOUT when it never came. Kept per completion: several may arrive at once. */
iotc_result central_results_nth(central_results *r, uint64_t n);
/** The last failure recorded so far (IOTC_OK when none). */
iotc_result central_results_last_error(central_results *r);

/** Telemetry options (defaults) whose completions are recorded in @p results. */
void central_telemetry_options(iotc_telemetry_options *opts, central_results *results);

/* ---- statuses ---------------------------------------------------------------------------- */

#define CENTRAL_STATUS_KINDS (IOTC_STATUS_GAVE_UP + 1)
#define CENTRAL_STATUS_KEPT 256

/** One status report. */
typedef struct central_status_entry {
  iotc_connection_status status;
  iotc_result reason;
  char message[160];
} central_status_entry;

/** Every status the client reported: counted per kind, the first CENTRAL_STATUS_KEPT kept in
 * order, and the last 8 as "status (reason): message" lines, whatever the count. */
typedef struct central_statuses {
  central_counter seen[CENTRAL_STATUS_KINDS]; /* reports per kind */
  central_counter all;                        /* all reports; bumped after the entry is kept */
  pthread_mutex_t lock;
  central_status_entry kept[CENTRAL_STATUS_KEPT];
  iotc_result last_reason[CENTRAL_STATUS_KINDS];
  char last_message[CENTRAL_STATUS_KINDS][160];
  char recent[8][200];
} central_statuses;

void central_statuses_init(central_statuses *s);
void central_statuses_destroy(central_statuses *s);
/** An iotc_status_fn: user_context is the central_statuses. */
void central_on_status(iotc_client *client, const iotc_status_info *info, void *user_context);
/** How many times @p status was reported so far. */
uint64_t central_status_count(central_statuses *s, iotc_connection_status status);
/** Wait until @p status was reported at least @p times times. True when it was. */
bool central_status_wait(central_statuses *s, iotc_connection_status status, uint64_t times);
/** The reason of the last report of @p status (IOTC_OK when none). */
iotc_result central_status_reason(central_statuses *s, iotc_connection_status status);
/** The message of the last report of @p status into @p buf ("" when none). */
void central_status_message(central_statuses *s, iotc_connection_status status, char *buf,
                            size_t size);
/** Wait for a report of @p status at index >= @p from (among the kept ones) whose message
 * contains @p text (NULL: any); its index, or -1. */
long central_status_find(central_statuses *s, size_t from, iotc_connection_status status,
                         const char *text);
/** A copy of the kept report at @p index (a zeroed entry beyond those kept). */
central_status_entry central_status_at(central_statuses *s, size_t index);
/** Print the last 8 reports to stdout ("# status: ..."), to explain a failure. */
void central_statuses_print(central_statuses *s);

/* ---- log --------------------------------------------------------------------------------- */

/** An iotc_log_fn printing "iotc LEVEL: message" to stderr. */
void central_log_to_stderr(iotc_log_level level, const char *message, void *user_context);
/** Send the library's log to stderr: warnings and worse, everything with IOTC_TEST_DEBUG set. */
void central_log_warnings(void);

#endif
