/* SPDX-License-Identifier: MIT */
/* The device client end to end against the emulator: provisioning and connect, telemetry seen
 * by the operator, a command answered, a writable property acknowledged, and telemetry that
 * survives a forced disconnect without loss and in order. */
#include <pthread.h>
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

#include "emu.h"
#include "iotc/client.h"
#include "iotc/log.h"

#define MODEL "dtmi:com:example:Thermostat;1"

static emu_info emu;

typedef struct counter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int ok, failed;
} counter;

static void counter_init(counter *c) {
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
}

static void on_done(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  counter *c = ctx;
  pthread_mutex_lock(&c->mu);
  if (result == IOTC_OK) {
    c->ok++;
  } else {
    c->failed++;
  }
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

/* Wait until ok + failed reaches n (60 s at most: a bound for a broken run, not a timing). */
static void counter_wait(counter *c, int n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 60;
  pthread_mutex_lock(&c->mu);
  while (c->ok + c->failed < n) {
    if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != 0) break;
  }
  pthread_mutex_unlock(&c->mu);
}

static iotc_client *connect_new_ttl(char *id, size_t id_size, uint32_t sas_ttl_s) {
  emu_unique_id("client", id, id_size);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.id_scope = emu.id_scope;
  cfg.device_id = id;
  cfg.group_key = emu.group_key;
  cfg.dps_endpoint = emu.dps_mqtt;
  cfg.ca_file = emu.ca_file;
  cfg.model_id = MODEL;
  cfg.reconnect_min_ms = 200;
  cfg.sas_ttl_s = sas_ttl_s;
  iotc_client *client = NULL;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_OK);
  iotc_error err;
  iotc_result r = iotc_client_connect(client, 60000, &err);
  if (r != IOTC_OK) fprintf(stderr, "connect: %s (%s)\n", iotc_strerror(r), err.message);
  assert_int_equal(r, IOTC_OK);
  assert_true(iotc_client_is_connected(client));
  return client;
}

static iotc_client *connect_new(char *id, size_t id_size) {
  return connect_new_ttl(id, id_size, 3600);
}

static void close_client(iotc_client *client) {
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
}

/* GET an operator path until pred(json) holds (bounded). Returns the last body (decref it). */
static json_t *poll_api(const char *path, int (*pred)(json_t *, const void *), const void *arg) {
  for (int i = 0; i < 200; i++) {
    long status = 0;
    json_t *body = NULL;
    if (emu_api(&emu, "GET", path, NULL, &status, &body) == 0 && status == 200 && body &&
        pred(body, arg)) {
      return body;
    }
    json_decref(body);
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
  }
  return NULL;
}

static int telemetry_is(json_t *body, const void *arg) {
  json_t *v = json_object_get(body, "value");
  return json_is_integer(v) && json_integer_value(v) == *(const int *)arg;
}

static void telemetry_reaches_the_operator_after_provisioning(void **state) {
  (void)state;
  char id[128];
  iotc_client *client = connect_new(id, sizeof id);
  char hub[300], dev[200];
  assert_int_equal(iotc_client_get_hub(client, hub, sizeof hub, dev, sizeof dev), IOTC_OK);
  assert_string_equal(dev, id);
  assert_true(strcmp(hub, emu.hubs[0]) == 0 || strcmp(hub, emu.hubs[1]) == 0);

  counter done;
  counter_init(&done);
  iotc_telemetry_options o;
  iotc_telemetry_options_init(&o);
  o.on_done = on_done;
  o.user_context = &done;
  for (int i = 1; i <= 5; i++) {
    char json[64];
    snprintf(json, sizeof json, "{\"seq\":%d,\"temp\":%d.5}", i, 20 + i);
    assert_int_equal(iotc_client_send_telemetry(client, json, &o), IOTC_OK);
  }
  counter_wait(&done, 5);
  assert_int_equal(done.ok, 5);
  char path[300];
  snprintf(path, sizeof path, "/api/devices/%s/telemetry/seq", id);
  int last = 5;
  json_t *t = poll_api(path, telemetry_is, &last);
  assert_non_null(t);
  json_decref(t);

  iotc_client_stats st;
  assert_int_equal(iotc_client_get_stats(client, &st), IOTC_OK);
  assert_int_equal(st.telemetry_sent, 5);
  assert_int_equal(st.provisionings, 1);
  assert_int_equal(st.connects, 1);
  close_client(client);
}

static void on_blink(iotc_client *client, const iotc_command_request *req,
                     iotc_command_response *resp, void *ctx) {
  (void)client;
  static char out[128];
  int64_t n = 0;
  if (iotc_value_int(req->payload_json, &n) != IOTC_OK) {
    resp->status = 400;
    return;
  }
  snprintf(out, sizeof out, "{\"description\":\"Blinking LED every %lld seconds\"}", (long long)n);
  resp->payload_json = out;
  (*(int *)ctx)++;
}

