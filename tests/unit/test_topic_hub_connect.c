/* SPDX-License-Identifier: MIT */
#include "topic_hub_test.h"

typedef struct {
  const char *host, *device_id, *dct, *model_id;
} username_args;

static iotc_result build_username(const void *ctx, char *buf, size_t size, size_t *out_len) {
  const username_args *a = ctx;
  return iotc_hub_topic_username(a->host, a->device_id, a->dct, a->model_id, buf, size,
                                 out_len);
}

static iotc_result build_client_id(const void *ctx, char *buf, size_t size, size_t *out_len) {
  return iotc_hub_topic_client_id(ctx, buf, size, out_len);
}

static void test_topic_client_id_is_the_device_id_at_every_buffer_size(void **state) {
  (void)state;
  check_builder_boundaries(build_client_id, "dev-1", "dev-1");
  check_builder_boundaries(build_client_id, "A-z.0_%*?!(),:=@$'", "A-z.0_%*?!(),:=@$'");
}

static void test_topic_client_id_refuses_ids_that_break_topics(void **state) {
  (void)state;
  const char *bad[] = {NULL, "", "a/b", "a#", "a+b", "a b", "a&b", "tab\t", "\x7f",
                       "caf\xc3\xa9", "new\nline"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    assert_int_equal(build_result(build_client_id, bad[i]), IOTC_ERR_INVALID_ARG);
  }
  char id[IOTC_HUB_DEVICE_ID_MAX + 2];
  memset(id, 'a', sizeof id);
  id[IOTC_HUB_DEVICE_ID_MAX] = '\0';
  char buf[IOTC_HUB_DEVICE_ID_MAX + 1];
  size_t n = 0;
  assert_int_equal(iotc_hub_topic_client_id(id, buf, sizeof buf, &n), IOTC_OK);
  assert_int_equal(n, IOTC_HUB_DEVICE_ID_MAX);
  id[IOTC_HUB_DEVICE_ID_MAX] = 'a';
  id[IOTC_HUB_DEVICE_ID_MAX + 1] = '\0';
  assert_int_equal(iotc_hub_topic_client_id(id, buf, sizeof buf, &n), IOTC_ERR_INVALID_ARG);
}

static void test_topic_username_without_options_at_every_buffer_size(void **state) {
  (void)state;
  username_args a = {"hub.azure-devices.net", "dev1", NULL, NULL};
  check_builder_boundaries(build_username, &a, "hub.azure-devices.net/dev1/?api-version=2021-04-12");
}

static void test_topic_username_keeps_the_port_and_encodes_options(void **state) {
  (void)state;
  username_args a = {"localhost:18883", "dev1", "iotc/0.1.0 (Linux; x86_64)",
                     "dtmi:com:example:Thermostat;1"};
  check_builder_boundaries(build_username, &a,
                           "localhost:18883/dev1/?api-version=2021-04-12"
                           "&DeviceClientType=iotc%2F0.1.0%20%28Linux%3B%20x86_64%29"
                           "&model-id=dtmi%3Acom%3Aexample%3AThermostat%3B1");
  username_args only_model = {"h", "d", NULL, "a+b c&d=e%"};
  check_builder_boundaries(build_username, &only_model,
                           "h/d/?api-version=2021-04-12&model-id=a%2Bb%20c%26d%3De%25");
  username_args only_type = {"h", "d", "x", NULL};
  check_builder_boundaries(build_username, &only_type,
                           "h/d/?api-version=2021-04-12&DeviceClientType=x");
  username_args ipv6 = {"[::1]:8883", "d", NULL, "\xc3\xa9"};
  check_builder_boundaries(build_username, &ipv6,
                           "[::1]:8883/d/?api-version=2021-04-12&model-id=%C3%A9");
}

static void test_topic_username_refuses_null_empty_and_ill_formed_input(void **state) {
  (void)state;
  const username_args bad[] = {
      {NULL, "d", NULL, NULL},   {"", "d", NULL, NULL},     {"h", NULL, NULL, NULL},
      {"h", "", NULL, NULL},     {"h", "a/b", NULL, NULL},  {"h/x", "d", NULL, NULL},
      {"h?", "d", NULL, NULL},   {"h h", "d", NULL, NULL},  {"h", "d", "", NULL},
      {"h", "d", NULL, ""},      {"h#", "d", NULL, NULL},   {"h", "d+", NULL, NULL},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    assert_int_equal(build_result(build_username, &bad[i]), IOTC_ERR_INVALID_ARG);
  }
  char host[300];
  memset(host, 'h', sizeof host);
  host[255] = '\0';
  char buf[400];
  assert_int_equal(iotc_hub_topic_username(host, "d", NULL, NULL, buf, sizeof buf, NULL), IOTC_OK);
  host[255] = 'h';
  host[256] = '\0';
  assert_int_equal(iotc_hub_topic_username(host, "d", NULL, NULL, buf, sizeof buf, NULL),
                   IOTC_ERR_INVALID_ARG);
}

static void test_topic_username_longer_than_mqtt_allows_is_too_large(void **state) {
  (void)state;
  size_t n = 30000; /* encodes to 90000 bytes */
  char *model = malloc(n + 1);
  assert_non_null(model);
  memset(model, ':', n);
  model[n] = '\0';
  char buf[16];
  size_t out = 0;
  assert_int_equal(iotc_hub_topic_username("h", "d", NULL, model, buf, sizeof buf, &out),
                   IOTC_ERR_TOO_LARGE);
  free(model);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_topic_client_id_is_the_device_id_at_every_buffer_size),
      cmocka_unit_test(test_topic_client_id_refuses_ids_that_break_topics),
      cmocka_unit_test(test_topic_username_without_options_at_every_buffer_size),
      cmocka_unit_test(test_topic_username_keeps_the_port_and_encodes_options),
      cmocka_unit_test(test_topic_username_refuses_null_empty_and_ill_formed_input),
      cmocka_unit_test(test_topic_username_longer_than_mqtt_allows_is_too_large),
  };
  return cmocka_run_group_tests_name("hub topic: connect", tests, NULL, NULL);
}
