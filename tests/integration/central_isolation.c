/* SPDX-License-Identifier: MIT */
/* Several clients in one process are isolated: one client's slow command callback does not
 * stall another client's commands or telemetry, and nothing of one device reaches another. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "central.h"

#define CLIENTS 3

typedef struct gate {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool open;
  central_counter entered;
} gate;

/* Client 0's handler blocks until the test opens the gate (guarded by CENTRAL_WAIT_MS). */
static void on_slow(iotc_client *client, const iotc_command_request *req,
                    iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)req;
  gate *g = ctx;
  central_counter_add(&g->entered, 1);
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += CENTRAL_WAIT_MS / 1000;
  pthread_mutex_lock(&g->lock);
  while (!g->open && pthread_cond_timedwait(&g->cond, &g->lock, &deadline) == 0) {
  }
  pthread_mutex_unlock(&g->lock);
  resp->status = 200;
  resp->payload_json = "\"slow done\"";
}

typedef struct tally {
  central_counter commands;
  central_counter properties;
} tally;

static void on_fast(iotc_client *client, const iotc_command_request *req,
                    iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)req;
  resp->status = 200;
  resp->payload_json = "\"fast\"";
  central_counter_add(&((tally *)ctx)->commands, 1);
}

static void on_prop(iotc_client *client, const iotc_property_update *u, void *ctx) {
  (void)client;
  (void)u;
  central_counter_add(&((tally *)ctx)->properties, 1);
}

typedef struct slow_call {
  const char *device_id;
  long status;
  json_t *response;
} slow_call;

static void *call_slow(void *arg) {
  slow_call *c = arg;
  c->response = central_command(c->device_id, NULL, "work", "{\"responseTimeout\":60}", &c->status);
  return NULL;
}

static void a_slow_callback_stalls_only_its_own_client(void **state) {
  (void)state;
  central_device dev[CLIENTS];
  iotc_client *client[CLIENTS];
  tally t[CLIENTS];
  gate g = {.open = false};
  pthread_mutex_init(&g.lock, NULL);
  pthread_cond_init(&g.cond, NULL);
  central_counter_init(&g.entered);
  for (int i = 0; i < CLIENTS; i++) {
    assert_int_equal(central_device_new("isolated", &dev[i]), 0);
    iotc_client_config cfg;
    central_config(&dev[i], &cfg);
    client[i] = central_client(&cfg);
    assert_non_null(client[i]);
    central_counter_init(&t[i].commands);
    central_counter_init(&t[i].properties);
    if (i == 0)
      assert_int_equal(iotc_client_on_command(client[i], NULL, "work", on_slow, &g), IOTC_OK);
    else
      assert_int_equal(iotc_client_on_command(client[i], NULL, "work", on_fast, &t[i]), IOTC_OK);
    assert_int_equal(iotc_client_on_any_property(client[i], on_prop, &t[i]), IOTC_OK);
  }
  for (int i = 0; i < CLIENTS; i++) assert_int_equal(central_connect(client[i]), 0);
  for (int i = 0; i < CLIENTS; i++)
    assert_int_equal(central_wait_subscribed(dev[i].id, "$iothub/methods/POST/#"), 0);

  /* Client 0's callback blocks… */
  slow_call slow = {dev[0].id, 0, NULL};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, call_slow, &slow), 0);
  assert_true(central_counter_wait(&g.entered, 1));

  /* …while the others answer commands, take property updates and send telemetry. */
  for (int i = 1; i < CLIENTS; i++) {
    long status = 0;
    json_t *r = central_command(dev[i].id, NULL, "work", "{\"responseTimeout\":20}", &status);
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "responseCode")), 200);
    assert_string_equal(json_string_value(json_object_get(r, "response")), "fast");
    json_decref(r);
    assert_int_equal(central_patch(dev[i].id, NULL, "{\"name\":\"only-me\"}"), 200);
    assert_true(central_counter_wait(&t[i].properties, 1));
    char json[64];
    snprintf(json, sizeof json, "{\"client\":%d}", i);
    assert_int_equal(central_send_telemetry_wait(client[i], json), IOTC_OK);
  }
  /* Client 0 is still inside its callback; its MQTT connection is alive meanwhile. */
  assert_null(slow.response);
  assert_true(iotc_client_is_connected(client[0]));
  pthread_mutex_lock(&g.lock);
  g.open = true;
  pthread_cond_broadcast(&g.cond);
  pthread_mutex_unlock(&g.lock);
  pthread_join(th, NULL);
  assert_non_null(slow.response);
  assert_int_equal(json_integer_value(json_object_get(slow.response, "responseCode")), 200);
  json_decref(slow.response);

  /* Nothing crossed between devices. */
  assert_int_equal(central_counter_get(&t[0].properties), 0);
  for (int i = 0; i < CLIENTS; i++) {
    json_t *messages = central_messages(dev[i].id);
    assert_int_equal(json_array_size(messages), i == 0 ? 0 : 1);
    if (i > 0)
      assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(messages, 0), "json"), "client")), i);
    json_decref(messages);
    assert_int_equal(central_counter_get(&t[i].properties), i == 0 ? 0 : 1);
  }

  for (int i = 0; i < CLIENTS; i++) {
    assert_int_equal(iotc_client_disconnect(client[i], 10000), IOTC_OK);
    iotc_client_destroy(client[i]);
    central_counter_destroy(&t[i].commands);
    central_counter_destroy(&t[i].properties);
  }
  central_counter_destroy(&g.entered);
  pthread_cond_destroy(&g.cond);
  pthread_mutex_destroy(&g.lock);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_slow_callback_stalls_only_its_own_client),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
