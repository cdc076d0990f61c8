/* SPDX-License-Identifier: MIT */
#include "topic_hub_test.h"

typedef struct {
  iotc_hub_name_kind kind;
  const char *name;
  iotc_hub_name_rule rule;
  size_t offset;
} name_case;

static void check_cases(const name_case *cases, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    iotc_hub_name_rule rule = (iotc_hub_name_rule)99;
    size_t offset = 999;
    iotc_result want = cases[i].rule == IOTC_HUB_NAME_VALID ? IOTC_OK : IOTC_ERR_INVALID_ARG;
    assert_int_equal(iotc_hub_name_check(cases[i].kind, cases[i].name, &rule, &offset), want);
    assert_int_equal(rule, cases[i].rule);
    if (cases[i].rule != IOTC_HUB_NAME_VALID) {
      assert_int_equal(offset, cases[i].offset);
    }
    assert_int_equal(iotc_hub_name_check(cases[i].kind, cases[i].name, NULL, NULL), want);
  }
}

static void test_topic_name_check_applies_the_dtdl_rule(void **state) {
  (void)state;
  const iotc_hub_name_kind kinds[] = {IOTC_HUB_NAME_COMPONENT, IOTC_HUB_NAME_PROPERTY,
                                      IOTC_HUB_NAME_COMMAND, IOTC_HUB_NAME_TELEMETRY};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; ++k) {
    const name_case cases[] = {
        {kinds[k], "thermostat1", IOTC_HUB_NAME_VALID, 0},
        {kinds[k], "a", IOTC_HUB_NAME_VALID, 0},
        {kinds[k], "max_Temp_2", IOTC_HUB_NAME_VALID, 0},
        {kinds[k], NULL, IOTC_HUB_NAME_EMPTY, 0},
        {kinds[k], "", IOTC_HUB_NAME_EMPTY, 0},
        {kinds[k], "1abc", IOTC_HUB_NAME_BAD_FIRST_CHAR, 0},
        {kinds[k], "_abc", IOTC_HUB_NAME_BAD_FIRST_CHAR, 0},
        {kinds[k], "$version", IOTC_HUB_NAME_BAD_FIRST_CHAR, 0},
        {kinds[k], "abc_", IOTC_HUB_NAME_BAD_LAST_CHAR, 3},
        {kinds[k], "ab c", IOTC_HUB_NAME_BAD_CHAR, 2},
        {kinds[k], "a*b", IOTC_HUB_NAME_BAD_CHAR, 1},
        {kinds[k], "a/b", IOTC_HUB_NAME_BAD_CHAR, 1},
        {kinds[k], "a\"b", IOTC_HUB_NAME_BAD_CHAR, 1},
        {kinds[k], "a-b", IOTC_HUB_NAME_BAD_CHAR, 1},
        {kinds[k], "caf\xc3\xa9", IOTC_HUB_NAME_BAD_CHAR, 3},
        {kinds[k], "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", IOTC_HUB_NAME_VALID, 0},
        {kinds[k], "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", IOTC_HUB_NAME_TOO_LONG, 64},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);
  }
}

