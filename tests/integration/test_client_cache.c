/* SPDX-License-Identifier: MIT */
/* The device client's cache file, permanent failures and throttled reported properties, end to
 * end against the emulator:
 * - a restart with a valid cache connects without any DPS exchange (wire log);
 * - a cache naming a hub that now refuses the device (failover) falls back to DPS and is
 *   rewritten; a corrupt or foreign cache is ignored (with a warning when unreadable);
 * - an unknown or revoked device makes connect return the service's error and the status
 *   callback reports GAVE_UP exactly once; give_up_after stops after that many attempts;
 * - a reported PATCH answered 429 is sent again after a throttled back-off, and fails with
 *   IOTC_ERR_THROTTLED when the retries run out, without wedging the reported queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "client_checks.h"
#include "emu.h"
#include "iotc/client.h"
#include "iotc/log.h"

#define MODEL "dtmi:com:example:Thermostat;1"

static emu_info emu;
static char tmpdir[256];

/* Warnings mentioning the cache file, counted by the log handler. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int cache_warnings;

static void log_line(iotc_log_level level, const char *message, void *ctx) {
  (void)ctx;
  if (level == IOTC_LOG_WARN && strstr(message, "cache file")) {
    pthread_mutex_lock(&log_mu);
    cache_warnings++;
    pthread_mutex_unlock(&log_mu);
  }
  if (level <= IOTC_LOG_WARN || getenv("IOTC_TEST_DEBUG")) {
    fprintf(stderr, "iotc %s: %s\n", iotc_log_level_name(level), message);
  }
}

static int cache_warning_count(void) {
  pthread_mutex_lock(&log_mu);
  int n = cache_warnings;
  pthread_mutex_unlock(&log_mu);
  return n;
}

static void dps_config(iotc_client_config *cfg, const char *id, const char *cache) {
  iotc_client_config_init(cfg);
  cfg->id_scope = emu.id_scope;
  cfg->device_id = id;
  cfg->group_key = emu.group_key;
  cfg->dps_endpoint = emu.dps_mqtt;
  cfg->ca_file = emu.ca_file;
  cfg->model_id = MODEL;
  cfg->cache_file = cache;
  cfg->reconnect_min_ms = 100;
  cfg->reconnect_max_ms = 1000;
}

typedef struct started {
  iotc_client *client;
  status_log log;
  iotc_client_stats stats;
  char hub[300];
} started;

/* Create and connect (must succeed); fills hub and stats. */
static void start(started *s, const iotc_client_config *cfg) {
  status_log_init(&s->log);
  s->client = NULL;
  assert_int_equal(iotc_client_create(cfg, &s->client, NULL), IOTC_OK);
  assert_int_equal(iotc_client_on_status(s->client, status_log_fn, &s->log), IOTC_OK);
  iotc_error err;
  iotc_result r = iotc_client_connect(s->client, 60000, &err);
  if (r != IOTC_OK) fprintf(stderr, "connect: %s (%s)\n", iotc_strerror(r), err.message);
  assert_int_equal(r, IOTC_OK);
  assert_int_equal(iotc_client_get_hub(s->client, s->hub, sizeof s->hub, NULL, 0), IOTC_OK);
  assert_int_equal(iotc_client_get_stats(s->client, &s->stats), IOTC_OK);
}

static void stop(started *s) {
  assert_int_equal(iotc_client_disconnect(s->client, 5000), IOTC_OK);
  iotc_client_destroy(s->client);
  status_log_destroy(&s->log);
}

/* The hub named by the cache file, or "" when it has none. */
static void cached_hub(const char *path, char *hub, size_t size) {
  json_error_t jerr;
  json_t *o = json_load_file(path, 0, &jerr);
  const char *h = json_string_value(json_object_get(o, "hub"));
  snprintf(hub, size, "%s", h ? h : "");
  json_decref(o);
}

static void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

static void cache_path(const char *id, char *path, size_t size) {
  snprintf(path, size, "%s/%s.json", tmpdir, id);
}

/* ---- cache ------------------------------------------------------------------------------ */

