/* SPDX-License-Identifier: MIT */
/* iotc_client_disconnect(timeout) called between connections: with messages queued it keeps
 * connecting and flushing until its deadline; with nothing queued it closes at once; when the
 * deadline passes first it says so and the messages stay queued. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "hub_ctl.h"

#define MESSAGES 20

typedef struct closer {
  iotc_client *client;
  uint32_t timeout_ms;
  iotc_result result;
} closer;

static void *close_client(void *arg) {
  closer *k = arg;
  k->result = iotc_client_disconnect(k->client, k->timeout_ms);
  return NULL;
}

/* Connected, then the hub drops the connection and refuses new ones (CONNACK 3): the client is
 * between connections when this returns. */
static hub_test *between_connections(const char *device) {
  hub_test *t = hub_test_new(device);
  assert_non_null(t);
  assert_non_null(hub_test_client(t));
  assert_int_equal(iotc_client_connect(t->client, HUB_WAIT_MS, NULL), IOTC_OK);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"connack\":3}"), 0);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"drop\"}"), 0);
  assert_true(central_status_find(&t->log, 0, IOTC_STATUS_RECONNECTING, NULL) >= 0);
  return t;
}

static void disconnect_between_connections_flushes_until_the_deadline(void **state) {
  (void)state;
  hub_test *t = between_connections("flush-device");
  central_results d;
  central_results_init(&d);
  for (int i = 0; i < MESSAGES; i++) assert_int_equal(hub_send(t->client, "{\"n\":1}", &d), IOTC_OK);
  closer k = {t->client, 60000, IOTC_ERR_INTERNAL};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, close_client, &k), 0);
  /* the client keeps trying while the disconnect waits; then the hub takes it back */
  long before = hub_stat(&t->hub, "connections");
  long tried = hub_wait(&t->hub, "connections", before + 2);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"connack\":0}"), 0);
  pthread_join(th, NULL);
  assert_true(tried >= before + 2);
  assert_int_equal(k.result, IOTC_OK);
  assert_true(central_counter_wait(&d.all, MESSAGES));
  assert_int_equal(central_counter_get(&d.ok), MESSAGES);
  assert_true(hub_stat(&t->hub, "telemetry") >= MESSAGES);
  hub_test_free(t);
  central_results_destroy(&d);
}

/* The neighbours: nothing queued closes at once; an unreachable hub runs out the deadline. */
static void disconnect_between_connections_with_nothing_queued(void **state) {
  (void)state;
  hub_test *t = between_connections("idle-device");
  assert_int_equal(iotc_client_disconnect(t->client, 60000), IOTC_OK);
  assert_true(central_status_find(&t->log, 0, IOTC_STATUS_DISCONNECTED, "by the application") >= 0);
  hub_test_free(t);
}

static void disconnect_deadline_passes_while_the_hub_refuses(void **state) {
  (void)state;
  hub_test *t = between_connections("refused-device");
  central_results d;
  central_results_init(&d);
  for (int i = 0; i < MESSAGES; i++) assert_int_equal(hub_send(t->client, "{\"n\":1}", &d), IOTC_OK);
  assert_int_equal(iotc_client_disconnect(t->client, 1500), IOTC_ERR_TIMEOUT);
  assert_int_equal(central_counter_get(&d.all), 0); /* still queued */
  iotc_client_destroy(t->client);
  t->client = NULL;
  assert_int_equal(central_counter_get(&d.failed), MESSAGES);
  assert_int_equal(central_results_last_error(&d), IOTC_ERR_SHUTDOWN);
  hub_test_free(t);
  central_results_destroy(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(disconnect_between_connections_flushes_until_the_deadline),
      cmocka_unit_test(disconnect_between_connections_with_nothing_queued),
      cmocka_unit_test(disconnect_deadline_passes_while_the_hub_refuses),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
