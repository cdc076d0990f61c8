/* SPDX-License-Identifier: MIT */
/* The JSON helpers of common/: the one-pass validator and the bounded load into jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/json.h"

static const char *check(const char *s) { return iotc__json_check(s, strlen(s), NULL); }

static void valid_json_values_pass_the_check(void **state) {
  (void)state;
  const char *ok[] = {"{}", "[]", "0", "-1.5e+3", "\"a\\u00e9\\n\"", "true", "false", "null",
                      " {\"a\":[1,2,{\"b\":null}],\"c\":\"x\"} ", "[[[]]]", "{\"\":0}"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) assert_null(check(ok[i]));
  char kind = 0;
  assert_null(iotc__json_check(" {\"a\":1}", 8, &kind));
  assert_int_equal(kind, '{');
}

static void broken_json_fails_the_check(void **state) {
  (void)state;
  const char *bad[] = {"", " ", "{", "}", "[1,]", "{\"a\"}", "{\"a\":}", "{a:1}", "01", "1.",
                       "-", "tru", "\"abc", "\"\\x\"", "\"\\u12g4\"", "{} {}", "[1 2]", "{\"a\":1,}",
                       "[}", "{]", "\"tab\there\"", "nul"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_non_null(check(bad[i]));
  }
}

static void nesting_deeper_than_the_limit_is_refused(void **state) {
  (void)state;
  char deep[IOTC__JSON_MAX_DEPTH * 2 + 3];
  size_t n = IOTC__JSON_MAX_DEPTH + 1;
  memset(deep, '[', n);
  memset(deep + n, ']', n);
  deep[2 * n] = '\0';
  assert_non_null(check(deep));
  assert_null(iotc__json_check(deep + 1, 2 * n - 2, NULL));
}

static void strings_of_any_length_are_checked_at_every_byte(void **state) {
  (void)state;
  char s[48];
  for (size_t len = 1; len < 40; len++) {
    for (size_t at = 0; at < len; at++) {
      memset(s, 'a', sizeof s);
      s[0] = '"';
      s[len + 1] = '"';
      s[len + 2] = '\0';
      assert_null(check(s));
      s[1 + at] = '\t';
      assert_non_null(check(s));
      s[1 + at] = 0x1f;
      assert_non_null(check(s));
      s[1 + at] = '"'; /* ends the string early: text after it */
      assert_non_null(check(s));
      s[1 + at] = 'a';
      if (at + 1 < len) {
        s[1 + at] = (char)0xc3; /* é: bytes from 0x80 up are plain */
        s[2 + at] = (char)0xa9;
        assert_null(check(s));
        s[1 + at] = '\\';
        s[2 + at] = 'n';
        assert_null(check(s));
        s[2 + at] = 'x';
        assert_non_null(check(s));
      }
    }
    memset(s, 'a', sizeof s);
    s[0] = '"';
    s[len + 1] = '\0'; /* never closed */
    assert_non_null(check(s));
    s[len] = '\\'; /* closed only by an escaped quote */
    s[len + 1] = '"';
    s[len + 2] = '\0';
    assert_non_null(check(s));
  }
}

static void the_bounded_load_parses_what_the_check_accepts(void **state) {
  (void)state;
  char why[IOTC__JSON_WHY_SIZE] = "unchanged";
  json_t *j = iotc__json_load("{\"a\":[1,2]}", 11, 64, 0, why);
  assert_non_null(j);
  assert_int_equal(json_array_size(json_object_get(j, "a")), 2);
  json_decref(j);
  assert_string_equal(why, "unchanged");
  j = iotc__json_load("42", 2, 64, JSON_DECODE_ANY, NULL);
  assert_int_equal(json_integer_value(j), 42);
  json_decref(j);
}

static void the_bounded_load_refuses_text_longer_than_its_limit(void **state) {
  (void)state;
  char why[IOTC__JSON_WHY_SIZE];
  assert_null(iotc__json_load("{\"a\":1}", 7, 6, 0, why));
  assert_string_equal(why, "longer than 6 bytes");
  json_t *j = iotc__json_load("{\"a\":1}", 7, 7, 0, why);
  assert_non_null(j);
  json_decref(j);
}

static void the_bounded_load_refuses_deep_nesting_before_jansson_sees_it(void **state) {
  (void)state;
  char deep[2 * (IOTC__JSON_MAX_DEPTH + 1)];
  memset(deep, '[', IOTC__JSON_MAX_DEPTH + 1);
  memset(deep + IOTC__JSON_MAX_DEPTH + 1, ']', IOTC__JSON_MAX_DEPTH + 1);
  char why[IOTC__JSON_WHY_SIZE];
  assert_null(iotc__json_load(deep, sizeof deep, sizeof deep, 0, why));
  assert_string_equal(why, iotc__json_check(deep, sizeof deep, NULL));
  assert_null(iotc__json_load("[1,", 3, 64, 0, why));
  assert_string_equal(why, check("[1,"));
}

static void the_bounded_load_says_where_jansson_refused(void **state) {
  (void)state;
  char why[IOTC__JSON_WHY_SIZE];
  /* Valid JSON that these flags refuse: a duplicate key, a bare number without DECODE_ANY. */
  assert_null(iotc__json_load("{\"a\":1,\"a\":2}", 13, 64, JSON_REJECT_DUPLICATES, why));
  assert_non_null(strstr(why, "line 1, column"));
  assert_non_null(strstr(why, "duplicate"));
  assert_null(iotc__json_load("42", 2, 64, 0, why));
  assert_non_null(strstr(why, "line 1"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(valid_json_values_pass_the_check),
      cmocka_unit_test(broken_json_fails_the_check),
      cmocka_unit_test(nesting_deeper_than_the_limit_is_refused),
      cmocka_unit_test(strings_of_any_length_are_checked_at_every_byte),
      cmocka_unit_test(the_bounded_load_parses_what_the_check_accepts),
      cmocka_unit_test(the_bounded_load_refuses_text_longer_than_its_limit),
      cmocka_unit_test(the_bounded_load_refuses_deep_nesting_before_jansson_sees_it),
      cmocka_unit_test(the_bounded_load_says_where_jansson_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
