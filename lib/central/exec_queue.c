/* SPDX-License-Identifier: MIT */
/* The shared executor's queues (executor.h): a client with work is in the ready queue (FIFO, so
 * none starves); an idle one with a deadline is in a min-heap keyed by when it must run, so a
 * wake costs O(log n) however many clients there are. A client is in at most one of them, and
 * out of both while a thread runs it: it never runs on two threads. The threads themselves and
 * the public API are in executor.c. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "central/client_internal.h"
#include "central/executor.h"
#include "common/log.h"

#define NO_TIMER UINT64_MAX

/* ---- the wake-up heap (executor lock) ---------------------------------------------------- */

static void heap_set(iotc_executor *ex, size_t i, iotc_client *c) {
  ex->heap[i] = c;
  c->exec.heap_at = i + 1;
}

static void heap_up(iotc_executor *ex, size_t i) {
  iotc_client *c = ex->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (ex->heap[parent]->exec.due <= c->exec.due) break;
    heap_set(ex, i, ex->heap[parent]);
    i = parent;
  }
  heap_set(ex, i, c);
}

static void heap_down(iotc_executor *ex, size_t i) {
  iotc_client *c = ex->heap[i];
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= ex->heap_n) break;
    if (child + 1 < ex->heap_n && ex->heap[child + 1]->exec.due < ex->heap[child]->exec.due) {
      child++;
    }
    if (ex->heap[child]->exec.due >= c->exec.due) break;
    heap_set(ex, i, ex->heap[child]);
    i = child;
  }
  heap_set(ex, i, c);
}

static void heap_push(iotc_executor *ex, iotc_client *c, uint64_t due) {
  c->exec.due = due;
  ex->heap[ex->heap_n++] = c;
  heap_up(ex, ex->heap_n - 1);
}

static void heap_remove(iotc_executor *ex, iotc_client *c) {
  size_t i = c->exec.heap_at - 1;
  c->exec.heap_at = 0;
  iotc_client *last = ex->heap[--ex->heap_n];
  if (i == ex->heap_n) return;
  ex->heap[i] = last;
  heap_up(ex, i);
  heap_down(ex, last->exec.heap_at - 1);
}

/* ---- the ready queue (executor lock) ------------------------------------------------------ */

static void enqueue_locked(iotc_executor *ex, iotc_client *c) {
  if (c->exec.heap_at) heap_remove(ex, c);
  c->exec.state = IOTC__EXEC_QUEUED;
  iotc__queue_push_back(&ex->ready, &c->exec.link);
}

static iotc_client *client_of(iotc__link *l) {
  return IOTC__ENTRY(l, iotc_client, exec.link);
}

void iotc__executor_ready_locked(iotc_client *c) {
  iotc_executor *ex = c->executor;
  pthread_mutex_lock(&ex->mu);
  if (c->exec.state == IOTC__EXEC_IDLE) {
    enqueue_locked(ex, c);
    pthread_cond_signal(&ex->work);
  } else if (c->exec.state == IOTC__EXEC_RUNNING) {
    c->exec.again = true;
  }
  pthread_mutex_unlock(&ex->mu);
}

/* Clients whose deadline passed join the ready queue. */
static void promote_due_locked(iotc_executor *ex, uint64_t now) {
  while (ex->heap_n && ex->heap[0]->exec.due <= now) enqueue_locked(ex, ex->heap[0]);
}

static void wait_for_work_locked(iotc_executor *ex) {
  if (ex->heap_n == 0) {
    pthread_cond_wait(&ex->work, &ex->mu);
    return;
  }
  uint64_t t = ex->heap[0]->exec.due;
  struct timespec ts = {(time_t)(t / 1000), (long)(t % 1000) * 1000000L};
  pthread_cond_timedwait(&ex->work, &ex->mu, &ts);
}

/* ---- the threads' side ------------------------------------------------------------------ */

