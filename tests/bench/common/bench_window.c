/* SPDX-License-Identifier: MIT */
#include "bench_window.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "bench_util.h"

static struct {
  pthread_mutex_t lock;
  pthread_cond_t finished;
  bench_send_fn send;
  long count;
  atomic_long sent;
  atomic_long acked;
  atomic_long failed;
} win = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0};

static void bench_window_wake(void) {
  pthread_mutex_lock(&win.lock);
  pthread_cond_signal(&win.finished);
  pthread_mutex_unlock(&win.lock);
}

static void bench_window_send_next(void) {
  long seq = atomic_fetch_add(&win.sent, 1);
  if (seq < win.count) win.send((uint32_t)seq);
}

void bench_window_done(int ok) {
  if (!ok) {
    atomic_fetch_add(&win.failed, 1);
    bench_window_wake();
    return;
  }
  if (atomic_fetch_add(&win.acked, 1) + 1 >= win.count) {
    bench_window_wake();
    return;
  }
  bench_window_send_next();
}

bench_window_result bench_window_run(long count, long window, bench_send_fn send) {
  win.send = send;
  win.count = count;
  /* A warm-up batch may have run before: every run counts from zero. */
  atomic_store(&win.sent, 0);
  atomic_store(&win.acked, 0);
  atomic_store(&win.failed, 0);
  double cpu0 = bench_cpu_seconds();
  double t0 = bench_now();
  for (long i = 0; i < window && i < count; i++) bench_window_send_next();
  pthread_mutex_lock(&win.lock);
  while (atomic_load(&win.acked) < count && atomic_load(&win.failed) == 0)
    pthread_cond_wait(&win.finished, &win.lock);
  pthread_mutex_unlock(&win.lock);
  bench_window_result r;
  r.seconds = bench_now() - t0;
  r.cpu_seconds = bench_cpu_seconds() - cpu0;
  r.acked = atomic_load(&win.acked);
  r.failed = atomic_load(&win.failed);
  return r;
}

bench_telemetry_args bench_telemetry_parse(int argc, char **argv) {
  bench_telemetry_args a;
  a.hub = bench_arg_required(argc, argv, "--hub");
  a.device = bench_arg_required(argc, argv, "--device");
  a.key = bench_arg_required(argc, argv, "--key");
  a.ca = bench_arg_required(argc, argv, "--ca");
  a.count = bench_arg_long(argc, argv, "--count", 20000);
  a.window = bench_arg_long(argc, argv, "--inflight", 10);
  a.warmup = bench_arg_long(argc, argv, "--warmup", 0);
  if (a.count < 1 || a.window < 1 || a.window > 65535) bench_fail("bad --count or --inflight");
  return a;
}

bench_window_result bench_window_run_warm(const bench_telemetry_args *a, bench_send_fn send) {
  if (a->warmup > 0) {
    bench_window_result w = bench_window_run(a->warmup, a->window, send);
    if (w.failed) return w;
  }
  return bench_window_run(a->count, a->window, send);
}

void bench_telemetry_print(const bench_window_result *r, long rss_kib) {
  printf("{\"ok\":true,\"messages\":%ld,\"seconds\":%.6f,\"cpu_s\":%.6f,\"rss_kib\":%ld}\n",
         r->acked, r->seconds, r->cpu_seconds, rss_kib);
}
