/* SPDX-License-Identifier: MIT */
/* The shared executor: N threads serve the rounds of many clients. A client with work is in the
 * ready queue (FIFO, so none starves); an idle one with a deadline is in a min-heap keyed by
 * when it must run, so a wake costs O(log n) however many clients there are. A client is in at
 * most one of them, and out of both while a thread runs it: it never runs on two threads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "central/client_internal.h"
#include "central/executor.h"
#include "common/log.h"

#define NO_TIMER UINT64_MAX

struct iotc_executor {
  pthread_mutex_t mu;
  pthread_cond_t work; /* threads wait here for a ready client or the earliest deadline */
  pthread_cond_t idle; /* detach waits here for a client's round to end */
  size_t detaching;    /* threads waiting on idle */
  bool stop;
  iotc__queue ready;
  iotc_client **heap;
  size_t heap_n, heap_cap; /* heap_cap >= attached: inserting never allocates */
  size_t attached;
  size_t threads;
  pthread_t *thread;
};

/* The executor whose thread this is: destroy cannot join the thread it runs on. */
static _Thread_local const iotc_executor *current_executor;

static void fail(iotc_error *err, iotc_result r, const char *msg) {
  IOTC_LOGE("%s", msg);
  if (err) {
    err->result = r;
    snprintf(err->message, sizeof err->message, "%s", msg);
  }
}

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

/* ---- the threads -------------------------------------------------------------------------- */

/* Clients whose deadline passed join the ready queue. */
static void promote_due_locked(iotc_executor *ex, uint64_t now) {
  while (ex->heap_n && ex->heap[0]->exec.due <= now) enqueue_locked(ex, ex->heap[0]);
}

