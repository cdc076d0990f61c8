/* SPDX-License-Identifier: MIT */
/* The first line of an HTTP answer, as the diagnostic probes read it (internal). */
#ifndef IOTC_NET_HTTP_LINE_H
#define IOTC_NET_HTTP_LINE_H

#include <stddef.h>

/**
 * The status line at the start of @p resp (@p len bytes, not NUL-terminated), printable (control
 * bytes as '.', at most 80 characters) in @p text.
 * @return the status code (100-599), or 0 when @p resp does not start with an HTTP status line
 */
int iotc__http_status_line(const char *resp, size_t len, char *text, size_t size);

#endif
