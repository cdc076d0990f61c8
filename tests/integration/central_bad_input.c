/* SPDX-License-Identifier: MIT */
/* Bad input gets a clear IOTC_ERR_* (from the API) or a 4xx (to the service) and loses
 * nothing: NULL, empty and oversized arguments, names that would break a topic or JSON,
 * payloads that are not JSON, and malformed twin documents and desired patches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"

static const char *const bad_names[] = {
    "",       "a/b",   "a#",   "+",    "a\"b",  "comp*name", "tab\tname", "new\nline",
    "nul\x01", "$dollar", "a b",  NULL,
};

static void ignore_update(iotc_client *c, const iotc_property_update *u, void *ctx) {
  (void)c;
  (void)u;
  (void)ctx;
}

static void ignore_command(iotc_client *c, const iotc_command_request *r, iotc_command_response *p,
                           void *ctx) {
  (void)c;
  (void)r;
  (void)p;
  (void)ctx;
}

static iotc_client *offline_client(void) {
  iotc_client *client = central_offline_client("bad-input");
  assert_non_null(client);
  return client;
}

static void configurations_without_a_clear_identity_are_refused(void **state) {
  (void)state;
  iotc_client *client = (iotc_client *)(uintptr_t)1;
  iotc_client_config_init(NULL);
  iotc_client_destroy(NULL);
  assert_int_equal(iotc_client_create(NULL, &client, NULL), IOTC_ERR_INVALID_ARG);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  assert_int_equal(iotc_client_create(&cfg, NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG); /* no identity */
  cfg.id_scope = "0ne00000000";
  cfg.device_id = "dev";
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG); /* no credential */
  cfg.device_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  cfg.group_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG); /* two credentials */
  cfg.group_key = NULL;
  cfg.device_key = "not base64!";
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG);
  cfg.device_key = "";
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG);
  cfg.device_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  static const char *const bad_ids[] = {"", "a/b", "a#b", "a+b", "a\"b", "a b", "a\nb", NULL};
  for (const char *const *id = bad_ids; *id; id++) {
    cfg.device_id = *id;
    assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG);
  }
  char long_id[200];
  memset(long_id, 'a', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  cfg.device_id = long_id;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG);
  cfg.device_id = "dev";
  cfg.connection_string = "HostName=h;DeviceId=d;SharedAccessKey=AAAA";
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG); /* DPS and direct */
  iotc_client_config_init(&cfg);
  cfg.connection_string = "HostName=only-a-host";
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG);
  iotc_client_config_init(&cfg);
  cfg.struct_version = 999;
  cfg.id_scope = "0ne00000000";
  cfg.device_id = "dev";
  cfg.device_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG);
  cfg.struct_version = IOTC_CLIENT_CONFIG_VERSION;
  cfg.max_inflight = 0;
  cfg.queue_capacity = 0;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG);
}

static void bad_names_are_refused_everywhere(void **state) {
  (void)state;
  iotc_client *client = offline_client();
  for (const char *const *n = bad_names; *n; n++) {
    assert_int_equal(iotc_client_on_command(client, NULL, *n, ignore_command, NULL), IOTC_ERR_INVALID_ARG);
    assert_int_equal(iotc_client_on_command(client, *n, "ok", ignore_command, NULL), IOTC_ERR_INVALID_ARG);
    assert_int_equal(iotc_client_on_property(client, NULL, *n, ignore_update, NULL), IOTC_ERR_INVALID_ARG);
    assert_int_equal(iotc_client_on_property(client, *n, "ok", ignore_update, NULL), IOTC_ERR_INVALID_ARG);
    assert_int_equal(iotc_client_report_property(client, NULL, *n, "1", NULL, NULL), IOTC_ERR_INVALID_ARG);
    assert_int_equal(iotc_client_report_property(client, *n, "ok", "1", NULL, NULL), IOTC_ERR_INVALID_ARG);
    assert_int_equal(iotc_client_ack_property(client, NULL, *n, "1", 200, 1, NULL, NULL, NULL), IOTC_ERR_INVALID_ARG);
    assert_int_equal(iotc_client_complete_command(client, NULL, *n, "1", NULL, NULL), IOTC_ERR_INVALID_ARG);
    assert_int_equal(iotc_client_set_property_default(client, NULL, *n, "1"), IOTC_ERR_INVALID_ARG);
    json_t *one = json_object();
    assert_int_equal(json_object_set_new(one, *n, json_integer(1)), 0);
    json_t *two = json_pack("{s:i}", "ok", 1);
    assert_int_equal(json_object_set_new(two, *n, json_integer(2)), 0);
    char *one_text = json_dumps(one, JSON_COMPACT), *two_text = json_dumps(two, JSON_COMPACT);
    assert_int_equal(iotc_client_report_properties(client, NULL, one_text, NULL, NULL), IOTC_ERR_INVALID_ARG);
    assert_int_equal(iotc_client_report_properties(client, NULL, two_text, NULL, NULL), IOTC_ERR_INVALID_ARG);
    assert_int_equal(iotc_client_report_properties(client, "comp", two_text, NULL, NULL), IOTC_ERR_INVALID_ARG);
    free(one_text);
    free(two_text);
    json_decref(one);
    json_decref(two);
    iotc_telemetry_options opts;
    iotc_telemetry_options_init(&opts);
    opts.component = *n;
    assert_int_equal(iotc_client_send_telemetry(client, "{}", &opts), IOTC_ERR_INVALID_ARG);
  }
  /* Custom telemetry properties: names and values are percent-encoded, but a name must not
   * be empty or start with the system "$." prefix. */
  iotc_property bad_props[] = {{"", "v"}, {NULL, "v"}, {"$.mid", "x"}, {"ok", NULL}};
  for (size_t i = 0; i < sizeof bad_props / sizeof bad_props[0]; i++) {
    iotc_telemetry_options opts;
    iotc_telemetry_options_init(&opts);
    opts.properties = &bad_props[i];
    opts.property_count = 1;
    assert_int_equal(iotc_client_send_telemetry(client, "{}", &opts), IOTC_ERR_INVALID_ARG);
  }
  iotc_client_stats stats;
  assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
  assert_int_equal(stats.queued, 0); /* nothing half-queued */
  iotc_client_destroy(client);
}

