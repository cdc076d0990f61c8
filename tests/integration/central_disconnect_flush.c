/* SPDX-License-Identifier: MIT */
/* iotc_client_disconnect() while the client is still provisioning (DPS throttles it), with
 * telemetry queued: provisioning goes on, the client connects and flushes, and the disconnect
 * succeeds within its deadline instead of cancelling at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "central.h"

#define MESSAGES 10

static void disconnect_while_provisioning_keeps_provisioning_and_flushes(void **state) {
  (void)state;
  central_device dev;
  iotc_client *client = central_new("flushprov", &dev);
  assert_non_null(client);
  char fault[256];
  snprintf(fault, sizeof fault,
           "{\"kind\":\"dpsThrottle\",\"deviceId\":\"%s\",\"count\":3,\"retryAfter\":1}", dev.id);
  assert_int_equal(emu_fault(central_emu(), fault), 0);
  central_results sent;
  central_results_init(&sent);
  iotc_telemetry_options o;
  central_telemetry_options(&o, &sent);
  for (int i = 0; i < MESSAGES; i++) {
    assert_int_equal(iotc_client_send_telemetry(client, "{\"temperature\":21}", &o), IOTC_OK);
  }
  assert_int_equal(iotc_client_connect(client, 0, NULL), IOTC_OK);
  assert_int_equal(iotc_client_disconnect(client, 60000), IOTC_OK);
  json_t *got = central_wait_messages(dev.id, MESSAGES);
  assert_non_null(got);
  assert_true(json_array_size(got) >= MESSAGES);
  json_decref(got);
  iotc_client_destroy(client);
  assert_int_equal(central_counter_get(&sent.ok), MESSAGES);
  central_results_destroy(&sent);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(disconnect_while_provisioning_keeps_provisioning_and_flushes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
