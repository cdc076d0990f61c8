/* SPDX-License-Identifier: MIT */
/* The client's worker: one thread that waits for the earliest deadline or an event, routes what
 * arrived to its feature, and dispatches to the connection state machine (conn.c); or, with a
 * shared executor (executor.c), the same rounds run one at a time on the executor's threads.
 * Every user callback runs here. Locking: the worker takes mu only to collect its inbox and to
 * sleep. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "central/client_internal.h"
#include "central/conn.h"
#include "central/stack_check.h"
#include "common/log.h"
#include "iotc/hub_topic.h"

#define NO_TIMER UINT64_MAX
/* This thread's stack: a client's command handler may run on any executor thread. */
static _Thread_local uintptr_t stack_lo, stack_hi;
static _Thread_local bool stack_known;

/* ---- routing ---------------------------------------------------------------------------- */

/* A twin response answers our twin GET or the reported PATCH in flight. */
static void on_twin_response(iotc_client *c, const iotc__event *ev) {
  iotc_hub_twin_response res;
  if (iotc_hub_topic_twin_response_parse(ev->topic, ev->topic_len, &res) != IOTC_OK) {
    IOTC_LOGW("ignoring a malformed twin response topic");
    return;
  }
  if (!iotc__desired_on_response(c, &res, ev) && !iotc__reported_on_response(c, &res)) {
    IOTC_LOGD("ignoring a twin response for an unknown request");
  }
}

/* A message over its size limit: a command is answered 413, anything else is dropped; both
 * with a log line. */
static void refuse_oversized(iotc_client *c, const iotc__event *ev) {
  size_t max = iotc__inbox_limit(ev->topic, ev->topic_len);
  iotc_hub_method_request m;
  if (iotc_hub_topic_method_parse(ev->topic, ev->topic_len, &m) == IOTC_OK) {
    char *rid = iotc__view_dup(m.request_id);
    char msg[160];
    snprintf(msg, sizeof msg, "the command payload (%zu bytes) is larger than the %zu bytes the "
             "device accepts", ev->oversize, max);
    IOTC_LOGW("%s: answering 413", msg);
    if (rid) iotc__commands_refuse(c, rid, 413, msg);
    if (rid == NULL && m.request_id.ptr != NULL) {
      iotc__count_dropped(c, 1);
      IOTC_LOGE("the 413 answer to an oversized command dropped: out of memory");
    }
    free(rid);
    return;
  }
  IOTC_LOGW("ignoring a %s of %zu bytes: larger than the %zu bytes accepted",
            max == IOTC__IN_TWIN_MAX ? "twin message" : "cloud-to-device message", ev->oversize,
            max);
}

/* Which feature a message belongs to: the pure layer's parsers, each answering
 * IOTC_ERR_NO_MATCH for the other features' topics, tried in turn. True when @p ev was kept. */
static bool route(iotc_client *c, iotc__event *ev) {
  const char *t = ev->topic;
  size_t n = ev->topic_len;
  iotc_hub_twin_response tr;
  iotc_hub_twin_desired td;
  iotc_hub_method_request mr;
  iotc_hub_c2d_message m;
  if (iotc_hub_topic_twin_response_parse(t, n, &tr) != IOTC_ERR_NO_MATCH) {
    on_twin_response(c, ev);
  } else if (iotc_hub_topic_twin_desired_parse(t, n, &td) != IOTC_ERR_NO_MATCH) {
    return iotc__desired_on_patch(c, ev);
  } else if (iotc_hub_topic_method_parse(t, n, &mr) != IOTC_ERR_NO_MATCH) {
    iotc__commands_on_request(c, ev);
  } else if (iotc_hub_topic_c2d_parse(t, n, &m) == IOTC_OK) {
    iotc__c2d_on_message(c, ev, &m);
  } else {
    IOTC_LOGW("ignoring a message on an unexpected topic");
  }
  return false;
}

