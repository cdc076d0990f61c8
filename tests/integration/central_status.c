/* SPDX-License-Identifier: MIT */
/* The status callback in words: every status has a name (iotc_status_str()), and a connection
 * that drops after it was up is reported as lost (IOTC_ERR_CONNECTION_LOST), not as a failure to
 * connect, before the client reconnects on its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"

static void every_status_has_a_name(void **state) {
  (void)state;
  static const char *const names[] = {"provisioning", "connecting", "connected", "disconnected",
                                      "reconnecting", "reprovisioning", "gave up"};
  for (int s = IOTC_STATUS_PROVISIONING; s <= IOTC_STATUS_GAVE_UP; s++) {
    assert_string_equal(iotc_status_str((iotc_connection_status)s), names[s]);
  }
  assert_string_equal(iotc_status_str((iotc_connection_status)99), "unknown status");
  assert_string_equal(iotc_status_str((iotc_connection_status)-1), "unknown status");
  assert_string_equal(iotc_strerror(IOTC_ERR_CONNECTION_LOST), "connection lost");
}

static void a_dropped_connection_is_reported_as_lost(void **state) {
  (void)state;
  central_statuses log;
  central_statuses_init(&log);
  central_device dev;
  if (central_device_new("lost", &dev) != 0) fail_msg("no device");
  iotc_client_config cfg;
  central_config(&dev, &cfg);
  cfg.reconnect_min_ms = 50;
  cfg.reconnect_max_ms = 200;
  iotc_client *client = central_client(&cfg);
  assert_int_equal(iotc_client_on_status(client, central_on_status, &log), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  assert_int_equal(central_wait_connected(dev.id, true), 0);
  char path[256];
  snprintf(path, sizeof path, "/emulator/devices/%s/disconnect", dev.id);
  long status = 0;
  json_t *body = NULL;
  assert_int_equal(emu_api(central_emu(), "POST", path, "{}", &status, &body), 0);
  json_decref(body);
  assert_true(central_status_wait(&log, IOTC_STATUS_RECONNECTING, 1));
  assert_true(central_status_wait(&log, IOTC_STATUS_CONNECTED, 2)); /* and it came back by itself */
  central_statuses_print(&log);
  char lost[160];
  central_status_message(&log, IOTC_STATUS_DISCONNECTED, lost, sizeof lost);
  printf("lost: %s\n", lost);
  assert_int_equal(central_status_reason(&log, IOTC_STATUS_DISCONNECTED), IOTC_ERR_CONNECTION_LOST);
  assert_int_equal(central_status_reason(&log, IOTC_STATUS_RECONNECTING), IOTC_ERR_CONNECTION_LOST);
  assert_non_null(strstr(lost, "lost"));
  central_status_entry first = central_status_at(&log, 0);
  assert_int_equal(first.status, IOTC_STATUS_PROVISIONING);
  assert_int_equal(first.reason, IOTC_OK);
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
  central_statuses_destroy(&log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_status_has_a_name),
      cmocka_unit_test(a_dropped_connection_is_reported_as_lost),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
