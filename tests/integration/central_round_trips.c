/* SPDX-License-Identifier: MIT */
/* The device client's three round trips with the operator, end to end against the emulator:
 * provisioning with the enrollment-group key and telemetry the operator sees, a command answered
 * (and an unknown one refused), and a writable property acknowledged. Disturbed connections have
 * programs of their own (central_disconnects, central_sas_renewal, central_failover), and so do
 * queued commands (central_queued). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"

#define MODEL "dtmi:com:example:Thermostat;1"

/* A new device (unique id), provisioned with the group key and connected. */
static iotc_client *connect_new(char *id, size_t id_size) {
  emu_unique_id("client", id, id_size);
  iotc_client_config cfg;
  central_group_config(id, &cfg);
  cfg.model_id = MODEL;
  cfg.reconnect_min_ms = 200;
  iotc_client *client = central_client(&cfg);
  assert_non_null(client);
  assert_int_equal(central_connect(client), 0);
  assert_true(iotc_client_is_connected(client));
  return client;
}

static void close_client(iotc_client *client) {
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
}

static void telemetry_reaches_the_operator_after_provisioning(void **state) {
  (void)state;
  char id[128];
  iotc_client *client = connect_new(id, sizeof id);
  char hub[300], dev[200];
  assert_int_equal(iotc_client_get_hub(client, hub, sizeof hub, dev, sizeof dev), IOTC_OK);
  assert_string_equal(dev, id);
  const emu_info *emu = central_emu();
  assert_true(strcmp(hub, emu->hubs[0]) == 0 || strcmp(hub, emu->hubs[1]) == 0);

  central_results done;
  central_results_init(&done);
  iotc_telemetry_options o;
  central_telemetry_options(&o, &done);
  for (int i = 1; i <= 5; i++) {
    char json[64];
    snprintf(json, sizeof json, "{\"seq\":%d,\"temp\":%d.5}", i, 20 + i);
    assert_int_equal(iotc_client_send_telemetry(client, json, &o), IOTC_OK);
  }
  assert_true(central_counter_wait(&done.all, 5));
  assert_int_equal(central_counter_get(&done.ok), 5);
  assert_int_equal(central_wait_telemetry(id, "seq", 5), 0);

  iotc_client_stats st;
  assert_int_equal(iotc_client_get_stats(client, &st), IOTC_OK);
  assert_int_equal(st.telemetry_sent, 5);
  assert_int_equal(st.provisionings, 1);
  assert_int_equal(st.connects, 1);
  close_client(client);
  central_results_destroy(&done);
}

static void on_blink(iotc_client *client, const iotc_command_request *req,
                     iotc_command_response *resp, void *ctx) {
  (void)client;
  static char out[128];
  int64_t n = 0;
  if (iotc_value_int(req->payload_json, &n) != IOTC_OK) {
    resp->status = 400;
    return;
  }
  snprintf(out, sizeof out, "{\"description\":\"Blinking LED every %lld seconds\"}", (long long)n);
  resp->payload_json = out;
  central_counter_add(ctx, 1);
}

static void a_command_is_answered_and_an_unknown_one_refused(void **state) {
  (void)state;
  char id[128];
  iotc_client *client = connect_new(id, sizeof id);
  central_counter calls;
  central_counter_init(&calls);
  assert_int_equal(iotc_client_on_command(client, NULL, "blink", on_blink, &calls), IOTC_OK);
  long status = 0;
  json_t *body = central_command(id, NULL, "blink", "{\"request\":3}", &status);
  assert_non_null(body);
  assert_int_equal(json_integer_value(json_object_get(body, "responseCode")), 200);
  json_t *resp = json_object_get(body, "response");
  assert_string_equal(json_string_value(json_object_get(resp, "description")),
                      "Blinking LED every 3 seconds");
  json_decref(body);
  assert_int_equal(central_counter_get(&calls), 1);

  assert_int_equal(central_command_code(id, NULL, "selfdestruct", "{}"), 404);
  close_client(client);
  central_counter_destroy(&calls);
}

static void on_brightness(iotc_client *client, const iotc_property_update *u, void *ctx) {
  (void)ctx;
  assert_int_equal(iotc_client_ack_property(client, u->component, u->name, u->value_json, 200,
                                            u->version, "completed", NULL, NULL),
                   IOTC_OK);
}

static void a_writable_property_is_acknowledged(void **state) {
  (void)state;
  char id[128];
  iotc_client *client = connect_new(id, sizeof id);
  assert_int_equal(iotc_client_on_property(client, NULL, "brightness", on_brightness, NULL),
                   IOTC_OK);
  long status = central_patch(id, NULL, "{\"brightness\":7}");
  assert_true(status >= 200 && status < 300);
  json_t *body = central_wait_ack(id, NULL, "brightness");
  assert_non_null(body);
  json_t *meta = json_object_get(json_object_get(body, "$metadata"), "brightness");
  assert_int_equal(json_integer_value(json_object_get(meta, "ackVersion")),
                   json_integer_value(json_object_get(meta, "desiredVersion")));
  assert_int_equal(json_integer_value(json_object_get(meta, "ackCode")), 200);
  assert_int_equal(json_integer_value(json_object_get(body, "brightness")), 7);
  json_decref(body);
  close_client(client);
}

int main(void) {
  central_log_warnings();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(telemetry_reaches_the_operator_after_provisioning),
      cmocka_unit_test(a_command_is_answered_and_an_unknown_one_refused),
      cmocka_unit_test(a_writable_property_is_acknowledged),
  };
  if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
