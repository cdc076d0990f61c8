/* SPDX-License-Identifier: MIT */
/* A callback that blocks the client's worker: telemetry from other threads keeps flowing beyond
 * the in-flight window, and iotc_client_disconnect() returns within its timeout plus its
 * documented bound (1 s) instead of waiting for the callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hub_ctl.h"

#define MESSAGES 100
#define SAFETY_S 8 /* a blocked handler gives up after this, so a failing test still ends */

typedef struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool entered, open, timed_out;
} gate;

static void blocking_command(iotc_client *client, const iotc_command_request *req,
                             iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)req;
  (void)resp;
  gate *g = ctx;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += SAFETY_S;
  pthread_mutex_lock(&g->mu);
  g->entered = true;
  pthread_cond_broadcast(&g->cv);
  while (!g->open) {
    if (pthread_cond_timedwait(&g->cv, &g->mu, &until) != 0) {
      g->timed_out = true;
      break;
    }
  }
  pthread_mutex_unlock(&g->mu);
}

static void gate_wait_entered(gate *g) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += HUB_WAIT_MS / 1000;
  pthread_mutex_lock(&g->mu);
  while (!g->entered && pthread_cond_timedwait(&g->cv, &g->mu, &until) == 0) {
  }
  bool entered = g->entered;
  pthread_mutex_unlock(&g->mu);
  assert_true(entered);
}

static void gate_open(gate *g) {
  pthread_mutex_lock(&g->mu);
  g->open = true;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

static hub_test *blocked(gate *g, const char *device) {
  memset(g, 0, sizeof *g);
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->cv, NULL);
  hub_test *t = hub_test_new(device);
  assert_non_null(t);
  assert_non_null(hub_test_client(t));
  assert_int_equal(iotc_client_on_any_command(t->client, blocking_command, g), IOTC_OK);
  assert_int_equal(iotc_client_connect(t->client, HUB_WAIT_MS, NULL), IOTC_OK);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"publish\",\"topic\":\"$iothub/methods/POST/block/?$rid=1\","
                                   "\"payload\":\"{}\"}"), 0);
  gate_wait_entered(g);
  return t;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void telemetry_flows_while_a_callback_blocks(void **state) {
  (void)state;
  gate g;
  hub_test *t = blocked(&g, "blocked-send");
  central_results d;
  central_results_init(&d);
  for (int i = 0; i < MESSAGES; i++) assert_int_equal(hub_send(t->client, "{\"n\":1}", &d), IOTC_OK);
  /* No further call: the hub's acknowledgements alone move the window on. */
  long got = hub_wait(&t->hub, "telemetry", MESSAGES);
  bool still_blocked = !g.timed_out;
  gate_open(&g);
  printf("# %ld messages reached the hub while the worker was blocked\n", got);
  assert_true(still_blocked);
  assert_true(got >= MESSAGES);
  assert_int_equal(iotc_client_disconnect(t->client, 5000), IOTC_OK);
  hub_test_free(t);
  central_results_destroy(&d);
}

static void disconnect_returns_while_a_callback_blocks(void **state) {
  (void)state;
  gate g;
  hub_test *t = blocked(&g, "blocked-close");
  double t0 = now_s();
  iotc_result r = iotc_client_disconnect(t->client, 1000);
  double took = now_s() - t0;
  pthread_mutex_lock(&g.mu);
  bool still_blocked = !g.timed_out && !g.open;
  pthread_mutex_unlock(&g.mu);
  printf("# disconnect(1000) with a blocked callback returned %s after %.2f s\n",
         iotc_strerror(r), took);
  gate_open(&g);
  assert_true(still_blocked); /* it did not wait for the callback */
  assert_int_equal(r, IOTC_ERR_TIMEOUT);
  /* the close completes once the callback returns */
  assert_true(central_status_find(&t->log, 0, IOTC_STATUS_DISCONNECTED, "by the application") >= 0);
  hub_test_free(t);
}

/* The neighbour: an idle client closes within the same bound, and says so. */
static void disconnect_with_a_short_timeout(void **state) {
  (void)state;
  hub_test *t = hub_test_new("short-close");
  assert_non_null(t);
  assert_non_null(hub_test_client(t));
  assert_int_equal(iotc_client_connect(t->client, HUB_WAIT_MS, NULL), IOTC_OK);
  double t0 = now_s();
  iotc_result r = iotc_client_disconnect(t->client, 200);
  printf("# disconnect(200) of an idle client: %s after %.2f s\n", iotc_strerror(r), now_s() - t0);
  assert_int_equal(r, IOTC_OK);
  hub_test_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(telemetry_flows_while_a_callback_blocks),
      cmocka_unit_test(disconnect_returns_while_a_callback_blocks),
      cmocka_unit_test(disconnect_with_a_short_timeout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