static void a_restart_with_a_valid_cache_skips_dps(void **state) {
  (void)state;
  char id[128], cache[512], hub[300];
  emu_unique_id("cache", id, sizeof id);
  cache_path(id, cache, sizeof cache);
  iotc_client_config cfg;
  dps_config(&cfg, id, cache);
  started s;
  start(&s, &cfg);
  assert_int_equal(s.stats.provisionings, 1);
  stop(&s);
  cached_hub(cache, hub, sizeof hub);
  assert_string_equal(hub, s.hub);
  assert_true(wire_svc_count(&emu, id, 0, "dps") > 0);

  long mark = wire_last(&emu, id);
  start(&s, &cfg);
  assert_int_equal(s.stats.provisionings, 0);
  assert_string_equal(s.hub, hub);
  telemetry_round_trip(&emu, s.client, id, 2);
  assert_int_equal(status_count(&s.log, IOTC_STATUS_PROVISIONING), 0);
  stop(&s);
  assert_int_equal(wire_svc_count(&emu, id, mark, "dps"), 0); /* no DPS exchange at all */
  assert_true(wire_svc_count(&emu, id, mark, "hub") > 0);
  unlink(cache);
}

static void a_cache_naming_a_hub_that_refuses_the_device_falls_back_to_dps(void **state) {
  (void)state;
  char id[128], cache[512], hub[300];
  emu_unique_id("moved", id, sizeof id);
  cache_path(id, cache, sizeof cache);
  iotc_client_config cfg;
  dps_config(&cfg, id, cache);
  started s;
  start(&s, &cfg);
  char before[300];
  snprintf(before, sizeof before, "%s", s.hub);
  stop(&s);

  char path[300];
  snprintf(path, sizeof path, "/emulator/devices/%s/failover", id);
  long status = 0;
  json_t *moved = NULL;
  assert_int_equal(emu_api(&emu, "POST", path, NULL, &status, &moved), 0);
  assert_true(status >= 200 && status < 300);
  json_decref(moved);
  cached_hub(cache, hub, sizeof hub);
  assert_string_equal(hub, before); /* the cache still names the old hub */

  long mark = wire_last(&emu, id);
  start(&s, &cfg);
  assert_string_not_equal(s.hub, before);
  assert_int_equal(s.stats.provisionings, 1);
  assert_int_equal(status_count(&s.log, IOTC_STATUS_REPROVISIONING), 1);
  assert_int_equal(status_count(&s.log, IOTC_STATUS_GAVE_UP), 0);
  telemetry_round_trip(&emu, s.client, id, 3);
  char now[300];
  snprintf(now, sizeof now, "%s", s.hub);
  stop(&s);
  cached_hub(cache, hub, sizeof hub);
  assert_string_equal(hub, now); /* rewritten */
  assert_true(wire_svc_count(&emu, id, mark, "dps") > 0);
  unlink(cache);
}

static void a_corrupt_or_foreign_cache_is_ignored(void **state) {
  (void)state;
  char id[128], cache[512], hub[300];
  emu_unique_id("corrupt", id, sizeof id);
  cache_path(id, cache, sizeof cache);
  iotc_client_config cfg;
  dps_config(&cfg, id, cache);
  static const char garbage[] = {'\x00', '\xff', '{', '\x01', '"', '\xfe'};
  char foreign[512];
  snprintf(foreign, sizeof foreign,
           "{\"idScope\":\"%s\",\"registrationId\":\"someone-else\",\"hub\":\"%s\","
           "\"deviceId\":\"someone-else\"}", emu.id_scope, emu.hubs[0]);
  const struct {
    const char *what;
    const char *data;
    size_t len;
    bool warns;
  } cases[] = {
      {"truncated", "{\"idScope\":\"0ne", 15, true},
      {"empty", "", 0, true},
      {"binary", garbage, sizeof garbage, true},
      {"wrong types", "{\"idScope\":1,\"hub\":[],\"deviceId\":null}", 38, true},
      {"oversized hub", NULL, 0, true},
      {"another device's", foreign, strlen(foreign), false},
  };
  char big[2048];
  snprintf(big, sizeof big, "{\"idScope\":\"%s\",\"registrationId\":\"%s\",\"hub\":\"", emu.id_scope,
           id);
  size_t n = strlen(big);
  memset(big + n, 'h', 1500);
  snprintf(big + n + 1500, sizeof big - n - 1500, "\",\"deviceId\":\"%s\"}", id);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *data = cases[i].data ? cases[i].data : big;
    size_t len = cases[i].data ? cases[i].len : strlen(big);
    write_file(cache, data, len);
    int warned = cache_warning_count();
    started s;
    start(&s, &cfg);
    if (s.stats.provisionings != 1) fprintf(stderr, "case: %s cache\n", cases[i].what);
    assert_int_equal(s.stats.provisionings, 1);
    assert_int_equal(cache_warning_count() - warned, cases[i].warns ? 1 : 0);
    char now[300];
    snprintf(now, sizeof now, "%s", s.hub);
    stop(&s);
    cached_hub(cache, hub, sizeof hub);
    assert_string_equal(hub, now); /* replaced by a good one */
  }
  unlink(cache);
}

