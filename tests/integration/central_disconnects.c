/* SPDX-License-Identifier: MIT */
/* Connections dropped under a flowing QoS 1 stream: forced disconnects, connections the hub
 * closes every second, a drop in the middle of an unpaced burst, and an application disconnect
 * with messages queued meanwhile. Nothing is lost, first arrivals stay in order, and duplicates
 * appear only for messages sent again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"
#include "delivery.h"

typedef struct sender {
  iotc_client *client;
  size_t first, count;
  uint32_t pace_ms;
  central_results *results;
} sender;

static void *send_stream(void *arg) {
  sender *s = arg;
  delivery_send(s->client, s->first, s->count, s->pace_ms, s->results);
  return NULL;
}

static void drop_connection(const char *device_id) {
  long status = 0;
  char path[512];
  snprintf(path, sizeof path, "/emulator/devices/%s/disconnect", device_id);
  assert_int_equal(emu_api(central_emu(), "POST", path, "{}", &status, NULL), 0);
  assert_int_equal(status, 200);
}

static void check_stream(const char *device_id, iotc_client *client, size_t expected) {
  delivery d;
  assert_int_equal(delivery_check(device_id, expected, &d), 0);
  assert_int_equal(d.missing, 0);
  assert_int_equal(d.unexpected, 0);
  assert_true(d.in_order);
  iotc_client_stats stats;
  assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
  assert_int_equal(stats.telemetry_failed, 0);
  assert_true(d.duplicates <= stats.telemetry_resent);
}

static void forced_disconnects_lose_nothing(void **state) {
  (void)state;
  central_device dev;
  iotc_client *client = central_new("drops", &dev);
  assert_non_null(client);
  assert_int_equal(central_connect(client), 0);

  central_results sent;
  central_results_init(&sent);
  sender s = {client, 0, 200, 25, &sent};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, send_stream, &s), 0);
  for (uint64_t at = 30; at <= 150; at += 60) {
    assert_true(central_counter_wait(&sent.ok, at));
    drop_connection(dev.id);
    assert_int_equal(central_wait_connected(dev.id, true), 0);
  }
  pthread_join(t, NULL);
  assert_true(central_counter_wait(&sent.ok, 200));
  check_stream(dev.id, client, 200);
  iotc_client_stats stats;
  assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
  assert_true(stats.connects >= 4);

  /* The hub closes the connection every second, three times. */
  char fault[512];
  snprintf(fault, sizeof fault, "{\"kind\":\"closeEvery\",\"deviceId\":\"%s\",\"seconds\":1,\"count\":3}", dev.id);
  assert_int_equal(emu_fault(central_emu(), fault), 0);
  sender s2 = {client, 200, 200, 25, &sent};
  assert_int_equal(pthread_create(&t, NULL, send_stream, &s2), 0);
  pthread_join(t, NULL);
  assert_true(central_counter_wait(&sent.ok, 400));
  check_stream(dev.id, client, 400);

  /* A drop in the middle of a burst queued at full speed: most of it is queued or in flight.
   * The hub's own closes are over; the drop must meet a live connection. */
  assert_int_equal(central_wait_connected(dev.id, true), 0);
  delivery_send(client, 400, 100, 0, &sent);
  drop_connection(dev.id);
  delivery_send(client, 500, 200, 0, &sent);
  assert_true(central_counter_wait(&sent.ok, 700));
  assert_int_equal(central_counter_get(&sent.failed), 0);
  check_stream(dev.id, client, 700);

  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  iotc_client_destroy(client);
  central_results_destroy(&sent);
}

static void messages_queued_while_disconnected_go_out_after_connect(void **state) {
  (void)state;
  central_device dev;
  assert_int_equal(central_device_new("offline", &dev), 0);
  iotc_client_config cfg;
  central_config(&dev, &cfg);
  cfg.queue_capacity = 20;
  iotc_client *client = central_client(&cfg);
  assert_non_null(client);

  /* Before the first connect, and beyond the queue's capacity. */
  central_results sent;
  central_results_init(&sent);
  delivery_send(client, 0, 20, 0, &sent);
  assert_int_equal(central_counter_get(&sent.failed), 0);
  assert_int_equal(iotc_client_send_telemetry(client, "{\"n\":20}", NULL), IOTC_ERR_QUEUE_FULL);
  iotc_client_stats stats;
  assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
  assert_int_equal(stats.queued, 20);

  assert_int_equal(central_connect(client), 0);
  assert_true(central_counter_wait(&sent.ok, 20));
  check_stream(dev.id, client, 20);

  /* After an application disconnect: queued, sent by the next connect. */
  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  delivery_send(client, 20, 10, 0, &sent);
  central_results reported;
  central_results_init(&reported);
  assert_int_equal(iotc_client_report_property(client, NULL, "swVersion", "\"2.0.0\"", central_on_done, &reported), IOTC_OK);
  assert_int_equal(central_counter_get(&sent.ok), 20);
  assert_int_equal(central_connect(client), 0);
  assert_true(central_counter_wait(&sent.ok, 30));
  assert_true(central_counter_wait(&reported.ok, 1));
  check_stream(dev.id, client, 30);
  json_t *props = central_properties(dev.id, NULL);
  assert_string_equal(json_string_value(json_object_get(props, "swVersion")), "2.0.0");
  json_decref(props);

  /* Destroy with messages still queued: each completes with IOTC_ERR_SHUTDOWN. */
  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  delivery_send(client, 30, 5, 0, &sent);
  iotc_client_destroy(client);
  assert_int_equal(central_counter_get(&sent.failed), 5);
  assert_int_equal(central_results_last_error(&sent), IOTC_ERR_SHUTDOWN);
  central_results_destroy(&sent);
  central_results_destroy(&reported);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(forced_disconnects_lose_nothing),
      cmocka_unit_test(messages_queued_while_disconnected_go_out_after_connect),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
