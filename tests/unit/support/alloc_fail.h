/* SPDX-License-Identifier: MIT */
/* Failing allocations on purpose, for programs linked with alloc_fail.c and
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup. */
#ifndef IOTC_TEST_ALLOC_FAIL_H
#define IOTC_TEST_ALLOC_FAIL_H

#include <stdbool.h>

/**
 * From now on, fail every allocation made directly in @p function, or by a function it calls
 * directly (its name as the debugger shows it; static functions too); NULL stops. Returns false
 * when the program has no symbolizer to name functions with (a build without sanitizers).
 */
bool alloc_fail_in(const char *function);

/** How many allocations alloc_fail_in() has failed so far. */
unsigned long alloc_failed_in(void);

#endif
