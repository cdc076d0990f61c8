/* SPDX-License-Identifier: MIT */
/* Several clients on one shared executor with two threads: one client's command handler blocks
 * for seconds, holding one thread; the others keep answering commands, taking property updates
 * and sending telemetry on the other thread, and every connection stays up (keep-alive is
 * Paho's). The executor refuses to be destroyed while clients are attached. A handler that
 * leaves its response in its returned stack frame is answered 500 on an executor thread too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "central.h"
#include "iotc/executor.h"

#if defined(__SANITIZE_ADDRESS__)
/* Frames of returned functions stay poisoned, so reading one is reported. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_stack_use_after_return=1"; }
#endif

#define CLIENTS 4
/* How long the slow handler holds its thread after the others are checked once, before they
 * are checked again. (The default keep-alive: with one of a few seconds, connections to the
 * emulator are lost now and then with or without an executor.) */
#define HOLD_MS 5000u

typedef struct gate {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool open;
  central_counter entered;
} gate;

/* Client 0's handler blocks until the test opens the gate (bounded by CENTRAL_WAIT_MS). */
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
  central_counter commands, properties, drops;
  int index;
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

static void on_status(iotc_client *client, const iotc_status_info *info, void *ctx) {
  (void)client;
  if (info->status != IOTC_STATUS_DISCONNECTED) return;
  fprintf(stderr, "client %d: disconnected: %s\n", ((tally *)ctx)->index, info->message);
  central_counter_add(&((tally *)ctx)->drops, 1);
}

static void on_dangling(iotc_client *client, const iotc_command_request *req,
                        iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)ctx;
  char body[256];
  snprintf(body, sizeof body, "{\"echo\":%s}", req->payload_json);
  char *volatile gone = body; /* the volatile hides the mistake from the compiler's warning */
  resp->payload_json = gone;  /* gone when the handler returns */
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

static iotc_executor *new_executor(uint32_t threads) {
  iotc_executor_config cfg;
  iotc_executor_config_init(&cfg);
  cfg.threads = threads;
  iotc_executor *ex = NULL;
  iotc_error err;
  iotc_result r = iotc_executor_create(&cfg, &ex, &err);
  if (r != IOTC_OK) fprintf(stderr, "iotc_executor_create: %s\n", err.message);
  return ex;
}

