/* SPDX-License-Identifier: MIT */
#include "bench_many.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct bench_slot {
  atomic_int state;  /* 0 idle, 1 connecting, 2 connected, 3 failed */
  double next_send;  /* monotonic seconds; 0 until the first send */
} bench_slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static atomic_long n_connected, n_failed, n_acked, n_send_failed;
static bench_slot *slots;

void bench_many_connected(size_t i, int ok) {
  int expected = 1;
  if (!atomic_compare_exchange_strong(&slots[i].state, &expected, ok ? 2 : 3)) return;
  atomic_fetch_add(ok ? &n_connected : &n_failed, 1);
  pthread_mutex_lock(&lock);
  pthread_cond_signal(&changed);
  pthread_mutex_unlock(&lock);
}

void bench_many_sent(int ok) { atomic_fetch_add(ok ? &n_acked : &n_send_failed, 1); }

/* Sends what is due from the first @p n devices; returns how many messages went out. */
static long bench_many_tick(const bench_many_ops *ops, size_t n, double period, uint32_t *seq) {
  double now = bench_now();
  long sent = 0;
  for (size_t i = 0; i < n; i++) {
    bench_slot *s = &slots[i];
    if (atomic_load(&s->state) != 2) continue;
    if (s->next_send == 0) s->next_send = now;
    if (now >= s->next_send) {
      ops->send(i, (*seq)++);
      s->next_send += period;
      sent++;
    }
  }
  return sent;
}

static void bench_many_wait(double seconds) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  long ns = ts.tv_nsec + (long)(seconds * 1e9);
  ts.tv_sec += ns / 1000000000L;
  ts.tv_nsec = ns % 1000000000L;
  pthread_mutex_lock(&lock);
  pthread_cond_timedwait(&changed, &lock, &ts);
  pthread_mutex_unlock(&lock);
}

int bench_many_main(int argc, char **argv, const bench_many_ops *ops) {
  const char *list = bench_arg_required(argc, argv, "--devices");
  const char *ca = bench_arg_required(argc, argv, "--ca");
  const char *steps_arg = bench_arg(argc, argv, "--steps", "100");
  double period = (double)bench_arg_long(argc, argv, "--period", 10);
  double window = (double)bench_arg_long(argc, argv, "--window-ms", 5000) / 1000.0;
  long connect_window = bench_arg_long(argc, argv, "--connect-window", 50);
  bench_raise_fd_limit();

  size_t max = 0, n_steps = 0;
  long steps[16];
  for (const char *p = steps_arg; *p && n_steps < 16;) {
    char *end;
    steps[n_steps] = strtol(p, &end, 10);
    if (end == p || steps[n_steps] <= 0) bench_fail("bad --steps: %s", steps_arg);
    if ((size_t)steps[n_steps] > max) max = (size_t)steps[n_steps];
    n_steps++;
    p = *end == ',' ? end + 1 : end;
  }
  bench_device *devs = calloc(max, sizeof *devs);
  slots = calloc(max, sizeof *slots);
  if (!devs || !slots) bench_fail("out of memory");
  if (bench_read_devices(list, devs, max) < max)
    bench_fail("device list has fewer than %zu devices", max);
  ops->init(max);

  long rss0 = bench_rss_kib();
  uint32_t seq = 0;
  size_t started = 0, used = 0;
  char out[4096];
  out[0] = '\0';
  for (size_t s = 0; s < n_steps; s++) {
    size_t target = (size_t)steps[s];
    double t0 = bench_now();
    while ((size_t)(atomic_load(&n_connected) + atomic_load(&n_failed)) < target) {
      while (started < target &&
             (long)started - atomic_load(&n_connected) - atomic_load(&n_failed) < connect_window) {
        atomic_store(&slots[started].state, 1);
        ops->connect(started, &devs[started], ca);
        started++;
      }
      bench_many_tick(ops, started, period, &seq);
      bench_many_wait(0.01);
    }
    if (atomic_load(&n_failed)) bench_fail("%ld connects failed", atomic_load(&n_failed));
    double connect_s = bench_now() - t0;
    double cpu0 = bench_cpu_seconds(), w0 = bench_now();
    long sent = 0;
    while (bench_now() - w0 < window) {
      sent += bench_many_tick(ops, started, period, &seq);
      bench_sleep(0.01);
    }
    double cpu = bench_cpu_seconds() - cpu0, secs = bench_now() - w0;
    used += (size_t)snprintf(out + used, sizeof out - used,
                             "%s{\"k\":%zu,\"rss_kib\":%ld,\"connect_s\":%.3f,\"window_s\":%.3f,"
                             "\"cpu_s\":%.6f,\"window_messages\":%ld,\"acked\":%ld,"
                             "\"send_failed\":%ld}",
                             s ? "," : "", target, bench_rss_kib(), connect_s, secs, cpu, sent,
                             atomic_load(&n_acked), atomic_load(&n_send_failed));
    if (used >= sizeof out) bench_fail("too many steps");
  }
  printf("{\"ok\":true,\"rss0_kib\":%ld,\"steps\":[%s]}\n", rss0, out);
  fflush(stdout);
  ops->close_all(started);
  free(slots);
  free(devs);
  return 0;
}
