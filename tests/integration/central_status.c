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

typedef struct status_log {
  pthread_mutex_t lock;
  central_counter connected;
  central_counter lost;
  iotc_result lost_reason[2]; /* DISCONNECTED, then RECONNECTING */
  char lost_message[160];
  char lines[64][96];
  size_t count;
} status_log;

static void on_status(iotc_client *client, const iotc_status_info *info, void *ctx) {
  (void)client;
  status_log *log = ctx;
  pthread_mutex_lock(&log->lock);
  if (log->count < 64) {
    snprintf(log->lines[log->count++], sizeof log->lines[0], "%s (%s)",
             iotc_status_str(info->status), iotc_strerror(info->reason));
  }
  if (info->status == IOTC_STATUS_DISCONNECTED && info->reason != IOTC_OK) {
    log->lost_reason[0] = info->reason;
    snprintf(log->lost_message, sizeof log->lost_message, "%s", info->message);
  }
  bool reconnecting = info->status == IOTC_STATUS_RECONNECTING;
  if (reconnecting) log->lost_reason[1] = info->reason;
  pthread_mutex_unlock(&log->lock);
  if (info->status == IOTC_STATUS_CONNECTED) central_counter_add(&log->connected, 1);
  if (reconnecting) central_counter_add(&log->lost, 1);
}

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
  status_log log;
  memset(&log, 0, sizeof log);
  pthread_mutex_init(&log.lock, NULL);
  central_counter_init(&log.connected);
  central_counter_init(&log.lost);
  central_device dev;
  if (central_device_new("lost", &dev) != 0) fail_msg("no device");
  iotc_client_config cfg;
  central_config(&dev, &cfg);
  cfg.reconnect_min_ms = 50;
  cfg.reconnect_max_ms = 200;
  iotc_client *client = central_client(&cfg);
  assert_int_equal(iotc_client_on_status(client, on_status, &log), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  assert_int_equal(central_wait_connected(dev.id, true), 0);
  char path[256];
  snprintf(path, sizeof path, "/emulator/devices/%s/disconnect", dev.id);
  long status = 0;
  json_t *body = NULL;
  assert_int_equal(emu_api(central_emu(), "POST", path, "{}", &status, &body), 0);
  json_decref(body);
  assert_true(central_counter_wait(&log.lost, 1));
  assert_true(central_counter_wait(&log.connected, 2)); /* and it came back by itself */
  pthread_mutex_lock(&log.lock);
  for (size_t i = 0; i < log.count; i++) printf("status: %s\n", log.lines[i]);
  printf("lost: %s\n", log.lost_message);
  assert_int_equal(log.lost_reason[0], IOTC_ERR_CONNECTION_LOST);
  assert_int_equal(log.lost_reason[1], IOTC_ERR_CONNECTION_LOST);
  assert_non_null(strstr(log.lost_message, "lost"));
  assert_string_equal(log.lines[0], "provisioning (success)");
  pthread_mutex_unlock(&log.lock);
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
  central_counter_destroy(&log.connected);
  central_counter_destroy(&log.lost);
  pthread_mutex_destroy(&log.lock);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_status_has_a_name),
      cmocka_unit_test(a_dropped_connection_is_reported_as_lost),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
