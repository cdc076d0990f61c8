/* SPDX-License-Identifier: MIT */
/* Provisioning against a DPS that assigns hub names and device ids no hub connection can use, or
 * puts line breaks into its words: IOTC_ERR_MALFORMED (which the client retries) instead of an
 * "assigned" that fails for ever later, and every message and log line stays one line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dps_harness.h"
#include "iotc/client.h"
#include "iotc/log.h"

/* ---- log lines ---------------------------------------------------------------------------- */

static int log_lines;
static int broken_lines;

static void on_log(iotc_log_level level, const char *message, void *ctx) {
  (void)level;
  (void)ctx;
  ++log_lines;
  for (const char *p = message; *p != '\0'; ++p) {
    if ((unsigned char)*p < 0x20 || *p == 0x7F) {
      ++broken_lines;
      printf("# control character 0x%02x in a log line: %s\n", (unsigned char)*p, message);
      break;
    }
  }
}

static bool one_line(const char *s) {
  for (; *s != '\0'; ++s) {
    if ((unsigned char)*s < 0x20 || *s == 0x7F) return false;
  }
  return true;
}

/* ---- scripts ------------------------------------------------------------------------------- */

/* @p s as a JSON string literal (quotes included) appended to @p out. */
static void json_str(char *out, size_t size, const char *s) {
  size_t o = strlen(out);
  o += (size_t)snprintf(out + o, size - o, "\"");
  for (; *s != '\0' && o + 8 < size; ++s) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 || c == '"' || c == '\\') {
      o += (size_t)snprintf(out + o, size - o, "\\u%04x", c);
    } else {
      out[o++] = (char)c;
      out[o] = '\0';
    }
  }
  snprintf(out + o, size - o, "\"");
}

static char *assigned_script(const char *hub, const char *device_id) {
  size_t size = 4096;
  char *s = calloc(1, size);
  snprintf(s, size, "{\"register\":[{\"status\":200,\"body\":{\"operationId\":\"op-1\","
                    "\"status\":\"assigned\",\"registrationState\":{\"registrationId\":"
                    "\"hostile-device\",\"status\":\"assigned\",\"assignedHub\":");
  json_str(s, size, hub);
  strncat(s, ",\"deviceId\":", size - strlen(s) - 1);
  json_str(s, size, device_id);
  strncat(s, "}}}]}", size - strlen(s) - 1);
  return s;
}

static const char *tname(iotc_dps_transport t) {
  return t == IOTC_DPS_TRANSPORT_MQTT ? "MQTT" : "HTTPS";
}

/* Register once per transport; the result must be @p want, messages and log lines one line. */
static void expect(const char *script, iotc_result want, iotc_dps_registration *last) {
  for (int t = 0; t < 2; ++t) {
    dps_hostile h;
    assert_int_equal(dps_hostile_start(script, &h), 0);
    iotc_dps_config cfg;
    dps_hostile_config(&h, (iotc_dps_transport)t, &cfg);
    cfg.timeout_ms = 10000;
    iotc_dps_registration reg;
    iotc_error err;
    log_lines = broken_lines = 0;
    iotc_log_set_handler(on_log, IOTC_LOG_DEBUG, NULL);
    iotc_result r = iotc_dps_register(&cfg, &reg, &err);
    iotc_log_set_handler(NULL, IOTC_LOG_ERROR, NULL);
    int registers = dps_hostile_count(&h, "register");
    dps_hostile_stop(&h);
    printf("# %-5s %s: %s\n", tname((iotc_dps_transport)t), iotc_strerror(r),
           r == IOTC_OK ? reg.assigned_hub : err.message);
    if (r != want) {
      fail_msg("%s: got %s (%s), want %s", tname((iotc_dps_transport)t), iotc_strerror(r),
               err.message, iotc_strerror(want));
    }
    assert_int_equal(registers, 1);
    assert_true(log_lines > 0);
    assert_int_equal(broken_lines, 0);
    if (r != IOTC_OK) {
      assert_true(one_line(err.message));
      assert_true(one_line(err.tracking_id));
    } else if (last != NULL) {
      iotc_dps_registration_clear(last);
      *last = reg;
      continue;
    }
    iotc_dps_registration_clear(&reg);
  }
}

/* Each value as the assigned hub (with a good device id) or as the device id (with a good hub). */
static void each_is_malformed(const char *const *values, size_t n, bool as_hub) {
  for (size_t i = 0; i < n; ++i) {
    char *script = as_hub ? assigned_script(values[i], "device-1")
                          : assigned_script("hub.example.com", values[i]);
    expect(script, IOTC_ERR_MALFORMED, NULL);
    free(script);
  }
}

static void test_unusable_assigned_hubs_are_malformed(void **s) {
  (void)s;
  char long_name[300];
  memset(long_name, 'a', 265);
  memcpy(long_name + 265, ".com", 5); /* 269 characters */
  char long_label[80];
  memset(long_label, 'b', 64);
  memcpy(long_label + 64, ".net", 5);
  const char *bad[] = {"evil.com/../", "localhost\r\nX-Evil: 1", "user@evil.com:8883", long_name,
                       long_label, "hub.example.com:0", "hub.example.com:65536",
                       "hub.example.com:", "hub.example.com:88a3", "-hub.example.com",
                       "hub..example.com", "hub.example.com.", "hub_1.example.com", "[::1]:8883",
                       "", "hub.example.com#", "hub example.com"};
  each_is_malformed(bad, sizeof bad / sizeof *bad, true);
}

