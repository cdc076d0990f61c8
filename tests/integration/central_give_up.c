/* SPDX-License-Identifier: MIT */
/* Permanent failures end to end against the emulator: an unknown or revoked device makes connect
 * return the service's error and the status callback reports GAVE_UP exactly once (and nothing
 * can be queued); a device revoked while connected gives up once and can start again when it is
 * enabled; give_up_after stops after that many attempts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"

static const emu_info *emu;

/* DPS with the group key, short back-offs. */
static void group_config(iotc_client_config *cfg, const char *id) {
  central_group_config(id, cfg);
  cfg->model_id = "dtmi:com:example:Thermostat;1";
  cfg->reconnect_max_ms = 1000;
}

/* connect() fails with @p want; GAVE_UP is reported exactly once; nothing can be queued. */
static void assert_gives_up(const iotc_client_config *cfg, iotc_result want, central_statuses *log) {
  iotc_client *client = NULL;
  assert_int_equal(iotc_client_create(cfg, &client, NULL), IOTC_OK);
  assert_int_equal(iotc_client_on_status(client, central_on_status, log), IOTC_OK);
  iotc_error err;
  iotc_result r = iotc_client_connect(client, 60000, &err);
  if (r != want) fprintf(stderr, "connect: %s (%s)\n", iotc_strerror(r), err.message);
  assert_int_equal(r, want);
  assert_int_equal(err.result, want);
  assert_true(err.message[0] != '\0');
  assert_false(iotc_client_is_connected(client));
  assert_int_equal(iotc_client_send_telemetry(client, "{\"x\":1}", NULL), IOTC_ERR_STATE);
  /* disconnect goes through the worker: every status it would report has been reported */
  iotc_client_disconnect(client, 5000);
  iotc_client_destroy(client);
  assert_int_equal(central_status_count(log, IOTC_STATUS_GAVE_UP), 1);
  assert_int_equal(central_status_reason(log, IOTC_STATUS_GAVE_UP), want);
  assert_int_equal(central_status_count(log, IOTC_STATUS_CONNECTED), 0);
}

static void an_unknown_device_gives_up_once_with_unauthorized(void **state) {
  (void)state;
  char id[128];
  emu_unique_id("unknown", id, sizeof id);
  iotc_client_config cfg;
  group_config(&cfg, id);
  cfg.group_key = NULL;
  cfg.device_key = "c29tZSBrZXkgbm9ib2R5IGtub3dzIGFib3V0IQ=="; /* no enrollment has it */
  central_statuses log;
  central_statuses_init(&log);
  assert_gives_up(&cfg, IOTC_ERR_UNAUTHORIZED, &log);
  assert_int_equal(central_status_count(&log, IOTC_STATUS_RECONNECTING), 0);
  central_statuses_destroy(&log);
}

static void set_enabled(const char *id, bool enabled) {
  char path[300];
  snprintf(path, sizeof path, "/api/devices/%s", id);
  long status = 0;
  assert_int_equal(emu_api(emu, "PATCH", path, enabled ? "{\"enabled\":true}"
                                                        : "{\"enabled\":false}", &status, NULL), 0);
  assert_true(status >= 200 && status < 300);
}

static void a_revoked_device_gives_up_once_with_unauthorized(void **state) {
  (void)state;
  emu_direct_device dev;
  assert_int_equal(emu_provision_direct(emu, "revoked", 1, &dev), 0);
  const char *id = dev.id;
  set_enabled(id, false);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = dev.connection_string;
  cfg.ca_file = emu->ca_file;
  central_statuses log;
  central_statuses_init(&log);
  assert_gives_up(&cfg, IOTC_ERR_UNAUTHORIZED, &log);
  central_statuses_destroy(&log);
  assert_int_equal(emu_wire_count(emu, id, "in", "CONNECT", NULL), 1); /* no retry */
}

static void a_device_revoked_while_connected_gives_up_once_and_can_start_again(void **state) {
  (void)state;
  char id[128];
  emu_unique_id("revlive", id, sizeof id);
  iotc_client_config cfg;
  group_config(&cfg, id);
  central_statuses log;
  central_statuses_init(&log);
  iotc_client *client = central_client(&cfg);
  assert_non_null(client);
  assert_int_equal(iotc_client_on_status(client, central_on_status, &log), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  set_enabled(id, false); /* closes the connection; the hub and DPS refuse it from now on */
  assert_true(central_status_wait(&log, IOTC_STATUS_GAVE_UP, 1));
  assert_int_equal(central_status_count(&log, IOTC_STATUS_GAVE_UP), 1);
  assert_int_equal(central_status_reason(&log, IOTC_STATUS_GAVE_UP), IOTC_ERR_PROVISIONING_DISABLED);
  assert_int_equal(central_status_count(&log, IOTC_STATUS_REPROVISIONING), 1);
  assert_false(iotc_client_is_connected(client));
  assert_int_equal(iotc_client_send_telemetry(client, "{\"x\":1}", NULL), IOTC_ERR_STATE);

  set_enabled(id, true);
  assert_int_equal(central_connect(client), 0);
  assert_int_equal(central_telemetry_round_trip(client, id, 4), 0);
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  assert_int_equal(central_status_count(&log, IOTC_STATUS_GAVE_UP), 1);
  iotc_client_destroy(client);
  central_statuses_destroy(&log);
}

static void give_up_after_stops_after_that_many_attempts(void **state) {
  (void)state;
  char fault[300];
  emu_direct_device dev;
  assert_int_equal(emu_provision_direct(emu, "giveup", 1, &dev), 0);
  const char *id = dev.id;
  snprintf(fault, sizeof fault,
           "{\"kind\":\"refuseConnect\",\"service\":\"hub\",\"returnCode\":3,\"count\":10,"
           "\"deviceId\":\"%s\"}", id);
  assert_int_equal(emu_fault(emu, fault), 0);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = dev.connection_string;
  cfg.ca_file = emu->ca_file;
  cfg.give_up_after = 3;
  cfg.reconnect_min_ms = 20;
  cfg.reconnect_max_ms = 100;
  central_statuses log;
  central_statuses_init(&log);
  assert_gives_up(&cfg, IOTC_ERR_THROTTLED, &log); /* CONNACK 3: server unavailable */
  assert_int_equal(central_status_count(&log, IOTC_STATUS_RECONNECTING), 2);
  assert_int_equal(central_status_count(&log, IOTC_STATUS_CONNECTING), 3);
  central_statuses_destroy(&log);
  assert_int_equal(emu_wire_count(emu, id, "in", "CONNECT", NULL), 3);
}

int main(void) {
  emu = central_emu();
  central_log_warnings();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_unknown_device_gives_up_once_with_unauthorized),
      cmocka_unit_test(a_revoked_device_gives_up_once_with_unauthorized),
      cmocka_unit_test(a_device_revoked_while_connected_gives_up_once_and_can_start_again),
      cmocka_unit_test(give_up_after_stops_after_that_many_attempts),
  };
  if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
