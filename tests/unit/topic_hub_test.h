/* SPDX-License-Identifier: MIT */
/* Shared checks for the IoT Hub topic tests (included by test_topic_hub_*.c). */
#ifndef IOTC_TESTS_TOPIC_HUB_TEST_H
#define IOTC_TESTS_TOPIC_HUB_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iotc/iotc.h"

/* A builder bound to its inputs, so one boundary check serves every builder. */
typedef iotc_result (*topic_build_fn)(const void *ctx, char *buf, size_t size, size_t *out_len);

#define GUARD_BYTE ((char)0x5A)

/* Runs @p fn at size 0, needed-1, needed and needed+1 (needed = strlen(expected) + 1) and
 * checks: exact output and NUL on success, *out_len always the length, nothing written when
 * the buffer is short, no byte written past the NUL, out_len may be NULL, buf NULL refused. */
static inline void check_builder_boundaries(topic_build_fn fn, const void *ctx,
                                            const char *expected) {
  size_t len = strlen(expected);
  size_t cap = len + 8;
  char *buf = malloc(cap);
  assert_non_null(buf);
  const size_t short_sizes[] = {0, len};
  for (size_t i = 0; i < 2; ++i) {
    memset(buf, GUARD_BYTE, cap);
    size_t out = 12345;
    assert_int_equal(fn(ctx, buf, short_sizes[i], &out), IOTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(out, len);
    for (size_t k = 0; k < cap; ++k) {
      assert_int_equal(buf[k], GUARD_BYTE);
    }
    assert_int_equal(fn(ctx, buf, short_sizes[i], NULL), IOTC_ERR_BUFFER_TOO_SMALL);
  }
  const size_t ok_sizes[] = {len + 1, len + 2};
  for (size_t i = 0; i < 2; ++i) {
    memset(buf, GUARD_BYTE, cap);
    size_t out = 12345;
    assert_int_equal(fn(ctx, buf, ok_sizes[i], &out), IOTC_OK);
    assert_int_equal(out, len);
    assert_memory_equal(buf, expected, len + 1);
    for (size_t k = len + 1; k < cap; ++k) {
      assert_int_equal(buf[k], GUARD_BYTE);
    }
  }
  memset(buf, GUARD_BYTE, cap);
  assert_int_equal(fn(ctx, buf, len + 1, NULL), IOTC_OK);
  assert_string_equal(buf, expected);
  assert_int_equal(fn(ctx, NULL, len + 1, NULL), IOTC_ERR_INVALID_ARG);
  free(buf);
  /* A roomy buffer (three times the output, so even fully escaped input fits) gives the
   * same bytes: builders may take a one-pass path there. */
  size_t big_size = 3 * len + 64;
  char *big = malloc(big_size);
  assert_non_null(big);
  memset(big, GUARD_BYTE, big_size);
  size_t out = 0;
  assert_int_equal(fn(ctx, big, big_size, &out), IOTC_OK);
  assert_int_equal(out, len);
  assert_memory_equal(big, expected, len + 1);
  assert_int_equal(big[len + 1], GUARD_BYTE);
  free(big);
}

/* Builds into a fixed buffer and returns the result (for argument checks). */
static inline iotc_result build_result(topic_build_fn fn, const void *ctx) {
  char buf[256];
  memset(buf, GUARD_BYTE, sizeof buf);
  iotc_result r = fn(ctx, buf, sizeof buf, NULL);
  if (r != IOTC_OK) {
    for (size_t k = 0; k < sizeof buf; ++k) {
      assert_int_equal(buf[k], GUARD_BYTE);
    }
  }
  return r;
}

/* One received topic of every family (and a few look-alikes), for NO_MATCH checks. */
static const char *const hub_topic_samples[] = {
    "devices/dev1/messages/devicebound/%24.to=%2Fdevices%2Fdev1%2Fmessages%2FdeviceBound&a=b",
    "devices/dev1/messages/devicebound/",
    "$iothub/methods/POST/reboot/?$rid=1",
    "$iothub/methods/POST/thermostat1*getMaxMinReport/?$rid=42",
    "$iothub/twin/res/200/?$rid=7",
    "$iothub/twin/res/204/?$rid=8&$version=16",
    "$iothub/twin/PATCH/properties/desired/?$version=15",
    "devices/dev1/messages/events/%24.ct=application%2Fjson",
    "$iothub/twin/GET/?$rid=1",
    "$iothub/twin/PATCH/properties/reported/?$rid=1",
    "$iothub/methods/res/200/?$rid=1",
    "$dps/registrations/res/202/?$rid=1&retry-after=3",
    "",
    "$iothub",
    "devices/",
};
#define HUB_TOPIC_SAMPLE_COUNT (sizeof hub_topic_samples / sizeof hub_topic_samples[0])

/* Copies @p topic into an exactly-sized heap block without NUL, so ASan catches any read
 * past topic_len. Free with free(). */
static inline char *unterminated_copy(const char *topic, size_t *out_len) {
  size_t len = strlen(topic);
  char *p = malloc(len ? len : 1);
  assert_non_null(p);
  memcpy(p, topic, len);
  *out_len = len;
  return p;
}

/* True when view @p v holds exactly @p text. */
static inline int view_is(iotc_hub_view v, const char *text) {
  size_t n = strlen(text);
  return v.ptr != NULL && v.len == n && memcmp(v.ptr, text, n) == 0;
}

#endif
