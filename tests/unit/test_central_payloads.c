/* SPDX-License-Identifier: MIT */
/* The payloads IoT Central expects: reported properties, acknowledgements, command completions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "central/payloads.h"
#include "common/json.h"

static const char *check(const char *s) { return iotc__json_check(s, strlen(s), NULL); }

static void a_root_property_is_reported_as_one_member(void **state) {
  (void)state;
  size_t n = 0;
  char *s = iotc__json_reported_one(NULL, "state", " \"on\" ", &n);
  assert_non_null(s); /* NULL: out of memory */
  assert_string_equal(s, "{\"state\":\"on\"}");
  assert_int_equal(n, strlen(s));
  free(s);
}

static void a_component_property_carries_the_component_marker(void **state) {
  (void)state;
  char *s = iotc__json_reported_one("thermostat1", "maxTemp", "38.7", NULL);
  assert_non_null(s); /* NULL: out of memory */
  assert_string_equal(s, "{\"thermostat1\":{\"__t\":\"c\",\"maxTemp\":38.7}}");
  free(s);
  s = iotc__json_reported_many("thermostat1", " { \"a\":1, \"b\":2 } ", NULL);
  assert_non_null(s); /* NULL: out of memory */
  assert_string_equal(s, "{\"thermostat1\":{\"__t\":\"c\",\"a\":1, \"b\":2}}");
  free(s);
  s = iotc__json_reported_many("thermostat1", "{ }", NULL);
  assert_non_null(s); /* NULL: out of memory */
  assert_string_equal(s, "{\"thermostat1\":{\"__t\":\"c\"}}");
  free(s);
  s = iotc__json_reported_many(NULL, "{\"a\":1}", NULL);
  assert_non_null(s); /* NULL: out of memory */
  assert_string_equal(s, "{\"a\":1}");
  free(s);
}

static void an_acknowledgement_has_value_ac_av_and_an_escaped_description(void **state) {
  (void)state;
  char *s = iotc__json_ack(NULL, "brightness", "5", 200, 7, "done \"now\"\n", NULL);
  assert_non_null(s); /* NULL: out of memory */
  assert_string_equal(s, "{\"brightness\":{\"value\":5,\"ac\":200,\"av\":7,\"ad\":\"done \\\"now\\\"\\n\"}}");
  assert_null(check(s));
  free(s);
  s = iotc__json_ack("c1", "p", "{\"x\":1}", 203, 0, NULL, NULL);
  assert_non_null(s); /* NULL: out of memory */
  assert_string_equal(s, "{\"c1\":{\"__t\":\"c\",\"p\":{\"value\":{\"x\":1},\"ac\":203,\"av\":0}}}");
  free(s);
}

static void a_long_running_command_completes_as_a_property_named_after_it(void **state) {
  (void)state;
  char *s = iotc__json_command_done(NULL, "rundiagnostics", "\"Diagnostics run complete\"", NULL);
  assert_non_null(s); /* NULL: out of memory */
  assert_string_equal(s, "{\"rundiagnostics\":{\"value\":\"Diagnostics run complete\"}}");
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_root_property_is_reported_as_one_member),
      cmocka_unit_test(a_component_property_carries_the_component_marker),
      cmocka_unit_test(an_acknowledgement_has_value_ac_av_and_an_escaped_description),
      cmocka_unit_test(a_long_running_command_completes_as_a_property_named_after_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
