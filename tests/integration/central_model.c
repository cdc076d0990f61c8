/* SPDX-License-Identifier: MIT */
/* The device model (config model_file) enforced end to end with the environmental sensor's
 * template: the model id comes from the file, a bad writable value is refused with ac=400 without
 * reaching the handler, a good one reaches it, telemetry and reports outside the model are refused
 * locally, and a command with a bad payload is answered 400. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "iotc/log.h"

#include "central.h"

#ifndef IOTC_EXAMPLE_MODEL
#error "IOTC_EXAMPLE_MODEL (the environmental sensor's DTDL file) must be defined"
#endif

typedef struct seen {
  central_counter calls;
  char value[128];
} seen;

static void on_brightness(iotc_client *client, const iotc_property_update *u, void *ctx) {
  seen *s = ctx;
  snprintf(s->value, sizeof s->value, "%s", u->value_json);
  if (iotc_client_ack_property(client, u->component, u->name, u->value_json, 200, u->version,
                               "applied", NULL, NULL) != IOTC_OK) {
    fprintf(stderr, "ack refused\n");
  }
  central_counter_add(&s->calls, 1);
}

static void on_blink(iotc_client *client, const iotc_command_request *req,
                     iotc_command_response *resp, void *ctx) {
  (void)client;
  seen *s = ctx;
  snprintf(s->value, sizeof s->value, "%s", req->payload_json);
  resp->payload_json = "{\"description\":\"blinking\"}";
  central_counter_add(&s->calls, 1);
}

/* The last error line iotc logged. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_error[512];

static void keep_errors(iotc_log_level level, const char *message, void *ctx) {
  (void)ctx;
  if (level != IOTC_LOG_ERROR) return;
  pthread_mutex_lock(&log_lock);
  snprintf(last_error, sizeof last_error, "%s", message);
  pthread_mutex_unlock(&log_lock);
}

static void last_error_is(const char *expected) {
  pthread_mutex_lock(&log_lock);
  assert_string_equal(last_error, expected);
  last_error[0] = '\0';
  pthread_mutex_unlock(&log_lock);
}

static json_t *metadata_of(json_t *props, const char *name) {
  return json_object_get(json_object_get(props, "$metadata"), name);
}

static void the_model_is_enforced_on_properties_telemetry_and_commands(void **state) {
  (void)state;
  central_device dev;
  assert_int_equal(central_device_new("model", &dev), 0);
  iotc_client_config cfg;
  central_config(&dev, &cfg);
  cfg.model_id = NULL; /* taken from the model file */
  cfg.model_file = IOTC_EXAMPLE_MODEL;
  iotc_client *client = central_client(&cfg);
  assert_non_null(client);
  seen brightness, blink;
  memset(&brightness, 0, sizeof brightness);
  memset(&blink, 0, sizeof blink);
  central_counter_init(&brightness.calls);
  central_counter_init(&blink.calls);
  assert_int_equal(iotc_client_on_property(client, NULL, "brightness", on_brightness, &brightness),
                   IOTC_OK);
  assert_int_equal(iotc_client_on_command(client, NULL, "blink", on_blink, &blink), IOTC_OK);
  assert_int_equal(central_connect(client), 0);

  /* DPS was told the model's @id. */
  json_t *device = central_get("/api/devices/%s", dev.id);
  assert_non_null(device);
  assert_string_equal(json_string_value(json_object_get(device, "template")),
                      "dtmi:com:example:iotc:EnvironmentalSensor;1");
  json_decref(device);

  /* A brightness that is not an integer is refused by the library: ac=400, the reason, the
   * desired version; the handler never sees it. */
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/twin/PATCH/properties/desired/#"), 0);
  assert_int_equal(central_patch(dev.id, NULL, "{\"brightness\":\"bright\"}"), 200);
  json_t *props = central_wait_ack(dev.id, NULL, "brightness");
  assert_non_null(props);
  json_t *m = metadata_of(props, "brightness");
  assert_int_equal(json_integer_value(json_object_get(m, "ackCode")), 400);
  assert_string_equal(json_string_value(json_object_get(m, "ackDescription")),
                      "brightness: expected integer, got string");
  int64_t refused_version = json_integer_value(json_object_get(m, "ackVersion"));
  assert_true(refused_version > 0);
  json_decref(props);
  assert_int_equal(central_counter_get(&brightness.calls), 0);

  /* A property the model does not have is refused the same way. */
  assert_int_equal(central_patch(dev.id, NULL, "{\"volume\":3}"), 200);
  props = central_wait_ack(dev.id, NULL, "volume");
  assert_non_null(props);
  m = metadata_of(props, "volume");
  assert_int_equal(json_integer_value(json_object_get(m, "ackCode")), 400);
  assert_string_equal(json_string_value(json_object_get(m, "ackDescription")),
                      "'volume' is not a writable property of "
                      "dtmi:com:example:iotc:EnvironmentalSensor;1");
  json_decref(props);

  /* A good one reaches the handler, which acknowledges it. */
  assert_int_equal(central_patch(dev.id, NULL, "{\"brightness\":3}"), 200);
  assert_true(central_counter_wait(&brightness.calls, 1));
  assert_string_equal(brightness.value, "3");
  props = central_wait_ack(dev.id, NULL, "brightness");
  assert_non_null(props);
  m = metadata_of(props, "brightness");
  assert_int_equal(json_integer_value(json_object_get(m, "ackCode")), 200);
  assert_true(json_integer_value(json_object_get(m, "ackVersion")) > refused_version);
  json_decref(props);

  /* Telemetry: a field outside the model, or of the wrong type, is refused before it is queued;
   * a valid message goes out. Only the valid one reaches the emulator. */
  iotc_log_set_handler(keep_errors, IOTC_LOG_ERROR, NULL);
  assert_int_equal(iotc_client_send_telemetry(client, "{\"temp\":21.5,\"pressure\":1013}", NULL),
                   IOTC_ERR_INVALID_ARG);
  last_error_is("iotc_client_send_telemetry: the device model refuses it: 'pressure' is not a "
                "telemetry of dtmi:com:example:iotc:EnvironmentalSensor;1");
  iotc_log_set_handler(NULL, IOTC_LOG_ERROR, NULL);
  assert_int_equal(iotc_client_send_telemetry(client, "{\"temp\":\"warm\"}", NULL),
                   IOTC_ERR_INVALID_ARG);
  iotc_telemetry_options opts;
  iotc_telemetry_options_init(&opts);
  opts.component = "thermostat1";
  assert_int_equal(iotc_client_send_telemetry(client, "{\"temp\":21.5}", &opts),
                   IOTC_ERR_INVALID_ARG);
  central_results sent;
  central_results_init(&sent);
  central_telemetry_options(&opts, &sent);
  assert_int_equal(iotc_client_send_telemetry(client, "{\"temp\":21.5,\"humid\":40}", &opts),
                   IOTC_OK);
  assert_true(central_counter_wait(&sent.ok, 1));
  json_t *messages = central_wait_messages(dev.id, 1);
  assert_non_null(messages);
  assert_int_equal(json_array_size(messages), 1);
  json_decref(messages);

  /* Reported properties, acknowledgements and completions outside the model are refused. */
  assert_int_equal(iotc_client_report_property(client, NULL, "state", "\"on\"", NULL, NULL),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_report_properties(client, NULL, "{\"swVersion\":\"1\",\"ram\":4}",
                                                 NULL, NULL),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_ack_property(client, NULL, "brightness", "2.5", 200, 1, NULL, NULL,
                                            NULL),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_complete_command(client, NULL, "reboot", "\"done\"", NULL, NULL),
                   IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_set_property_default(client, NULL, "name", "7"),
                   IOTC_ERR_INVALID_ARG);
  central_results reported;
  central_results_init(&reported);
  assert_int_equal(iotc_client_report_properties(client, NULL,
                                                 "{\"state\":true,\"swVersion\":\"1.0\"}",
                                                 central_on_done, &reported),
                   IOTC_OK);
  assert_true(central_counter_wait(&reported.ok, 1));

  /* Commands: a payload that does not match the request schema is answered 400 with the reason;
   * a good one reaches the handler; one outside the model is answered 404. */
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/methods/POST/#"), 0);
  long status = 0;
  json_t *r = central_command(dev.id, NULL, "blink", "{\"request\":\"fast\"}", &status);
  assert_non_null(r);
  assert_int_equal(json_integer_value(json_object_get(r, "responseCode")), 400);
  char *text = json_dumps(r, JSON_COMPACT);
  assert_non_null(strstr(text, "interval: expected integer, got string"));
  free(text);
  json_decref(r);
  assert_int_equal(central_counter_get(&blink.calls), 0);
  assert_int_equal(central_command_code(dev.id, NULL, "blink", "{\"request\":2}"), 200);
  assert_int_equal(central_counter_get(&blink.calls), 1);
  assert_string_equal(blink.value, "2");
  assert_int_equal(central_command_code(dev.id, NULL, "selfdestruct", "{}"), 404);

  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
  central_results_destroy(&sent);
  central_results_destroy(&reported);
  central_counter_destroy(&brightness.calls);
  central_counter_destroy(&blink.calls);
}

