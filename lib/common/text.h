/* SPDX-License-Identifier: MIT */
/* Bounded text copies (pure). */
#ifndef IOTC_COMMON_TEXT_H
#define IOTC_COMMON_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Copy @p src into @p dst of @p size bytes, truncating if needed; always NUL-terminates when
 * size > 0. NULL @p src copies "". Returns false when the text was truncated: for messages,
 * where a shortened text is the intended outcome.
 */
bool iotc__copy_text(char *dst, size_t size, const char *src);

/**
 * Copy @p src into @p dst of @p size bytes with every control character (below 0x20, and 0x7F)
 * written as an escape (\r, \n, \t or \xNN), so text that came from a service stays on one
 * line. Truncates between escapes, never inside one; always NUL-terminates
 * when size > 0. NULL @p src copies "". Returns false when the text was truncated.
 */
bool iotc__escape_text(char *dst, size_t size, const char *src);

#endif
