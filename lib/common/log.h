/* SPDX-License-Identifier: MIT */
/* Internal logging. Never pass a key, token, signature or password to these functions. */
#ifndef IOTC_COMMON_LOG_H
#define IOTC_COMMON_LOG_H

#include <stdbool.h>

#include "iotc/log.h"

#if defined(__GNUC__) || defined(__clang__)
#define IOTC__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define IOTC__PRINTF(f, a)
#endif

/** True when a handler would receive @p level: lets callers skip formatting work. */
bool iotc__log_enabled(iotc_log_level level);

/** Format and deliver one message (truncated at 1 KiB). */
void iotc__log(iotc_log_level level, const char *fmt, ...) IOTC__PRINTF(2, 3);

#define IOTC_LOGE(...) iotc__log(IOTC_LOG_ERROR, __VA_ARGS__)
#define IOTC_LOGW(...) iotc__log(IOTC_LOG_WARN, __VA_ARGS__)
#define IOTC_LOGI(...) iotc__log(IOTC_LOG_INFO, __VA_ARGS__)
#define IOTC_LOGD(...) iotc__log(IOTC_LOG_DEBUG, __VA_ARGS__)

#endif
