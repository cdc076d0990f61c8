#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "iotc/iotc.h"

static void test_strerror_names_every_code_and_never_returns_null(void **state) {
  (void)state;
  for (int r = 0; r >= IOTC_ERR_CONNECTION_LOST; --r) {
    const char *text = iotc_strerror((iotc_result)r);
    assert_non_null(text);
    assert_string_not_equal(text, "unknown error");
  }
  assert_string_equal(iotc_strerror((iotc_result)-9999), "unknown error");
  assert_string_equal(iotc_strerror((iotc_result)42), "unknown error");
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
      cmocka_unit_test(test_version_matches_the_header),
      cmocka_unit_test(test_error_clear_accepts_null_and_zeroes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