static void a_command_is_answered_and_an_unknown_one_refused(void **state) {
  (void)state;
  char id[128];
  iotc_client *client = connect_new(id, sizeof id);
  int calls = 0;
  assert_int_equal(iotc_client_on_command(client, NULL, "blink", on_blink, &calls), IOTC_OK);
  char path[300];
  snprintf(path, sizeof path, "/api/devices/%s/commands/blink", id);
  long status = 0;
  json_t *body = NULL;
  assert_int_equal(emu_api(&emu, "POST", path, "{\"request\":3}", &status, &body), 0);
  assert_non_null(body);
  assert_int_equal(json_integer_value(json_object_get(body, "responseCode")), 200);
  json_t *resp = json_object_get(body, "response");
  assert_string_equal(json_string_value(json_object_get(resp, "description")),
                      "Blinking LED every 3 seconds");
  json_decref(body);
  assert_int_equal(calls, 1);

  snprintf(path, sizeof path, "/api/devices/%s/commands/selfdestruct", id);
  body = NULL;
  assert_int_equal(emu_api(&emu, "POST", path, "{}", &status, &body), 0);
  assert_non_null(body);
  assert_int_equal(json_integer_value(json_object_get(body, "responseCode")), 404);
  json_decref(body);
  close_client(client);
}

static void on_brightness(iotc_client *client, const iotc_property_update *u, void *ctx) {
  (void)ctx;
  assert_int_equal(iotc_client_ack_property(client, u->component, u->name, u->value_json, 200,
                                            u->version, "completed", NULL, NULL),
                   IOTC_OK);
}

static int acked(json_t *body, const void *arg) {
  (void)arg;
  json_t *meta = json_object_get(json_object_get(body, "$metadata"), "brightness");
  json_t *av = json_object_get(meta, "ackVersion"), *dv = json_object_get(meta, "desiredVersion");
  return json_is_integer(av) && json_is_integer(dv) &&
         json_integer_value(av) == json_integer_value(dv) &&
         json_integer_value(json_object_get(meta, "ackCode")) == 200;
}

static void a_writable_property_is_acknowledged(void **state) {
  (void)state;
  char id[128];
  iotc_client *client = connect_new(id, sizeof id);
  assert_int_equal(iotc_client_on_property(client, NULL, "brightness", on_brightness, NULL),
                   IOTC_OK);
  char path[300];
  snprintf(path, sizeof path, "/api/devices/%s/properties", id);
  long status = 0;
  assert_int_equal(emu_api(&emu, "PATCH", path, "{\"brightness\":7}", &status, NULL), 0);
  assert_true(status >= 200 && status < 300);
  json_t *body = poll_api(path, acked, NULL);
  assert_non_null(body);
  assert_int_equal(json_integer_value(json_object_get(body, "brightness")), 7);
  json_decref(body);
  close_client(client);
}

static void telemetry_survives_a_forced_disconnect_in_order(void **state) {
  (void)state;
  char id[128];
  iotc_client *client = connect_new(id, sizeof id);
  counter done;
  counter_init(&done);
  iotc_telemetry_options o;
  iotc_telemetry_options_init(&o);
  o.on_done = on_done;
  o.user_context = &done;
  enum { N = 300 };
  char path[300];
  snprintf(path, sizeof path, "/emulator/devices/%s/disconnect", id);
  for (int i = 0; i < N; i++) {
    char json[64];
    snprintf(json, sizeof json, "{\"n\":%d}", i);
    assert_int_equal(iotc_client_send_telemetry(client, json, &o), IOTC_OK);
    if (i == N / 3) {
      long status = 0;
      assert_int_equal(emu_api(&emu, "POST", path, NULL, &status, NULL), 0);
    }
  }
  counter_wait(&done, N);
  assert_int_equal(done.ok, N);
  assert_int_equal(done.failed, 0);

  /* every message arrived; the first arrivals of each are in order */
  snprintf(path, sizeof path, "/emulator/devices/%s/messages?limit=100000", id);
  long status = 0;
  json_t *body = NULL;
  assert_int_equal(emu_api(&emu, "GET", path, NULL, &status, &body), 0);
  json_t *list = json_object_get(body, "value");
  static bool seen[N];
  memset(seen, 0, sizeof seen);
  int next = 0, dups = 0;
  size_t i;
  json_t *m;
  json_array_foreach(list, i, m) {
    json_t *n = json_object_get(json_object_get(m, "json"), "n");
    if (!json_is_integer(n)) continue;
    int k = (int)json_integer_value(n);
    assert_true(k >= 0 && k < N);
    if (seen[k]) {
      dups++;
      continue;
    }
    assert_int_equal(k, next); /* first deliveries in order */
    seen[k] = true;
    next++;
  }
  assert_int_equal(next, N);
  json_decref(body);
  iotc_client_stats st;
  assert_int_equal(iotc_client_get_stats(client, &st), IOTC_OK);
  assert_true(st.connects >= 2);
  assert_true((uint64_t)dups <= st.telemetry_resent);
  close_client(client);
}

