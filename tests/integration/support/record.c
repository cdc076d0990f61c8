/* SPDX-License-Identifier: MIT */
/* Test support: recording what the client's callbacks reported. */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void central_counter_init(central_counter *c) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->cond, &attr);
  pthread_condattr_destroy(&attr);
  c->value = 0;
}

void central_counter_destroy(central_counter *c) {
  pthread_cond_destroy(&c->cond);
  pthread_mutex_destroy(&c->lock);
}

void central_counter_add(central_counter *c, uint64_t n) {
  pthread_mutex_lock(&c->lock);
  c->value += n;
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->lock);
}

uint64_t central_counter_get(central_counter *c) {
  pthread_mutex_lock(&c->lock);
  uint64_t v = c->value;
  pthread_mutex_unlock(&c->lock);
  return v;
}

/* Wait until the counter reaches @p target or the monotonic @p deadline passes. */
static bool counter_wait_until(central_counter *c, uint64_t target, const struct timespec *deadline) {
  pthread_mutex_lock(&c->lock);
  int rc = 0;
  while (c->value < target && rc == 0) rc = pthread_cond_timedwait(&c->cond, &c->lock, deadline);
  bool ok = c->value >= target;
  uint64_t v = c->value;
  pthread_mutex_unlock(&c->lock);
  if (!ok) fprintf(stderr, "support: counter at %llu, waited for %llu\n", (unsigned long long)v,
                   (unsigned long long)target);
  return ok;
}

static struct timespec wait_deadline(void) {
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += CENTRAL_WAIT_MS / 1000;
  return deadline;
}

bool central_counter_wait(central_counter *c, uint64_t target) {
  struct timespec deadline = wait_deadline();
  return counter_wait_until(c, target, &deadline);
}

/* ---- completions ------------------------------------------------------------------------- */

void central_results_init(central_results *r) {
  memset(r, 0, sizeof *r);
  central_counter_init(&r->ok);
  central_counter_init(&r->failed);
  central_counter_init(&r->all);
  pthread_mutex_init(&r->lock, NULL);
  r->last_error = IOTC_OK;
}

void central_results_destroy(central_results *r) {
  central_counter_destroy(&r->ok);
  central_counter_destroy(&r->failed);
  central_counter_destroy(&r->all);
  pthread_mutex_destroy(&r->lock);
}

void central_on_done(iotc_client *client, iotc_result result, void *user_context) {
  (void)client;
  central_results *r = user_context;
  pthread_mutex_lock(&r->lock);
  uint64_t n = central_counter_get(&r->all);
  if (n < CENTRAL_RESULTS_KEPT) r->kept[n] = result;
  if (result != IOTC_OK) r->last_error = result;
  /* counted under the lock, so the n-th result is kept at n - 1 whatever the thread */
  central_counter_add(result == IOTC_OK ? &r->ok : &r->failed, 1);
  central_counter_add(&r->all, 1);
  pthread_mutex_unlock(&r->lock);
}

iotc_result central_results_nth(central_results *r, uint64_t n) {
  if (n < 1 || n > CENTRAL_RESULTS_KEPT || !central_counter_wait(&r->all, n)) return IOTC_ERR_TIMEOUT;
  pthread_mutex_lock(&r->lock);
  iotc_result result = r->kept[n - 1];
  pthread_mutex_unlock(&r->lock);
  return result;
}

iotc_result central_results_last_error(central_results *r) {
  pthread_mutex_lock(&r->lock);
  iotc_result result = r->last_error;
  pthread_mutex_unlock(&r->lock);
  return result;
}

void central_telemetry_options(iotc_telemetry_options *opts, central_results *results) {
  iotc_telemetry_options_init(opts);
  opts->on_done = central_on_done;
  opts->user_context = results;
}

/* ---- statuses ---------------------------------------------------------------------------- */

void central_statuses_init(central_statuses *s) {
  memset(s, 0, sizeof *s);
  for (int i = 0; i < CENTRAL_STATUS_KINDS; i++) central_counter_init(&s->seen[i]);
  central_counter_init(&s->all);
  pthread_mutex_init(&s->lock, NULL);
}

void central_statuses_destroy(central_statuses *s) {
  for (int i = 0; i < CENTRAL_STATUS_KINDS; i++) central_counter_destroy(&s->seen[i]);
  central_counter_destroy(&s->all);
  pthread_mutex_destroy(&s->lock);
}

static bool known(iotc_connection_status status) {
  return (int)status >= 0 && (int)status < CENTRAL_STATUS_KINDS;
}

