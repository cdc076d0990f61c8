/* SPDX-License-Identifier: MIT */
#include "topic_hub_test.h"

typedef struct {
  int status;
  const char *rid;
} response_args;

static iotc_result build_response(const void *ctx, char *buf, size_t size, size_t *out_len) {
  const response_args *a = ctx;
  return iotc_hub_topic_method_response(a->status, a->rid, buf, size, out_len);
}

static iotc_result parse(const char *topic, char **copy, iotc_hub_method_request *out) {
  size_t len;
  *copy = unterminated_copy(topic, &len);
  return iotc_hub_topic_method_parse(*copy, len, out);
}

static void test_topic_methods_subscribe_filter_is_the_documented_one(void **state) {
  (void)state;
  assert_string_equal(IOTC_HUB_TOPIC_METHODS_SUBSCRIBE, "$iothub/methods/POST/#");
}

static void test_topic_method_parse_reads_a_root_command(void **state) {
  (void)state;
  char *copy;
  iotc_hub_method_request r;
  assert_int_equal(parse("$iothub/methods/POST/reboot/?$rid=1", &copy, &r), IOTC_OK);
  assert_true(view_is(r.name, "reboot"));
  assert_true(view_is(r.request_id, "1"));
  assert_null(r.component.ptr);
  assert_true(view_is(r.command, "reboot"));
  free(copy);

  /* Opaque rid, other parameters ignored, in any order. */
  assert_int_equal(parse("$iothub/methods/POST/m/?x=1&$rid=0f8fad5b-d9cb-469f&y", &copy, &r), IOTC_OK);
  assert_true(view_is(r.request_id, "0f8fad5b-d9cb-469f"));
  free(copy);
}

static void test_topic_method_parse_splits_a_component_command(void **state) {
  (void)state;
  char *copy;
  iotc_hub_method_request r;
  assert_int_equal(parse("$iothub/methods/POST/thermostat1*getMaxMinReport/?$rid=42", &copy, &r),
                   IOTC_OK);
  assert_true(view_is(r.name, "thermostat1*getMaxMinReport"));
  assert_true(view_is(r.component, "thermostat1"));
  assert_true(view_is(r.command, "getMaxMinReport"));
  assert_true(view_is(r.request_id, "42"));
  free(copy);

  /* A misplaced '*' still parses, so the caller can answer it, but names no command. */
  const char *odd[] = {"$iothub/methods/POST/*x/?$rid=1", "$iothub/methods/POST/x*/?$rid=1",
                       "$iothub/methods/POST/a*b*c/?$rid=1", "$iothub/methods/POST/*/?$rid=1"};
  for (size_t i = 0; i < sizeof odd / sizeof odd[0]; ++i) {
    assert_int_equal(parse(odd[i], &copy, &r), IOTC_OK);
    assert_true(view_is(r.request_id, "1"));
    assert_null(r.command.ptr);
    assert_null(r.component.ptr);
    free(copy);
  }
}

static void test_topic_command_name_split_checks_its_input(void **state) {
  (void)state;
  iotc_hub_view c, k;
  assert_int_equal(iotc_hub_command_name_split((iotc_hub_view){"", 0}, &c, &k), IOTC_ERR_MALFORMED);
  assert_int_equal(iotc_hub_command_name_split((iotc_hub_view){"a*", 2}, &c, &k), IOTC_ERR_MALFORMED);
  assert_int_equal(iotc_hub_command_name_split((iotc_hub_view){NULL, 2}, &c, &k), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_command_name_split((iotc_hub_view){"a", 1}, NULL, &k), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_command_name_split((iotc_hub_view){"a", 1}, &c, NULL), IOTC_ERR_INVALID_ARG);
  /* Only the view's bytes count, not what follows. */
  assert_int_equal(iotc_hub_command_name_split((iotc_hub_view){"ab*c", 2}, &c, &k), IOTC_OK);
  assert_null(c.ptr);
  assert_true(view_is(k, "ab"));
}

static void test_topic_method_parse_says_no_match_for_other_topics(void **state) {
  (void)state;
  for (size_t i = 0; i < HUB_TOPIC_SAMPLE_COUNT; ++i) {
    const char *t = hub_topic_samples[i];
    if (strncmp(t, "$iothub/methods/POST/", 21) == 0) {
      continue;
    }
    char *copy;
    iotc_hub_method_request r;
    assert_int_equal(parse(t, &copy, &r), IOTC_ERR_NO_MATCH);
    free(copy);
  }
  char *copy;
  iotc_hub_method_request r;
  assert_int_equal(parse("$iothub/methods/POST", &copy, &r), IOTC_ERR_NO_MATCH);
  free(copy);
  assert_int_equal(parse("$iothub/methods/post/x/?$rid=1", &copy, &r), IOTC_ERR_NO_MATCH);
  free(copy);
}

