/* SPDX-License-Identifier: MIT */
/* retry-after values as both DPS transports read them (pure; internal). */
#ifndef IOTC_DPS_RETRY_AFTER_H
#define IOTC_DPS_RETRY_AFTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Seconds from @p n (>= 1) ASCII digits; false for anything else. Any number of digits is a
 * number: values above IOTC_DPS_RETRY_AFTER_MAX_S read as that maximum, so a ten-digit hint is a
 * very long pause on both transports rather than an error on one of them.
 */
bool iotc__dps_retry_after_parse(const char *s, size_t n, uint32_t *out);

#endif
