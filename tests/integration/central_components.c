/* SPDX-License-Identifier: MIT */
/* Components: telemetry with $.sub, reported properties under {"__t":"c"}, component writable
 * properties (plain and with the {"value":…} wrapper) acknowledged under the component, and
 * component commands arriving as "component*name". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"

typedef struct seen {
  central_counter calls;
  char component[64];
  char name[64];
  char value[128];
  char payload[128];
  int64_t version;
} seen;

static void seen_init(seen *s) {
  memset(s, 0, sizeof *s);
  central_counter_init(&s->calls);
}

static void on_property(iotc_client *client, const iotc_property_update *u, void *ctx) {
  (void)client;
  seen *s = ctx;
  snprintf(s->component, sizeof s->component, "%s", u->component ? u->component : "(root)");
  snprintf(s->name, sizeof s->name, "%s", u->name);
  snprintf(s->value, sizeof s->value, "%s", u->value_json);
  s->version = u->version;
  /* Acknowledge at once, from the handler. */
  iotc_result r = iotc_client_ack_property(client, u->component, u->name, u->value_json, 200,
                                           u->version, "applied", NULL, NULL);
  if (r != IOTC_OK) fprintf(stderr, "ack: %s\n", iotc_strerror(r));
  central_counter_add(&s->calls, 1);
}

static void on_command(iotc_client *client, const iotc_command_request *req,
                       iotc_command_response *resp, void *ctx) {
  (void)client;
  seen *s = ctx;
  snprintf(s->component, sizeof s->component, "%s", req->component ? req->component : "(root)");
  snprintf(s->name, sizeof s->name, "%s", req->name);
  snprintf(s->payload, sizeof s->payload, "%s", req->payload_json);
  resp->status = 200;
  resp->payload_json = "{\"maxTemp\":38.5,\"minTemp\":12}";
  central_counter_add(&s->calls, 1);
}

static int64_t int_at(json_t *obj, const char *key) {
  return json_integer_value(json_object_get(obj, key));
}

