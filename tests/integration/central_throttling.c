/* SPDX-License-Identifier: MIT */
/* Throttling: the hub answers reported-property PATCHes with 429 twice; the client backs off,
 * sends them again, keeps their order, and reports success only once the hub accepted them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"

static void throttled_reported_properties_are_sent_again(void **state) {
  (void)state;
  const emu_info *emu = central_emu();
  central_device dev;
  iotc_client *client = central_new("throttle", &dev);
  assert_non_null(client);
  assert_int_equal(central_connect(client), 0);
  int before = emu_wire_count(emu, dev.id, "in", "PUBLISH", "$iothub/twin/PATCH/properties/reported");
  assert_true(before >= 0);

  char fault[512];
  snprintf(fault, sizeof fault,
           "{\"kind\":\"twinThrottle\",\"deviceId\":\"%s\",\"operation\":\"reported\",\"status\":429,\"count\":2}",
           dev.id);
  assert_int_equal(emu_fault(emu, fault), 0);
  central_results done;
  central_results_init(&done);
  assert_int_equal(iotc_client_report_property(client, NULL, "swVersion", "\"1.0.0\"", central_on_done, &done), IOTC_OK);
  assert_int_equal(iotc_client_report_property(client, NULL, "swVersion", "\"1.0.1\"", central_on_done, &done), IOTC_OK);
  assert_true(central_counter_wait(&done.ok, 2));
  assert_int_equal(central_counter_get(&done.failed), 0);

  /* Two refused, then both accepted: at least four PATCHes on the wire. */
  int after = emu_wire_count(emu, dev.id, "in", "PUBLISH", "$iothub/twin/PATCH/properties/reported");
  assert_true(after - before >= 4);
  /* Order kept: the later value wins. */
  json_t *props = central_properties(dev.id, NULL);
  assert_string_equal(json_string_value(json_object_get(props, "swVersion")), "1.0.1");
  json_decref(props);
  assert_true(iotc_client_is_connected(client));
  iotc_client_stats stats;
  assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
  assert_int_equal(stats.reported_sent, 2);

  /* Telemetry is not held up by throttled properties. */
  snprintf(fault, sizeof fault,
           "{\"kind\":\"twinThrottle\",\"deviceId\":\"%s\",\"operation\":\"reported\",\"status\":429,\"count\":1}",
           dev.id);
  assert_int_equal(emu_fault(emu, fault), 0);
  central_results sent;
  central_results_init(&sent);
  iotc_telemetry_options opts;
  central_telemetry_options(&opts, &sent);
  assert_int_equal(iotc_client_report_property(client, NULL, "state", "true", central_on_done, &done), IOTC_OK);
  assert_int_equal(iotc_client_send_telemetry(client, "{\"temp\":20}", &opts), IOTC_OK);
  assert_true(central_counter_wait(&sent.ok, 1));
  assert_true(central_counter_wait(&done.ok, 3));

  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  iotc_client_destroy(client);
  central_results_destroy(&done);
  central_results_destroy(&sent);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(throttled_reported_properties_are_sent_again),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
