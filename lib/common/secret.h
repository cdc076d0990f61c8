/* SPDX-License-Identifier: MIT */
/* Wiping and freeing memory that held key material, signatures or passwords. */
#ifndef IOTC_COMMON_SECRET_H
#define IOTC_COMMON_SECRET_H

#include <stddef.h>

/** Overwrite @p size bytes at @p ptr with zeros in a way the compiler cannot elide. NULL is a no-op. */
void iotc__wipe(void *ptr, size_t size);

/** Wipe @p size bytes at @p ptr, then free it. NULL is a no-op. */
void iotc__secret_free_n(void *ptr, size_t size);

/** Wipe a NUL-terminated heap string (up to its NUL), then free it. NULL is a no-op. */
void iotc__secret_free(char *str);

/**
 * Heap copy of a secret string, to be released with iotc__secret_free().
 * NULL when @p str is NULL or allocation fails.
 */
char *iotc__secret_dup(const char *str);

#endif