static void process_message(iotc_client *c, iotc__event *ev) {
  if (ev->gen != c->session_gen) { /* from a connection that is gone */
    iotc__free_event(ev);
    return;
  }
  if (ev->early) { /* MQTT forbids it; a handler run now could not even be answered */
    IOTC_LOGW("ignoring a message the hub sent before accepting the connection");
    iotc__free_event(ev);
    return;
  }
  if (ev->oversize) {
    refuse_oversized(c, ev);
    iotc__free_event(ev);
    return;
  }
  if (!route(c, ev)) iotc__free_event(ev);
}

static void handle_events(iotc_client *c, iotc__queue *evs) {
  iotc__link *l;
  while ((l = iotc__queue_pop_front(evs)) != NULL) {
    iotc__event *ev = iotc__event_of(l);
    if (ev->type == IOTC__EV_RESPOND) {
      iotc__commands_respond(c, ev->topic, ev->status, ev->payload);
      iotc__free_event(ev);
    } else {
      process_message(c, ev); /* frees or keeps ev */
    }
  }
}

/* ---- main loop -------------------------------------------------------------------------- */

/* What one round of the worker takes from the inbox. */
typedef struct round {
  unsigned flags;
  int code;
  char text[sizeof ((iotc_client *)0)->fail_text];
  iotc__queue evs;
  uint64_t lost_in; /* inbound messages dropped for lack of memory, to log */
  iotc__op *done;
  bool start, stop, provisioned;
  uint64_t stop_deadline, job_due;
} round;

/* Take what arrived (mu held); true when there is work now, else *wake_at says until when the
 * worker may sleep. */
static bool collect_locked(iotc_client *c, round *r, uint64_t *wake_at) {
  r->flags = c->sflags;
  c->sflags = 0;
  r->code = c->fail_code;
  memcpy(r->text, c->fail_text, sizeof r->text);
  r->evs = iotc__queue_take_all(&c->inbox);
  r->lost_in = c->inbound_dropped;
  c->inbound_dropped = 0;
  r->done = iotc__window_take_done_locked(c);
  r->provisioned = c->provisioned;
  c->provisioned = false;
  r->start = c->req_start;
  c->req_start = false;
  r->stop = c->req_stop;
  r->stop_deadline = c->stop_deadline;
  uint64_t now = iotc__client_now(c);
  bool responses = atomic_load(&c->commands.resp_done) != NULL;
  bool sendable = iotc__conn_can_send(&c->conn) &&
                  (iotc__resp_sendable(c) ||
                   (c->pending.count && atomic_load(&c->inflight_n) < c->max_inflight) ||
                   iotc__reported_sendable_locked(c, now));
  uint64_t t = iotc__worker_deadline_locked(c);
  r->job_due = iotc__jobs_next_due_locked(c);
  *wake_at = t;
  return r->flags || r->evs.head || r->lost_in || r->done || responses || r->start || r->provisioned ||
         sendable || t <= now || (r->stop && iotc__conn_stop_needs_round(c));
}

uint64_t iotc__worker_deadline_locked(iotc_client *c) {
  uint64_t t = iotc__conn_deadline(c);
  uint64_t f = iotc__features_deadline(c);
  if (f < t) t = f;
  if (c->req_stop && !iotc__conn_closing_to_stop(c) && c->stop_deadline < t) {
    t = c->stop_deadline; /* draining or connecting to drain: the caller's timeout */
  }
  uint64_t job_due = iotc__jobs_next_due_locked(c);
  return job_due < t ? job_due : t;
}

static bool stop_still_requested(iotc_client *c) {
  pthread_mutex_lock(&c->mu);
  bool requested = c->req_stop; /* cleared when a close in this round already finished */
  pthread_mutex_unlock(&c->mu);
  return requested;
}