/* ---- permanent failures ------------------------------------------------------------------ */

/* connect() fails with @p want; GAVE_UP is reported exactly once; nothing can be queued. */
static void assert_gives_up(const iotc_client_config *cfg, iotc_result want, status_log *log) {
  iotc_client *client = NULL;
  assert_int_equal(iotc_client_create(cfg, &client, NULL), IOTC_OK);
  assert_int_equal(iotc_client_on_status(client, status_log_fn, log), IOTC_OK);
  iotc_error err;
  iotc_result r = iotc_client_connect(client, 60000, &err);
  if (r != want) fprintf(stderr, "connect: %s (%s)\n", iotc_strerror(r), err.message);
  assert_int_equal(r, want);
  assert_int_equal(err.result, want);
  assert_true(err.message[0] != '\0');
  assert_false(iotc_client_is_connected(client));
  assert_int_equal(iotc_client_send_telemetry(client, "{\"x\":1}", NULL), IOTC_ERR_STATE);
  /* disconnect goes through the worker: every status it would report has been reported */
  iotc_client_disconnect(client, 5000);
  iotc_client_destroy(client);
  assert_int_equal(status_count(log, IOTC_STATUS_GAVE_UP), 1);
  assert_int_equal(log->reason[IOTC_STATUS_GAVE_UP], want);
  assert_int_equal(status_count(log, IOTC_STATUS_CONNECTED), 0);
}

static void an_unknown_device_gives_up_once_with_unauthorized(void **state) {
  (void)state;
  char id[128];
  emu_unique_id("unknown", id, sizeof id);
  iotc_client_config cfg;
  dps_config(&cfg, id, NULL);
  cfg.group_key = NULL;
  cfg.device_key = "c29tZSBrZXkgbm9ib2R5IGtub3dzIGFib3V0IQ=="; /* no enrollment has it */
  status_log log;
  status_log_init(&log);
  assert_gives_up(&cfg, IOTC_ERR_UNAUTHORIZED, &log);
  assert_int_equal(status_count(&log, IOTC_STATUS_RECONNECTING), 0);
  status_log_destroy(&log);
}

/* A device registered on hub 1 without DPS; its connection string goes to @p cs. */
static void direct_device(const char *prefix, char *id, size_t id_size, char *cs, size_t cs_size) {
  assert_int_equal(emu_direct_device(&emu, prefix, 1, id, id_size, cs, cs_size), 0);
}

static void set_enabled(const char *id, bool enabled) {
  char path[300];
  snprintf(path, sizeof path, "/api/devices/%s", id);
  long status = 0;
  assert_int_equal(emu_api(&emu, "PATCH", path, enabled ? "{\"enabled\":true}"
                                                        : "{\"enabled\":false}", &status, NULL), 0);
  assert_true(status >= 200 && status < 300);
}

static void a_revoked_device_gives_up_once_with_unauthorized(void **state) {
  (void)state;
  char id[128], cs[512];
  direct_device("revoked", id, sizeof id, cs, sizeof cs);
  set_enabled(id, false);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = cs;
  cfg.ca_file = emu.ca_file;
  status_log log;
  status_log_init(&log);
  assert_gives_up(&cfg, IOTC_ERR_UNAUTHORIZED, &log);
  status_log_destroy(&log);
  assert_int_equal(emu_wire_count(&emu, id, "in", "CONNECT", NULL), 1); /* no retry */
}