static void components_carry_telemetry_properties_and_commands(void **state) {
  (void)state;
  central_device dev;
  iotc_client *client = central_new("components", &dev);
  assert_non_null(client);
  seen target, root_target, cmd, root_cmd;
  seen_init(&target);
  seen_init(&root_target);
  seen_init(&cmd);
  seen_init(&root_cmd);
  assert_int_equal(iotc_client_on_property(client, "thermostat1", "targetTemperature", on_property, &target), IOTC_OK);
  assert_int_equal(iotc_client_on_property(client, NULL, "targetTemperature", on_property, &root_target), IOTC_OK);
  assert_int_equal(iotc_client_on_command(client, "thermostat1", "getMaxMinReport", on_command, &cmd), IOTC_OK);
  assert_int_equal(iotc_client_on_command(client, NULL, "getMaxMinReport", on_command, &root_cmd), IOTC_OK);
  assert_int_equal(central_connect(client), 0);

  /* Telemetry of a component carries $.sub; the operator sees it under the component. */
  central_results sent;
  central_results_init(&sent);
  iotc_telemetry_options opts;
  iotc_telemetry_options_init(&opts);
  opts.component = "thermostat1";
  opts.on_done = central_on_done;
  opts.user_context = &sent;
  assert_int_equal(iotc_client_send_telemetry(client, "{\"temperature\":21.5}", &opts), IOTC_OK);
  assert_true(central_counter_wait(&sent.ok, 1));
  json_t *messages = central_wait_messages(dev.id, 1);
  assert_non_null(messages);
  json_t *props = json_object_get(json_array_get(messages, 0), "properties");
  assert_string_equal(json_string_value(json_object_get(props, "$.sub")), "thermostat1");
  json_decref(messages);
  json_t *t = central_get("/api/devices/%s/components/thermostat1/telemetry/temperature", dev.id);
  assert_non_null(t);
  assert_true(json_real_value(json_object_get(t, "value")) > 21.4);
  json_decref(t);

  /* Reported properties of a component: {"thermostat1":{"__t":"c","maxTempSinceLastReboot":38.7}}. */
  central_results reported;
  central_results_init(&reported);
  assert_int_equal(iotc_client_report_property(client, "thermostat1", "maxTempSinceLastReboot", "38.7",
                                               central_on_done, &reported), IOTC_OK);
  assert_int_equal(iotc_client_report_properties(client, "thermostat1", "{\"serialNumber\":\"T-1\",\"ok\":true}",
                                                 central_on_done, &reported), IOTC_OK);
  assert_true(central_counter_wait(&reported.ok, 2));
  json_t *twin = central_get("/emulator/devices/%s/twin", dev.id);
  json_t *comp = json_object_get(json_object_get(twin, "reported"), "thermostat1");
  assert_string_equal(json_string_value(json_object_get(comp, "__t")), "c");
  assert_true(json_real_value(json_object_get(comp, "maxTempSinceLastReboot")) > 38.6);
  assert_string_equal(json_string_value(json_object_get(comp, "serialNumber")), "T-1");
  assert_null(json_object_get(json_object_get(twin, "reported"), "maxTempSinceLastReboot"));
  json_decref(twin);

  /* A component writable property reaches the component's handler, not the root one, and its
   * acknowledgement lands under the component. */
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/twin/PATCH/properties/desired/#"), 0);
  assert_int_equal(central_patch(dev.id, "thermostat1", "{\"targetTemperature\":23}"), 200);
  assert_true(central_counter_wait(&target.calls, 1));
  assert_string_equal(target.component, "thermostat1");
  assert_string_equal(target.name, "targetTemperature");
  assert_string_equal(target.value, "23");
  json_t *acked = central_wait_ack(dev.id, "thermostat1", "targetTemperature");
  assert_non_null(acked);
  json_t *m = json_object_get(json_object_get(acked, "$metadata"), "targetTemperature");
  assert_int_equal(int_at(m, "ackCode"), 200);
  assert_int_equal(int_at(m, "ackVersion"), target.version);
  assert_string_equal(json_string_value(json_object_get(m, "ackDescription")), "applied");
  json_decref(acked);
  twin = central_get("/emulator/devices/%s/twin", dev.id);
  comp = json_object_get(json_object_get(twin, "reported"), "thermostat1");
  assert_string_equal(json_string_value(json_object_get(comp, "__t")), "c");
  assert_int_equal(int_at(json_object_get(comp, "targetTemperature"), "av"), target.version);
  json_decref(twin);

  /* The {"value": …} wrapper some services put around component values is removed. */
  assert_int_equal(central_patch(dev.id, "thermostat1", "{\"targetTemperature\":{\"value\":25}}"), 200);
  assert_true(central_counter_wait(&target.calls, 2));
  assert_string_equal(target.value, "25");

  /* The root property of the same name is a different property. */
  assert_int_equal(central_patch(dev.id, NULL, "{\"targetTemperature\":30}"), 200);
  assert_true(central_counter_wait(&root_target.calls, 1));
  assert_string_equal(root_target.component, "(root)");
  assert_string_equal(root_target.value, "30");
  assert_int_equal(central_counter_get(&target.calls), 2);

  /* Component command: thermostat1*getMaxMinReport. */
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/methods/POST/#"), 0);
  long status = 0;
  json_t *r = central_command(dev.id, "thermostat1", "getMaxMinReport", "{\"request\":\"2024-01-01T00:00:00Z\"}", &status);
  assert_non_null(r);
  assert_int_equal(int_at(r, "responseCode"), 200);
  assert_true(json_real_value(json_object_get(json_object_get(r, "response"), "maxTemp")) > 38.4);
  json_decref(r);
  assert_int_equal(central_counter_get(&cmd.calls), 1);
  assert_int_equal(central_counter_get(&root_cmd.calls), 0);
  assert_string_equal(cmd.component, "thermostat1");
  assert_string_equal(cmd.name, "getMaxMinReport");
  assert_string_equal(cmd.payload, "\"2024-01-01T00:00:00Z\"");
  assert_int_equal(central_command_code(dev.id, NULL, "getMaxMinReport", "{}"), 200);
  assert_int_equal(central_counter_get(&root_cmd.calls), 1);
  assert_string_equal(root_cmd.component, "(root)");
  /* A command of an unknown component is refused with 404, not given to a handler. */
  assert_int_equal(central_command_code(dev.id, "thermostat2", "getMaxMinReport", "{}"), 404);
  assert_int_equal(central_counter_get(&cmd.calls), 1);
  assert_int_equal(central_counter_get(&root_cmd.calls), 1);

  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  iotc_client_destroy(client);
  central_results_destroy(&sent);
  central_results_destroy(&reported);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(components_carry_telemetry_properties_and_commands),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