void central_on_status(iotc_client *client, const iotc_status_info *info, void *user_context) {
  (void)client;
  central_statuses *s = user_context;
  const char *message = info->message ? info->message : "";
  pthread_mutex_lock(&s->lock);
  uint64_t n = central_counter_get(&s->all);
  if (n < CENTRAL_STATUS_KEPT) {
    central_status_entry *e = &s->kept[n];
    e->status = info->status;
    e->reason = info->reason;
    snprintf(e->message, sizeof e->message, "%s", message);
  }
  snprintf(s->recent[n % 8], sizeof s->recent[0], "%s (%s): %.150s", iotc_status_str(info->status),
           iotc_strerror(info->reason), message);
  if (known(info->status)) {
    s->last_reason[info->status] = info->reason;
    snprintf(s->last_message[info->status], sizeof s->last_message[0], "%s", message);
    central_counter_add(&s->seen[info->status], 1);
  }
  /* counted under the lock, after the entry is kept: a waiter that sees it can read it */
  central_counter_add(&s->all, 1);
  pthread_mutex_unlock(&s->lock);
}

uint64_t central_status_count(central_statuses *s, iotc_connection_status status) {
  return known(status) ? central_counter_get(&s->seen[status]) : 0;
}

bool central_status_wait(central_statuses *s, iotc_connection_status status, uint64_t times) {
  return known(status) && central_counter_wait(&s->seen[status], times);
}

iotc_result central_status_reason(central_statuses *s, iotc_connection_status status) {
  if (!known(status)) return IOTC_OK;
  pthread_mutex_lock(&s->lock);
  iotc_result r = s->last_reason[status];
  pthread_mutex_unlock(&s->lock);
  return r;
}

void central_status_message(central_statuses *s, iotc_connection_status status, char *buf,
                            size_t size) {
  pthread_mutex_lock(&s->lock);
  snprintf(buf, size, "%s", known(status) ? s->last_message[status] : "");
  pthread_mutex_unlock(&s->lock);
}

/* The first kept entry at or after *from that matches, or -1; *from moves past those read. */
static long find_kept(central_statuses *s, size_t *from, iotc_connection_status status,
                      const char *text) {
  long found = -1;
  pthread_mutex_lock(&s->lock);
  size_t n = (size_t)central_counter_get(&s->all);
  for (; found < 0 && *from < n && *from < CENTRAL_STATUS_KEPT; (*from)++) {
    const central_status_entry *e = &s->kept[*from];
    if (e->status == status && (text == NULL || strstr(e->message, text))) found = (long)*from;
  }
  pthread_mutex_unlock(&s->lock);
  return found;
}

long central_status_find(central_statuses *s, size_t from, iotc_connection_status status,
                         const char *text) {
  struct timespec deadline = wait_deadline();
  for (;;) {
    long found = find_kept(s, &from, status, text);
    if (found >= 0) return found;
    /* wait for one more report than those read; the wait prints when it runs out */
    if (from >= CENTRAL_STATUS_KEPT || !counter_wait_until(&s->all, from + 1, &deadline)) break;
  }
  fprintf(stderr, "support: no status %s%s%s\n", iotc_status_str(status), text ? " with " : "",
          text ? text : "");
  return -1;
}

central_status_entry central_status_at(central_statuses *s, size_t index) {
  central_status_entry e;
  memset(&e, 0, sizeof e);
  pthread_mutex_lock(&s->lock);
  if (index < CENTRAL_STATUS_KEPT && index < central_counter_get(&s->all)) e = s->kept[index];
  pthread_mutex_unlock(&s->lock);
  return e;
}

void central_statuses_print(central_statuses *s) {
  pthread_mutex_lock(&s->lock);
  uint64_t n = central_counter_get(&s->all);
  for (uint64_t k = n > 8 ? n - 8 : 0; k < n; k++) printf("# status: %s\n", s->recent[k % 8]);
  pthread_mutex_unlock(&s->lock);
}

/* ---- log --------------------------------------------------------------------------------- */

void central_log_to_stderr(iotc_log_level level, const char *message, void *user_context) {
  (void)user_context;
  fprintf(stderr, "iotc %s: %s\n", iotc_log_level_name(level), message);
}

void central_log_warnings(void) {
  iotc_log_set_handler(central_log_to_stderr, getenv("IOTC_TEST_DEBUG") ? IOTC_LOG_DEBUG : IOTC_LOG_WARN,
                       NULL);
}
