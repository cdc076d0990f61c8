/* SPDX-License-Identifier: MIT */
/* The sensor's own log: what it prints on stdout, also kept in memory (the newest 256 KiB) for
 * the uploadlogs command. Safe to call from any thread. */
#ifndef SENSOR_LOG_H
#define SENSOR_LOG_H

#include <stddef.h>

/** printf() to stdout, and the same text appended to the in-memory log. */
void sensor_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** A copy of the log (malloc'd, the caller frees it), with its length; NULL when out of memory. */
char *sensor_log_snapshot(size_t *len);

#endif
