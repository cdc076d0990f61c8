/* SPDX-License-Identifier: MIT */
/* The device client's cache file end to end against the emulator: a restart with a valid cache
 * connects without any DPS exchange (wire log); a cache naming a hub that now refuses the device
 * (failover) falls back to DPS and is rewritten; a corrupt or foreign cache is ignored (with a
 * warning when unreadable). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "central.h"

#define MODEL "dtmi:com:example:Thermostat;1"

static const emu_info *emu;
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
  if (level <= IOTC_LOG_WARN || getenv("IOTC_TEST_DEBUG")) central_log_to_stderr(level, message, NULL);
}

static int cache_warning_count(void) {
  pthread_mutex_lock(&log_mu);
  int n = cache_warnings;
  pthread_mutex_unlock(&log_mu);
  return n;
}

static void dps_config(iotc_client_config *cfg, const char *id, const char *cache) {
  central_group_config(id, cfg);
  cfg->model_id = MODEL;
  cfg->cache_file = cache;
  cfg->reconnect_max_ms = 1000;
}

typedef struct started {
  iotc_client *client;
  central_statuses log;
  iotc_client_stats stats;
  char hub[300];
} started;

/* Create and connect (must succeed); fills hub and stats. */
static void start(started *s, const iotc_client_config *cfg) {
  central_statuses_init(&s->log);
  s->client = central_client(cfg);
  assert_non_null(s->client);
  assert_int_equal(iotc_client_on_status(s->client, central_on_status, &s->log), IOTC_OK);
  assert_int_equal(central_connect(s->client), 0);
  assert_int_equal(iotc_client_get_hub(s->client, s->hub, sizeof s->hub, NULL, 0), IOTC_OK);
  assert_int_equal(iotc_client_get_stats(s->client, &s->stats), IOTC_OK);
}

static void stop(started *s) {
  assert_int_equal(iotc_client_disconnect(s->client, 5000), IOTC_OK);
  iotc_client_destroy(s->client);
  central_statuses_destroy(&s->log);
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
  assert_true(emu_wire_svc_count(emu, id, 0, "dps") > 0);

  long mark = emu_wire_last(emu, id);
  assert_true(mark >= 0);
  start(&s, &cfg);
  assert_int_equal(s.stats.provisionings, 0);
  assert_string_equal(s.hub, hub);
  assert_int_equal(central_telemetry_round_trip(s.client, id, 2), 0);
  assert_int_equal(central_status_count(&s.log, IOTC_STATUS_PROVISIONING), 0);
  stop(&s);
  assert_int_equal(emu_wire_svc_count(emu, id, mark, "dps"), 0); /* no DPS exchange at all */
  assert_true(emu_wire_svc_count(emu, id, mark, "hub") > 0);
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
  assert_int_equal(emu_api(emu, "POST", path, NULL, &status, &moved), 0);
  assert_true(status >= 200 && status < 300);
  json_decref(moved);
  cached_hub(cache, hub, sizeof hub);
  assert_string_equal(hub, before); /* the cache still names the old hub */

  long mark = emu_wire_last(emu, id);
  assert_true(mark >= 0);
  start(&s, &cfg);
  assert_string_not_equal(s.hub, before);
  assert_int_equal(s.stats.provisionings, 1);
  assert_int_equal(central_status_count(&s.log, IOTC_STATUS_REPROVISIONING), 1);
  assert_int_equal(central_status_count(&s.log, IOTC_STATUS_GAVE_UP), 0);
  assert_int_equal(central_telemetry_round_trip(s.client, id, 3), 0);
  char now[300];
  snprintf(now, sizeof now, "%s", s.hub);
  stop(&s);
  cached_hub(cache, hub, sizeof hub);
  assert_string_equal(hub, now); /* rewritten */
  assert_true(emu_wire_svc_count(emu, id, mark, "dps") > 0);
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
           "\"deviceId\":\"someone-else\"}", emu->id_scope, emu->hubs[0]);
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
  snprintf(big, sizeof big, "{\"idScope\":\"%s\",\"registrationId\":\"%s\",\"hub\":\"", emu->id_scope,
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

int main(void) {
  emu = central_emu();
  snprintf(tmpdir, sizeof tmpdir, "/tmp/iotc-cache-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return 1;
  iotc_log_set_handler(log_line, IOTC_LOG_DEBUG, NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_restart_with_a_valid_cache_skips_dps),
      cmocka_unit_test(a_cache_naming_a_hub_that_refuses_the_device_falls_back_to_dps),
      cmocka_unit_test(a_corrupt_or_foreign_cache_is_ignored),
  };
  if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  rmdir(tmpdir);
  return rc;
}