static void test_topic_method_parse_reports_broken_requests_as_malformed(void **state) {
  (void)state;
  const struct {
    const char *topic;
    const char *rid; /* the rid still reported, or NULL */
  } bad[] = {
      {"$iothub/methods/POST/", NULL},
      {"$iothub/methods/POST/reboot", NULL},
      {"$iothub/methods/POST/reboot/", NULL},
      {"$iothub/methods/POST/reboot/?", NULL},
      {"$iothub/methods/POST/reboot/?$rid", NULL},
      {"$iothub/methods/POST/reboot/?$rid=", NULL},
      {"$iothub/methods/POST/reboot/?rid=1", NULL},
      {"$iothub/methods/POST/reboot/$rid=1", NULL},
      {"$iothub/methods/POST/a/b/?$rid=1", NULL},
      {"$iothub/methods/POST//?$rid=9", "9"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    char *copy;
    iotc_hub_method_request r;
    assert_int_equal(parse(bad[i].topic, &copy, &r), IOTC_ERR_MALFORMED);
    if (bad[i].rid) {
      assert_true(view_is(r.request_id, bad[i].rid));
    } else {
      assert_null(r.request_id.ptr);
    }
    free(copy);
  }
  iotc_hub_method_request r;
  assert_int_equal(iotc_hub_topic_method_parse(NULL, 5, &r), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_topic_method_parse("$iothub/methods/POST/a/?$rid=1", 30, NULL),
                   IOTC_ERR_INVALID_ARG);
}

static void test_topic_method_response_at_every_buffer_size(void **state) {
  (void)state;
  response_args a = {200, "1"};
  check_builder_boundaries(build_response, &a, "$iothub/methods/res/200/?$rid=1");
  response_args b = {404, "0f8fad5b-d9cb-469f-a165-70867728950e"};
  check_builder_boundaries(build_response, &b,
                           "$iothub/methods/res/404/?$rid=0f8fad5b-d9cb-469f-a165-70867728950e");
  response_args c = {999, "$x=~"};
  check_builder_boundaries(build_response, &c, "$iothub/methods/res/999/?$rid=$x=~");
  response_args d = {100, "r"};
  check_builder_boundaries(build_response, &d, "$iothub/methods/res/100/?$rid=r");
}

static void test_topic_method_response_refuses_bad_status_and_rid(void **state) {
  (void)state;
  const response_args bad[] = {{99, "1"},  {1000, "1"},   {-200, "1"},  {200, NULL},
                               {200, ""},  {200, "a b"},  {200, "a/b"}, {200, "a#"},
                               {200, "a+"}, {200, "a&b"}, {200, "\x01"}, {200, "\xc3\xa9"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    assert_int_equal(build_result(build_response, &bad[i]), IOTC_ERR_INVALID_ARG);
  }
  char rid[IOTC_HUB_REQUEST_ID_MAX + 2];
  memset(rid, '7', sizeof rid);
  rid[IOTC_HUB_REQUEST_ID_MAX] = '\0';
  char buf[200];
  assert_int_equal(iotc_hub_topic_method_response(200, rid, buf, sizeof buf, NULL), IOTC_OK);
  rid[IOTC_HUB_REQUEST_ID_MAX] = '7';
  rid[IOTC_HUB_REQUEST_ID_MAX + 1] = '\0';
  assert_int_equal(iotc_hub_topic_method_response(200, rid, buf, sizeof buf, NULL),
                   IOTC_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_topic_methods_subscribe_filter_is_the_documented_one),
      cmocka_unit_test(test_topic_method_parse_reads_a_root_command),
      cmocka_unit_test(test_topic_method_parse_splits_a_component_command),
      cmocka_unit_test(test_topic_command_name_split_checks_its_input),
      cmocka_unit_test(test_topic_method_parse_says_no_match_for_other_topics),
      cmocka_unit_test(test_topic_method_parse_reports_broken_requests_as_malformed),
      cmocka_unit_test(test_topic_method_response_at_every_buffer_size),
      cmocka_unit_test(test_topic_method_response_refuses_bad_status_and_rid),
  };
  return cmocka_run_group_tests_name("hub topic: methods", tests, NULL, NULL);
}
