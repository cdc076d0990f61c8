/* SPDX-License-Identifier: MIT */
/* The telemetry publish window: the in-flight list and the session it may publish through.
 * Two kinds of threads send: the worker (after completions, on connect) and an API thread that
 * queues telemetry while the window has room, so such a message goes out without waking the
 * worker. Paho's threads only hand completions over: publishing from the PUBACK callback was
 * measured slower with Paho 1.3.12 (each publish there wakes Paho's send thread on its own,
 * about 1.5 context switches per message instead of 0.3 when the worker sends in batches).
 *
 * Locking: send_mu guards the window (fields marked (send) in client_internal.h); it is taken
 * before mu and may be held across a Paho call, so no Paho callback may wait for it. The window
 * is open only while the worker allows sending on its current session: the worker closes it
 * (under send_mu) before it renews, drains for a disconnect, closes or destroys the session, so
 * nothing is published through a session that is going away. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central/client_internal.h"
#include "common/log.h"

static void window_add(iotc_client *c, iotc__op *op) {
  iotc__list_push_back(&c->inflight, op);
  op->in_window = true;
  atomic_store_explicit(&c->inflight_n, c->inflight.count, memory_order_relaxed);
}

static void window_remove(iotc_client *c, iotc__op *op) {
  iotc__list_remove(&c->inflight, op);
  op->in_window = false;
  atomic_store_explicit(&c->inflight_n, c->inflight.count, memory_order_relaxed);
}

static void op_done(iotc__session_op *base, int rc);

enum publish_outcome { PUBLISHED, REFUSED, HANDED_OVER };

/* Publish @p op through the open window; send_mu held. REFUSED when Paho refused it (the
 * connection is going away: the loss event follows). Without memory for the topic the op is
 * HANDED_OVER to the worker to fail (and may be freed at once): kept queued, it would be tried
 * again at once, in a loop. */
static enum publish_outcome publish(iotc_client *c, iotc__op *op) {
  size_t need = c->prefix_len + op->bag_len + 1;
  if (need > c->topic_cap) {
    char *t = realloc(c->topic_buf, need);
    if (t == NULL) {
      op_done(&op->base, IOTC__RC_NO_MEMORY);
      return HANDED_OVER;
    }
    c->topic_buf = t;
    c->topic_cap = need;
  }
  memcpy(c->topic_buf, c->topic_prefix, c->prefix_len);
  memcpy(c->topic_buf + c->prefix_len, op->data, op->bag_len + 1);
  op->sent_ms = iotc__client_now(c); /* liveness: how long its PUBACK has been awaited */
  window_add(c, op); /* before the call: its completion may run before the call returns */
  if (c->io->session_publish(c->send_session, c->topic_buf, op->payload, op->payload_len, op->qos,
                            &op->base) != IOTC_OK) {
    window_remove(c, op);
    return REFUSED;
  }
  return PUBLISHED;
}

/* Send queued telemetry while the window has room; send_mu held. True when a publish failed
 * and left messages queued. */
static bool pump_locked(iotc_client *c) {
  while (c->send_session && c->inflight.count < c->max_inflight) {
    iotc__op_list batch = {0};
    pthread_mutex_lock(&c->mu);
    while (batch.count + c->inflight.count < c->max_inflight && c->pending.head) {
      iotc__list_push_back(&batch, iotc__list_pop_front(&c->pending));
    }
    pthread_mutex_unlock(&c->mu);
    if (batch.head == NULL) return false;
    uint64_t resent = 0;
    iotc__op *op;
    while ((op = iotc__list_pop_front(&batch)) != NULL) {
      enum publish_outcome o = publish(c, op);
      if (o == REFUSED) {
        iotc__list_push_front(&batch, op);
        break;
      }
      if (o == PUBLISHED && op->resend) resent++;
    }
    bool stuck = batch.head != NULL;
    if (resent || stuck) {
      pthread_mutex_lock(&c->mu);
      c->stats.telemetry_resent += resent;
      iotc__list_prepend_all(&c->pending, &batch);
      pthread_mutex_unlock(&c->mu);
    }
    if (stuck) return true;
  }
  return false;
}

