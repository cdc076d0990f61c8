/* Commands from a hostile hub: a request that cannot be answered is refused before its handler
 * runs; a request sent before the CONNACK is not run at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(unanswerable_request_ids_are_refused_before_the_handler),
      cmocka_unit_test(a_request_before_the_connack_is_not_run),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
