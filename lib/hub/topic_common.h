/* SPDX-License-Identifier: MIT */
/* Helpers shared by the IoT Hub topic builders and parsers (pure: no I/O, no allocation). */
#ifndef IOTC_HUB_TOPIC_COMMON_H
#define IOTC_HUB_TOPIC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iotc/hub_topic.h"

/* MQTT caps a topic at 65535 bytes. */
#define IOTC__HUB_TOPIC_MAX 65535u

/* Length of a string literal, without its NUL. */
#define IOTC__LIT_LEN(s) (sizeof(s) - 1)

/* Copy n bytes to p and return the position after them (callers sized p beforehand). */
static inline char *iotc__put(char *p, const char *s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}

/* Bits of iotc__hub_char_classes()[byte]: IoT Hub device id byte (minus '+' and '#'),
 * ASCII letter, DTDL name byte (letter, digit or '_'). */
#define IOTC__HUB_CHAR_DEVICE_ID 1u
#define IOTC__HUB_CHAR_ALPHA 2u
#define IOTC__HUB_CHAR_WORD 4u
const unsigned char *iotc__hub_char_classes(void);

/* Length of @p id when it follows the device id rule of hub_topic.h, else 0. */
size_t iotc__hub_device_id_len(const char *id);

/* Length of @p rid when it follows the request id rule of hub_topic.h, else 0. */
size_t iotc__hub_request_id_len(const char *rid);

/* Number of decimal digits of @p v. */
size_t iotc__hub_u32_digits(uint32_t v);

/* Write @p v in decimal (iotc__hub_u32_digits(v) bytes, no NUL); return the end. */
char *iotc__hub_put_u32(char *p, uint32_t v);

/* Parse a non-empty all-digit view into a uint64; false on any other byte or overflow. */
bool iotc__hub_parse_u64(iotc_hub_view v, uint64_t *out);

/* True when view @p v starts with the literal @p lit of length @p lit_len. */
static inline bool iotc__hub_starts_with(const char *p, size_t len, const char *lit,
                                         size_t lit_len) {
  return len >= lit_len && memcmp(p, lit, lit_len) == 0;
}

/*
 * Shared tail of the `.../?$rid=...` topics: checks that [p, end) starts with '?', then reads
 * the `&`-separated query. Sets *out_rid to the `$rid` value (empty -> absent) and, when
 * @p out_version is not NULL, *out_has_version and *out_version from `$version`.
 * Returns IOTC_ERR_MALFORMED for a missing '?', a missing/empty `$rid` when @p need_rid, or a
 * non-numeric `$version`.
 */
iotc_result iotc__hub_parse_query(const char *p, const char *end, bool need_rid,
                                  iotc_hub_view *out_rid, bool *out_has_version,
                                  uint64_t *out_version);

/*
 * Builds `{prefix}{rid}` (the twin request topics) or `{prefix}{status}/?$rid={rid}`
 * in the builder shape; @p status < 0 means no status part.
 */
iotc_result iotc__hub_build_rid_topic(const char *prefix, size_t prefix_len, int status,
                                      const char *rid, char *buf, size_t size, size_t *out_len);

#endif
