/* SPDX-License-Identifier: MIT */
#include "topic_hub_test.h"

typedef struct {
  const char *device_id;
  const iotc_hub_telemetry_options *options;
} telemetry_args;

static iotc_result build_telemetry(const void *ctx, char *buf, size_t size, size_t *out_len) {
  const telemetry_args *a = ctx;
  return iotc_hub_topic_telemetry(a->device_id, a->options, buf, size, out_len);
}

static void test_topic_telemetry_without_options_ends_with_a_slash(void **state) {
  (void)state;
  telemetry_args a = {"dev1", NULL};
  check_builder_boundaries(build_telemetry, &a, "devices/dev1/messages/events/");
  iotc_hub_telemetry_options empty;
  iotc_hub_telemetry_options_init(&empty);
  telemetry_args b = {"dev1", &empty};
  check_builder_boundaries(build_telemetry, &b, "devices/dev1/messages/events/");
}

static void test_topic_telemetry_writes_every_system_property_in_order(void **state) {
  (void)state;
  iotc_hub_telemetry_options o;
  iotc_hub_telemetry_options_init(&o);
  o.message_id = "msg 1";
  o.correlation_id = "c/1";
  o.content_type = "application/json;charset=utf-8";
  o.content_encoding = "utf-8";
  o.component = "thermostat1";
  o.creation_time_utc = "2024-01-02T03:04:05.678Z";
  telemetry_args a = {"dev1", &o};
  check_builder_boundaries(build_telemetry, &a,
                           "devices/dev1/messages/events/"
                           "%24.mid=msg%201&%24.cid=c%2F1"
                           "&%24.ct=application%2Fjson%3Bcharset%3Dutf-8&%24.ce=utf-8"
                           "&%24.sub=thermostat1"
                           "&iothub-creation-time-utc=2024-01-02T03%3A04%3A05.678Z");
}

static void test_topic_telemetry_encodes_custom_properties(void **state) {
  (void)state;
  const iotc_hub_property props[] = {
      {"alert", "high temp"},   /* space is %20, never '+' */
      {"a+b", "1+1=2"},         /* '+' and '=' */
      {"p%", "100%"},           /* '%' */
      {"k&v", "x&y"},           /* '&' */
      {"path/", "/a?b#c"},      /* '/', '?', '#' */
      {"caf\xc3\xa9", "\xe2\x82\xac"}, /* UTF-8 */
      {"empty", ""},            /* empty value: key= */
      {"null", NULL},           /* null value: key alone */
      {"$custom", "~._-"},      /* unreserved stay as they are */
  };
  iotc_hub_telemetry_options o;
  iotc_hub_telemetry_options_init(&o);
  o.properties = props;
  o.property_count = sizeof props / sizeof props[0];
  telemetry_args a = {"dev1", &o};
  check_builder_boundaries(build_telemetry, &a,
                           "devices/dev1/messages/events/"
                           "alert=high%20temp&a%2Bb=1%2B1%3D2&p%25=100%25&k%26v=x%26y"
                           "&path%2F=%2Fa%3Fb%23c&caf%C3%A9=%E2%82%AC&empty=&null"
                           "&%24custom=~._-");
  /* System properties come first, then the custom ones. */
  o.property_count = 1;
  o.content_type = "application/json";
  telemetry_args b = {"d", &o};
  check_builder_boundaries(build_telemetry, &b,
                           "devices/d/messages/events/%24.ct=application%2Fjson&alert=high%20temp");
}

static void test_topic_telemetry_refuses_bad_options(void **state) {
  (void)state;
  const iotc_hub_property empty_key[] = {{"", "v"}};
  const iotc_hub_property null_key[] = {{NULL, "v"}};
  iotc_hub_telemetry_options o;

  telemetry_args a = {NULL, NULL};
  assert_int_equal(build_result(build_telemetry, &a), IOTC_ERR_INVALID_ARG);
  a.device_id = "";
  assert_int_equal(build_result(build_telemetry, &a), IOTC_ERR_INVALID_ARG);
  a.device_id = "a/b";
  assert_int_equal(build_result(build_telemetry, &a), IOTC_ERR_INVALID_ARG);
  a.device_id = "d";
  a.options = &o;

  iotc_hub_telemetry_options_init(&o);
  o.struct_version = 0;
  assert_int_equal(build_result(build_telemetry, &a), IOTC_ERR_INVALID_ARG);

  const char **fields[] = {&o.message_id, &o.correlation_id, &o.content_type,
                           &o.content_encoding, &o.component, &o.creation_time_utc};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; ++i) {
    iotc_hub_telemetry_options_init(&o);
    *fields[i] = "";
    assert_int_equal(build_result(build_telemetry, &a), IOTC_ERR_INVALID_ARG);
  }
  iotc_hub_telemetry_options_init(&o);
  o.component = "thermo stat";
  assert_int_equal(build_result(build_telemetry, &a), IOTC_ERR_INVALID_ARG);
  o.component = "a/b";
  assert_int_equal(build_result(build_telemetry, &a), IOTC_ERR_INVALID_ARG);

  iotc_hub_telemetry_options_init(&o);
  o.property_count = 1;
  assert_int_equal(build_result(build_telemetry, &a), IOTC_ERR_INVALID_ARG);
  o.properties = empty_key;
  assert_int_equal(build_result(build_telemetry, &a), IOTC_ERR_INVALID_ARG);
  o.properties = null_key;
  assert_int_equal(build_result(build_telemetry, &a), IOTC_ERR_INVALID_ARG);

  iotc_hub_telemetry_options_init(NULL); /* no-op */
}