iotc_client *iotc__executor_take(iotc_executor *ex) {
  pthread_mutex_lock(&ex->mu);
  iotc_client *c = NULL;
  while (!ex->stop) {
    promote_due_locked(ex, iotc__now_ms());
    c = client_of(iotc__queue_pop_front(&ex->ready));
    if (c != NULL) break;
    wait_for_work_locked(ex);
  }
  if (c != NULL) {
    c->exec.state = IOTC__EXEC_RUNNING;
    /* More ready clients than this thread: another one may take the next. */
    if (ex->ready.head) pthread_cond_signal(&ex->work);
  }
  pthread_mutex_unlock(&ex->mu);
  return c;
}

void iotc__executor_done(iotc_executor *ex, iotc_client *c, bool worked, uint64_t wait_ms) {
  pthread_mutex_lock(&ex->mu);
  c->exec.state = IOTC__EXEC_IDLE;
  if (worked || c->exec.again) {
    enqueue_locked(ex, c); /* at the back: the others get their turn first */
  } else if (wait_ms != NO_TIMER) {
    uint64_t now = iotc__now_ms();
    heap_push(ex, c, wait_ms > NO_TIMER - now ? NO_TIMER - 1 : now + wait_ms);
    /* Threads asleep until a later deadline must see this earlier one. */
    if (ex->heap[0] == c) pthread_cond_signal(&ex->work);
  }
  c->exec.again = false;
  if (ex->detaching) pthread_cond_broadcast(&ex->idle); /* c is not touched after this */
  pthread_mutex_unlock(&ex->mu);
}

/* ---- clients ------------------------------------------------------------------------------ */

iotc_result iotc__executor_attach(iotc_executor *ex, iotc_client *c, iotc_error *err) {
  pthread_mutex_lock(&ex->mu);
  if (ex->attached == ex->heap_cap) {
    size_t cap = ex->heap_cap ? ex->heap_cap * 2 : 16;
    iotc_client **h = realloc(ex->heap, cap * sizeof *h);
    if (h == NULL) {
      pthread_mutex_unlock(&ex->mu);
      IOTC_LOGE("iotc_client_create: out of memory");
      if (err) {
        err->result = IOTC_ERR_NO_MEMORY;
        snprintf(err->message, sizeof err->message, "out of memory");
      }
      return IOTC_ERR_NO_MEMORY;
    }
    ex->heap = h;
    ex->heap_cap = cap;
  }
  ex->attached++;
  c->executor = ex;
  atomic_store(&c->worker_waiting, true); /* from now on a wake marks it ready */
  enqueue_locked(ex, c); /* its first round computes its first deadline */
  pthread_cond_signal(&ex->work);
  pthread_mutex_unlock(&ex->mu);
  return IOTC_OK;
}

void iotc__executor_detach(iotc_client *c) {
  iotc_executor *ex = c->executor;
  pthread_mutex_lock(&ex->mu);
  ex->detaching++;
  while (c->exec.state == IOTC__EXEC_RUNNING) pthread_cond_wait(&ex->idle, &ex->mu);
  ex->detaching--;
  if (c->exec.state == IOTC__EXEC_QUEUED) iotc__queue_remove(&ex->ready, &c->exec.link);
  if (c->exec.heap_at) heap_remove(ex, c);
  c->exec.state = IOTC__EXEC_DETACHED;
  ex->attached--;
  pthread_mutex_unlock(&ex->mu);
}

/* ---- the executor's life ---------------------------------------------------------------- */

void iotc__executor_init(iotc_executor *ex) {
  pthread_mutex_init(&ex->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the clock of iotc__now_ms() */
  pthread_cond_init(&ex->work, &ca);
  pthread_cond_init(&ex->idle, &ca);
  pthread_condattr_destroy(&ca);
}

void iotc__executor_stop(iotc_executor *ex) {
  pthread_mutex_lock(&ex->mu);
  ex->stop = true;
  pthread_cond_broadcast(&ex->work);
  pthread_mutex_unlock(&ex->mu);
}

size_t iotc__executor_attached(iotc_executor *ex) {
  pthread_mutex_lock(&ex->mu);
  size_t n = ex->attached;
  pthread_mutex_unlock(&ex->mu);
  return n;
}

void iotc__executor_fini(iotc_executor *ex) {
  pthread_cond_destroy(&ex->work);
  pthread_cond_destroy(&ex->idle);
  pthread_mutex_destroy(&ex->mu);
  free(ex->heap);
}
