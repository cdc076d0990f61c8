/* SPDX-License-Identifier: MIT */
/* Startup reconciliation: writable properties set while the device is off reach their handlers
 * once when it starts (at_startup, with the desired $version), their acknowledgements show in the
 * operator's $metadata, and a restart with nothing new calls no handler again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"

typedef struct prop_log {
  central_counter calls;
  pthread_mutex_t lock;
  int startup_calls;
  int64_t version;
  char value[128];
} prop_log;

static void on_prop(iotc_client *client, const iotc_property_update *u, void *ctx) {
  prop_log *log = ctx;
  pthread_mutex_lock(&log->lock);
  if (u->at_startup) log->startup_calls++;
  log->version = u->version;
  snprintf(log->value, sizeof log->value, "%s", u->value_json);
  pthread_mutex_unlock(&log->lock);
  iotc_result r = iotc_client_ack_property(client, u->component, u->name, u->value_json, 200,
                                           u->version, "completed", NULL, NULL);
  if (r != IOTC_OK) fprintf(stderr, "ack %s: %s\n", u->name, iotc_strerror(r));
  central_counter_add(&log->calls, 1);
}

static void prop_log_init(prop_log *l) {
  memset(l, 0, sizeof *l);
  central_counter_init(&l->calls);
  pthread_mutex_init(&l->lock, NULL);
}

static void prop_log_destroy(prop_log *l) {
  central_counter_destroy(&l->calls);
  pthread_mutex_destroy(&l->lock);
}

static void on_ping(iotc_client *client, const iotc_command_request *req,
                    iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)req;
  (void)ctx;
  resp->status = 200;
}

/* Wait until everything the client received up to now has been handled: its twin GET answered
 * (the wire log shows @p twin_gets responses) and a command sent after it came back, since one
 * client's callbacks run one at a time, in order. */
static void wait_until_reconciled(const central_device *dev, int twin_gets) {
  const emu_info *emu = central_emu();
  uint64_t deadline = central_now_ms() + CENTRAL_WAIT_MS;
  while (emu_wire_count(emu, dev->id, "out", "PUBLISH", "$iothub/twin/res/200") < twin_gets) {
    assert_true(central_now_ms() < deadline);
    central_sleep_ms(50);
  }
  assert_int_equal(central_wait_subscribed(dev->id, "$iothub/methods/POST/#"), 0);
  long status = 0;
  json_t *r = central_command(dev->id, NULL, "ping", "{}", &status);
  assert_non_null(r);
  assert_int_equal(json_integer_value(json_object_get(r, "responseCode")), 200);
  json_decref(r);
}

/* Start a client for dev with handlers for name, brightness and thermostat1/targetTemperature,
 * connect it (its @p run-th start), let it reconcile, and stop it; disconnect flushes the acks. */