static void run_round(iotc_client *c, round *r) {
  if (r->start) {
    iotc__conn_event ev = {IOTC__CONN_START, 0, NULL, 0, 0};
    iotc__conn_dispatch(c, &ev);
  }
  if (r->provisioned) {
    iotc__conn_event ev = {IOTC__CONN_PROVISIONED, 0, NULL, 0, 0};
    iotc__conn_dispatch(c, &ev);
  }
  if (r->lost_in) {
    IOTC_LOGE("%llu inbound message(s) dropped: out of memory", (unsigned long long)r->lost_in);
  }
  iotc__window_completions(c, r->done); /* completions come before the loss that follows them */
  if (r->flags) iotc__conn_session_flags(c, r->flags, r->code, r->text);
  handle_events(c, &r->evs);
  uint64_t now = iotc__client_now(c);
  iotc__conn_on_timer(c, now);
  iotc__features_on_timer(c, now);
  iotc__conn_check_liveness(c, now);
  if (r->job_due <= now) iotc__jobs_run_due(c);
  if (r->stop && stop_still_requested(c)) {
    iotc__conn_event ev = {IOTC__CONN_STOP, 0, NULL, now, r->stop_deadline};
    iotc__conn_dispatch(c, &ev);
  }
  iotc__resp_completions(c);
  if (iotc__conn_can_send(&c->conn)) {
    iotc__resp_pump(c, c->conn.session);
    iotc__window_pump(c);
    iotc__reported_pump(c, now);
  }
}

static void use_this_stack(iotc_client *c) {
  if (!stack_known) {
    iotc__stack_bounds(&stack_lo, &stack_hi);
    stack_known = true;
  }
  c->stack_lo = stack_lo;
  c->stack_hi = stack_hi;
}

void iotc__worker_init(iotc_client *c) {
  iotc__conn_init(c);
  iotc__desired_init(c);
  use_this_stack(c);
}

bool iotc__worker_run_once(iotc_client *c, uint64_t *wait_ms) {
  round r;
  uint64_t t;
  *wait_ms = NO_TIMER;
  pthread_mutex_lock(&c->mu);
  if (c->quit) {
    pthread_mutex_unlock(&c->mu);
    return false;
  }
  /* As in iotc__worker_main: announced before the look, so what arrives after it marks the
   * client ready again (the executor runs it once more after this round). */
  atomic_store(&c->worker_waiting, true);
  if (!collect_locked(c, &r, &t)) {
    uint64_t now = iotc__client_now(c);
    if (t != NO_TIMER) *wait_ms = t > now ? t - now : 0;
    pthread_mutex_unlock(&c->mu);
    return false;
  }
  atomic_store(&c->worker_waiting, false);
  pthread_mutex_unlock(&c->mu);
  iotc__worker_running(c);
  use_this_stack(c);
  run_round(c, &r);
  iotc__worker_running(NULL);
  return true;
}

void iotc__worker_step(iotc_client *c) {
  round r;
  uint64_t wake_at;
  pthread_mutex_lock(&c->mu);
  (void)collect_locked(c, &r, &wake_at);
  pthread_mutex_unlock(&c->mu);
  run_round(c, &r);
}

void *iotc__worker_main(void *arg) {
  iotc_client *c = arg;
  iotc__worker_running(c);
  iotc__worker_init(c);
  pthread_mutex_lock(&c->mu);
  while (!c->quit) {
    /* Announced before the completions are looked at: a completion pushed after the look sees
     * it and signals (see op_done in window.c). */
    atomic_store(&c->worker_waiting, true);
    round r;
    uint64_t t;
    if (!collect_locked(c, &r, &t)) {
      if (t == NO_TIMER) {
        pthread_cond_wait(&c->wake, &c->mu);
      } else {
        struct timespec ts = {(time_t)(t / 1000), (long)(t % 1000) * 1000000L};
        pthread_cond_timedwait(&c->wake, &c->mu, &ts);
      }
      continue;
    }
    atomic_store(&c->worker_waiting, false);
    pthread_mutex_unlock(&c->mu);
    run_round(c, &r);
    pthread_mutex_lock(&c->mu);
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}
