/* SPDX-License-Identifier: MIT */
/* Throttling: the hub answers reported-property PATCHes with 429 twice; the client backs off,
 * sends them again, keeps their order, and reports success only once the hub accepted them. A
 * report answered 429 is sent again after a throttled back-off (measured on the emulator's wire
 * log), and fails with IOTC_ERR_THROTTLED when the retries run out, without wedging the reported
 * queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"

static void throttled_reported_properties_are_sent_again(void **state) {
  (void)state;
  const emu_info *emu = central_emu();
  central_device dev;
  iotc_client *client = central_new("throttle", &dev);
  assert_non_null(client);
  assert_int_equal(central_connect(client), 0);
  int before = emu_wire_count(emu, dev.id, "in", "PUBLISH", "$iothub/twin/PATCH/properties/reported");
  assert_true(before >= 0);

  char fault[512];
  snprintf(fault, sizeof fault,
           "{\"kind\":\"twinThrottle\",\"deviceId\":\"%s\",\"operation\":\"reported\",\"status\":429,\"count\":2}",
           dev.id);
  assert_int_equal(emu_fault(emu, fault), 0);
  central_results done;
  central_results_init(&done);
  assert_int_equal(iotc_client_report_property(client, NULL, "swVersion", "\"1.0.0\"", central_on_done, &done), IOTC_OK);
  assert_int_equal(iotc_client_report_property(client, NULL, "swVersion", "\"1.0.1\"", central_on_done, &done), IOTC_OK);
  assert_true(central_counter_wait(&done.ok, 2));
  assert_int_equal(central_counter_get(&done.failed), 0);

  /* Two refused, then both accepted: at least four PATCHes on the wire. */
  int after = emu_wire_count(emu, dev.id, "in", "PUBLISH", "$iothub/twin/PATCH/properties/reported");
  assert_true(after - before >= 4);
  /* Order kept: the later value wins. */
  json_t *props = central_properties(dev.id, NULL);
  assert_string_equal(json_string_value(json_object_get(props, "swVersion")), "1.0.1");
  json_decref(props);
  assert_true(iotc_client_is_connected(client));
  iotc_client_stats stats;
  assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
  assert_int_equal(stats.reported_sent, 2);

  /* Telemetry is not held up by throttled properties. */
  snprintf(fault, sizeof fault,
           "{\"kind\":\"twinThrottle\",\"deviceId\":\"%s\",\"operation\":\"reported\",\"status\":429,\"count\":1}",
           dev.id);
  assert_int_equal(emu_fault(emu, fault), 0);
  central_results sent;
  central_results_init(&sent);
  iotc_telemetry_options opts;
  central_telemetry_options(&opts, &sent);
  assert_int_equal(iotc_client_report_property(client, NULL, "state", "true", central_on_done, &done), IOTC_OK);
  assert_int_equal(iotc_client_send_telemetry(client, "{\"temp\":20}", &opts), IOTC_OK);
  assert_true(central_counter_wait(&sent.ok, 1));
  assert_true(central_counter_wait(&done.ok, 3));

  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  iotc_client_destroy(client);
  central_results_destroy(&done);
  central_results_destroy(&sent);
}

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
  json_t *w = emu_wire(central_emu(), id, since);
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
  central_group_config(id, &cfg);
  cfg.model_id = "dtmi:com:example:Thermostat;1";
  cfg.reconnect_min_ms = 100; /* retry n waits at least 100 * 2^n / 2 ms when throttled */
  cfg.reconnect_max_ms = 1000;
  iotc_client *client = central_client(&cfg);
  assert_non_null(client);
  assert_int_equal(central_connect(client), 0);
  char fault[300];
  snprintf(fault, sizeof fault,
           "{\"kind\":\"twinThrottle\",\"operation\":\"reported\",\"status\":429,\"count\":2,"
           "\"deviceId\":\"%s\"}", id);
  assert_int_equal(emu_fault(central_emu(), fault), 0);
  long mark = emu_wire_last(central_emu(), id);
  assert_true(mark >= 0);
  central_results d;
  central_results_init(&d);
  assert_int_equal(iotc_client_report_property(client, NULL, "firmware", "\"1.2.3\"",
                                               central_on_done, &d), IOTC_OK);
  assert_int_equal(central_results_nth(&d, 1), IOTC_OK);
  central_results_destroy(&d);
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
  assert_int_equal(emu_api(central_emu(), "GET", path, NULL, &status, &twin), 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(twin, "reported"),
                                                        "firmware")), "1.2.3");
  json_decref(twin);

  /* More 429s than the client retries: the report fails, the next one still goes out. */
  snprintf(fault, sizeof fault,
           "{\"kind\":\"twinThrottle\",\"operation\":\"reported\",\"status\":429,\"count\":6,"
           "\"deviceId\":\"%s\"}", id);
  assert_int_equal(emu_fault(central_emu(), fault), 0);
  mark = emu_wire_last(central_emu(), id);
  assert_true(mark >= 0);
  central_results_init(&d);
  assert_int_equal(iotc_client_report_property(client, NULL, "firmware", "\"2.0\"",
                                               central_on_done, &d), IOTC_OK);
  assert_int_equal(iotc_client_report_property(client, NULL, "serial", "\"A-1\"",
                                               central_on_done, &d), IOTC_OK);
  assert_int_equal(central_results_nth(&d, 1), IOTC_ERR_THROTTLED);
  assert_int_equal(central_results_nth(&d, 2), IOTC_OK);
  central_results_destroy(&d);
  assert_int_equal(reported_exchange(id, mark, gaps, 8, &n_gaps), 7); /* 1 + 5 retries, then 1 */
  iotc_client_stats st;
  assert_int_equal(iotc_client_get_stats(client, &st), IOTC_OK);
  assert_int_equal(st.reported_sent, 2);
  assert_int_equal(st.connects, 1);
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(throttled_reported_properties_are_sent_again),
      cmocka_unit_test(a_throttled_report_is_retried_after_a_backoff_then_given_up),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
