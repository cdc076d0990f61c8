/* SPDX-License-Identifier: MIT */
/* Bounds: acknowledgements share the queue capacity with telemetry and reports (so a flood of
 * unhandled desired properties cannot grow the queue), incoming messages over their size limit
 * are refused (a command with a 413 answer), and a connection dropped during SUBSCRIBE leaves
 * nothing behind (LSan checks this program at exit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hub_ctl.h"

#define CAPACITY 10

static void acknowledgements_count_against_the_queue_capacity(void **state) {
  (void)state;
  hub_test *t = hub_test_new("bounds-offline");
  assert_non_null(t);
  t->cfg.queue_capacity = CAPACITY;
  assert_non_null(hub_test_client(t)); /* never connected: everything stays queued */
  /* Version 0 (a default): no desired version has been received, and a newer av is refused. */
  for (int i = 0; i < CAPACITY; i++) {
    assert_int_equal(iotc_client_ack_property(t->client, NULL, "p", "1", 200, 0, NULL, NULL, NULL),
                     IOTC_OK);
  }
  assert_int_equal(iotc_client_ack_property(t->client, NULL, "p", "1", 200, 0, NULL, NULL, NULL),
                   IOTC_ERR_QUEUE_FULL);
  assert_int_equal(iotc_client_send_telemetry(t->client, "{\"n\":1}", NULL), IOTC_ERR_QUEUE_FULL);
  assert_int_equal(iotc_client_report_property(t->client, NULL, "q", "1", NULL, NULL),
                   IOTC_ERR_QUEUE_FULL);
  hub_test_free(t);
}

static void a_flood_of_unhandled_properties_is_bounded(void **state) {
  (void)state;
  hub_test *t = hub_test_new("bounds-flood");
  assert_non_null(t);
  t->cfg.queue_capacity = CAPACITY;
  assert_non_null(hub_test_client(t));
  assert_int_equal(iotc_client_connect(t->client, HUB_WAIT_MS, NULL), IOTC_OK);
  assert_true(hub_wait(&t->hub, "twinGets", 1) >= 1);
  char body[4096] = "{";
  for (int i = 0; i < 5 * CAPACITY; i++) {
    char one[32];
    snprintf(one, sizeof one, "%s\\\"p%d\\\":%d", i ? "," : "", i, i);
    strcat(body, one);
  }
  strcat(body, ",\\\"$version\\\":5}");
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"publish\",\"topic\":"
                                   "\"$iothub/twin/PATCH/properties/desired/?$version=5\","
                                   "\"payload\":\"%s\"}", body), 0);
  /* The first refusal reaching the hub means the whole patch was handled (the worker sends
   * after it has processed a message). A report after that is answered after every refusal. */
  assert_true(hub_wait(&t->hub, "reportedPatches", 1) >= 1);
  central_results d;
  central_results_init(&d);
  for (int round = 0; round < 200; round++) { /* bounded: retry while the refusals fill the queue */
    iotc_result r = iotc_client_report_property(t->client, NULL, "marker", "1", central_on_done, &d);
    if (r == IOTC_OK) break;
    assert_int_equal(r, IOTC_ERR_QUEUE_FULL);
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
  }
  assert_true(central_counter_wait(&d.all, 1));
  assert_int_equal(central_counter_get(&d.ok), 1);
  long sent = hub_stat(&t->hub, "reportedPatches");
  printf("# %d unhandled desired properties with a queue of %d: %ld reported PATCHes\n",
         5 * CAPACITY, CAPACITY, sent);
  assert_true(sent >= 2 && sent <= CAPACITY + 1);
  hub_test_free(t);
  central_results_destroy(&d);
}

typedef struct c2d_seen {
  pthread_mutex_t mu;
  int count;
  size_t last_len;
} c2d_seen;

static void on_c2d(iotc_client *client, const iotc_c2d_message *m, void *ctx) {
  (void)client;
  c2d_seen *s = ctx;
  pthread_mutex_lock(&s->mu);
  s->count++;
  s->last_len = m->payload_len;
  pthread_mutex_unlock(&s->mu);
}

static void oversized_messages_are_refused(void **state) {
  (void)state;
  hub_test *t = hub_test_new("bounds-size");
  assert_non_null(t);
  assert_non_null(hub_test_client(t));
  c2d_seen seen = {PTHREAD_MUTEX_INITIALIZER, 0, 0};
  assert_int_equal(iotc_client_on_c2d(t->client, on_c2d, &seen), IOTC_OK);
  assert_int_equal(iotc_client_on_any_command(t->client, NULL, NULL), IOTC_OK);
  assert_int_equal(iotc_client_connect(t->client, HUB_WAIT_MS, NULL), IOTC_OK);
  /* a command over 128 KiB is answered 413; one of exactly 128 KiB is run (404: no handler) */
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"publish\",\"topic\":\"$iothub/methods/POST/big/?$rid=1\","
                                   "\"payloadSize\":%d}", 5 * 1024 * 1024), 0);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"publish\",\"topic\":\"$iothub/methods/POST/edge/?$rid=2\","
                                   "\"payloadSize\":%d}", 128 * 1024), 0);
  /* a C2D message over 64 KiB is dropped, the next one delivered */
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"publish\",\"topic\":\"devices/bounds-size/messages/devicebound/\","
                                   "\"payloadSize\":%d,\"qos\":1}", 20 * 1024 * 1024), 0);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"publish\",\"topic\":\"devices/bounds-size/messages/devicebound/\","
                                   "\"payload\":\"small\",\"qos\":1}"), 0);
  assert_true(hub_wait(&t->hub, "methodResponses", 2) >= 2);
  json_t *log = hub_log(&t->hub, "responseLog");
  assert_int_equal(json_integer_value(json_object_get(json_array_get(log, 0), "status")), 413);
  assert_non_null(strstr(json_string_value(json_object_get(json_array_get(log, 0), "payload")),
                         "larger than"));
  assert_int_equal(json_integer_value(json_object_get(json_array_get(log, 1), "status")), 404);
  json_decref(log);
  for (int i = 0; i < 500; i++) { /* bounded wait for the small C2D message */
    pthread_mutex_lock(&seen.mu);
    int n = seen.count;
    pthread_mutex_unlock(&seen.mu);
    if (n) break;
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  pthread_mutex_lock(&seen.mu);
  assert_int_equal(seen.count, 1);
  assert_int_equal(seen.last_len, 5);
  pthread_mutex_unlock(&seen.mu);
  hub_test_free(t);
}

static void a_drop_during_subscribe_reconnects(void **state) {
  (void)state;
  hub_test *t = hub_test_new("bounds-subscribe");
  assert_non_null(t);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"dropOnSubscribe\":3}"), 0);
  assert_non_null(hub_test_client(t));
  assert_int_equal(iotc_client_connect(t->client, HUB_WAIT_MS, NULL), IOTC_OK);
  assert_true(hub_stat(&t->hub, "connections") >= 4);
  hub_test_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(acknowledgements_count_against_the_queue_capacity),
      cmocka_unit_test(a_flood_of_unhandled_properties_is_bounded),
      cmocka_unit_test(oversized_messages_are_refused),
      cmocka_unit_test(a_drop_during_subscribe_reconnects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