static void test_unusable_device_ids_are_malformed(void **s) {
  (void)s;
  char long_id[140];
  memset(long_id, 'd', 129);
  long_id[129] = '\0';
  const char *bad[] = {"dev\r\nice", "a/b", "dev#1", "dev+1", long_id, "", "dev ice",
                       "d\xc3\xa9vice"};
  each_is_malformed(bad, sizeof bad / sizeof *bad, false);
}

/* Neighbours: names and ids at the edge of what is allowed are accepted unchanged. */
static void test_usable_names_and_ids_are_accepted(void **s) {
  (void)s;
  char max_label[80];
  memset(max_label, 'c', 63);
  memcpy(max_label + 63, ".net:65535", 11);
  char max_id[140];
  memset(max_id, 'e', 128);
  max_id[128] = '\0';
  const char *hubs[] = {"my-hub.azure-devices.net", "localhost:8883", "127.0.0.1:1", max_label,
                        "HUB"};
  const char *ids[] = {"device-1", "d.e_v:i-c%e*?!(),=@$'", max_id, "x", "device-1"};
  for (size_t i = 0; i < sizeof hubs / sizeof *hubs; ++i) {
    char *script = assigned_script(hubs[i], ids[i]);
    iotc_dps_registration reg;
    memset(&reg, 0, sizeof reg);
    expect(script, IOTC_OK, &reg);
    assert_string_equal(reg.assigned_hub, hubs[i]);
    assert_string_equal(reg.device_id, ids[i]);
    iotc_dps_registration_clear(&reg);
    free(script);
  }
}

/* A refusal whose message and trackingId carry line breaks: one line everywhere. */
static void test_line_breaks_in_service_words_are_escaped(void **s) {
  (void)s;
  expect("{\"register\":[{\"status\":401,\"body\":{\"errorCode\":401002,"
         "\"message\":\"denied\\r\\nX-Evil: 1\\u0007\",\"trackingId\":\"t\\n1\"}}]}",
         IOTC_ERR_UNAUTHORIZED, NULL);
  expect("{\"register\":[{\"status\":200,\"body\":{\"operationId\":\"op\",\"status\":\"failed\","
         "\"registrationState\":{\"status\":\"failed\",\"errorCode\":400209,"
         "\"errorMessage\":\"bad\\nthing\\r\"}}}]}",
         IOTC_ERR_PROVISIONING_FAILED, NULL);
  expect("{\"register\":[{\"status\":200,\"body\":{\"operationId\":\"op\",\"status\":\"what\\n\"}}]}",
         IOTC_ERR_PROTOCOL, NULL);
}

/* The device client keeps asking DPS after an unusable assignment instead of giving up. */
static void test_client_retries_after_an_unusable_assignment(void **s) {
  (void)s;
  for (int t = 0; t < 2; ++t) {
    char *script = assigned_script("localhost\r\nX-Evil: 1", "device-1");
    dps_hostile h;
    assert_int_equal(dps_hostile_start(script, &h), 0);
    free(script);
    iotc_dps_config d;
    dps_hostile_config(&h, (iotc_dps_transport)t, &d);
    iotc_client_config cfg;
    iotc_client_config_init(&cfg);
    cfg.id_scope = d.id_scope;
    cfg.device_id = d.registration_id;
    cfg.device_key = d.key;
    cfg.dps_endpoint = d.endpoint;
    cfg.dps_over_https = t == IOTC_DPS_TRANSPORT_HTTPS;
    cfg.ca_file = d.ca_file;
    cfg.connect_timeout_ms = 5000;
    cfg.reconnect_min_ms = 100;
    cfg.reconnect_max_ms = 200;
    iotc_client *client = NULL;
    assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_OK);
    iotc_error err;
    iotc_result r = iotc_client_connect(client, 3000, &err);
    printf("# %-5s client: %s: %s\n", tname((iotc_dps_transport)t), iotc_strerror(r), err.message);
    /* Bounded wait (at most 100 x 100 ms) for DPS to be asked again. */
    for (int i = 0; i < 100 && dps_hostile_count(&h, "register") < 2; ++i) {
      struct timespec ts = {0, 100 * 1000000L};
      nanosleep(&ts, NULL);
    }
    int registers = dps_hostile_count(&h, "register");
    iotc_client_destroy(client);
    dps_hostile_stop(&h);
    assert_int_equal(r, IOTC_ERR_TIMEOUT);
    assert_true(one_line(err.message));
    assert_true(registers >= 2);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unusable_assigned_hubs_are_malformed),
      cmocka_unit_test(test_unusable_device_ids_are_malformed),
      cmocka_unit_test(test_usable_names_and_ids_are_accepted),
      cmocka_unit_test(test_line_breaks_in_service_words_are_escaped),
      cmocka_unit_test(test_client_retries_after_an_unusable_assignment),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
