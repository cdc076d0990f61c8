/* SPDX-License-Identifier: MIT */
/* Reconnect back-off: exponential growth with full jitter. */
#ifndef IOTC_CENTRAL_BACKOFF_H
#define IOTC_CENTRAL_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

/**
 * Delay before attempt number @p attempt (0 = first retry): uniform in
 * [floor, min(max_ms, min_ms * 2^attempt)] where floor is 0, or half the cap when
 * @p throttled (the service asked us to slow down: never retry at once).
 * @param random a uniformly distributed 32-bit value
 */
uint32_t iotc__backoff_ms(uint32_t attempt, uint32_t min_ms, uint32_t max_ms, bool throttled,
                          uint32_t random);

/** A 32-bit random value (thread-safe; not for cryptography). */
uint32_t iotc__backoff_random(void);

#endif
