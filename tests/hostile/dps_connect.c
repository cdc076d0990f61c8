/* SPDX-License-Identifier: MIT */
/* Why a connection could not be made, in words: an unknown name, a refused port and a server
 * that never completes the TCP handshake each name their cause, over both DPS transports and for
 * the hub connection, and never as an empty transport text. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dps_harness.h"
#include "iotc/client.h"

static const char *tname(iotc_dps_transport t) {
  return t == IOTC_DPS_TRANSPORT_MQTT ? "MQTT" : "HTTPS";
}

/* A loopback port nobody listens on: bound, then closed. */
static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

/* A loopback port whose accept queue is full, so new TCP handshakes never complete: the
 * listener never accepts, and two connections fill its backlog of 0. fds[0] is the listener. */
static int full_port(int fds[3]) {
  fds[0] = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  assert_int_equal(bind(fds[0], (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(fds[0], 0), 0);
  assert_int_equal(getsockname(fds[0], (struct sockaddr *)&a, &len), 0);
  for (int i = 1; i < 3; ++i) {
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    (void)connect(fds[i], (struct sockaddr *)&a, sizeof a);
  }
  return ntohs(a.sin_port);
}

static void close_all(int fds[3]) {
  for (int i = 0; i < 3; ++i) close(fds[i]);
}

/* Provision against @p endpoint over both transports: CONNECT or TIMEOUT with @p cause in the
 * message and a transport text that says something. */
static void dps_cause(const char *endpoint, const char *cause) {
  for (int t = 0; t < 2; ++t) {
    iotc_dps_config cfg;
    dps_hostile h;
    memset(&h, 0, sizeof h);
    dps_hostile_config(&h, (iotc_dps_transport)t, &cfg);
    cfg.endpoint = endpoint;
    cfg.ca_file = NULL; /* the default bundle: nothing here gets as far as TLS */
    cfg.timeout_ms = 3000;
    cfg.request_timeout_ms = 3000;
    iotc_dps_registration reg;
    iotc_error err;
    iotc_result r = iotc_dps_register(&cfg, &reg, &err);
    printf("# %-5s %s: %s [%s]\n", tname((iotc_dps_transport)t), iotc_strerror(r), err.message,
           err.transport);
    assert_true(r == IOTC_ERR_CONNECT || r == IOTC_ERR_TIMEOUT);
    if (strstr(err.message, cause) == NULL) {
      fail_msg("%s: \"%s\" does not say \"%s\"", tname((iotc_dps_transport)t), err.message, cause);
    }
    assert_true(err.transport[0] != '\0');
    assert_null(strstr(err.transport, ": )"));
    assert_true(err.transport[strlen(err.transport) - 1] != ' ');
  }
}

static void test_dps_refused_port(void **s) {
  (void)s;
  char endpoint[64];
  snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", closed_port());
  dps_cause(endpoint, "connection refused");
}

static void test_dps_unknown_name(void **s) {
  (void)s;
  dps_cause("no-such-host.invalid:8883", "name not resolved");
}

static void test_dps_handshake_never_completes(void **s) {
  (void)s;
  int fds[3];
  char endpoint[64];
  snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", full_port(fds));
  dps_cause(endpoint, "timed out");
  close_all(fds);
}

/* The hub connection (a connection string skips DPS) names the cause as well. */
static void hub_cause(const char *host, const char *cause) {
  char cs[256];
  snprintf(cs, sizeof cs, "HostName=%s;DeviceId=hostile-device;SharedAccessKey=%s", host,
           "aG9zdGlsZS10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE=");
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = cs;
  cfg.connect_timeout_ms = 3000;
  cfg.give_up_after = 1;
  iotc_client *client = NULL;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_OK);
  iotc_error err;
  iotc_result r = iotc_client_connect(client, 20000, &err);
  iotc_client_destroy(client);
  printf("# hub %s: %s [%s]\n", iotc_strerror(r), err.message, err.transport);
  assert_true(r != IOTC_OK);
  if (strstr(err.message, cause) == NULL) {
    fail_msg("hub: \"%s\" does not say \"%s\"", err.message, cause);
  }
  assert_true(err.transport[0] != '\0');
}

static void test_hub_refused_port(void **s) {
  (void)s;
  char host[64];
  snprintf(host, sizeof host, "127.0.0.1:%d", closed_port());
  hub_cause(host, "connection refused");
}

static void test_hub_unknown_name(void **s) {
  (void)s;
  hub_cause("no-such-hub.invalid", "name not resolved");
}

static void test_hub_handshake_never_completes(void **s) {
  (void)s;
  int fds[3];
  char host[64];
  snprintf(host, sizeof host, "127.0.0.1:%d", full_port(fds));
  hub_cause(host, "timed out");
  close_all(fds);
}

/* DPS over MQTT refuses the CONNECT: say what to check, not a bare number. */
static iotc_error connack(int code, iotc_result want, iotc_dps_credential credential) {
  char script[64];
  snprintf(script, sizeof script, "{\"connack\":%d}", code);
  dps_hostile h;
  assert_int_equal(dps_hostile_start(script, &h), 0);
  iotc_dps_config cfg;
  dps_hostile_config(&h, IOTC_DPS_TRANSPORT_MQTT, &cfg);
  cfg.credential = credential;
  cfg.timeout_ms = 5000;
  iotc_dps_registration reg;
  iotc_error err;
  iotc_result r = iotc_dps_register(&cfg, &reg, &err);
  int connects = dps_hostile_count(&h, "connect");
  dps_hostile_stop(&h);
  printf("# CONNACK %d: %s: %s [%s]\n", code, iotc_strerror(r), err.message, err.transport);
  assert_int_equal(r, want);
  assert_int_equal(connects, 1);
  assert_int_equal(err.service_code, code);
  assert_null(strstr(err.message, "paho"));
  assert_null(strstr(err.message, "CONNACK"));
  assert_null(strstr(err.transport, "paho"));
  return err;
}

static void test_mqtt_refusal_names_what_to_check(void **s) {
  (void)s;
  for (int code = 4; code <= 5; ++code) {
    iotc_error err = connack(code, IOTC_ERR_UNAUTHORIZED, IOTC_DPS_CREDENTIAL_DEVICE_KEY);
    assert_int_equal(err.status, 401);
    assert_non_null(strstr(err.message, "not authorized"));
    assert_non_null(strstr(err.message, "ID scope"));
    assert_non_null(strstr(err.message, "device ID"));
    assert_non_null(strstr(err.message, "key"));
    assert_non_null(strstr(err.message, "HTTPS"));
  }
  /* With a group key, that is the key to check. */
  iotc_error err = connack(5, IOTC_ERR_UNAUTHORIZED, IOTC_DPS_CREDENTIAL_GROUP_KEY);
  assert_non_null(strstr(err.message, "group key"));
}

/* Neighbours: the other refusals say what they mean. */
static void test_other_mqtt_refusals_are_words(void **s) {
  (void)s;
  assert_non_null(strstr(connack(3, IOTC_ERR_SERVICE, IOTC_DPS_CREDENTIAL_DEVICE_KEY).message, "service unavailable"));
  assert_non_null(strstr(connack(2, IOTC_ERR_SERVICE, IOTC_DPS_CREDENTIAL_DEVICE_KEY).message, "identifier rejected"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dps_refused_port),
      cmocka_unit_test(test_dps_unknown_name),
      cmocka_unit_test(test_dps_handshake_never_completes),
      cmocka_unit_test(test_hub_refused_port),
      cmocka_unit_test(test_hub_unknown_name),
      cmocka_unit_test(test_hub_handshake_never_completes),
      cmocka_unit_test(test_mqtt_refusal_names_what_to_check),
      cmocka_unit_test(test_other_mqtt_refusals_are_words),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
