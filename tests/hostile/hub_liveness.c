/* SPDX-License-Identifier: MIT */
/* Liveness of our own: a hub that trickles bytes, never sends PUBACK, or never answers a reported
 * PATCH is detected past the configured limit; the client reconnects and says why, nothing sent
 * is lost, and a reported PATCH fails after a bounded number of attempts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "hub_ctl.h"

#define LIVENESS_MS 2000

static hub_test *start(const char *device) {
  hub_test *t = hub_test_new(device);
  assert_non_null(t);
  t->cfg.liveness_timeout_ms = LIVENESS_MS;
  assert_non_null(hub_test_client(t));
  assert_int_equal(iotc_client_connect(t->client, HUB_WAIT_MS, NULL), IOTC_OK);
  return t;
}

/* The client declared the link dead with @p text in its reason, reconnected, and every one of
 * @p n messages was delivered. */
static void expect_recovery(hub_test *t, central_results *d, long n, const char *text) {
  long i = central_status_find(&t->log, 0, IOTC_STATUS_DISCONNECTED, text);
  assert_true(i >= 0);
  assert_int_equal(central_status_at(&t->log, (size_t)i).reason, IOTC_ERR_TIMEOUT);
  assert_true(hub_wait(&t->hub, "connections", 2) >= 2);
  assert_true(central_counter_wait(&d->all, n));
  assert_int_equal(central_counter_get(&d->ok), n);
}

static void a_trickling_hub_is_left(void **state) {
  (void)state;
  hub_test *t = start("trickle-device");
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"trickle\",\"ms\":200}"), 0);
  central_results d;
  central_results_init(&d);
  for (int i = 0; i < 5; i++) assert_int_equal(hub_send(t->client, "{\"n\":1}", &d), IOTC_OK);
  /* A trickle holds back every answer: whichever is missing first (the twin GET that follows the
   * connect, or a PUBACK) names the reason, depending on how soon the trickle starts. */
  expect_recovery(t, &d, 5, "for 2000 ms");
  hub_test_free(t);
  central_results_destroy(&d);
}

static void a_hub_without_pubacks_is_left(void **state) {
  (void)state;
  hub_test *t = start("nopuback-device");
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"puback\":false}"), 0);
  central_results d;
  central_results_init(&d);
  for (int i = 0; i < 5; i++) assert_int_equal(hub_send(t->client, "{\"n\":1}", &d), IOTC_OK);
  assert_true(central_status_find(&t->log, 0, IOTC_STATUS_DISCONNECTED, "PUBACK") >= 0);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"puback\":true}"), 0);
  expect_recovery(t, &d, 5, "PUBACK");
  hub_test_free(t);
  central_results_destroy(&d);
}

/* The neighbour: a hub slower than usual but within the limit is not left. */
static void a_slow_hub_within_the_limit_is_kept(void **state) {
  (void)state;
  hub_test *t = start("slow-device");
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"pubackDelayMs\":%d}", LIVENESS_MS / 4), 0);
  central_results d;
  central_results_init(&d);
  for (int i = 0; i < 5; i++) assert_int_equal(hub_send(t->client, "{\"n\":1}", &d), IOTC_OK);
  assert_true(central_counter_wait(&d.all, 5));
  assert_int_equal(central_counter_get(&d.ok), 5);
  assert_int_equal(hub_stat(&t->hub, "connections"), 1);
  hub_test_free(t);
  central_results_destroy(&d);
}

static void an_unanswered_reported_patch_fails_after_its_attempts(void **state) {
  (void)state;
  hub_test *t = start("patch-device");
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"reported\":false}"), 0);
  central_results d;
  central_results_init(&d);
  assert_int_equal(iotc_client_report_property(t->client, NULL, "a", "1", central_on_done, &d),
                   IOTC_OK);
  long i = central_status_find(&t->log, 0, IOTC_STATUS_DISCONNECTED, "reported PATCH");
  assert_true(i >= 0);
  assert_int_equal(central_status_at(&t->log, (size_t)i).reason, IOTC_ERR_TIMEOUT);
  assert_true(central_counter_wait(&d.all, 1));
  assert_int_equal(central_counter_get(&d.failed), 1);
  assert_int_equal(central_results_last_error(&d), IOTC_ERR_TIMEOUT);
  long sent = hub_stat(&t->hub, "reportedPatches");
  printf("# one unanswered reported PATCH was sent %ld times\n", sent);
  assert_int_equal(sent, 3);
  /* what comes after it is not held back by it */
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"reported\":true}"), 0);
  assert_int_equal(iotc_client_report_property(t->client, NULL, "b", "2", central_on_done, &d),
                   IOTC_OK);
  assert_true(central_counter_wait(&d.all, 2));
  assert_int_equal(central_counter_get(&d.ok), 1);
  hub_test_free(t);
  central_results_destroy(&d);
}

static void an_unanswered_twin_get_is_detected(void **state) {
  (void)state;
  hub_test *t = hub_test_new("twin-device");
  assert_non_null(t);
  t->cfg.liveness_timeout_ms = LIVENESS_MS;
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"twinGet\":false}"), 0);
  assert_non_null(hub_test_client(t));
  assert_int_equal(iotc_client_connect(t->client, HUB_WAIT_MS, NULL), IOTC_OK);
  long i = central_status_find(&t->log, 0, IOTC_STATUS_DISCONNECTED, "twin GET");
  assert_true(i >= 0);
  assert_int_equal(central_status_at(&t->log, (size_t)i).reason, IOTC_ERR_TIMEOUT);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"twinGet\":true}"), 0);
  assert_true(hub_wait(&t->hub, "connections", 2) >= 2);
  long connected = central_status_find(&t->log, (size_t)i, IOTC_STATUS_CONNECTED, NULL);
  assert_true(connected > i);
  hub_test_free(t);
}

static void a_zero_limit_is_refused(void **state) {
  (void)state;
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  assert_int_equal(cfg.liveness_timeout_ms, 60000);
  cfg.connection_string = "HostName=localhost;DeviceId=d;SharedAccessKey=aG9zdGlsZQ==";
  cfg.ca_file = "/dev/null";
  cfg.liveness_timeout_ms = 0;
  iotc_client *client = NULL;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_ERR_INVALID_ARG);
  assert_null(client);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_zero_limit_is_refused),
      cmocka_unit_test(a_trickling_hub_is_left),
      cmocka_unit_test(a_hub_without_pubacks_is_left),
      cmocka_unit_test(a_slow_hub_within_the_limit_is_kept),
      cmocka_unit_test(an_unanswered_reported_patch_fails_after_its_attempts),
      cmocka_unit_test(an_unanswered_twin_get_is_detected),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
