/* SPDX-License-Identifier: MIT */
/* Sending N messages with at most W unacknowledged: the loop the telemetry programs share. The
 * implementation provides the send function and reports each completion; sends after the first
 * window happen from the completion, on whatever thread the library calls it. */
#ifndef BENCH_WINDOW_H
#define BENCH_WINDOW_H

#include <stdint.h>

/** Sends message @p seq; reports its outcome later with bench_window_done(). */
typedef void (*bench_send_fn)(uint32_t seq);

/** Result of one run. */
typedef struct bench_window_result {
  long acked;
  long failed;
  double seconds;     /* first send to last acknowledgement */
  double cpu_seconds; /* process CPU over the same span */
} bench_window_result;

/** Sends @p count messages keeping @p window in flight, waits for all of them (or a failure). */
bench_window_result bench_window_run(long count, long window, bench_send_fn send);

/** A message completed (from any thread); sends the next one when @p ok. */
void bench_window_done(int ok);

/** The arguments of the *-telemetry programs. */
typedef struct bench_telemetry_args {
  const char *hub, *device, *key, *ca;
  long count, window;
  long warmup; /* messages sent (same window) before the timed batch; 0 none */
} bench_telemetry_args;

/** Reads --hub --device --key --ca [--count 20000] [--inflight 10] [--warmup 0]; exits when one
 *  is bad. */
bench_telemetry_args bench_telemetry_parse(int argc, char **argv);

/** Sends the warm-up batch of @p a (untimed: code paths, caches and buffers settle first), then
 *  the timed batch; returns the timed one (or the failed warm-up). */
bench_window_result bench_window_run_warm(const bench_telemetry_args *a, bench_send_fn send);

/** Prints the result line of a *-telemetry program. */
void bench_telemetry_print(const bench_window_result *r, long rss_kib);

#endif
