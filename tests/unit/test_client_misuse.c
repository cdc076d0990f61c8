/* SPDX-License-Identifier: MIT */
/* The client refuses misuse that would otherwise crash or fail much later: destroy from its own
 * callback, and credentials that can never sign a token. No network is needed: the DPS endpoint
 * is a closed local port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "iotc/client.h"
#include "iotc/log.h"

typedef struct seen {
  atomic_int destroy_tried;
  atomic_int refusal_logged;
} seen;

static seen g_seen;

static void on_log(iotc_log_level level, const char *message, void *ctx) {
  (void)ctx;
  if (level == IOTC_LOG_ERROR && strstr(message, "iotc_client_destroy") != NULL) {
    atomic_fetch_add(&g_seen.refusal_logged, 1);
  }
}

static void destroy_from_status(iotc_client *client, const iotc_status_info *info, void *ctx) {
  (void)info;
  (void)ctx;
  if (atomic_fetch_add(&g_seen.destroy_tried, 1) == 0) iotc_client_destroy(client);
}

static iotc_client *offline_client(void) {
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.id_scope = "0ne00000000";
  cfg.device_id = "misuse";
  cfg.device_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  cfg.dps_endpoint = "127.0.0.1:1";
  cfg.reconnect_min_ms = 50;
  cfg.reconnect_max_ms = 100;
  iotc_client *client = NULL;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_OK);
  return client;
}

static void destroy_from_a_callback_is_refused_and_the_client_lives_on(void **state) {
  (void)state;
  iotc_log_set_handler(on_log, IOTC_LOG_ERROR, NULL);
  iotc_client *client = offline_client();
  assert_int_equal(iotc_client_on_status(client, destroy_from_status, NULL), IOTC_OK);
  assert_int_equal(iotc_client_connect(client, 0, NULL), IOTC_OK);
  /* The worker keeps running callbacks after the refused destroy: wait for a few more. */
  for (int i = 0; i < 2000 && atomic_load(&g_seen.destroy_tried) < 3; i++) {
    nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
  }
  assert_true(atomic_load(&g_seen.destroy_tried) >= 3);
  assert_int_equal(atomic_load(&g_seen.refusal_logged), 1);
  iotc_client_stats stats;
  assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
  iotc_client_destroy(client);
  iotc_log_set_handler(NULL, IOTC_LOG_ERROR, NULL);
}

static void a_connection_string_key_that_cannot_sign_is_refused_at_create(void **state) {
  (void)state;
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  iotc_client *client = NULL;
  cfg.connection_string = "HostName=h.example;DeviceId=d;SharedAccessKey=not*base64!";
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG);
  assert_null(client);
  cfg.connection_string = "HostName=h.example;DeviceId=d;SharedAccessKey=AAAA";
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_OK);
  iotc_client_destroy(client);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(destroy_from_a_callback_is_refused_and_the_client_lives_on),
      cmocka_unit_test(a_connection_string_key_that_cannot_sign_is_refused_at_create),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