static void null_empty_oversized_and_non_json_arguments_are_refused(void **state) {
  (void)state;
  iotc_client *client = offline_client();
  iotc_telemetry_options opts;
  iotc_telemetry_options_init(&opts);
  iotc_telemetry_options_init(NULL);

  assert_int_equal(iotc_client_send_telemetry(NULL, "{}", NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_send_telemetry(client, NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_send_telemetry(client, "", NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_send_telemetry(client, "{\"temp\":", NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_send_telemetry(client, "not json", NULL), IOTC_ERR_INVALID_ARG);
  opts.qos = 2;
  assert_int_equal(iotc_client_send_telemetry(client, "{}", &opts), IOTC_ERR_INVALID_ARG);
  opts.qos = 1;
  opts.struct_version = 0;
  assert_int_equal(iotc_client_send_telemetry(client, "{}", &opts), IOTC_ERR_INVALID_ARG);
  iotc_telemetry_options_init(&opts);
  /* IoT Central reads telemetry only from JSON objects. */
  static const char *const not_objects[] = {"[1,2]", "42", "\"text\"", "true", "null", " [ ] "};
  for (size_t i = 0; i < sizeof not_objects / sizeof not_objects[0]; i++) {
    assert_int_equal(iotc_client_send_telemetry(client, not_objects[i], NULL), IOTC_ERR_INVALID_ARG);
    opts.content_type = "application/json; charset=utf-8";
    assert_int_equal(iotc_client_send_telemetry(client, not_objects[i], &opts), IOTC_ERR_INVALID_ARG);
    iotc_telemetry_options_init(&opts);
  }
  assert_int_equal(iotc_client_send_telemetry(client, " {\"t\":[1,2]} ", NULL), IOTC_OK);
  /* No desired version has been received: only av=0 (a default) can be acknowledged. */
  assert_int_equal(iotc_client_ack_property(client, NULL, "a", "1", 200, 1, NULL, NULL, NULL),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_ack_property(client, NULL, "a", "1", 203, 0, NULL, NULL, NULL),
                   IOTC_OK);
  /* Not JSON is fine with a content type that is not JSON, and so is JSON that is no object. */
  opts.content_type = "text/plain";
  assert_int_equal(iotc_client_send_telemetry(client, "42", &opts), IOTC_OK);
  opts.content_type = "text/plain";
  assert_int_equal(iotc_client_send_telemetry(client, "plain text", &opts), IOTC_OK);
  size_t big = 300 * 1024;
  char *huge = malloc(big + 16);
  assert_non_null(huge);
  huge[0] = '"';
  memset(huge + 1, 'x', big);
  strcpy(huge + 1 + big, "\"");
  char *obj = malloc(big + 32);
  snprintf(obj, big + 32, "{\"v\":%s}", huge);
  assert_int_equal(iotc_client_send_telemetry(client, obj, NULL), IOTC_ERR_TOO_LARGE);
  free(obj);

  assert_int_equal(iotc_client_report_property(NULL, NULL, "a", "1", NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_report_property(client, NULL, NULL, "1", NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_report_property(client, NULL, "a", NULL, NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_report_property(client, NULL, "a", "", NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_report_property(client, NULL, "a", "{oops", NULL, NULL), IOTC_ERR_INVALID_ARG);
  iotc_result r = iotc_client_report_property(client, NULL, "a", huge, NULL, NULL);
  assert_true(r == IOTC_ERR_TOO_LARGE || r == IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_report_properties(client, NULL, "[1,2]", NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_report_properties(client, NULL, "42", NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_report_properties(client, NULL, "{\"a\":", NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_report_properties(client, NULL, NULL, NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_ack_property(client, NULL, "a", "nope", 200, 1, NULL, NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_ack_property(client, NULL, "a", NULL, 200, 1, NULL, NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_complete_command(client, NULL, "a", "{", NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_set_property_default(client, NULL, "a", "{"), IOTC_ERR_INVALID_ARG);
  free(huge);

  assert_int_equal(iotc_client_respond_command(client, NULL, 200, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_respond_command(client, "no-such-request", 200, NULL), IOTC_ERR_NOT_FOUND);
  assert_int_equal(iotc_client_respond_command(NULL, "1", 200, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_on_command(NULL, NULL, "a", ignore_command, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_on_status(NULL, NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_on_c2d(NULL, NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_get_stats(client, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_get_stats(NULL, &(iotc_client_stats){0}), IOTC_ERR_INVALID_ARG);
  char hub[4], id[4];
  assert_int_equal(iotc_client_get_hub(NULL, hub, sizeof hub, id, sizeof id), IOTC_ERR_INVALID_ARG);
  assert_false(iotc_client_is_connected(NULL));
  assert_int_equal(iotc_client_disconnect(NULL, 0), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_connect(NULL, 0, NULL), IOTC_ERR_INVALID_ARG);

  int64_t i64;
  double d;
  bool b;
  char text[8];
  size_t len = 0;
  assert_int_equal(iotc_value_int(NULL, &i64), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_value_int("1.5", &i64), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_value_int("\"1\"", &i64), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_value_int("99999999999999999999999", &i64), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_value_int("-42", &i64), IOTC_OK);
  assert_int_equal(i64, -42);
  assert_int_equal(iotc_value_double("true", &d), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_value_double("2", &d), IOTC_OK);
  assert_int_equal(iotc_value_bool("1", &b), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_value_bool("false", &b), IOTC_OK);
  assert_false(b);
  assert_int_equal(iotc_value_string("42", text, sizeof text, &len), IOTC_ERR_INVALID_ARG);
  memset(text, '#', sizeof text);
  assert_int_equal(iotc_value_string("\"too long for it\"", text, sizeof text, &len), IOTC_ERR_BUFFER_TOO_SMALL);
  assert_true(len >= 15);
  assert_int_equal(text[0], '#'); /* no partial write */
  assert_int_equal(iotc_value_string("\"a\\u00e9\"", text, sizeof text, &len), IOTC_OK);
  assert_string_equal(text, "a\xc3\xa9");
  iotc_client_destroy(client);
}

/* ---- malformed input from the service ------------------------------------------------------ */

typedef struct got {
  central_counter calls;
  char value[64];
  iotc_result future_ack; /* an acknowledgement of a version not received yet */
} got;

static void on_brightness(iotc_client *c, const iotc_property_update *u, void *ctx) {
  got *g = ctx;
  snprintf(g->value, sizeof g->value, "%s", u->value_json);
  g->future_ack = iotc_client_ack_property(c, u->component, u->name, u->value_json, 200,
                                           u->version + 1, NULL, NULL, NULL);
  iotc_result r = iotc_client_ack_property(c, u->component, u->name, u->value_json, 200, u->version, NULL, NULL, NULL);
  if (r != IOTC_OK) fprintf(stderr, "ack: %s\n", iotc_strerror(r));
  central_counter_add(&g->calls, 1);
}

static void on_blink(iotc_client *c, const iotc_command_request *r, iotc_command_response *p, void *ctx) {
  (void)c;
  got *g = ctx;
  snprintf(g->value, sizeof g->value, "%s", r->payload_json);
  p->status = 200;
  central_counter_add(&g->calls, 1);
}

static void on_c2d(iotc_client *c, const iotc_c2d_message *m, void *ctx) {
  (void)c;
  (void)m;
  central_counter_add(&((got *)ctx)->calls, 1);
}

static void malformed_service_input_breaks_nothing(void **state) {
  (void)state;
  const emu_info *emu = central_emu();
  central_device dev;
  assert_int_equal(central_device_new("malformed", &dev), 0);
  /* The first twin GET answer is cut short. */
  char fault[512];
  snprintf(fault, sizeof fault, "{\"kind\":\"malformedTwin\",\"deviceId\":\"%s\",\"operation\":\"get\"}", dev.id);
  assert_int_equal(emu_fault(emu, fault), 0);
  assert_int_equal(central_patch(dev.id, NULL, "{\"brightness\":1}"), 200);
  iotc_client_config cfg;
  central_config(&dev, &cfg);
  iotc_client *client = central_client(&cfg);
  got bright = {0}, blink = {0}, c2d = {0};
  central_counter_init(&bright.calls);
  central_counter_init(&blink.calls);
  central_counter_init(&c2d.calls);
  assert_int_equal(iotc_client_on_property(client, NULL, "brightness", on_brightness, &bright), IOTC_OK);
  assert_int_equal(iotc_client_on_command(client, NULL, "blink", on_blink, &blink), IOTC_OK);
  assert_int_equal(iotc_client_on_c2d(client, on_c2d, &c2d), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  /* The client asks for the twin again and still reconciles the property set while it was off. */
  assert_true(central_counter_wait(&bright.calls, 1));
  assert_string_equal(bright.value, "1");
  assert_int_equal(bright.future_ack, IOTC_ERR_INVALID_ARG);

  /* A desired patch that is not JSON: nothing is called, the connection lives, and the next
   * good patch is handled. */
  snprintf(fault, sizeof fault,
           "{\"kind\":\"malformedTwin\",\"deviceId\":\"%s\",\"operation\":\"desired\",\"body\":\"{\\\"brightness\\\":\"}",
           dev.id);
  assert_int_equal(emu_fault(emu, fault), 0);
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/twin/PATCH/properties/desired/#"), 0);
  assert_int_equal(central_patch(dev.id, NULL, "{\"brightness\":2}"), 200);
  assert_int_equal(central_patch(dev.id, NULL, "{\"brightness\":3}"), 200);
  assert_true(central_counter_wait(&bright.calls, 2));
  json_t *acked = central_wait_ack(dev.id, NULL, "brightness");
  assert_non_null(acked);
  assert_int_equal(json_integer_value(json_object_get(acked, "brightness")), 3);
  json_decref(acked);
  assert_true(iotc_client_is_connected(client));

  /* A queued command whose payload is not JSON is not lost: it reaches the command handler
   * with valid JSON text, or the C2D handler. */
  char path[512];
  snprintf(path, sizeof path, "/emulator/devices/%s/c2d", dev.id);
  long status = 0;
  assert_int_equal(emu_api(emu, "POST", path, "{\"body\":\"not {json\",\"properties\":{\"method-name\":\"blink\"}}",
                           &status, NULL), 0);
  assert_int_equal(status, 201);
  uint64_t deadline = central_now_ms() + CENTRAL_WAIT_MS;
  while (central_counter_get(&blink.calls) + central_counter_get(&c2d.calls) == 0 && central_now_ms() < deadline)
    central_sleep_ms(20);
  assert_int_equal(central_counter_get(&blink.calls) + central_counter_get(&c2d.calls), 1);
  if (central_counter_get(&blink.calls) == 1) {
    json_error_t jerr;
    json_t *parsed = json_loads(blink.value, JSON_DECODE_ANY, &jerr);
    assert_non_null(parsed);
    json_decref(parsed);
  }

  /* A command with no handler gets 404, and the connection lives on. */
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/methods/POST/#"), 0);
  assert_int_equal(central_command_code(dev.id, NULL, "nothere", "{}"), 404);
  /* Method names that misuse IoT Central's component separator (sent through IoT Hub's own
   * method API, which has no such rule) are answered 400, not left to time out. */
  const char *bad_names[] = {"a*b*c", "*blink", "blink*"};
  for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
    char mpath[512], mbody[256];
    snprintf(mpath, sizeof mpath, "/emulator/devices/%s/methods", dev.id);
    snprintf(mbody, sizeof mbody, "{\"methodName\":\"%s\",\"payload\":{},\"responseTimeoutInSeconds\":20}",
             bad_names[i]);
    json_t *res = NULL;
    status = 0;
    assert_int_equal(emu_api(emu, "POST", mpath, mbody, &status, &res), 0);
    assert_int_equal(status, 200);
    assert_int_equal(json_integer_value(json_object_get(res, "status")), 400);
    json_decref(res);
  }
  assert_true(iotc_client_is_connected(client));

  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  iotc_client_destroy(client);
  central_counter_destroy(&bright.calls);
  central_counter_destroy(&blink.calls);
  central_counter_destroy(&c2d.calls);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(configurations_without_a_clear_identity_are_refused),
      cmocka_unit_test(bad_names_are_refused_everywhere),
      cmocka_unit_test(null_empty_oversized_and_non_json_arguments_are_refused),
      cmocka_unit_test(malformed_service_input_breaks_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
