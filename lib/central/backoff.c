/* SPDX-License-Identifier: MIT */
/* Exponential back-off with full jitter. */
#include "central/backoff.h"

#include <stdatomic.h>
#include <time.h>

uint32_t iotc__backoff_ms(uint32_t attempt, uint32_t min_ms, uint32_t max_ms, bool throttled,
                          uint32_t random) {
  if (min_ms == 0) min_ms = 1;
  if (max_ms < min_ms) max_ms = min_ms;
  uint64_t cap = min_ms;
  for (uint32_t i = 0; i < attempt && cap < max_ms; i++) cap *= 2;
  if (cap > max_ms) cap = max_ms;
  uint64_t floor = throttled ? cap / 2 : 0;
  return (uint32_t)(floor + (uint64_t)random % (cap - floor + 1));
}

uint32_t iotc__backoff_random(void) {
  /* xorshift over a shared state seeded from the clock: jitter only needs spread. */
  static _Atomic uint64_t state;
  uint64_t s = atomic_load(&state);
  uint64_t n;
  do {
    n = s;
    if (n == 0) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      n = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ 0x9E3779B97F4A7C15u;
    }
    n ^= n << 13;
    n ^= n >> 7;
    n ^= n << 17;
  } while (!atomic_compare_exchange_weak(&state, &s, n));
  return (uint32_t)(n >> 32);
}
