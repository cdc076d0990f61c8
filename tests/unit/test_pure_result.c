/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "iotc/iotc.h"

static void test_strerror_names_every_code_and_never_returns_null(void **state) {
  (void)state;
  for (int r = 0; r >= IOTC_ERR_NO_SPACE; --r) {
    const char *text = iotc_strerror((iotc_result)r);
    assert_non_null(text);
    assert_string_not_equal(text, "unknown error");
  }
  assert_string_equal(iotc_strerror((iotc_result)-9999), "unknown error");
  assert_string_equal(iotc_strerror((iotc_result)42), "unknown error");
}

/* iotc_result is append-only (README, Versions and compatibility): a code never changes number. */
static void test_result_codes_keep_their_numbers(void **state) {
  (void)state;
  static const struct { iotc_result code; int number; } pinned[] = {
      {IOTC_OK, 0},
      {IOTC_ERR_INVALID_ARG, -1},
      {IOTC_ERR_BUFFER_TOO_SMALL, -2},
      {IOTC_ERR_NO_MATCH, -3},
      {IOTC_ERR_MALFORMED, -4},
      {IOTC_ERR_NO_MEMORY, -5},
      {IOTC_ERR_BAD_ENCODING, -6},
      {IOTC_ERR_CRYPTO, -7},
      {IOTC_ERR_IO, -8},
      {IOTC_ERR_TLS, -9},
      {IOTC_ERR_CONNECT, -10},
      {IOTC_ERR_TIMEOUT, -11},
      {IOTC_ERR_CANCELLED, -12},
      {IOTC_ERR_UNAUTHORIZED, -13},
      {IOTC_ERR_NOT_FOUND, -14},
      {IOTC_ERR_THROTTLED, -15},
      {IOTC_ERR_SERVICE, -16},
      {IOTC_ERR_PROVISIONING_FAILED, -17},
      {IOTC_ERR_PROVISIONING_DISABLED, -18},
      {IOTC_ERR_PROTOCOL, -19},
      {IOTC_ERR_QUEUE_FULL, -20},
      {IOTC_ERR_NOT_CONNECTED, -21},
      {IOTC_ERR_STATE, -22},
      {IOTC_ERR_TOO_LARGE, -23},
      {IOTC_ERR_TRANSPORT, -24},
      {IOTC_ERR_HTTP, -25},
      {IOTC_ERR_SHUTDOWN, -26},
      {IOTC_ERR_NOT_SUPPORTED, -27},
      {IOTC_ERR_INTERNAL, -28},
      {IOTC_ERR_EXPIRED, -29},
      {IOTC_ERR_CONNECTION_LOST, -30},
      {IOTC_ERR_LOCKED, -31},
      {IOTC_ERR_NO_SPACE, -32},
  };
  for (size_t i = 0; i < sizeof pinned / sizeof *pinned; ++i) {
    assert_int_equal((int)pinned[i].code, pinned[i].number);
  }
}

static void test_version_matches_the_header(void **state) {
  (void)state;
  assert_string_equal(iotc_version(), IOTC_VERSION_STRING);
  assert_int_equal(IOTC_VERSION_NUM >> 16, IOTC_VERSION_MAJOR);
  assert_true(IOTC_AT_LEAST_VERSION(0, 0, 1));
}

static void test_error_clear_accepts_null_and_zeroes(void **state) {
  (void)state;
  iotc_error err;
  memset(&err, 0x5a, sizeof err);
  iotc_error_clear(&err);
  assert_int_equal(err.result, IOTC_OK);
  assert_string_equal(err.message, "");
  iotc_error_clear(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_strerror_names_every_code_and_never_returns_null),
      cmocka_unit_test(test_result_codes_keep_their_numbers),
      cmocka_unit_test(test_version_matches_the_header),
      cmocka_unit_test(test_error_clear_accepts_null_and_zeroes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
