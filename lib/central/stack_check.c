/* SPDX-License-Identifier: MIT */
/* Where the calling thread's stack is, and whether a pointer is into a returned frame. */
#define _GNU_SOURCE /* pthread_getattr_np */
#include "central/stack_check.h"

#include <pthread.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IOTC__ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define IOTC__ASAN 1
#endif

#ifdef IOTC__ASAN
/* From <sanitizer/asan_interface.h>: locals of returned frames live on a poisoned fake stack. */
int __asan_address_is_poisoned(void const volatile *addr);
#endif

void iotc__stack_bounds(uintptr_t *lo, uintptr_t *hi) {
  *lo = *hi = 0;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void *addr = NULL;
  size_t size = 0;
  if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
    *lo = (uintptr_t)addr;
    *hi = (uintptr_t)addr + size;
  }
  pthread_attr_destroy(&attr);
}

bool iotc__points_into_dead_frame(const void *p, uintptr_t lo, uintptr_t hi,
                                  const void *live_frame) {
  uintptr_t a = (uintptr_t)p;
  /* The stack grows down: addresses below the live frame belong to frames that returned. */
  if (a >= lo && a < hi && a < (uintptr_t)live_frame) return true;
#ifdef IOTC__ASAN
  if (__asan_address_is_poisoned(p)) return true;
#endif
  return false;
}
