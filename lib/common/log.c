/* SPDX-License-Identifier: MIT */
#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/text.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static iotc_log_fn log_fn;
static void *log_context;
static iotc_log_level log_max = IOTC_LOG_ERROR;

void iotc_log_set_handler(iotc_log_fn fn, iotc_log_level max_level, void *user_context) {
  pthread_mutex_lock(&log_lock);
  log_fn = fn;
  log_context = user_context;
  log_max = max_level;
  pthread_mutex_unlock(&log_lock);
}

const char *iotc_log_level_name(iotc_log_level level) {
  switch (level) {
  case IOTC_LOG_ERROR: return "error";
  case IOTC_LOG_WARN: return "warn";
  case IOTC_LOG_INFO: return "info";
  case IOTC_LOG_DEBUG: return "debug";
  }
  return "unknown";
}

bool iotc__log_enabled(iotc_log_level level) {
  pthread_mutex_lock(&log_lock);
  bool on = log_fn != NULL && level <= log_max;
  pthread_mutex_unlock(&log_lock);
  return on;
}

void iotc__log(iotc_log_level level, const char *fmt, ...) {
  /* Copy the handler under the lock and call it outside, so a handler may log or re-install. */
  pthread_mutex_lock(&log_lock);
  iotc_log_fn fn = log_fn;
  void *ctx = log_context;
  bool on = fn != NULL && level <= log_max;
  pthread_mutex_unlock(&log_lock);
  if (!on) {
    return;
  }
  char raw[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  /* Lines carry service data (DPS messages, hub names, ids): escape control characters so a
   * CR/LF from a server can never split or forge a line. */
  char line[1024];
  iotc__escape_text(line, sizeof line, raw);
  fn(level, line, ctx);
}
