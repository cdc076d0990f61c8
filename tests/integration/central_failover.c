/* SPDX-License-Identifier: MIT */
/* Failover: IoT Central moves the device to its other hub, and the old hub refuses it as not
 * authorized. The client registers with DPS again, connects to the new hub, and loses no
 * telemetry on the way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"
#include "delivery.h"

static void the_client_follows_its_device_to_the_other_hub(void **state) {
  (void)state;
  central_device dev;
  assert_int_equal(central_device_new("failover", &dev), 0);
  iotc_client_config cfg;
  central_config(&dev, &cfg);
  cfg.reprovision_after = 2;
  iotc_client *client = central_client(&cfg);
  assert_non_null(client);
  central_statuses st;
  central_statuses_init(&st);
  assert_int_equal(iotc_client_on_status(client, central_on_status, &st), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  char hub_before[256], id[128];
  assert_int_equal(iotc_client_get_hub(client, hub_before, sizeof hub_before, id, sizeof id), IOTC_OK);

  central_results sent;
  central_results_init(&sent);
  delivery_send(client, 0, 20, 0, &sent);
  assert_true(central_counter_wait(&sent.ok, 20));

  char path[512];
  snprintf(path, sizeof path, "/emulator/devices/%s/failover", dev.id);
  long status = 0;
  json_t *r = NULL;
  assert_int_equal(emu_api(central_emu(), "POST", path, "{}", &status, &r), 0);
  assert_int_equal(status, 200);
  json_decref(r);
  /* Messages sent during the move wait and go to the new hub. */
  delivery_send(client, 20, 20, 20, &sent);
  assert_true(central_status_wait(&st, IOTC_STATUS_REPROVISIONING, 1));
  assert_true(central_status_wait(&st, IOTC_STATUS_CONNECTED, 2));
  assert_true(central_counter_wait(&sent.ok, 40));

  char hub_after[256];
  assert_int_equal(iotc_client_get_hub(client, hub_after, sizeof hub_after, id, sizeof id), IOTC_OK);
  assert_string_not_equal(hub_after, hub_before);
  assert_true(iotc_client_is_connected(client));
  json_t *view = central_get("/api/devices/%s", dev.id);
  assert_string_equal(json_string_value(json_object_get(view, "hub")), hub_after);
  assert_true(json_is_true(json_object_get(view, "connected")));
  json_decref(view);

  delivery d;
  assert_int_equal(delivery_check(dev.id, 40, &d), 0);
  assert_int_equal(d.missing, 0);
  assert_true(d.in_order);
  json_t *messages = central_messages(dev.id);
  json_t *last = json_array_get(messages, json_array_size(messages) - 1);
  const char *last_hub = json_string_value(json_object_get(last, "hub"));
  if (last_hub) assert_string_equal(last_hub, hub_after);
  json_decref(messages);

  iotc_client_stats stats;
  assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
  assert_int_equal(stats.provisionings, 2);
  assert_int_equal(stats.telemetry_failed, 0);

  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  iotc_client_destroy(client);
  central_results_destroy(&sent);
  central_statuses_destroy(&st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_client_follows_its_device_to_the_other_hub),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