static void a_device_revoked_while_connected_gives_up_once_and_can_start_again(void **state) {
  (void)state;
  char id[128];
  emu_unique_id("revlive", id, sizeof id);
  iotc_client_config cfg;
  dps_config(&cfg, id, NULL);
  started s;
  start(&s, &cfg);
  set_enabled(id, false); /* closes the connection; the hub and DPS refuse it from now on */
  assert_int_equal(status_wait(&s.log, IOTC_STATUS_GAVE_UP), 1);
  assert_int_equal(s.log.reason[IOTC_STATUS_GAVE_UP], IOTC_ERR_PROVISIONING_DISABLED);
  assert_int_equal(status_count(&s.log, IOTC_STATUS_REPROVISIONING), 1);
  assert_false(iotc_client_is_connected(s.client));
  assert_int_equal(iotc_client_send_telemetry(s.client, "{\"x\":1}", NULL), IOTC_ERR_STATE);

  set_enabled(id, true);
  iotc_error err;
  assert_int_equal(iotc_client_connect(s.client, 60000, &err), IOTC_OK);
  telemetry_round_trip(&emu, s.client, id, 4);
  assert_int_equal(iotc_client_disconnect(s.client, 5000), IOTC_OK);
  assert_int_equal(status_count(&s.log, IOTC_STATUS_GAVE_UP), 1);
  iotc_client_destroy(s.client);
  status_log_destroy(&s.log);
}

static void give_up_after_stops_after_that_many_attempts(void **state) {
  (void)state;
  char id[128], cs[512], fault[300];
  direct_device("giveup", id, sizeof id, cs, sizeof cs);
  snprintf(fault, sizeof fault,
           "{\"kind\":\"refuseConnect\",\"service\":\"hub\",\"returnCode\":3,\"count\":10,"
           "\"deviceId\":\"%s\"}", id);
  assert_int_equal(emu_fault(&emu, fault), 0);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = cs;
  cfg.ca_file = emu.ca_file;
  cfg.give_up_after = 3;
  cfg.reconnect_min_ms = 20;
  cfg.reconnect_max_ms = 100;
  status_log log;
  status_log_init(&log);
  assert_gives_up(&cfg, IOTC_ERR_THROTTLED, &log); /* CONNACK 3: server unavailable */
  assert_int_equal(status_count(&log, IOTC_STATUS_RECONNECTING), 2);
  assert_int_equal(status_count(&log, IOTC_STATUS_CONNECTING), 3);
  status_log_destroy(&log);
  assert_int_equal(emu_wire_count(&emu, id, "in", "CONNECT", NULL), 3);
}

/* ---- reported properties answered 429 ---------------------------------------------------- */

/* Milliseconds of the day of an ISO time "....THH:MM:SS.mmmZ". */
static long iso_ms(const char *t) {
  const char *p = t ? strchr(t, 'T') : NULL;
  assert_non_null(p);
  int h = 0, m = 0, s = 0, ms = 0;
  assert_int_equal(sscanf(p + 1, "%d:%d:%d.%dZ", &h, &m, &s, &ms), 4);
  return ((h * 60L + m) * 60L + s) * 1000L + ms;
}

/* The reported PATCHes the device sent after @p since, and the gaps (ms) between each 429
 * answer and the PATCH that followed it. */
static int reported_exchange(const char *id, long since, long *gaps, int max_gaps, int *n_gaps) {
  json_t *w = emu_wire(&emu, id, since);
  assert_non_null(w);
  int patches = 0;
  long last_429 = -1;
  *n_gaps = 0;
  size_t i;
  json_t *e;
  json_array_foreach(w, i, e) {
    const char *type = json_string_value(json_object_get(e, "type"));
    const char *dir = json_string_value(json_object_get(e, "dir"));
    const char *topic = json_string_value(json_object_get(e, "topic"));
    if (!type || strcmp(type, "PUBLISH") != 0 || !dir || !topic) continue;
    long t = iso_ms(json_string_value(json_object_get(e, "time")));
    if (strcmp(dir, "in") == 0 && strncmp(topic, "$iothub/twin/PATCH/properties/reported/", 39) == 0) {
      patches++;
      if (last_429 >= 0 && *n_gaps < max_gaps) gaps[(*n_gaps)++] = (t - last_429 + 86400000L) % 86400000L;
      last_429 = -1;
    } else if (strcmp(dir, "out") == 0 && strncmp(topic, "$iothub/twin/res/429/", 21) == 0) {
      last_429 = t;
    }
  }
  json_decref(w);
  return patches;
}

