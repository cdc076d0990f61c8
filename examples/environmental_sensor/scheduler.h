/* SPDX-License-Identifier: MIT */
/*
 * A tiny delayed-job runner for the environmental sensor: one thread that runs each job once,
 * at or after its due time, in due-time order. The sensor uses it for what the tutorial does
 * with asyncio.sleep(): acknowledging writable properties 1 s or 5 s later and the diagnostics
 * run, so that no iotc callback ever sleeps.
 */
#ifndef SENSOR_SCHEDULER_H
#define SENSOR_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct scheduler scheduler;

/** A job. @p arg is owned by the job: it frees it (run or dropped, see scheduler_after()). */
typedef void (*scheduler_job_fn)(void *arg, bool cancelled);

/** Start the runner thread. Returns 0, or -1 (errno set). */
int scheduler_start(scheduler **out);

/**
 * Run @p fn(arg, false) about @p delay_ms from now on the runner thread. If the runner is
 * stopped first, @p fn(arg, true) runs instead, on the stopping thread, so @p arg is freed
 * exactly once. Returns 0, or -1 when the runner is stopping (then nothing is called).
 */
int scheduler_after(scheduler *s, uint32_t delay_ms, scheduler_job_fn fn, void *arg);

/** Stop the runner: waits for a running job, cancels the pending ones, joins, frees. */
void scheduler_stop(scheduler *s);

#endif
