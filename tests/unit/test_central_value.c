/* SPDX-License-Identifier: MIT */
/* The iotc_value_* readers of JSON values handed to callbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "iotc/client.h"

static void integers_and_whole_reals_read_as_int(void **state) {
  (void)state;
  int64_t v = 0;
  assert_int_equal(iotc_value_int("42", &v), IOTC_OK);
  assert_int_equal(v, 42);
  assert_int_equal(iotc_value_int(" -7.0 ", &v), IOTC_OK);
  assert_int_equal(v, -7);
  assert_int_equal(iotc_value_int("-9223372036854775808", &v), IOTC_OK);
  assert_true(v == INT64_MIN);
  assert_int_equal(iotc_value_int("-9223372036854775808.0", &v), IOTC_OK);
  assert_true(v == INT64_MIN);
  assert_int_equal(iotc_value_int("1.5", &v), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_value_int("\"1\"", &v), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_value_int(NULL, &v), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_value_int("1", NULL), IOTC_ERR_INVALID_ARG);
}

static void reals_beyond_the_int64_range_are_refused_not_converted(void **state) {
  (void)state;
  /* Converting these to int64_t would be undefined behaviour (UBSan stops the test). */
  const char *big[] = {"1e300", "-1e300", "9223372036854775808.0", "-9223372036854775809.5e3",
                       "1.8446744073709552e19"};
  for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
    int64_t v = 123;
    assert_int_equal(iotc_value_int(big[i], &v), IOTC_ERR_INVALID_ARG);
    assert_int_equal(v, 123);
  }
}

static void doubles_bools_and_strings_read_their_own_type_only(void **state) {
  (void)state;
  double d = 0;
  bool b = false;
  assert_int_equal(iotc_value_double("2", &d), IOTC_OK);
  assert_true(d == 2.0);
  assert_int_equal(iotc_value_double("true", &d), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_value_bool("true", &b), IOTC_OK);
  assert_true(b);
  assert_int_equal(iotc_value_bool("1", &b), IOTC_ERR_INVALID_ARG);
  char buf[4] = "ZZZ";
  size_t n = 0;
  assert_int_equal(iotc_value_string("\"abcd\"", buf, sizeof buf, &n), IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(n, 4);
  assert_string_equal(buf, "ZZZ");
  assert_int_equal(iotc_value_string("\"abc\"", buf, sizeof buf, &n), IOTC_OK);
  assert_string_equal(buf, "abc");
  assert_int_equal(iotc_value_string("{\"a\":1}", buf, sizeof buf, &n), IOTC_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(integers_and_whole_reals_read_as_int),
      cmocka_unit_test(reals_beyond_the_int64_range_are_refused_not_converted),
      cmocka_unit_test(doubles_bools_and_strings_read_their_own_type_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