static void a_bad_or_missing_model_file_fails_create(void **state) {
  (void)state;
  central_device dev;
  assert_int_equal(central_device_new("model-bad", &dev), 0);
  iotc_client_config cfg;
  central_config(&dev, &cfg);
  iotc_client *client = NULL;
  cfg.model_file = "/nonexistent/model.json";
  iotc_log_set_handler(keep_errors, IOTC_LOG_ERROR, NULL);
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_IO);
  assert_null(client);
  last_error_is("iotc_client_create: model_file '/nonexistent/model.json': cannot open it: No "
                "such file or directory");
  char path[] = "/tmp/iotc-model-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char bad[] = "{\"@context\":\"dtmi:dtdl:context;2\",\"@id\":\"dtmi:t:T;1\","
                     "\"@type\":\"Interface\",\"contents\":[{\"@type\":\"Property\","
                     "\"name\":\"p\",\"schema\":\"foo\"}]}";
  assert_int_equal(write(fd, bad, sizeof bad - 1), (ssize_t)(sizeof bad - 1));
  close(fd);
  cfg.model_file = path;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG);
  assert_null(client);
  char expected[256];
  snprintf(expected, sizeof expected,
           "iotc_client_create: model_file '%s': contents[0].schema: unknown schema 'foo'", path);
  last_error_is(expected);
  unlink(path);
  /* A version-1 configuration has no model_file: it is not read. */
  cfg.struct_version = 1;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_OK);
  iotc_client_destroy(client);
  iotc_log_set_handler(NULL, IOTC_LOG_ERROR, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_model_is_enforced_on_properties_telemetry_and_commands),
      cmocka_unit_test(a_bad_or_missing_model_file_fails_create),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