static void test_topic_name_check_refuses_reserved_telemetry_names(void **state) {
  (void)state;
  const name_case cases[] = {
      {IOTC_HUB_NAME_TELEMETRY, "EventEnqueuedUtcTime", IOTC_HUB_NAME_RESERVED, 0},
      {IOTC_HUB_NAME_TELEMETRY, "EventProcessedUtcTime", IOTC_HUB_NAME_RESERVED, 0},
      {IOTC_HUB_NAME_TELEMETRY, "PartitionId", IOTC_HUB_NAME_RESERVED, 0},
      {IOTC_HUB_NAME_TELEMETRY, "EventHub", IOTC_HUB_NAME_RESERVED, 0},
      {IOTC_HUB_NAME_TELEMETRY, "User", IOTC_HUB_NAME_RESERVED, 0},
      {IOTC_HUB_NAME_TELEMETRY, "Users", IOTC_HUB_NAME_VALID, 0},
      {IOTC_HUB_NAME_PROPERTY, "User", IOTC_HUB_NAME_VALID, 0},
  };
  check_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_topic_name_check_applies_the_message_property_rule(void **state) {
  (void)state;
  const iotc_hub_name_kind k = IOTC_HUB_NAME_MESSAGE_PROPERTY;
  const name_case cases[] = {
      {k, "alert", IOTC_HUB_NAME_VALID, 0},
      {k, "a+b=c&d/e?f#g%", IOTC_HUB_NAME_VALID, 0},
      {k, "caf\xc3\xa9", IOTC_HUB_NAME_VALID, 0},
      {k, "_x", IOTC_HUB_NAME_VALID, 0},
      {k, "", IOTC_HUB_NAME_EMPTY, 0},
      {k, "$.mid", IOTC_HUB_NAME_RESERVED, 0},
      {k, "iothub-creation-time-utc", IOTC_HUB_NAME_RESERVED, 0},
      {k, "IoTHub-x", IOTC_HUB_NAME_RESERVED, 0},
      {k, "iothub", IOTC_HUB_NAME_VALID, 0},
      {k, "a b", IOTC_HUB_NAME_BAD_CHAR, 1},
      {k, "ab\t", IOTC_HUB_NAME_BAD_CHAR, 2},
      {k, "a\x7f", IOTC_HUB_NAME_BAD_CHAR, 1},
      {k, "a\"", IOTC_HUB_NAME_BAD_CHAR, 1},
      {k, "a\\", IOTC_HUB_NAME_BAD_CHAR, 1},
  };
  check_cases(cases, sizeof cases / sizeof cases[0]);
  char long_name[130];
  memset(long_name, 'k', sizeof long_name);
  long_name[128] = '\0';
  assert_int_equal(iotc_hub_name_check(k, long_name, NULL, NULL), IOTC_OK);
  long_name[128] = 'k';
  long_name[129] = '\0';
  iotc_hub_name_rule rule;
  size_t at;
  assert_int_equal(iotc_hub_name_check(k, long_name, &rule, &at), IOTC_ERR_INVALID_ARG);
  assert_int_equal(rule, IOTC_HUB_NAME_TOO_LONG);
  assert_int_equal(at, 128);
}

static void test_topic_name_check_applies_the_device_id_rule(void **state) {
  (void)state;
  const iotc_hub_name_kind k = IOTC_HUB_NAME_DEVICE_ID;
  const name_case cases[] = {
      {k, "dev-1", IOTC_HUB_NAME_VALID, 0},
      {k, "A-z.0_%*?!(),:=@$'", IOTC_HUB_NAME_VALID, 0},
      {k, "", IOTC_HUB_NAME_EMPTY, 0},
      {k, "ab/c", IOTC_HUB_NAME_BAD_CHAR, 2},
      {k, "#", IOTC_HUB_NAME_BAD_CHAR, 0},
      {k, "a+", IOTC_HUB_NAME_BAD_CHAR, 1},
      {k, "a&", IOTC_HUB_NAME_BAD_CHAR, 1},
  };
  check_cases(cases, sizeof cases / sizeof cases[0]);
  char id[IOTC_HUB_DEVICE_ID_MAX + 2];
  memset(id, 'd', sizeof id);
  id[IOTC_HUB_DEVICE_ID_MAX + 1] = '\0';
  iotc_hub_name_rule rule;
  size_t at;
  assert_int_equal(iotc_hub_name_check(k, id, &rule, &at), IOTC_ERR_INVALID_ARG);
  assert_int_equal(rule, IOTC_HUB_NAME_TOO_LONG);
  assert_int_equal(at, IOTC_HUB_DEVICE_ID_MAX);
}

static void test_topic_name_check_refuses_an_unknown_kind(void **state) {
  (void)state;
  iotc_hub_name_rule rule;
  assert_int_equal(iotc_hub_name_check((iotc_hub_name_kind)42, "abc", &rule, NULL),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(rule, IOTC_HUB_NAME_BAD_CHAR);
}

static void test_topic_name_rule_text_names_every_rule(void **state) {
  (void)state;
  for (int r = IOTC_HUB_NAME_VALID; r <= IOTC_HUB_NAME_RESERVED; ++r) {
    const char *text = iotc_hub_name_rule_text((iotc_hub_name_rule)r);
    assert_non_null(text);
    assert_string_not_equal(text, "unknown name rule");
  }
  assert_string_equal(iotc_hub_name_rule_text((iotc_hub_name_rule)77), "unknown name rule");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_topic_name_check_applies_the_dtdl_rule),
      cmocka_unit_test(test_topic_name_check_refuses_reserved_telemetry_names),
      cmocka_unit_test(test_topic_name_check_applies_the_message_property_rule),
      cmocka_unit_test(test_topic_name_check_applies_the_device_id_rule),
      cmocka_unit_test(test_topic_name_check_refuses_an_unknown_kind),
      cmocka_unit_test(test_topic_name_rule_text_names_every_rule),
  };
  return cmocka_run_group_tests_name("hub topic: names", tests, NULL, NULL);
}