static void a_slow_callback_holds_one_executor_thread_only(void **state) {
  (void)state;
  iotc_executor *ex = new_executor(2);
  assert_non_null(ex);
  central_device dev[CLIENTS];
  iotc_client *client[CLIENTS];
  tally t[CLIENTS];
  gate g = {.open = false};
  pthread_mutex_init(&g.lock, NULL);
  pthread_cond_init(&g.cond, NULL);
  central_counter_init(&g.entered);
  for (int i = 0; i < CLIENTS; i++) {
    assert_int_equal(central_device_new("executor", &dev[i]), 0);
    iotc_client_config cfg;
    central_config(&dev[i], &cfg);
    cfg.executor = ex;
    client[i] = central_client(&cfg);
    assert_non_null(client[i]);
    central_counter_init(&t[i].commands);
    central_counter_init(&t[i].properties);
    central_counter_init(&t[i].drops);
    t[i].index = i;
    iotc_command_fn fn = i == 0 ? on_slow : on_fast;
    assert_int_equal(iotc_client_on_command(client[i], NULL, "work", fn, i == 0 ? (void *)&g
                                                                                : (void *)&t[i]),
                     IOTC_OK);
    assert_int_equal(iotc_client_on_any_property(client[i], on_prop, &t[i]), IOTC_OK);
    assert_int_equal(iotc_client_on_status(client[i], on_status, &t[i]), IOTC_OK);
  }
  for (int i = 0; i < CLIENTS; i++) assert_int_equal(central_connect(client[i]), 0);
  for (int i = 0; i < CLIENTS; i++)
    assert_int_equal(central_wait_subscribed(dev[i].id, "$iothub/methods/POST/#"), 0);

  /* Client 0's callback blocks one of the two threads… */
  slow_call slow = {dev[0].id, 0, NULL};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, call_slow, &slow), 0);
  assert_true(central_counter_wait(&g.entered, 1));

  /* …while the others answer commands, take property updates and send telemetry on the
   * other one, twice: before and after the slow callback held its thread for seconds. */
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 1; i < CLIENTS; i++) {
      long status = 0;
      json_t *r = central_command(dev[i].id, NULL, "work", "{\"responseTimeout\":20}", &status);
      assert_non_null(r);
      assert_int_equal(json_integer_value(json_object_get(r, "responseCode")), 200);
      assert_string_equal(json_string_value(json_object_get(r, "response")), "fast");
      json_decref(r);
      char patch[64];
      snprintf(patch, sizeof patch, "{\"name\":\"pass-%d\"}", pass);
      assert_int_equal(central_patch(dev[i].id, NULL, patch), 200);
      assert_true(central_counter_wait(&t[i].properties, (uint64_t)pass + 1));
      assert_int_equal(central_telemetry_round_trip(client[i], dev[i].id, pass), 0);
    }
    if (pass == 0) central_sleep_ms(HOLD_MS); /* client 0 stays blocked meanwhile */
  }
  /* Client 0 is still inside its callback; every connection stayed up meanwhile. */
  assert_null(slow.response);
  for (int i = 0; i < CLIENTS; i++) {
    assert_true(iotc_client_is_connected(client[i]));
    assert_int_equal(central_counter_get(&t[i].drops), 0);
  }
  assert_int_equal(central_wait_connected(dev[0].id, true), 0);

  /* The executor cannot go while clients are attached: refused, and it keeps working. */
  iotc_error err;
  assert_int_equal(iotc_executor_destroy(ex, &err), IOTC_ERR_STATE);
  assert_non_null(strstr(err.message, "4 client(s) still attached"));

  pthread_mutex_lock(&g.lock);
  g.open = true;
  pthread_cond_broadcast(&g.cond);
  pthread_mutex_unlock(&g.lock);
  pthread_join(th, NULL);
  assert_non_null(slow.response);
  assert_int_equal(json_integer_value(json_object_get(slow.response, "responseCode")), 200);
  json_decref(slow.response);
  /* Client 0 catches up: its queued work runs once its thread is free. */
  assert_int_equal(central_telemetry_round_trip(client[0], dev[0].id, 7), 0);

  for (int i = 0; i < CLIENTS; i++) {
    assert_int_equal(iotc_client_disconnect(client[i], 10000), IOTC_OK);
    iotc_client_destroy(client[i]);
    central_counter_destroy(&t[i].commands);
    central_counter_destroy(&t[i].properties);
    central_counter_destroy(&t[i].drops);
  }
  assert_int_equal(iotc_executor_destroy(ex, &err), IOTC_OK);
  central_counter_destroy(&g.entered);
  pthread_cond_destroy(&g.cond);
  pthread_mutex_destroy(&g.lock);
}

/* The stack check knows the executor thread's stack: the dangling response is refused. */
static void a_response_left_on_an_executor_stack_is_answered_500(void **state) {
  (void)state;
  iotc_executor *ex = new_executor(1);
  assert_non_null(ex);
  central_device dev;
  assert_int_equal(central_device_new("execstack", &dev), 0);
  iotc_client_config cfg;
  central_config(&dev, &cfg);
  cfg.executor = ex;
  iotc_client *client = central_client(&cfg);
  assert_non_null(client);
  assert_int_equal(iotc_client_on_command(client, NULL, "dangling", on_dangling, NULL), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/methods/POST/#"), 0);
  assert_int_equal(central_command_code(dev.id, NULL, "dangling", "{\"request\":7}"), 500);
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
  assert_int_equal(iotc_executor_destroy(ex, NULL), IOTC_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_slow_callback_holds_one_executor_thread_only),
      cmocka_unit_test(a_response_left_on_an_executor_stack_is_answered_500),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