/* Take the completions out of the window (send_mu held) and leave them for the worker, which
 * runs their callbacks: a worker blocked in a user callback then no longer stops telemetry.
 * A persisted message keeps its slot until the worker recorded its acknowledgement: a process
 * killed meanwhile sends it again, and the window is what bounds those repeats (README, "At
 * least once"). */
static void reap_locked(iotc_client *c) {
  iotc__op *done = atomic_exchange(&c->done, NULL);
  if (done == NULL) return;
  iotc__op *tail = done;
  for (iotc__op *op = done; op; op = op->done_next) {
    if (op->done_rc == 0 && op->in_window && op->pseq == 0) window_remove(c, op);
    tail = op;
  }
  pthread_mutex_lock(&c->mu);
  tail->done_next = c->reaped; /* the reaped ones are older */
  c->reaped = done;
  iotc__wake_locked(c);
  pthread_mutex_unlock(&c->mu);
}

/* Paho thread (or inside iotc__session_destroy()): a telemetry publish finished. The worker
 * takes it out of the window and runs the user's callback. */
static void op_done(iotc__session_op *base, int rc) {
  iotc__op *op = (iotc__op *)base;
  iotc_client *c = op->client;
  op->done_rc = rc;
  /* Handed over without mu; mu is taken only to wake a worker that may be asleep. */
  iotc__op *head = atomic_load(&c->done);
  do {
    op->done_next = head;
  } while (!atomic_compare_exchange_weak(&c->done, &head, op));
  if (atomic_load(&c->worker_waiting)) {
    iotc__wake_from_paho(c);
    return;
  }
  /* While an application handler holds the worker (it may block), the completion moves the
   * window itself; otherwise the worker does it in batches, which is cheaper. trylock: a Paho
   * thread must never wait for send_mu, which is held across Paho calls. */
  if (atomic_load(&c->in_handler) && pthread_mutex_trylock(&c->send_mu) == 0) {
    reap_locked(c);
    (void)pump_locked(c);
    pthread_mutex_unlock(&c->send_mu);
  }
}

void iotc__window_open(iotc_client *c, iotc__session *s) {
  pthread_mutex_lock(&c->send_mu);
  c->send_session = s;
  (void)pump_locked(c);
  pthread_mutex_unlock(&c->send_mu);
}

void iotc__window_close(iotc_client *c) {
  pthread_mutex_lock(&c->send_mu);
  c->send_session = NULL;
  pthread_mutex_unlock(&c->send_mu);
}

bool iotc__window_close_if_idle(iotc_client *c) {
  pthread_mutex_lock(&c->send_mu);
  pthread_mutex_lock(&c->mu);
  bool idle = c->inflight.count == 0 && c->pending.count == 0 && c->rep_pending.count == 0;
  pthread_mutex_unlock(&c->mu);
  if (idle) c->send_session = NULL;
  pthread_mutex_unlock(&c->send_mu);
  return idle;
}

bool iotc__window_pump(iotc_client *c) {
  bool full = atomic_load_explicit(&c->inflight_n, memory_order_relaxed) >= c->max_inflight;
  if (full && atomic_load(&c->done) == NULL) return false;
  pthread_mutex_lock(&c->send_mu);
  if (full) reap_locked(c);
  bool stuck = pump_locked(c);
  pthread_mutex_unlock(&c->send_mu);
  return stuck;
}

iotc__op *iotc__window_take_done_locked(iotc_client *c) {
  iotc__op *done = atomic_exchange(&c->done, NULL), *reaped = c->reaped;
  c->reaped = NULL;
  if (done == NULL) return reaped;
  iotc__op *tail = done;
  while (tail->done_next) tail = tail->done_next;
  tail->done_next = reaped;
  return done;
}

void iotc__window_release(iotc_client *c, iotc__op *done) {
  bool any = false;
  for (iotc__op *op = done; op && !any; op = op->done_next) any = op->done_rc == 0 && op->in_window;
  if (!any) return;
  pthread_mutex_lock(&c->send_mu);
  for (iotc__op *op = done; op; op = op->done_next) {
    if (op->done_rc == 0 && op->in_window) window_remove(c, op);
  }
  pthread_mutex_unlock(&c->send_mu);
}

uint64_t iotc__window_oldest_ms(iotc_client *c) {
  pthread_mutex_lock(&c->send_mu);
  uint64_t t = c->inflight.head ? iotc__op_of(c->inflight.head)->sent_ms : UINT64_MAX;
  pthread_mutex_unlock(&c->send_mu);
  return t;
}

