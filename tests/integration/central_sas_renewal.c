/* SPDX-License-Identifier: MIT */
/* A short SAS lifetime (20 s) over a 60 s run: the token is renewed before the hub would close
 * the connection, and no telemetry is lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"
#include "delivery.h"

#define MESSAGES 300 /* one every 200 ms: 60 s */

static void a_20_second_token_is_renewed_without_losing_telemetry(void **state) {
  (void)state;
  central_device dev;
  assert_int_equal(central_device_new("sas", &dev), 0);
  iotc_client_config cfg;
  central_config(&dev, &cfg);
  cfg.sas_ttl_s = 20;
  iotc_client *client = central_client(&cfg);
  assert_non_null(client);
  assert_int_equal(central_connect(client), 0);
  json_t *conn = central_get("/emulator/devices/%s", dev.id);
  assert_non_null(json_string_value(json_object_get(json_object_get(conn, "connection"), "sasExpiry")));
  json_decref(conn);

  central_results sent;
  central_results_init(&sent);
  delivery_send(client, 0, MESSAGES, 200, &sent);
  assert_true(central_counter_wait(&sent.ok, MESSAGES));
  assert_int_equal(central_counter_get(&sent.failed), 0);

  delivery d;
  assert_int_equal(delivery_check(dev.id, MESSAGES, &d), 0);
  assert_int_equal(d.missing, 0);
  assert_true(d.in_order);

  iotc_client_stats stats;
  assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
  /* Renewed at about 80 % of 20 s: at least twice in 60 s, so at least three connections. */
  assert_true(stats.connects >= 3);
  assert_int_equal(stats.telemetry_sent, MESSAGES);
  /* A renewal reconnects to the same hub: it never asks DPS again. */
  assert_int_equal(stats.provisionings, 1);
  assert_int_equal(stats.telemetry_failed, 0);
  /* QoS 1 allows a duplicate only for a message sent again. */
  assert_true(d.duplicates <= stats.telemetry_resent);
  /* The hub never had to close the connection for an expired token. */
  json_t *wire = emu_wire(central_emu(), dev.id, 0);
  size_t i;
  json_t *e;
  assert_non_null(wire);
  int expired = 0;
  json_array_foreach(wire, i, e) {
    const char *reason = json_string_value(json_object_get(e, "reason"));
    if (reason && strstr(reason, "expired")) expired++;
  }
  json_decref(wire);
  assert_int_equal(expired, 0);

  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  iotc_client_destroy(client);
  central_results_destroy(&sent);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_20_second_token_is_renewed_without_losing_telemetry),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