typedef struct queued_seen {
  int calls;
  bool queued;
  char payload[64];
} queued_seen;

static void on_reboot(iotc_client *client, const iotc_command_request *req,
                      iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)resp;
  queued_seen *q = ctx;
  q->queued = req->queued && req->request_id == NULL;
  snprintf(q->payload, sizeof q->payload, "%s", req->payload_json);
  __atomic_add_fetch(&q->calls, 1, __ATOMIC_SEQ_CST);
}

static void a_queued_command_reaches_its_handler_marked_queued(void **state) {
  (void)state;
  char id[128];
  iotc_client *client = connect_new(id, sizeof id);
  queued_seen q = {0};
  assert_int_equal(iotc_client_on_command(client, NULL, "reboot", on_reboot, &q), IOTC_OK);
  char path[300];
  snprintf(path, sizeof path, "/api/devices/%s/commands/reboot", id);
  long status = 0;
  assert_int_equal(emu_api(&emu, "POST", path, "{\"request\":{\"delay\":2},\"queued\":true}",
                           &status, NULL), 0);
  assert_true(status >= 200 && status < 300);
  for (int i = 0; i < 400 && __atomic_load_n(&q.calls, __ATOMIC_SEQ_CST) == 0; i++) {
    nanosleep(&(struct timespec){0, 25 * 1000 * 1000}, NULL);
  }
  assert_int_equal(q.calls, 1);
  assert_true(q.queued);
  assert_string_equal(q.payload, "{\"delay\":2}");
  close_client(client);
}

static void an_expiring_sas_token_is_renewed_without_losing_telemetry(void **state) {
  (void)state;
  char id[128];
  iotc_client *client = connect_new_ttl(id, sizeof id, 10); /* renewed after about 8 s */
  counter done;
  counter_init(&done);
  iotc_telemetry_options o;
  iotc_telemetry_options_init(&o);
  o.on_done = on_done;
  o.user_context = &done;
  int sent = 0;
  iotc_client_stats st = {0};
  for (int i = 0; i < 300 && st.connects < 2; i++) { /* at most 15 s */
    assert_int_equal(iotc_client_send_telemetry(client, "{\"x\":1}", &o), IOTC_OK);
    sent++;
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    assert_int_equal(iotc_client_get_stats(client, &st), IOTC_OK);
  }
  assert_true(st.connects >= 2);
  counter_wait(&done, sent);
  assert_int_equal(done.ok, sent);
  assert_int_equal(iotc_client_get_stats(client, &st), IOTC_OK);
  assert_int_equal(st.provisionings, 1);
  close_client(client);
}

static void a_device_moved_to_another_hub_is_provisioned_again(void **state) {
  (void)state;
  char id[128];
  iotc_client *client = connect_new(id, sizeof id);
  char before[300], after[300];
  assert_int_equal(iotc_client_get_hub(client, before, sizeof before, NULL, 0), IOTC_OK);
  char path[300];
  snprintf(path, sizeof path, "/emulator/devices/%s/failover", id);
  long status = 0;
  assert_int_equal(emu_api(&emu, "POST", path, NULL, &status, NULL), 0);
  assert_true(status >= 200 && status < 300);
  iotc_client_stats st = {0};
  for (int i = 0; i < 600 && (st.provisionings < 2 || !iotc_client_is_connected(client)); i++) {
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    assert_int_equal(iotc_client_get_stats(client, &st), IOTC_OK);
  }
  assert_int_equal(st.provisionings, 2);
  assert_true(iotc_client_is_connected(client));
  assert_int_equal(iotc_client_get_hub(client, after, sizeof after, NULL, 0), IOTC_OK);
  assert_string_not_equal(before, after);
  close_client(client);
}

static void log_line(iotc_log_level level, const char *message, void *ctx) {
  (void)ctx;
  fprintf(stderr, "iotc %s: %s\n", iotc_log_level_name(level), message);
}

int main(void) {
  if (emu_load(&emu) != 0) return 1;
  iotc_log_set_handler(log_line, getenv("IOTC_TEST_DEBUG") ? IOTC_LOG_DEBUG : IOTC_LOG_WARN, NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(telemetry_reaches_the_operator_after_provisioning),
      cmocka_unit_test(a_command_is_answered_and_an_unknown_one_refused),
      cmocka_unit_test(a_writable_property_is_acknowledged),
      cmocka_unit_test(telemetry_survives_a_forced_disconnect_in_order),
      cmocka_unit_test(a_queued_command_reaches_its_handler_marked_queued),
      cmocka_unit_test(an_expiring_sas_token_is_renewed_without_losing_telemetry),
      cmocka_unit_test(a_device_moved_to_another_hub_is_provisioned_again),
  };
  if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