/* A round of @p c ended (executor lock held): where it goes next. */
static void after_round_locked(iotc_executor *ex, iotc_client *c, bool worked, uint64_t wait_ms) {
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
  if (ex->detaching) pthread_cond_broadcast(&ex->idle);
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

static void *executor_main(void *arg) {
  iotc_executor *ex = arg;
  current_executor = ex;
  pthread_mutex_lock(&ex->mu);
  while (!ex->stop) {
    promote_due_locked(ex, iotc__now_ms());
    iotc_client *c = client_of(iotc__queue_pop_front(&ex->ready));
    if (c == NULL) {
      wait_for_work_locked(ex);
      continue;
    }
    c->exec.state = IOTC__EXEC_RUNNING;
    /* More ready clients than this thread: another one may take the next. */
    if (ex->ready.head) pthread_cond_signal(&ex->work);
    pthread_mutex_unlock(&ex->mu);
    uint64_t wait_ms = NO_TIMER;
    bool worked = iotc__worker_run_once(c, &wait_ms);
    pthread_mutex_lock(&ex->mu);
    after_round_locked(ex, c, worked, wait_ms); /* c is not touched after this: detach waits */
  }
  pthread_mutex_unlock(&ex->mu);
  return NULL;
}

/* ---- clients ------------------------------------------------------------------------------ */

iotc_result iotc__executor_attach(iotc_executor *ex, iotc_client *c, iotc_error *err) {
  pthread_mutex_lock(&ex->mu);
  if (ex->attached == ex->heap_cap) {
    size_t cap = ex->heap_cap ? ex->heap_cap * 2 : 16;
    iotc_client **h = realloc(ex->heap, cap * sizeof *h);
    if (h == NULL) {
      pthread_mutex_unlock(&ex->mu);
      fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
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

/* ---- the executor ------------------------------------------------------------------------- */

void iotc_executor_config_init(iotc_executor_config *cfg) {
  if (cfg == NULL) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->struct_version = IOTC_EXECUTOR_CONFIG_VERSION;
  cfg->threads = 2;
}

/* Stop and join the first @p started threads, then free @p ex (no client attached). */
static void stop_and_free(iotc_executor *ex, size_t started) {
  pthread_mutex_lock(&ex->mu);
  ex->stop = true;
  pthread_cond_broadcast(&ex->work);
  pthread_mutex_unlock(&ex->mu);
  for (size_t i = 0; i < started; i++) pthread_join(ex->thread[i], NULL);
  pthread_cond_destroy(&ex->work);
  pthread_cond_destroy(&ex->idle);
  pthread_mutex_destroy(&ex->mu);
  free(ex->thread);
  free(ex->heap);
  free(ex);
}

iotc_result iotc_executor_create(const iotc_executor_config *cfg, iotc_executor **out,
                                 iotc_error *err) {
  iotc_error_clear(err);
  char msg[IOTC_ERROR_MESSAGE_SIZE];
  if (out == NULL) {
    fail(err, IOTC_ERR_INVALID_ARG, "iotc_executor_create: out_executor is NULL");
    return IOTC_ERR_INVALID_ARG;
  }
  *out = NULL;
  if (cfg == NULL) {
    fail(err, IOTC_ERR_INVALID_ARG, "iotc_executor_create: cfg is NULL");
    return IOTC_ERR_INVALID_ARG;
  }
  if (cfg->struct_version != IOTC_EXECUTOR_CONFIG_VERSION) {
    snprintf(msg, sizeof msg, "iotc_executor_create: cfg->struct_version %d is unknown: "
             "initialise the config with iotc_executor_config_init()", cfg->struct_version);
    fail(err, IOTC_ERR_INVALID_ARG, msg);
    return IOTC_ERR_INVALID_ARG;
  }
  if (cfg->threads < 1 || cfg->threads > IOTC_EXECUTOR_THREADS_MAX) {
    snprintf(msg, sizeof msg, "iotc_executor_create: threads is %u; it must be 1 to %d",
             (unsigned)cfg->threads, IOTC_EXECUTOR_THREADS_MAX);
    fail(err, IOTC_ERR_INVALID_ARG, msg);
    return IOTC_ERR_INVALID_ARG;
  }
  iotc_executor *ex = calloc(1, sizeof *ex);
  pthread_t *threads = calloc(cfg->threads, sizeof *threads);
  if (ex == NULL || threads == NULL) {
    free(ex);
    free(threads);
    fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
    return IOTC_ERR_NO_MEMORY;
  }
  ex->thread = threads;
  ex->threads = cfg->threads;
  pthread_mutex_init(&ex->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the clock of iotc__now_ms() */
  pthread_cond_init(&ex->work, &ca);
  pthread_cond_init(&ex->idle, &ca);
  pthread_condattr_destroy(&ca);
  for (size_t i = 0; i < ex->threads; i++) {
    int e = iotc__worker_thread_start(&ex->thread[i], executor_main, ex);
    if (e != 0) {
      stop_and_free(ex, i);
      snprintf(msg, sizeof msg, "cannot start the executor's thread %zu: %s", i + 1, strerror(e));
      fail(err, IOTC_ERR_NO_MEMORY, msg);
      return IOTC_ERR_NO_MEMORY;
    }
  }
  *out = ex;
  return IOTC_OK;
}

iotc_result iotc_executor_destroy(iotc_executor *ex, iotc_error *err) {
  iotc_error_clear(err);
  if (ex == NULL) return IOTC_OK;
  char msg[IOTC_ERROR_MESSAGE_SIZE];
  if (current_executor == ex) { /* it would join itself */
    fail(err, IOTC_ERR_STATE, "iotc_executor_destroy: called from a callback on the executor's "
         "own thread; refused, the executor is kept");
    return IOTC_ERR_STATE;
  }
  pthread_mutex_lock(&ex->mu);
  size_t attached = ex->attached;
  pthread_mutex_unlock(&ex->mu);
  if (attached) {
    snprintf(msg, sizeof msg, "iotc_executor_destroy: %zu client(s) still attached: destroy "
             "them first; refused, the executor is kept", attached);
    fail(err, IOTC_ERR_STATE, msg);
    return IOTC_ERR_STATE;
  }
  stop_and_free(ex, ex->threads);
  return IOTC_OK;
}
