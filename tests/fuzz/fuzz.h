/* SPDX-License-Identifier: MIT */
/* Shared by the fuzz harnesses: the libFuzzer entry point and small helpers. */
#ifndef IOTC_FUZZ_H
#define IOTC_FUZZ_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iotc/result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated heap copy of the input (free()); aborts when out of memory so that the
 * harness never mistakes an allocation failure for a finding. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (s == NULL) abort();
  if (size) memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* Fails loudly: a broken invariant is a finding, like a crash. */
#define FUZZ_ASSERT(cond) \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

/* Calls whose result does not matter to the harness (the call itself is what is tested). */
#define FUZZ_IGNORE(call)          \
  do {                             \
    iotc_result ignored_ = (call); \
    (void)ignored_;                \
  } while (0)

/* Run fn(arg) on a thread with the client worker's stack size (lib/central/client.c), so that
 * deep recursion that the worker could not survive is caught here too. */
static inline void fuzz_on_worker_stack(void *(*fn)(void *), void *arg) {
  pthread_attr_t attr;
  pthread_t th;
  if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, 256 * 1024) != 0 ||
      pthread_create(&th, &attr, fn, arg) != 0 || pthread_join(th, NULL) != 0) {
    abort();
  }
  pthread_attr_destroy(&attr);
}

#endif
