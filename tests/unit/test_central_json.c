/* SPDX-License-Identifier: MIT */
/* The client's JSON helpers: the one-pass validator and the reported-property builders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "central/json.h"

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

static void a_root_property_is_reported_as_one_member(void **state) {
  (void)state;
  size_t n = 0;
  char *s = iotc__json_reported_one(NULL, "state", " \"on\" ", &n);
  assert_non_null(s); /* NULL: out of memory */
  assert_non_null(s);
  assert_string_equal(s, "{\"state\":\"on\"}");
  assert_int_equal(n, strlen(s));
  free(s);
}

static void a_component_property_carries_the_component_marker(void **state) {
  (void)state;
  char *s = iotc__json_reported_one("thermostat1", "maxTemp", "38.7", NULL);
  assert_non_null(s);
  assert_string_equal(s, "{\"thermostat1\":{\"__t\":\"c\",\"maxTemp\":38.7}}");
  free(s);
  s = iotc__json_reported_many("thermostat1", " { \"a\":1, \"b\":2 } ", NULL);
  assert_non_null(s);
  assert_string_equal(s, "{\"thermostat1\":{\"__t\":\"c\",\"a\":1, \"b\":2}}");
  free(s);
  s = iotc__json_reported_many("thermostat1", "{ }", NULL);
  assert_non_null(s);
  assert_string_equal(s, "{\"thermostat1\":{\"__t\":\"c\"}}");
  free(s);
  s = iotc__json_reported_many(NULL, "{\"a\":1}", NULL);
  assert_non_null(s);
  assert_string_equal(s, "{\"a\":1}");
  free(s);
}

static void an_acknowledgement_has_value_ac_av_and_an_escaped_description(void **state) {
  (void)state;
  char *s = iotc__json_ack(NULL, "brightness", "5", 200, 7, "done \"now\"\n", NULL);
  assert_non_null(s);
  assert_string_equal(s, "{\"brightness\":{\"value\":5,\"ac\":200,\"av\":7,\"ad\":\"done \\\"now\\\"\\n\"}}");
  assert_null(check(s));
  free(s);
  s = iotc__json_ack("c1", "p", "{\"x\":1}", 203, 0, NULL, NULL);
  assert_non_null(s);
  assert_string_equal(s, "{\"c1\":{\"__t\":\"c\",\"p\":{\"value\":{\"x\":1},\"ac\":203,\"av\":0}}}");
  free(s);
}

static void a_long_running_command_completes_as_a_property_named_after_it(void **state) {
  (void)state;
  char *s = iotc__json_command_done(NULL, "rundiagnostics", "\"Diagnostics run complete\"", NULL);
  assert_non_null(s);
  assert_string_equal(s, "{\"rundiagnostics\":{\"value\":\"Diagnostics run complete\"}}");
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(valid_json_values_pass_the_check),
      cmocka_unit_test(broken_json_fails_the_check),
      cmocka_unit_test(nesting_deeper_than_the_limit_is_refused),
      cmocka_unit_test(strings_of_any_length_are_checked_at_every_byte),
      cmocka_unit_test(a_root_property_is_reported_as_one_member),
      cmocka_unit_test(a_component_property_carries_the_component_marker),
      cmocka_unit_test(an_acknowledgement_has_value_ac_av_and_an_escaped_description),
      cmocka_unit_test(a_long_running_command_completes_as_a_property_named_after_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