static void run_device_once(const central_device *dev, prop_log *name, prop_log *brightness,
                            prop_log *target, int run) {
  iotc_client_config cfg;
  central_config(dev, &cfg);
  iotc_client *client = central_client(&cfg);
  assert_non_null(client);
  assert_int_equal(iotc_client_on_property(client, NULL, "name", on_prop, name), IOTC_OK);
  assert_int_equal(iotc_client_on_property(client, NULL, "brightness", on_prop, brightness), IOTC_OK);
  assert_int_equal(iotc_client_on_property(client, "thermostat1", "targetTemperature", on_prop, target), IOTC_OK);
  assert_int_equal(iotc_client_on_command(client, NULL, "ping", on_ping, NULL), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  wait_until_reconciled(dev, run);
  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  iotc_client_destroy(client);
  assert_int_equal(central_wait_connected(dev->id, false), 0);
}

static int64_t int_at(json_t *obj, const char *key) {
  return json_integer_value(json_object_get(obj, key));
}

static void properties_set_while_off_are_handled_once_at_start(void **state) {
  (void)state;
  central_device dev;
  assert_int_equal(central_device_new("reconcile", &dev), 0);
  prop_log name, brightness, target;
  prop_log_init(&name);
  prop_log_init(&brightness);
  prop_log_init(&target);

  /* Set while the device has never been on. */
  assert_int_equal(central_patch(dev.id, NULL, "{\"name\":\"Cellar\",\"brightness\":2}"), 200);
  assert_int_equal(central_patch(dev.id, "thermostat1", "{\"targetTemperature\":19}"), 200);
  json_t *desired = central_get("/emulator/devices/%s/twin", dev.id);
  int64_t v1 = int_at(json_object_get(desired, "desired"), "$version");
  json_decref(desired);
  assert_true(v1 >= 2);

  run_device_once(&dev, &name, &brightness, &target, 1);
  assert_int_equal(central_counter_get(&name.calls), 1);
  assert_int_equal(central_counter_get(&brightness.calls), 1);
  assert_int_equal(central_counter_get(&target.calls), 1);
  assert_int_equal(name.startup_calls, 1);
  assert_int_equal(brightness.startup_calls, 1);
  assert_int_equal(target.startup_calls, 1);
  assert_int_equal(name.version, v1);
  assert_int_equal(brightness.version, v1);
  assert_int_equal(target.version, v1);
  assert_string_equal(name.value, "\"Cellar\"");
  assert_string_equal(brightness.value, "2");
  assert_string_equal(target.value, "19");
  json_t *props = central_properties(dev.id, NULL);
  json_t *meta = json_object_get(props, "$metadata");
  assert_int_equal(int_at(json_object_get(meta, "name"), "ackCode"), 200);
  assert_int_equal(int_at(json_object_get(meta, "name"), "ackVersion"), v1);
  assert_int_equal(int_at(json_object_get(meta, "brightness"), "ackVersion"), v1);
  json_decref(props);
  props = central_properties(dev.id, "thermostat1");
  assert_int_equal(int_at(json_object_get(json_object_get(props, "$metadata"), "targetTemperature"), "ackVersion"), v1);
  json_decref(props);

  /* Restart with nothing new: no handler runs. */
  run_device_once(&dev, &name, &brightness, &target, 2);
  assert_int_equal(central_counter_get(&name.calls), 1);
  assert_int_equal(central_counter_get(&brightness.calls), 1);
  assert_int_equal(central_counter_get(&target.calls), 1);

  /* Changed while off: brightness is handled once with the new version. */
  assert_int_equal(central_patch(dev.id, NULL, "{\"brightness\":9}"), 200);
  desired = central_get("/emulator/devices/%s/twin", dev.id);
  int64_t v2 = int_at(json_object_get(desired, "desired"), "$version");
  json_decref(desired);
  assert_true(v2 > v1);
  run_device_once(&dev, &name, &brightness, &target, 3);
  assert_int_equal(central_counter_get(&brightness.calls), 2);
  assert_int_equal(brightness.startup_calls, 2);
  assert_int_equal(brightness.version, v2);
  assert_string_equal(brightness.value, "9");
  /* The twin's $version is one number for all of desired: a handler may see an unchanged
   * property again at most once, and then with the current version. */
  assert_true(central_counter_get(&name.calls) <= 2);
  if (central_counter_get(&name.calls) == 2) assert_int_equal(name.version, v2);
  props = central_properties(dev.id, NULL);
  assert_int_equal(int_at(json_object_get(json_object_get(props, "$metadata"), "brightness"), "ackVersion"), v2);
  assert_int_equal(int_at(props, "brightness"), 9);
  json_decref(props);

  prop_log_destroy(&name);
  prop_log_destroy(&brightness);
  prop_log_destroy(&target);
}

/* A property with no handler and no catch-all is refused with a 4xx acknowledgement; a
 * catch-all gets everything without its own handler. */
static void unhandled_properties_are_refused_or_caught(void **state) {
  (void)state;
  central_device dev;
  assert_int_equal(central_device_new("catchall", &dev), 0);
  assert_int_equal(central_patch(dev.id, NULL, "{\"color\":\"red\"}"), 200);
  iotc_client_config cfg;
  central_config(&dev, &cfg);
  iotc_client *client = central_client(&cfg);
  assert_non_null(client);
  assert_int_equal(central_connect(client), 0);
  json_t *acked = central_wait_ack(dev.id, NULL, "color");
  assert_non_null(acked);
  int64_t ac = int_at(json_object_get(json_object_get(acked, "$metadata"), "color"), "ackCode");
  assert_true(ac >= 400 && ac < 500);
  json_decref(acked);

  prop_log any;
  prop_log_init(&any);
  assert_int_equal(iotc_client_on_any_property(client, on_prop, &any), IOTC_OK);
  assert_int_equal(central_patch(dev.id, NULL, "{\"color\":\"blue\"}"), 200);
  assert_true(central_counter_wait(&any.calls, 1));
  assert_string_equal(any.value, "\"blue\"");
  acked = central_wait_ack(dev.id, NULL, "color");
  assert_non_null(acked);
  assert_int_equal(int_at(json_object_get(json_object_get(acked, "$metadata"), "color"), "ackCode"), 200);
  json_decref(acked);
  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  iotc_client_destroy(client);
  prop_log_destroy(&any);
}

/* Defaults are reported with ac=203, av=0 when the twin holds neither a desired value nor an ack. */
static void defaults_are_reported_with_203(void **state) {
  (void)state;
  central_device dev;
  iotc_client *client = central_new("defaults", &dev);
  assert_non_null(client);
  assert_int_equal(iotc_client_set_property_default(client, NULL, "brightness", "5"), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  bool ok = false;
  char path[512];
  snprintf(path, sizeof path, "/emulator/devices/%s/twin", dev.id);
  json_t *twin = NULL;
  uint64_t deadline = central_now_ms() + CENTRAL_WAIT_MS;
  while (!ok && central_now_ms() < deadline) {
    json_decref(twin);
    twin = central_get("%s", path);
    json_t *b = json_object_get(json_object_get(twin, "reported"), "brightness");
    ok = b != NULL;
    if (!ok) central_sleep_ms(100);
  }
  assert_true(ok);
  json_t *b = json_object_get(json_object_get(twin, "reported"), "brightness");
  assert_int_equal(int_at(b, "ac"), 203);
  assert_int_equal(int_at(b, "av"), 0);
  assert_int_equal(int_at(b, "value"), 5);
  json_decref(twin);
  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  iotc_client_destroy(client);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(properties_set_while_off_are_handled_once_at_start),
      cmocka_unit_test(unhandled_properties_are_refused_or_caught),
      cmocka_unit_test(defaults_are_reported_with_203),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
