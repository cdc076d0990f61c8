/* SPDX-License-Identifier: MIT */
/* iotc_client_schedule(): callbacks the worker runs after a delay, in due order (ties in the
 * order they were scheduled). The jobs are a list sorted by due time, guarded by mu; a
 * cancelled job moves to the front with due time 0 so the worker completes it next. */
#include <stdlib.h>

#include "central/client_internal.h"
#include "common/log.h"

#define RUN_PER_ROUND 256

struct iotc__job {
  struct iotc__job *next;
  uint64_t id;
  uint64_t due_ms;
  bool cancelled;
  iotc_done_fn fn;
  void *user_context;
};

/* Insert @p job after every job due at or before it (mu held). True when it is now first. */
static bool insert_locked(iotc_client *c, iotc__job *job) {
  iotc__job **pp = &c->jobs;
  while (*pp && (*pp)->due_ms <= job->due_ms) pp = &(*pp)->next;
  job->next = *pp;
  *pp = job;
  return pp == &c->jobs;
}

iotc_result iotc_client_schedule(iotc_client *c, uint32_t delay_ms, iotc_done_fn fn,
                                 void *user_context, uint64_t *out_id) {
  static const char f[] = "iotc_client_schedule";
  if (out_id) *out_id = 0;
  if (c == NULL || fn == NULL) {
    IOTC_LOGE("%s: %s is NULL", f, c == NULL ? "client" : "fn");
    return IOTC_ERR_INVALID_ARG;
  }
  iotc__job *job = calloc(1, sizeof *job);
  if (job == NULL) return IOTC_ERR_NO_MEMORY;
  job->due_ms = iotc__client_now(c) + delay_ms;
  job->fn = fn;
  job->user_context = user_context;
  pthread_mutex_lock(&c->mu);
  if (c->quit) {
    pthread_mutex_unlock(&c->mu);
    free(job);
    IOTC_LOGE("%s: the client is being destroyed", f);
    return IOTC_ERR_STATE;
  }
  job->id = ++c->job_counter;
  if (insert_locked(c, job)) iotc__wake_locked(c); /* earlier than what the worker waits for */
  if (out_id) *out_id = job->id;
  pthread_mutex_unlock(&c->mu);
  return IOTC_OK;
}

iotc_result iotc_client_cancel_scheduled(iotc_client *c, uint64_t id) {
  if (c == NULL) {
    IOTC_LOGE("iotc_client_cancel_scheduled: client is NULL");
    return IOTC_ERR_INVALID_ARG;
  }
  pthread_mutex_lock(&c->mu);
  iotc_result r = IOTC_ERR_NOT_FOUND;
  for (iotc__job **pp = &c->jobs; *pp; pp = &(*pp)->next) {
    iotc__job *job = *pp;
    if (job->id != id || job->cancelled) continue;
    *pp = job->next;
    job->cancelled = true;
    job->due_ms = 0;
    insert_locked(c, job); /* after the other cancelled ones: completions keep their order */
    iotc__wake_locked(c);
    r = IOTC_OK;
    break;
  }
  pthread_mutex_unlock(&c->mu);
  return r;
}

uint64_t iotc__jobs_next_due_locked(const iotc_client *c) {
  return c->jobs ? c->jobs->due_ms : UINT64_MAX;
}

void iotc__jobs_run_due(iotc_client *c) {
  /* Only what was due when this round began, and a bounded number: a callback that schedules
   * itself with no delay must not keep the worker from its other work. */
  uint64_t now = iotc__client_now(c);
  for (int n = 0; n < RUN_PER_ROUND; n++) {
    pthread_mutex_lock(&c->mu);
    iotc__job *job = c->jobs;
    if (job == NULL || job->due_ms > now) job = NULL;
    if (job) c->jobs = job->next;
    pthread_mutex_unlock(&c->mu);
    if (job == NULL) return;
    job->fn(c, job->cancelled ? IOTC_ERR_CANCELLED : IOTC_OK, job->user_context);
    free(job);
  }
}

void iotc__jobs_shutdown(iotc_client *c) {
  for (;;) {
    pthread_mutex_lock(&c->mu);
    iotc__job *job = c->jobs;
    if (job) c->jobs = job->next;
    pthread_mutex_unlock(&c->mu);
    if (job == NULL) return;
    job->fn(c, job->cancelled ? IOTC_ERR_CANCELLED : IOTC_ERR_SHUTDOWN, job->user_context);
    free(job);
  }
}
