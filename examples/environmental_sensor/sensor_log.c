/* SPDX-License-Identifier: MIT */
/* The sensor's in-memory log (see sensor_log.h). */
#include "sensor_log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX (256u * 1024u)

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[LOG_MAX];
static size_t log_len;

void sensor_say(const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
  fputs(line, stdout);
  pthread_mutex_lock(&log_mu);
  if (log_len + len > LOG_MAX) { /* keep the newer half */
    size_t drop = log_len - LOG_MAX / 2;
    memmove(log_text, log_text + drop, log_len - drop);
    log_len -= drop;
  }
  memcpy(log_text + log_len, line, len);
  log_len += len;
  pthread_mutex_unlock(&log_mu);
}

char *sensor_log_snapshot(size_t *len) {
  pthread_mutex_lock(&log_mu);
  char *copy = malloc(log_len ? log_len : 1);
  if (copy) {
    memcpy(copy, log_text, log_len);
    *len = log_len;
  }
  pthread_mutex_unlock(&log_mu);
  return copy;
}
