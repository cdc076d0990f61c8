/* SPDX-License-Identifier: MIT */
/* Recognising a pointer into a stack frame that has returned: a command handler that assigns
 * its own stack buffer to the response (instead of iotc_command_response_set_payload()) leaves
 * such a pointer behind, and reading it would send garbage. */
#ifndef IOTC_CENTRAL_STACK_CHECK_H
#define IOTC_CENTRAL_STACK_CHECK_H

#include <stdbool.h>
#include <stdint.h>

/** The calling thread's stack, [lo, hi); both 0 when it cannot be known. */
void iotc__stack_bounds(uintptr_t *lo, uintptr_t *hi);

/**
 * True when @p p lies in the thread's stack [lo, hi) below @p live_frame (the frame of the
 * caller, which is still alive: everything deeper has returned), or in memory the address
 * sanitizer marks unusable (a returned frame of its own, or freed memory).
 */
bool iotc__points_into_dead_frame(const void *p, uintptr_t lo, uintptr_t hi,
                                  const void *live_frame);

#endif