void iotc__window_requeue(iotc_client *c) {
  pthread_mutex_lock(&c->send_mu);
  c->send_session = NULL;
  for (iotc__link *l = c->inflight.head; l; l = l->next) {
    iotc__op *op = iotc__op_of(l);
    op->resend = true;
    op->in_window = false;
  }
  pthread_mutex_lock(&c->mu);
  iotc__list_prepend_all(&c->pending, &c->inflight);
  pthread_mutex_unlock(&c->mu);
  atomic_store_explicit(&c->inflight_n, 0, memory_order_relaxed);
  pthread_mutex_unlock(&c->send_mu);
}

void iotc__window_init_op(iotc__op *op) { op->base.done = op_done; }

/* ---- hooks ------------------------------------------------------------------------------ */

static iotc__op *take_done(iotc_client *c) {
  pthread_mutex_lock(&c->mu);
  iotc__op *done = iotc__window_take_done_locked(c);
  pthread_mutex_unlock(&c->mu);
  return done;
}

/* Acknowledged persisted messages leave the persist directory in one record per batch. */
static void persist_acks(iotc_client *c, iotc__op *fifo) {
  if (c->persist == NULL) return;
  uint64_t seqs[256];
  size_t n = 0, replayed = 0;
  for (iotc__op *op = fifo; op; op = op->done_next) {
    if (op->done_rc != 0 || op->pseq == 0) continue;
    seqs[n++] = op->pseq;
    replayed += op->recovered;
    op->pseq = 0; /* iotc__op_finish() has nothing left to do for it */
    if (n == sizeof seqs / sizeof *seqs) {
      iotc__persist_ack(c, seqs, n, replayed);
      n = replayed = 0;
    }
  }
  iotc__persist_ack(c, seqs, n, replayed);
}

void iotc__window_completions(iotc_client *c, iotc__op *done) {
  /* The list is newest first: reverse it so callbacks run in completion order. */
  iotc__op *fifo = NULL;
  while (done) {
    iotc__op *n = done->done_next;
    done->done_next = fifo;
    fifo = done;
    done = n;
  }
  persist_acks(c, fifo); /* before their slots are free (reap_locked) */
  iotc__window_release(c, fifo);
  /* Counted before any callback runs: an on_done that reads the stats sees its own message. */
  uint64_t sent = 0;
  for (iotc__op *op = fifo; op; op = op->done_next) sent += op->done_rc == 0;
  if (sent) {
    pthread_mutex_lock(&c->mu);
    c->stats.telemetry_sent += sent;
    pthread_mutex_unlock(&c->mu);
  }
  while (fifo) {
    iotc__op *op = fifo;
    fifo = op->done_next;
    if (op->done_rc == IOTC__RC_NO_MEMORY) {
      iotc__count_dropped(c, 1);
      IOTC_LOGE("a telemetry message dropped: out of memory (its callback gets IOTC_ERR_NO_MEMORY)");
      iotc__op_finish(c, op, IOTC_ERR_NO_MEMORY);
      continue;
    }
    if (op->done_rc != 0) {
      /* Paho fails publishes only around a connection drop (-11 abandoned, -3 disconnected,
       * -1 write failed): keep it in flight; the teardown that follows sends it again. */
      continue;
    }
    iotc__op_finish(c, op, IOTC_OK);
  }
}

static void on_connected(iotc_client *c, iotc__session *s) { iotc__window_open(c, s); }

static void on_teardown(iotc_client *c) {
  iotc__window_completions(c, take_done(c));
  iotc__window_requeue(c);
}

static bool overdue(iotc_client *c, uint64_t now, char *why, size_t size) {
  uint64_t oldest = iotc__window_oldest_ms(c);
  if (oldest == UINT64_MAX || now - oldest < c->liveness_ms) return false;
  snprintf(why, size, "no acknowledgement (PUBACK) from the hub for %u ms: reconnecting",
           (unsigned)c->liveness_ms);
  return true;
}

static bool busy(iotc_client *c) { return atomic_load(&c->inflight_n) != 0; }

const iotc__feature iotc__telemetry_feature = {on_connected, on_teardown, NULL, NULL, overdue,
                                               busy};
