/* SPDX-License-Identifier: MIT */
/* The IoT Central tutorial's whole device flow, in process, asserted through the operator API:
 * DPS with a symmetric key and the model id, startup reported properties, telemetry, the blink,
 * turnon, turnoff and rundiagnostics commands (202, then the completion property), and the
 * writable properties name and brightness acknowledged later from another thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"

#define MODEL "dtmi:com:example:iotc:EnvironmentalSensor;1"

/* Writable-property updates, handed from the client's callback thread to the test thread. */
typedef struct update_box {
  pthread_mutex_t lock;
  central_counter count;
  char name[8][32];
  char value[8][128];
  int64_t version[8];
} update_box;

static void on_writable(iotc_client *client, const iotc_property_update *update, void *ctx) {
  (void)client;
  update_box *box = ctx;
  pthread_mutex_lock(&box->lock);
  uint64_t i = central_counter_get(&box->count);
  if (i < 8) {
    snprintf(box->name[i], sizeof box->name[i], "%s", update->name);
    snprintf(box->value[i], sizeof box->value[i], "%s", update->value_json);
    box->version[i] = update->version;
  }
  pthread_mutex_unlock(&box->lock);
  central_counter_add(&box->count, 1);
}

typedef struct commands {
  central_counter blink, turnon, turnoff, diagnostics;
  char blink_payload[64];
} commands;

static void on_blink(iotc_client *client, const iotc_command_request *req,
                     iotc_command_response *resp, void *ctx) {
  (void)client;
  commands *c = ctx;
  static _Thread_local char body[128];
  snprintf(c->blink_payload, sizeof c->blink_payload, "%s", req->payload_json);
  int64_t n = 0;
  if (iotc_value_int(req->payload_json, &n) != IOTC_OK) {
    resp->status = 400;
  } else {
    snprintf(body, sizeof body, "{\"description\":\"Blinking LED every %lld seconds\"}", (long long)n);
    resp->payload_json = body;
  }
  central_counter_add(&c->blink, 1);
}

static void on_turnon(iotc_client *client, const iotc_command_request *req,
                      iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)req;
  resp->status = 200;
  central_counter_add(&((commands *)ctx)->turnon, 1);
}

static void on_turnoff(iotc_client *client, const iotc_command_request *req,
                       iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)req;
  resp->status = 200;
  central_counter_add(&((commands *)ctx)->turnoff, 1);
}

static void on_diagnostics(iotc_client *client, const iotc_command_request *req,
                           iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)req;
  resp->status = 202;
  central_counter_add(&((commands *)ctx)->diagnostics, 1);
}

static int64_t int_at(json_t *obj, const char *key) {
  return json_integer_value(json_object_get(obj, key));
}

