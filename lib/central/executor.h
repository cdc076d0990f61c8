/* SPDX-License-Identifier: MIT */
/* The shared executor's side of a client (exec_queue.c): membership in the executor's ready
 * queue and wake-up heap, marking a client ready where a client of its own thread would be
 * signalled, and leaving the executor at destroy; and what its threads (executor.c) take from
 * the queues.
 * Locking: the slot is guarded by the executor's lock, which is taken after a client's `mu`
 * (never the other way round: the executor's threads let go of it before they run a client). */
#ifndef IOTC_CENTRAL_EXECUTOR_H
#define IOTC_CENTRAL_EXECUTOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "central/queue.h"
#include "iotc/executor.h"
#include "iotc/result.h"

struct iotc_client;

enum { IOTC__EXEC_IDLE = 0, IOTC__EXEC_QUEUED, IOTC__EXEC_RUNNING, IOTC__EXEC_DETACHED };

/** A client's place in its executor (executor lock). */
typedef struct iotc__exec_slot {
  iotc__link link; /* in the ready queue while QUEUED */
  size_t heap_at;  /* 1 + its index in the wake-up heap; 0: not there */
  uint64_t due;    /* when it must run next, on the executor's clock (heap key) */
  int state;       /* IOTC__EXEC_* */
  bool again;      /* marked ready while RUNNING: queued again after the round */
} iotc__exec_slot;

/** The executor (exec_queue.c keeps its queues; executor.c its threads). */
struct iotc_executor {
  pthread_mutex_t mu;  /* the executor lock */
  pthread_cond_t work; /* threads wait here for a ready client or the earliest deadline */
  pthread_cond_t idle; /* detach waits here for a client's round to end */
  size_t detaching;    /* threads waiting on idle */
  bool stop;
  iotc__queue ready;
  struct iotc_client **heap;
  size_t heap_n, heap_cap; /* heap_cap >= attached: inserting never allocates */
  size_t attached;
  size_t threads; /* executor.c */
  pthread_t *thread;
};

/** Attach @p c (its worker state ready) to @p ex, queued for a first round. */
iotc_result iotc__executor_attach(iotc_executor *ex, struct iotc_client *c, iotc_error *err);
/** @p c has work (its mu held, not quitting): queue it, or run it again after its round. */
void iotc__executor_ready_locked(struct iotc_client *c);
/** Destroy: take @p c out of its executor, waiting for a round that runs to finish. */
void iotc__executor_detach(struct iotc_client *c);

/** An executor thread: wait for a ready client and mark it running; NULL once stopped. */
struct iotc_client *iotc__executor_take(iotc_executor *ex);
/** An executor thread ran a round of @p c (iotc__worker_run_once() said @p worked and
 *  @p wait_ms): queue it again, park it until its deadline, or leave it until woken. */
void iotc__executor_done(iotc_executor *ex, struct iotc_client *c, bool worked, uint64_t wait_ms);
/** Set up the lock and conditions of a zeroed @p ex. */
void iotc__executor_init(iotc_executor *ex);
/** Make every iotc__executor_take() return NULL. */
void iotc__executor_stop(iotc_executor *ex);
/** How many clients are attached. */
size_t iotc__executor_attached(iotc_executor *ex);
/** Free what iotc__executor_init() and attach made (the threads are gone, no client attached). */
void iotc__executor_fini(iotc_executor *ex);

#endif
