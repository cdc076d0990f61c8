/* SPDX-License-Identifier: MIT */
#include "topic_hub_test.h"

static iotc_result build_get(const void *ctx, char *buf, size_t size, size_t *out_len) {
  return iotc_hub_topic_twin_get(ctx, buf, size, out_len);
}

static iotc_result build_patch(const void *ctx, char *buf, size_t size, size_t *out_len) {
  return iotc_hub_topic_twin_patch_reported(ctx, buf, size, out_len);
}

static iotc_result parse_response(const char *topic, iotc_hub_twin_response *out, char **copy) {
  size_t len;
  *copy = unterminated_copy(topic, &len);
  return iotc_hub_topic_twin_response_parse(*copy, len, out);
}

static iotc_result parse_desired(const char *topic, iotc_hub_twin_desired *out) {
  size_t len;
  char *copy = unterminated_copy(topic, &len);
  iotc_result r = iotc_hub_topic_twin_desired_parse(copy, len, out);
  free(copy);
  return r;
}

static void test_topic_twin_subscribe_filters_are_the_documented_ones(void **state) {
  (void)state;
  assert_string_equal(IOTC_HUB_TOPIC_TWIN_RESPONSE_SUBSCRIBE, "$iothub/twin/res/#");
  assert_string_equal(IOTC_HUB_TOPIC_TWIN_DESIRED_SUBSCRIBE,
                      "$iothub/twin/PATCH/properties/desired/#");
}

static void test_topic_twin_request_topics_at_every_buffer_size(void **state) {
  (void)state;
  check_builder_boundaries(build_get, "id_one", "$iothub/twin/GET/?$rid=id_one");
  check_builder_boundaries(build_patch, "42", "$iothub/twin/PATCH/properties/reported/?$rid=42");
  const char *bad[] = {NULL, "", "a b", "a/b", "a&b", "#", "+"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    assert_int_equal(build_result(build_get, bad[i]), IOTC_ERR_INVALID_ARG);
    assert_int_equal(build_result(build_patch, bad[i]), IOTC_ERR_INVALID_ARG);
  }
}

static void test_topic_twin_response_parse_reads_status_rid_and_version(void **state) {
  (void)state;
  char *copy;
  iotc_hub_twin_response r;
  assert_int_equal(parse_response("$iothub/twin/res/200/?$rid=id_one", &r, &copy), IOTC_OK);
  assert_int_equal(r.status, 200);
  assert_true(view_is(r.request_id, "id_one"));
  assert_false(r.has_version);
  free(copy);

  assert_int_equal(parse_response("$iothub/twin/res/204/?$rid=7&$version=16", &r, &copy), IOTC_OK);
  assert_int_equal(r.status, 204);
  assert_true(view_is(r.request_id, "7"));
  assert_true(r.has_version);
  assert_int_equal(r.version, 16);
  free(copy);

  assert_int_equal(parse_response("$iothub/twin/res/429/?$version=18446744073709551615&$rid=x&retry=1",
                                  &r, &copy),
                   IOTC_OK);
  assert_int_equal(r.status, 429);
  assert_true(view_is(r.request_id, "x"));
  assert_true(r.version == UINT64_MAX);
  free(copy);
}

static void test_topic_twin_response_parse_reports_broken_topics_as_malformed(void **state) {
  (void)state;
  const char *bad[] = {
      "$iothub/twin/res/",
      "$iothub/twin/res/200",
      "$iothub/twin/res/200/",
      "$iothub/twin/res/200/?",
      "$iothub/twin/res/200/?$rid=",
      "$iothub/twin/res/200/?$version=1",
      "$iothub/twin/res/20x/?$rid=1",
      "$iothub/twin/res/20/?$rid=1",
      "$iothub/twin/res/2000/?$rid=1",
      "$iothub/twin/res/099/?$rid=1",
      "$iothub/twin/res/-20/?$rid=1",
      "$iothub/twin/res/200?$rid=1",
      "$iothub/twin/res/204/?$rid=1&$version=",
      "$iothub/twin/res/204/?$rid=1&$version",
      "$iothub/twin/res/204/?$rid=1&$version=12a",
      "$iothub/twin/res/204/?$rid=1&$version=-1",
      "$iothub/twin/res/204/?$rid=1&$version=18446744073709551616",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    char *copy;
    iotc_hub_twin_response r;
    assert_int_equal(parse_response(bad[i], &r, &copy), IOTC_ERR_MALFORMED);
    free(copy);
  }
}

static void test_topic_twin_desired_parse_reads_the_version(void **state) {
  (void)state;
  iotc_hub_twin_desired d;
  assert_int_equal(parse_desired("$iothub/twin/PATCH/properties/desired/?$version=15", &d), IOTC_OK);
  assert_int_equal(d.version, 15);
  assert_int_equal(parse_desired("$iothub/twin/PATCH/properties/desired/?x=1&$version=0", &d), IOTC_OK);
  assert_int_equal(d.version, 0);
  const char *bad[] = {
      "$iothub/twin/PATCH/properties/desired/",
      "$iothub/twin/PATCH/properties/desired/?",
      "$iothub/twin/PATCH/properties/desired/?$rid=1",
      "$iothub/twin/PATCH/properties/desired/?$version=",
      "$iothub/twin/PATCH/properties/desired/?$version=x",
      "$iothub/twin/PATCH/properties/desired/$version=1",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    assert_int_equal(parse_desired(bad[i], &d), IOTC_ERR_MALFORMED);
  }
}

static void test_topic_twin_parsers_say_no_match_for_other_topics(void **state) {
  (void)state;
  for (size_t i = 0; i < HUB_TOPIC_SAMPLE_COUNT; ++i) {
    const char *t = hub_topic_samples[i];
    if (strncmp(t, "$iothub/twin/res/", 17) != 0) {
      char *copy;
      iotc_hub_twin_response r;
      assert_int_equal(parse_response(t, &r, &copy), IOTC_ERR_NO_MATCH);
      free(copy);
    }
    if (strncmp(t, "$iothub/twin/PATCH/properties/desired/", 38) != 0) {
      iotc_hub_twin_desired d;
      assert_int_equal(parse_desired(t, &d), IOTC_ERR_NO_MATCH);
    }
  }
  iotc_hub_twin_desired d;
  assert_int_equal(parse_desired("$iothub/twin/PATCH/properties/desired", &d), IOTC_ERR_NO_MATCH);
}

static void test_topic_twin_parsers_refuse_null_arguments(void **state) {
  (void)state;
  iotc_hub_twin_response r;
  iotc_hub_twin_desired d;
  assert_int_equal(iotc_hub_topic_twin_response_parse(NULL, 4, &r), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_topic_twin_response_parse("$iothub/twin/res/200/?$rid=1", 28, NULL),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_topic_twin_desired_parse(NULL, 4, &d), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_hub_topic_twin_desired_parse("x", 1, NULL), IOTC_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_topic_twin_subscribe_filters_are_the_documented_ones),
      cmocka_unit_test(test_topic_twin_request_topics_at_every_buffer_size),
      cmocka_unit_test(test_topic_twin_response_parse_reads_status_rid_and_version),
      cmocka_unit_test(test_topic_twin_response_parse_reports_broken_topics_as_malformed),
      cmocka_unit_test(test_topic_twin_desired_parse_reads_the_version),
      cmocka_unit_test(test_topic_twin_parsers_say_no_match_for_other_topics),
      cmocka_unit_test(test_topic_twin_parsers_refuse_null_arguments),
  };
  return cmocka_run_group_tests_name("hub topic: twin", tests, NULL, NULL);
}