static void the_tutorial_flow_is_seen_by_the_operator(void **state) {
  (void)state;
  /* As in the tutorial: the operator imports the device template, then creates the device of it.
   * The template gets an id of its own: other tests' devices of this model run on the same emulator. */
  central_device dev;
  char template_id[128];
  emu_unique_id("sensor-template", template_id, sizeof template_id);
  assert_int_equal(emu_put_template(central_emu(), template_id, IOTC_EXAMPLE_MODEL), 0);
  assert_int_equal(central_device_of_template("tutorial", template_id, &dev), 0);
  iotc_client_config cfg;
  central_config(&dev, &cfg);
  iotc_client *client = central_client(&cfg);
  assert_non_null(client);

  update_box box;
  pthread_mutex_init(&box.lock, NULL);
  central_counter_init(&box.count);
  commands cmds;
  memset(&cmds, 0, sizeof cmds);
  central_counter_init(&cmds.blink);
  central_counter_init(&cmds.turnon);
  central_counter_init(&cmds.turnoff);
  central_counter_init(&cmds.diagnostics);
  assert_int_equal(iotc_client_on_property(client, NULL, "name", on_writable, &box), IOTC_OK);
  assert_int_equal(iotc_client_on_property(client, NULL, "brightness", on_writable, &box), IOTC_OK);
  assert_int_equal(iotc_client_on_command(client, NULL, "blink", on_blink, &cmds), IOTC_OK);
  assert_int_equal(iotc_client_on_command(client, NULL, "turnon", on_turnon, &cmds), IOTC_OK);
  assert_int_equal(iotc_client_on_command(client, NULL, "turnoff", on_turnoff, &cmds), IOTC_OK);
  assert_int_equal(iotc_client_on_command(client, NULL, "rundiagnostics", on_diagnostics, &cmds), IOTC_OK);

  assert_int_equal(central_connect(client), 0);
  assert_true(iotc_client_is_connected(client));

  /* Registered through DPS, with the model id in the DPS payload and the MQTT user name. */
  json_t *conn = central_get("/emulator/devices/%s", dev.id);
  assert_non_null(conn);
  assert_true(json_is_true(json_object_get(conn, "provisioned")));
  const char *username = json_string_value(json_object_get(json_object_get(conn, "connection"), "username"));
  assert_non_null(username);
  assert_non_null(strstr(username, "model-id=dtmi%3Acom%3Aexample%3Aiotc%3AEnvironmentalSensor%3B1"));
  json_t *dev_view = central_get("/api/devices/%s", dev.id);
  assert_string_equal(json_string_value(json_object_get(dev_view, "template")), template_id);
  char hub[256], id[128];
  assert_int_equal(iotc_client_get_hub(client, hub, sizeof hub, id, sizeof id), IOTC_OK);
  assert_string_equal(hub, json_string_value(json_object_get(dev_view, "hub")));
  assert_string_equal(id, dev.id);
  json_decref(dev_view);
  json_decref(conn);

  /* Startup reported properties. */
  central_results reported;
  central_results_init(&reported);
  assert_int_equal(iotc_client_report_properties(client, NULL,
                                                 "{\"state\":true,\"processorArchitecture\":\"ARM\",\"swVersion\":\"1.0.0\"}",
                                                 central_on_done, &reported), IOTC_OK);
  assert_true(central_counter_wait(&reported.ok, 1));
  json_t *props = central_properties(dev.id, NULL);
  assert_true(json_is_true(json_object_get(props, "state")));
  assert_string_equal(json_string_value(json_object_get(props, "processorArchitecture")), "ARM");
  assert_string_equal(json_string_value(json_object_get(props, "swVersion")), "1.0.0");
  json_decref(props);

  /* Telemetry. */
  central_results sent;
  central_results_init(&sent);
  iotc_telemetry_options opts;
  central_telemetry_options(&opts, &sent);
  for (int i = 0; i < 3; i++) {
    char json[64];
    snprintf(json, sizeof json, "{\"temp\":%d,\"humid\":%d}", 20 + i, 50 + i);
    assert_int_equal(iotc_client_send_telemetry(client, json, &opts), IOTC_OK);
  }
  assert_true(central_counter_wait(&sent.ok, 3));
  json_t *messages = central_wait_messages(dev.id, 3);
  assert_non_null(messages);
  assert_int_equal(json_array_size(messages), 3);
  for (size_t i = 0; i < 3; i++) {
    json_t *body = json_object_get(json_array_get(messages, i), "json");
    assert_int_equal(int_at(body, "temp"), 20 + (int)i);
    assert_int_equal(int_at(body, "humid"), 50 + (int)i);
  }
  json_decref(messages);
  json_t *temp = central_get("/api/devices/%s/telemetry/temp", dev.id);
  assert_int_equal(int_at(temp, "value"), 22);
  json_decref(temp);

  /* Commands. */
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/methods/POST/#"), 0);
  long status = 0;
  json_t *r = central_command(dev.id, NULL, "blink", "{\"request\":3}", &status);
  assert_non_null(r);
  assert_int_equal(int_at(r, "responseCode"), 200);
  assert_string_equal(json_string_value(json_object_get(json_object_get(r, "response"), "description")),
                      "Blinking LED every 3 seconds");
  assert_string_equal(cmds.blink_payload, "3");
  json_decref(r);
  assert_int_equal(central_command_code(dev.id, NULL, "turnon", "{}"), 200);
  assert_int_equal(central_command_code(dev.id, NULL, "turnoff", "{}"), 200);
  assert_int_equal(central_command_code(dev.id, NULL, "rundiagnostics", "{}"), 202);
  assert_int_equal(central_counter_get(&cmds.blink), 1);
  assert_int_equal(central_counter_get(&cmds.turnon), 1);
  assert_int_equal(central_counter_get(&cmds.turnoff), 1);
  assert_int_equal(central_counter_get(&cmds.diagnostics), 1);
  /* The long-running command completes later, from this (another) thread. */
  central_results completed;
  central_results_init(&completed);
  assert_int_equal(iotc_client_complete_command(client, NULL, "rundiagnostics",
                                                "\"Diagnostics run complete at now.\"",
                                                central_on_done, &completed), IOTC_OK);
  assert_true(central_counter_wait(&completed.ok, 1));
  json_t *twin = central_get("/emulator/devices/%s/twin", dev.id);
  json_t *diag = json_object_get(json_object_get(twin, "reported"), "rundiagnostics");
  assert_string_equal(json_string_value(json_object_get(diag, "value")), "Diagnostics run complete at now.");
  json_decref(twin);

  /* An unknown command is answered 404 with a message, without a handler. */
  r = central_command(dev.id, NULL, "selfdestruct", "{}", &status);
  assert_non_null(r);
  int64_t code = json_object_get(r, "responseCode") ? int_at(r, "responseCode") : status;
  assert_int_equal(code, 404);
  json_decref(r);

  /* Writable properties: handled once each, acknowledged later from this thread. */
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/twin/PATCH/properties/desired/#"), 0);
  /* The template refuses what the model lacks, as IoT Central does, before the device sees it. */
  assert_int_equal(central_patch(dev.id, NULL, "{\"volume\":3}"), 400);
  assert_int_equal(central_patch(dev.id, NULL, "{\"brightness\":\"bright\"}"), 400);
  assert_int_equal(central_command_code(dev.id, NULL, "selfdestruct", "{}"), -404); /* the API refused it */
  assert_int_equal(central_patch(dev.id, NULL, "{\"name\":\"Kitchen sensor\",\"brightness\":3}"), 200);
  assert_true(central_counter_wait(&box.count, 2));
  json_t *before = central_properties(dev.id, NULL);
  int64_t desired = int_at(json_object_get(json_object_get(before, "$metadata"), "name"), "desiredVersion");
  assert_true(desired > 0);
  assert_null(json_object_get(json_object_get(json_object_get(before, "$metadata"), "name"), "ackCode"));
  json_decref(before);
  central_results acks;
  central_results_init(&acks);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(box.version[i], desired);
    assert_int_equal(iotc_client_ack_property(client, NULL, box.name[i], box.value[i], 200,
                                              box.version[i], "completed", central_on_done, &acks),
                     IOTC_OK);
  }
  assert_true(central_counter_wait(&acks.ok, 2));
  json_t *after = central_wait_ack(dev.id, NULL, "brightness");
  assert_non_null(after);
  json_decref(after);
  after = central_wait_ack(dev.id, NULL, "name");
  assert_non_null(after);
  json_t *meta = json_object_get(after, "$metadata");
  for (const char *const *p = (const char *const[]){"name", "brightness", NULL}; *p; p++) {
    json_t *m = json_object_get(meta, *p);
    assert_int_equal(int_at(m, "ackCode"), 200);
    assert_int_equal(int_at(m, "ackVersion"), desired);
    assert_string_equal(json_string_value(json_object_get(m, "ackDescription")), "completed");
  }
  assert_string_equal(json_string_value(json_object_get(after, "name")), "Kitchen sensor");
  assert_int_equal(int_at(after, "brightness"), 3);
  json_decref(after);
  assert_int_equal(central_counter_get(&box.count), 2);

  iotc_client_stats stats;
  assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
  assert_int_equal(stats.telemetry_sent, 3);
  assert_int_equal(stats.telemetry_failed, 0);
  assert_true(stats.commands_received >= 4);
  assert_int_equal(stats.properties_received, 2);
  assert_int_equal(stats.provisionings, 1);

  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  assert_false(iotc_client_is_connected(client));
  iotc_client_destroy(client);
  assert_int_equal(central_wait_connected(dev.id, false), 0);

  central_results_destroy(&reported);
  central_results_destroy(&sent);
  central_results_destroy(&completed);
  central_results_destroy(&acks);
  central_counter_destroy(&box.count);
  pthread_mutex_destroy(&box.lock);
  central_counter_destroy(&cmds.blink);
  central_counter_destroy(&cmds.turnon);
  central_counter_destroy(&cmds.turnoff);
  central_counter_destroy(&cmds.diagnostics);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_tutorial_flow_is_seen_by_the_operator),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