static void test_topic_telemetry_longer_than_mqtt_allows_is_too_large(void **state) {
  (void)state;
  size_t n = 22000; /* each byte encodes to 3 */
  char *value = malloc(n + 1);
  assert_non_null(value);
  memset(value, ' ', n);
  value[n] = '\0';
  const iotc_hub_property props[] = {{"k", value}};
  iotc_hub_telemetry_options o;
  iotc_hub_telemetry_options_init(&o);
  o.properties = props;
  o.property_count = 1;
  char buf[8];
  assert_int_equal(iotc_hub_topic_telemetry("d", &o, buf, sizeof buf, NULL), IOTC_ERR_TOO_LARGE);
  /* Just under the limit still builds. */
  size_t head = strlen("devices/d/messages/events/k=");
  size_t fit = (65535 - head) / 3;
  value[fit] = '\0';
  size_t len = 0;
  assert_int_equal(iotc_hub_topic_telemetry("d", &o, buf, sizeof buf, &len),
                   IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, head + 3 * fit);
  assert_true(len <= 65535);
  free(value);
}

/* ---- the property bag alone ------------------------------------------------------------- */

static iotc_result build_bag(const void *ctx, char *buf, size_t size, size_t *out_len) {
  return iotc_hub_topic_property_bag(ctx, buf, size, out_len);
}

static void test_property_bag_without_properties_is_empty(void **state) {
  (void)state;
  check_builder_boundaries(build_bag, NULL, "");
  iotc_hub_telemetry_options empty;
  iotc_hub_telemetry_options_init(&empty);
  check_builder_boundaries(build_bag, &empty, "");
}

static void test_property_bag_is_what_follows_the_topic_prefix(void **state) {
  (void)state;
  const iotc_hub_property props[] = {{"alert", "high temp"}, {"k&v", NULL}};
  iotc_hub_telemetry_options o;
  iotc_hub_telemetry_options_init(&o);
  o.content_type = "application/json";
  o.content_encoding = "utf-8";
  o.component = "thermostat1";
  o.properties = props;
  o.property_count = 2;
  const char *expected = "%24.ct=application%2Fjson&%24.ce=utf-8&%24.sub=thermostat1"
                         "&alert=high%20temp&k%26v";
  check_builder_boundaries(build_bag, &o, expected);
  char topic[256];
  assert_int_equal(iotc_hub_topic_telemetry("dev1", &o, topic, sizeof topic, NULL), IOTC_OK);
  assert_string_equal(topic + strlen("devices/dev1/messages/events/"), expected);
}

static void test_property_bag_refuses_what_the_topic_refuses(void **state) {
  (void)state;
  iotc_hub_telemetry_options o;
  iotc_hub_telemetry_options_init(&o);
  o.message_id = "";
  assert_int_equal(build_result(build_bag, &o), IOTC_ERR_INVALID_ARG);
  iotc_hub_telemetry_options_init(&o);
  o.component = "a/b";
  assert_int_equal(build_result(build_bag, &o), IOTC_ERR_INVALID_ARG);
  iotc_hub_telemetry_options_init(&o);
  o.property_count = 1;
  assert_int_equal(build_result(build_bag, &o), IOTC_ERR_INVALID_ARG);
  o.struct_version = 99;
  o.property_count = 0;
  assert_int_equal(build_result(build_bag, &o), IOTC_ERR_INVALID_ARG);
}

static void test_property_bag_must_fit_behind_the_shortest_prefix(void **state) {
  (void)state;
  const size_t room = 65535 - strlen("devices/d/messages/events/") - strlen("k=");
  char *value = malloc(room + 2);
  assert_non_null(value);
  memset(value, 'v', room + 1);
  value[room + 1] = '\0';
  const iotc_hub_property props[] = {{"k", value}};
  iotc_hub_telemetry_options o;
  iotc_hub_telemetry_options_init(&o);
  o.properties = props;
  o.property_count = 1;
  char small[8];
  size_t len = 0;
  /* one byte too many: too large, whatever the buffer */
  assert_int_equal(iotc_hub_topic_property_bag(&o, small, sizeof small, &len), IOTC_ERR_TOO_LARGE);
  char *big = malloc(3 * room + 64);
  assert_non_null(big);
  assert_int_equal(iotc_hub_topic_property_bag(&o, big, 3 * room + 64, &len), IOTC_ERR_TOO_LARGE);
  /* exactly the room: builds, and the topic with a one-byte id is exactly 65535 bytes */
  value[room] = '\0';
  assert_int_equal(iotc_hub_topic_property_bag(&o, small, sizeof small, &len),
                   IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, room + 2);
  assert_int_equal(iotc_hub_topic_property_bag(&o, big, len + 1, &len), IOTC_OK);
  assert_int_equal(strlen(big), room + 2);
  size_t topic_len = 0;
  assert_int_equal(iotc_hub_topic_telemetry("d", &o, small, sizeof small, &topic_len),
                   IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(topic_len, 65535);
  free(big);
  free(value);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_topic_telemetry_without_options_ends_with_a_slash),
      cmocka_unit_test(test_topic_telemetry_writes_every_system_property_in_order),
      cmocka_unit_test(test_topic_telemetry_encodes_custom_properties),
      cmocka_unit_test(test_topic_telemetry_refuses_bad_options),
      cmocka_unit_test(test_topic_telemetry_longer_than_mqtt_allows_is_too_large),
      cmocka_unit_test(test_property_bag_without_properties_is_empty),
      cmocka_unit_test(test_property_bag_is_what_follows_the_topic_prefix),
      cmocka_unit_test(test_property_bag_refuses_what_the_topic_refuses),
      cmocka_unit_test(test_property_bag_must_fit_behind_the_shortest_prefix),
  };
  return cmocka_run_group_tests_name("hub topic: telemetry", tests, NULL, NULL);
}
