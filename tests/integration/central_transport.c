/* SPDX-License-Identifier: MIT */
/* The client's transports against an emulator of this test's own in standard-ports mode (DPS and
 * each hub at an address of their own, MQTT on 8883 and MQTT over WebSockets on 443, as in the
 * cloud): IOTC_TRANSPORT_AUTO falls back to 443 when 8883 refuses or black-holes connections
 * (blockMqtt fault), says so through the status callback, remembers 443 in the cache file so the
 * next start goes straight there; MQTT_WS alone; and the faults of the WebSocket path, each with a
 * clear error. How long each fallback took is printed, not asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "central.h"
#include "iotc/client.h"

static emu_info emu;
static char tmpdir[256];

/* What the status callback said about transports. */
typedef struct transport_log {
  pthread_mutex_t mu;
  int fallbacks;             /* statuses announcing the switch to 443 */
  int connected;             /* CONNECTED statuses */
  iotc_transport first_try;  /* transport of the first CONNECTING or PROVISIONING */
  bool tried;
  iotc_transport connected_over;
  char fallback_message[512];
} transport_log;

static void transport_log_fn(iotc_client *client, const iotc_status_info *info, void *ctx) {
  (void)client;
  transport_log *t = ctx;
  pthread_mutex_lock(&t->mu);
  if (!t->tried && (info->status == IOTC_STATUS_CONNECTING || info->status == IOTC_STATUS_PROVISIONING)) {
    t->tried = true;
    t->first_try = info->transport;
  }
  if (info->transport == IOTC_TRANSPORT_MQTT_WS && info->reason != IOTC_OK &&
      strstr(info->message, "trying MQTT over WebSockets on 443") != NULL) {
    t->fallbacks++;
    snprintf(t->fallback_message, sizeof t->fallback_message, "%s", info->message);
  }
  if (info->status == IOTC_STATUS_CONNECTED) {
    t->connected++;
    t->connected_over = info->transport;
  }
  pthread_mutex_unlock(&t->mu);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void config(iotc_client_config *cfg, const char *id, iotc_transport transport,
                   const char *cache) {
  iotc_client_config_init(cfg);
  cfg->id_scope = emu.id_scope;
  cfg->device_id = id;
  cfg->group_key = emu.group_key;
  cfg->dps_endpoint = emu.dps_mqtt;
  cfg->ca_file = emu.ca_file;
  cfg->cache_file = cache;
  cfg->transport = transport;
  cfg->reconnect_min_ms = 100;
  cfg->reconnect_max_ms = 500;
}

#define QUEUED 5

/* Connect with @p cfg, with QUEUED messages sent before (queued while offline, so carried across
 * a fallback), then one more; close. Returns how long the connect took (ms). */
static uint64_t run(const iotc_client_config *cfg, const char *id, transport_log *t) {
  memset(t, 0, sizeof *t);
  pthread_mutex_init(&t->mu, NULL);
  iotc_client *client = NULL;
  iotc_error err;
  assert_int_equal(iotc_client_create(cfg, &client, &err), IOTC_OK);
  assert_int_equal(iotc_client_on_status(client, transport_log_fn, t), IOTC_OK);
  central_results queued;
  central_results_init(&queued);
  iotc_telemetry_options o;
  iotc_telemetry_options_init(&o);
  o.on_done = central_on_done;
  o.user_context = &queued;
  for (int i = 0; i < QUEUED; i++) {
    assert_int_equal(iotc_client_send_telemetry(client, "{\"queued\":1}", &o), IOTC_OK);
  }
  uint64_t t0 = now_ms();
  iotc_result r = iotc_client_connect(client, 60000, &err);
  uint64_t took = now_ms() - t0;
  if (r != IOTC_OK) fprintf(stderr, "connect: %s (%s)\n", iotc_strerror(r), err.message);
  assert_int_equal(r, IOTC_OK);
  for (int i = 1; i <= QUEUED; i++) assert_int_equal(central_results_nth(&queued, i), IOTC_OK);
  central_results_destroy(&queued);
  assert_int_equal(central_send_telemetry_wait(client, "{\"seq\":7}"), IOTC_OK);
  assert_int_equal(emu_wait_telemetry(&emu, id, "seq", 7), 0);
  assert_int_equal(iotc_client_get_transport(client), t->connected_over);
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
  pthread_mutex_destroy(&t->mu);
  return took;
}

static bool file_has(const char *path, const char *text) {
  FILE *f = fopen(path, "r");
  if (f == NULL) return false;
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strstr(buf, text) != NULL;
}

static char fault_id[128];

static void add_fault(const char *json) {
  long status = 0;
  json_t *body = NULL;
  assert_int_equal(emu_api(&emu, "POST", "/emulator/faults", json, &status, &body), 0);
  assert_int_equal(status, 201);
  snprintf(fault_id, sizeof fault_id, "%s", json_string_value(json_object_get(body, "id")));
  json_decref(body);
}

static int remove_fault(void **state) {
  (void)state;
  if (fault_id[0]) {
    char path[200];
    snprintf(path, sizeof path, "/emulator/faults/%s", fault_id);
    emu_api(&emu, "DELETE", path, NULL, NULL, NULL);
    fault_id[0] = '\0';
  }
  return 0;
}

/* Connections of the device over WebSockets the hub (svc "hub") or DPS ("dps") saw. */
static int websocket_connects(const char *id, const char *svc) {
  return emu_websocket_connects(&emu, id, svc);
}

/* auto, then a second start with the cache file, under the blockMqtt fault @p fault. */
static void fallback_then_cache(const char *prefix, const char *fault, uint32_t fallback_ms,
                                bool dps_blocked) {
  char id[128], cache[400];
  emu_unique_id(prefix, id, sizeof id);
  snprintf(cache, sizeof cache, "%s/%s.json", tmpdir, id);
  add_fault(fault);
  iotc_client_config cfg;
  config(&cfg, id, IOTC_TRANSPORT_AUTO, cache);
  cfg.fallback_after_ms = fallback_ms;
  transport_log t;
  uint64_t took = run(&cfg, id, &t);
  printf("measured: %s: auto connected over %s %llu ms after the connect call (fallback_after_ms "
         "%u); %s\n", prefix, iotc_transport_str(t.connected_over), (unsigned long long)took,
         (unsigned)fallback_ms, t.fallback_message);
  assert_int_equal(t.first_try, IOTC_TRANSPORT_MQTT);
  assert_int_equal(t.fallbacks, 1);
  assert_int_equal(t.connected_over, IOTC_TRANSPORT_MQTT_WS);
  assert_int_equal(websocket_connects(id, "hub"), 1);
  assert_int_equal(websocket_connects(id, "dps"), dps_blocked ? 1 : 0);
  /* Nothing queued before the switch was lost: all of it arrived, over 443. */
  assert_int_equal(emu_wire_count(&emu, id, "in", "PUBLISH", "devices/"), QUEUED + 1);
  assert_true(file_has(cache, "\"transport\":\"mqtt-ws\""));

  /* The second start: straight to 443, no fallback. */
  took = run(&cfg, id, &t);
  printf("measured: %s: second start connected over %s in %llu ms\n", prefix,
         iotc_transport_str(t.connected_over), (unsigned long long)took);
  assert_int_equal(t.first_try, IOTC_TRANSPORT_MQTT_WS);
  assert_int_equal(t.fallbacks, 0);
  assert_int_equal(t.connected_over, IOTC_TRANSPORT_MQTT_WS);
  assert_int_equal(websocket_connects(id, "hub"), 2);
  unlink(cache);
}

static void auto_falls_back_to_443_when_the_hubs_8883_refuses(void **state) {
  (void)state;
  fallback_then_cache("tr-refuse", "{\"kind\":\"blockMqtt\",\"service\":\"hub\",\"mode\":\"refuse\"}",
                      10000, false);
}

static void auto_falls_back_to_443_when_8883_is_black_holed(void **state) {
  (void)state;
  fallback_then_cache("tr-hole", "{\"kind\":\"blockMqtt\",\"service\":\"any\",\"mode\":\"blackhole\"}",
                      2000, true);
}

/* Without a fault, auto stays on 8883 and remembers that. */
static void auto_uses_8883_when_it_works(void **state) {
  (void)state;
  char id[128], cache[400];
  emu_unique_id("tr-ok", id, sizeof id);
  snprintf(cache, sizeof cache, "%s/%s.json", tmpdir, id);
  iotc_client_config cfg;
  config(&cfg, id, IOTC_TRANSPORT_AUTO, cache);
  transport_log t;
  run(&cfg, id, &t);
  assert_int_equal(t.fallbacks, 0);
  assert_int_equal(t.connected_over, IOTC_TRANSPORT_MQTT);
  assert_int_equal(websocket_connects(id, "hub"), 0);
  assert_true(file_has(cache, "\"transport\":\"mqtt\""));
  unlink(cache);
}

/* A device registered on hub 1 without DPS; its connection string goes to @p cs. */
static void direct_device(const char *prefix, char *id, size_t id_size, char *cs, size_t cs_size) {
  emu_direct_device dev;
  assert_int_equal(emu_provision_direct(&emu, prefix, 1, &dev), 0);
  snprintf(id, id_size, "%s", dev.id);
  snprintf(cs, cs_size, "%s", dev.connection_string);
}

/* MQTT_WS with a connection string: the hub alone, over 443. */
static void mqtt_ws_with_a_connection_string(void **state) {
  (void)state;
  char id[128], cs[sizeof ((emu_direct_device *)0)->connection_string];
  direct_device("tr-cs", id, sizeof id, cs, sizeof cs);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = cs;
  cfg.ca_file = emu.ca_file;
  cfg.transport = IOTC_TRANSPORT_MQTT_WS;
  transport_log t;
  run(&cfg, id, &t);
  assert_int_equal(t.first_try, IOTC_TRANSPORT_MQTT_WS);
  assert_int_equal(t.connected_over, IOTC_TRANSPORT_MQTT_WS);
  assert_int_equal(websocket_connects(id, "hub"), 1);
}

/* X.509 over WebSockets: the client certificate goes in the TLS handshake under the upgrade
 * (DPS and hub), and the hub path has no iothub-no-client-cert query. */
static void x509_over_websockets(void **state) {
  (void)state;
  char id[128], cert[1024], key[1024];
  emu_unique_id("tr-x509", id, sizeof id);
  assert_int_equal(emu_issue_cert(&emu, id, tmpdir, cert, key), 0);
  iotc_client_config cfg;
  config(&cfg, id, IOTC_TRANSPORT_MQTT_WS, NULL);
  cfg.group_key = NULL;
  cfg.cert_file = cert;
  cfg.key_file = key;
  transport_log t;
  run(&cfg, id, &t);
  assert_int_equal(t.connected_over, IOTC_TRANSPORT_MQTT_WS);
  assert_int_equal(websocket_connects(id, "dps"), 1);
  assert_int_equal(websocket_connects(id, "hub"), 1);
  json_t *w = emu_wire(&emu, id, 0);
  size_t i;
  json_t *e;
  int x509 = 0;
  json_array_foreach(w, i, e) {
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *auth = json_string_value(json_object_get(e, "auth"));
    const char *svc = json_string_value(json_object_get(e, "svc"));
    x509 += type && strcmp(type, "CONNACK") == 0 && auth && strcmp(auth, "x509") == 0 && svc &&
            strncmp(svc, "hub", 3) == 0;
  }
  json_decref(w);
  assert_int_equal(x509, 1); /* the hub took the certificate */
  unlink(cert);
  unlink(key);
}

/* A failing WebSocket path gives up with a readable reason (give_up_after 1). */
static void expect_failure(const char *cs, const char *case_name, iotc_result want,
                           const char *want_text) {
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = cs;
  cfg.ca_file = emu.ca_file;
  cfg.transport = IOTC_TRANSPORT_MQTT_WS;
  cfg.give_up_after = 1;
  cfg.connect_timeout_ms = 5000;
  iotc_client *client = NULL;
  iotc_error err;
  assert_int_equal(iotc_client_create(&cfg, &client, &err), IOTC_OK);
  uint64_t t0 = now_ms();
  iotc_result r = iotc_client_connect(client, 30000, &err);
  printf("measured: %s: %s after %llu ms: %s\n", case_name, iotc_strerror(r),
         (unsigned long long)(now_ms() - t0), err.message);
  assert_int_equal(r, want);
  assert_non_null(strstr(err.message, want_text));
  assert_null(strstr(err.message, "SharedAccessSignature"));
  iotc_client_destroy(client);
}

static void a_refused_upgrade_is_a_clear_error(void **state) {
  (void)state;
  char id[128], cs[sizeof ((emu_direct_device *)0)->connection_string];
  direct_device("tr-403", id, sizeof id, cs, sizeof cs);
  add_fault("{\"kind\":\"wsUpgradeRefused\",\"service\":\"hub\",\"status\":403,\"count\":5}");
  expect_failure(cs, "upgrade refused with 403", IOTC_ERR_CONNECT,
                 "the WebSocket upgrade was refused: HTTP/1.1 403");
}

/* A server speaking plain HTTP (no TLS) where the WebSocket endpoint should be. */
static void plain_http_on_the_websocket_port_is_a_clear_error(void **state) {
  (void)state;
  char cs[600];
  const char *port = strrchr(emu.api, ':');
  assert_non_null(port);
  snprintf(cs, sizeof cs, "HostName=127.0.0.1%s;DeviceId=tr-plain;SharedAccessKey=%s", port,
           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  expect_failure(cs, "plain HTTP on the WebSocket port", IOTC_ERR_TLS, "TLS with 127.0.0.1");
}

static void bad_transport_settings_are_refused_at_create(void **state) {
  (void)state;
  iotc_client_config cfg;
  config(&cfg, "tr-bad", (iotc_transport)7, NULL);
  iotc_client *client = NULL;
  iotc_error err;
  assert_int_equal(iotc_client_create(&cfg, &client, &err), IOTC_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "transport 7 is unknown"));
  config(&cfg, "tr-bad", IOTC_TRANSPORT_AUTO, NULL);
  cfg.fallback_after_ms = 0;
  assert_int_equal(iotc_client_create(&cfg, &client, &err), IOTC_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "fallback_after_ms"));
  /* A struct from code built against version 3 ends before transport: MQTT on 8883. */
  config(&cfg, "tr-v3", (iotc_transport)7, NULL);
  cfg.struct_version = 3;
  assert_int_equal(iotc_client_create(&cfg, &client, &err), IOTC_OK);
  assert_int_equal(iotc_client_get_transport(client), IOTC_TRANSPORT_MQTT);
  iotc_client_destroy(client);
  assert_string_equal(iotc_transport_str(IOTC_TRANSPORT_MQTT_WS), "mqtt-ws");
  assert_string_equal(iotc_transport_str((iotc_transport)42), "unknown transport");
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/iotc-transport-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return -1;
  const char *args[] = {"--ports", "standard", "--retry-after", "0", NULL};
  return emu_start(args, &emu);
}

static int teardown(void **state) {
  (void)state;
  emu_stop(&emu);
  rmdir(tmpdir);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bad_transport_settings_are_refused_at_create),
      cmocka_unit_test_teardown(auto_uses_8883_when_it_works, remove_fault),
      cmocka_unit_test_teardown(auto_falls_back_to_443_when_the_hubs_8883_refuses, remove_fault),
      cmocka_unit_test_teardown(auto_falls_back_to_443_when_8883_is_black_holed, remove_fault),
      cmocka_unit_test(mqtt_ws_with_a_connection_string),
      cmocka_unit_test(x509_over_websockets),
      cmocka_unit_test_teardown(a_refused_upgrade_is_a_clear_error, remove_fault),
      cmocka_unit_test(plain_http_on_the_websocket_port_is_a_clear_error),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