static void a_throttled_report_is_retried_after_a_backoff_then_given_up(void **state) {
  (void)state;
  char id[128];
  emu_unique_id("rep429", id, sizeof id);
  iotc_client_config cfg;
  dps_config(&cfg, id, NULL);
  cfg.reconnect_min_ms = 100; /* retry n waits at least 100 * 2^n / 2 ms when throttled */
  started s;
  start(&s, &cfg);
  char fault[300];
  snprintf(fault, sizeof fault,
           "{\"kind\":\"twinThrottle\",\"operation\":\"reported\",\"status\":429,\"count\":2,"
           "\"deviceId\":\"%s\"}", id);
  assert_int_equal(emu_fault(&emu, fault), 0);
  long mark = wire_last(&emu, id);
  done_wait d;
  done_wait_init(&d);
  assert_int_equal(iotc_client_report_property(s.client, NULL, "firmware", "\"1.2.3\"",
                                               done_wait_fn, &d), IOTC_OK);
  assert_int_equal(done_wait_for(&d, 1), IOTC_OK);
  long gaps[8];
  int n_gaps = 0;
  assert_int_equal(reported_exchange(id, mark, gaps, 8, &n_gaps), 3);
  assert_int_equal(n_gaps, 2);
  assert_true(gaps[0] >= 50 - 1);  /* emulator clock in ms: 1 ms of rounding */
  assert_true(gaps[1] >= 100 - 1);
  char path[300];
  snprintf(path, sizeof path, "/emulator/devices/%s/twin", id);
  long status = 0;
  json_t *twin = NULL;
  assert_int_equal(emu_api(&emu, "GET", path, NULL, &status, &twin), 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(twin, "reported"),
                                                        "firmware")), "1.2.3");
  json_decref(twin);

  /* More 429s than the client retries: the report fails, the next one still goes out. */
  snprintf(fault, sizeof fault,
           "{\"kind\":\"twinThrottle\",\"operation\":\"reported\",\"status\":429,\"count\":6,"
           "\"deviceId\":\"%s\"}", id);
  assert_int_equal(emu_fault(&emu, fault), 0);
  mark = wire_last(&emu, id);
  done_wait_init(&d);
  assert_int_equal(iotc_client_report_property(s.client, NULL, "firmware", "\"2.0\"",
                                               done_wait_fn, &d), IOTC_OK);
  assert_int_equal(iotc_client_report_property(s.client, NULL, "serial", "\"A-1\"",
                                               done_wait_fn, &d), IOTC_OK);
  assert_int_equal(done_wait_for(&d, 1), IOTC_ERR_THROTTLED);
  assert_int_equal(done_wait_for(&d, 2), IOTC_OK);
  assert_int_equal(reported_exchange(id, mark, gaps, 8, &n_gaps), 7); /* 1 + 5 retries, then 1 */
  iotc_client_stats st;
  assert_int_equal(iotc_client_get_stats(s.client, &st), IOTC_OK);
  assert_int_equal(st.reported_sent, 2);
  assert_int_equal(st.connects, 1);
  stop(&s);
}

int main(void) {
  if (emu_load(&emu) != 0) return 1;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/iotc-cache-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return 1;
  iotc_log_set_handler(log_line, IOTC_LOG_DEBUG, NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_restart_with_a_valid_cache_skips_dps),
      cmocka_unit_test(a_cache_naming_a_hub_that_refuses_the_device_falls_back_to_dps),
      cmocka_unit_test(a_corrupt_or_foreign_cache_is_ignored),
      cmocka_unit_test(an_unknown_device_gives_up_once_with_unauthorized),
      cmocka_unit_test(a_revoked_device_gives_up_once_with_unauthorized),
      cmocka_unit_test(a_device_revoked_while_connected_gives_up_once_and_can_start_again),
      cmocka_unit_test(give_up_after_stops_after_that_many_attempts),
      cmocka_unit_test(a_throttled_report_is_retried_after_a_backoff_then_given_up),
  };
  if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  rmdir(tmpdir);
  return rc;
}
