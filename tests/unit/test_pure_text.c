/* SPDX-License-Identifier: MIT */
/* common/text.h: bounded copies and control-character escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/text.h"

static void test_escape_text_writes_control_characters_as_escapes(void **state) {
  (void)state;
  char out[64];
  assert_true(iotc__escape_text(out, sizeof out, "a\r\nb\tc\x01\x7f\xc3\xa9 \\"));
  assert_string_equal(out, "a\\r\\nb\\tc\\x01\\x7f\xc3\xa9 \\");
  assert_true(iotc__escape_text(out, sizeof out, NULL));
  assert_string_equal(out, "");
  assert_true(iotc__escape_text(out, sizeof out, "plain"));
  assert_string_equal(out, "plain");
}

static void test_escape_text_truncates_between_escapes(void **state) {
  (void)state;
  char out[5];
  /* "ab" + "\r" needs 4 bytes + NUL = 5: fits exactly. */
  assert_true(iotc__escape_text(out, sizeof out, "ab\r"));
  assert_string_equal(out, "ab\\r");
  /* One more byte of escape does not fit: the escape is left out whole. */
  assert_false(iotc__escape_text(out, sizeof out, "abc\r"));
  assert_string_equal(out, "abc");
  assert_false(iotc__escape_text(out, sizeof out, "a\x02"));
  assert_string_equal(out, "a");
  assert_false(iotc__escape_text(out, 1, "x"));
  assert_string_equal(out, "");
  assert_true(iotc__escape_text(out, 1, ""));
  assert_false(iotc__escape_text(NULL, 0, "x"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_escape_text_writes_control_characters_as_escapes),
      cmocka_unit_test(test_escape_text_truncates_between_escapes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
