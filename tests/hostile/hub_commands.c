/* SPDX-License-Identifier: MIT */
/* Commands from a hostile hub: a request that cannot be answered is refused before its handler
 * runs; a request sent before the CONNACK is not run at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hub_ctl.h"
#include "iotc/hub_topic.h"

typedef struct calls {
  pthread_mutex_t mu;
  int count;
  char last[64];
} calls;

static void on_command(iotc_client *client, const iotc_command_request *req,
                       iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)resp;
  calls *k = ctx;
  pthread_mutex_lock(&k->mu);
  k->count++;
  snprintf(k->last, sizeof k->last, "%s", req->name);
  pthread_mutex_unlock(&k->mu);
}

static hub_test *start(calls *k, const char *setup) {
  memset(k, 0, sizeof *k);
  pthread_mutex_init(&k->mu, NULL);
  hub_test *t = hub_test_new("commands-device");
  assert_non_null(t);
  if (setup) assert_int_equal(hub_do(&t->hub, "%s", setup), 0);
  assert_non_null(hub_test_client(t));
  assert_int_equal(iotc_client_on_any_command(t->client, on_command, k), IOTC_OK);
  assert_int_equal(iotc_client_connect(t->client, HUB_WAIT_MS, NULL), IOTC_OK);
  return t;
}

static void command(hub_test *t, const char *name, const char *rid) {
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"publish\",\"topic\":\"$iothub/methods/POST/%s/?$rid=%s\","
                                   "\"payload\":\"{}\"}", name, rid), 0);
}

/* Wait for the response number @p n (1-based) and check it answers @p rid with @p status. */
static void expect_response(hub_test *t, long n, const char *rid, int status) {
  assert_true(hub_wait(&t->hub, "methodResponses", n) >= n);
  json_t *log = hub_log(&t->hub, "responseLog");
  json_t *r = json_array_get(log, (size_t)n - 1);
  assert_non_null(r);
  assert_string_equal(json_string_value(json_object_get(r, "rid")), rid);
  assert_int_equal(json_integer_value(json_object_get(r, "status")), status);
  json_decref(log);
}

static void unanswerable_request_ids_are_refused_before_the_handler(void **state) {
  (void)state;
  calls k;
  hub_test *t = start(&k, NULL);
  char long_rid[IOTC_HUB_REQUEST_ID_MAX + 2], max_rid[IOTC_HUB_REQUEST_ID_MAX + 1];
  memset(long_rid, 'x', sizeof long_rid - 1);
  long_rid[sizeof long_rid - 1] = '\0';
  memset(max_rid, 'y', sizeof max_rid - 1);
  max_rid[sizeof max_rid - 1] = '\0';
  command(t, "tooLong", long_rid);
  command(t, "space", "a b");
  command(t, "control", "a\\tb");
  command(t, "nonAscii", "\\u00e9t\\u00e9");
  /* the neighbour: the longest usable id is answered */
  command(t, "longest", max_rid);
  expect_response(t, 1, max_rid, 200);
  pthread_mutex_lock(&k.mu);
  assert_int_equal(k.count, 1);
  assert_string_equal(k.last, "longest");
  pthread_mutex_unlock(&k.mu);
  hub_test_free(t);
}

static void a_request_before_the_connack_is_not_run(void **state) {
  (void)state;
  calls k;
  hub_test *t = start(&k, "{\"op\":\"set\",\"beforeConnack\":[{\"topic\":"
                          "\"$iothub/methods/POST/early/?$rid=1\",\"payload\":\"{}\"}]}");
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"beforeConnack\":[]}"), 0);
  command(t, "late", "2");
  expect_response(t, 1, "2", 200);
  pthread_mutex_lock(&k.mu);
  assert_int_equal(k.count, 1);
  assert_string_equal(k.last, "late");
  pthread_mutex_unlock(&k.mu);
  hub_test_free(t);
}

/* Every command whose handler ran is answered, however many arrive at once. */
static void a_burst_of_commands_is_answered_in_full(void **state) {
  (void)state;
  enum { BURST = 1000 };
  calls k;
  hub_test *t = start(&k, NULL);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"commands\",\"name\":\"burst\",\"count\":%d}", BURST), 0);
  long got = hub_wait(&t->hub, "methodResponses", BURST);
  printf("# %d commands in a burst: %d handled, %ld answered\n", BURST, k.count, got);
  assert_int_equal(got, BURST);
  json_t *log = hub_log(&t->hub, "responseLog");
  static bool seen[BURST + 1];
  memset(seen, 0, sizeof seen);
  size_t i;
  json_t *r;
  json_array_foreach(log, i, r) {
    int rid = atoi(json_string_value(json_object_get(r, "rid")));
    assert_true(rid >= 1 && rid <= BURST);
    assert_false(seen[rid]);
    seen[rid] = true;
    assert_int_equal(json_integer_value(json_object_get(r, "status")), 200);
  }
  json_decref(log);
  hub_test_free(t);
}

static char later_rid[64];

static void answer_later(iotc_client *client, const iotc_command_request *req,
                         iotc_command_response *resp, void *ctx) {
  (void)client;
  calls *k = ctx;
  pthread_mutex_lock(&k->mu);
  k->count++;
  snprintf(later_rid, sizeof later_rid, "%s", req->request_id);
  pthread_mutex_unlock(&k->mu);
  resp->later = true;
}

/* The neighbour: a response given while the connection is down is sent once it is back. */
static void a_response_while_disconnected_is_sent_after_reconnecting(void **state) {
  (void)state;
  calls k;
  hub_test *t = start(&k, NULL);
  assert_int_equal(iotc_client_on_any_command(t->client, answer_later, &k), IOTC_OK);
  command(t, "slow", "42");
  assert_true(hub_wait(&t->hub, "connections", 1) >= 1);
  for (int i = 0; i < 500; i++) { /* bounded: the handler runs on the worker */
    pthread_mutex_lock(&k.mu);
    int n = k.count;
    pthread_mutex_unlock(&k.mu);
    if (n) break;
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  assert_string_equal(later_rid, "42");
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"connack\":3}"), 0);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"drop\"}"), 0);
  assert_true(central_status_find(&t->log, 0, IOTC_STATUS_RECONNECTING, NULL) >= 0);
  assert_int_equal(iotc_client_respond_command(t->client, "42", 201, "{\"done\":true}"), IOTC_OK);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"connack\":0}"), 0);
  expect_response(t, 1, "42", 201);
  hub_test_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(unanswerable_request_ids_are_refused_before_the_handler),
      cmocka_unit_test(a_request_before_the_connack_is_not_run),
      cmocka_unit_test(a_burst_of_commands_is_answered_in_full),
      cmocka_unit_test(a_response_while_disconnected_is_sent_after_reconnecting),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
