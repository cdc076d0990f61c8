/* SPDX-License-Identifier: MIT */
/* Cancelling a connect: iotc_client_cancel_connect(), from another thread or from a signal
 * handler, makes a waiting iotc_client_connect() return IOTC_ERR_CANCELLED at once, while DPS
 * (over MQTT or HTTPS) or the hub does not answer. How long that took is printed, not asserted.
 * The servers that never answer are central_silent_listener() sockets. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "central.h"

#define KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

typedef struct canceller {
  iotc_client *client;
  pthread_t target; /* signal this thread instead of calling the API, when use_signal */
  bool use_signal;
  uint64_t at_ms;
} canceller;

static iotc_client *volatile g_client;

static void on_sigusr1(int sig) {
  (void)sig;
  iotc_client_cancel_connect(g_client);
}

static void *cancel_later(void *arg) {
  canceller *k = arg;
  central_sleep_ms(300); /* the connect is waiting by then; the outcome does not depend on it */
  k->at_ms = central_now_ms();
  if (k->use_signal) {
    pthread_kill(k->target, SIGUSR1);
  } else {
    iotc_client_cancel_connect(k->client);
  }
  return NULL;
}

/* Connect @p client (30 s), cancel it 300 ms later, and check the outcome. */
static void connect_and_cancel(iotc_client *client, const char *what, bool use_signal) {
  canceller k = {client, pthread_self(), use_signal, 0};
  g_client = client;
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, cancel_later, &k), 0);
  iotc_error err;
  iotc_result r = iotc_client_connect(client, 30000, &err);
  uint64_t back = central_now_ms();
  pthread_join(t, NULL);
  printf("%s: connect returned %s %llu ms after the cancel (%s)\n", what, iotc_strerror(r),
         (unsigned long long)(back - k.at_ms), err.message);
  assert_int_equal(r, IOTC_ERR_CANCELLED);
  assert_int_equal(err.result, IOTC_ERR_CANCELLED);
  assert_non_null(strstr(err.message, "cancelled"));
  assert_false(iotc_client_is_connected(client));
  /* The client stopped: it can be started again (and times out against the silent server). */
  assert_int_equal(iotc_client_connect(client, 200, &err), IOTC_ERR_TIMEOUT);
  g_client = NULL;
}

static iotc_client *silent_dps_client(int port, bool https) {
  char endpoint[64];
  snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", port);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.id_scope = "0ne00000000";
  cfg.device_id = "cancel-me";
  cfg.device_key = KEY;
  cfg.dps_endpoint = endpoint;
  cfg.dps_over_https = https;
  cfg.ca_file = central_emu()->ca_file;
  return central_client(&cfg);
}

static void a_connect_waiting_for_dps_is_cancelled_from_another_thread(void **state) {
  (void)state;
  int port = 0;
  int fd = central_silent_listener(&port);
  assert_true(fd >= 0);
  for (int https = 0; https <= 1; https++) {
    iotc_client *client = silent_dps_client(port, https);
    connect_and_cancel(client, https ? "DPS over HTTPS" : "DPS over MQTT", false);
    iotc_client_destroy(client);
  }
  close(fd);
}

static void a_connect_waiting_for_the_hub_is_cancelled_from_a_signal_handler(void **state) {
  (void)state;
  int port = 0;
  int fd = central_silent_listener(&port);
  assert_true(fd >= 0);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigusr1;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
  char cs[256];
  snprintf(cs, sizeof cs, "HostName=127.0.0.1:%d;DeviceId=cancel-me;SharedAccessKey=%s", port, KEY);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = cs;
  cfg.ca_file = central_emu()->ca_file;
  iotc_client *client = central_client(&cfg);
  connect_and_cancel(client, "hub, SIGUSR1", true);
  iotc_client_destroy(client);
  /* DPS too, from the signal handler. */
  client = silent_dps_client(port, false);
  connect_and_cancel(client, "DPS over MQTT, SIGUSR1", true);
  iotc_client_destroy(client);
  assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
  close(fd);
}

static void a_cancel_before_connect_applies_to_the_next_connect_only(void **state) {
  (void)state;
  central_device dev;
  iotc_client *client = central_new("cancel", &dev);
  assert_non_null(client);
  iotc_client_cancel_connect(client);
  iotc_client_cancel_connect(NULL);
  iotc_error err;
  assert_int_equal(iotc_client_connect(client, 30000, &err), IOTC_ERR_CANCELLED);
  assert_int_equal(central_connect(client), 0); /* the request was used up */
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_connect_waiting_for_dps_is_cancelled_from_another_thread),
      cmocka_unit_test(a_connect_waiting_for_the_hub_is_cancelled_from_a_signal_handler),
      cmocka_unit_test(a_cancel_before_connect_applies_to_the_next_connect_only),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
