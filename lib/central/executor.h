/* SPDX-License-Identifier: MIT */
/* The shared executor's side of a client (executor.c): membership in the executor's ready queue
 * and wake-up heap, marking a client ready where a client of its own thread would be signalled,
 * and leaving the executor at destroy.
 * Locking: the slot is guarded by the executor's lock, which is taken after a client's `mu`
 * (never the other way round: the executor's threads let go of it before they run a client). */
#ifndef IOTC_CENTRAL_EXECUTOR_H
#define IOTC_CENTRAL_EXECUTOR_H

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

/** Attach @p c (its worker state ready) to @p ex, queued for a first round. */
iotc_result iotc__executor_attach(iotc_executor *ex, struct iotc_client *c, iotc_error *err);
/** @p c has work (its mu held, not quitting): queue it, or run it again after its round. */
void iotc__executor_ready_locked(struct iotc_client *c);
/** Destroy: take @p c out of its executor, waiting for a round that runs to finish. */
void iotc__executor_detach(struct iotc_client *c);

#endif
