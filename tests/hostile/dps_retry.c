/* SPDX-License-Identifier: MIT */
/* Provisioning against a DPS that throttles, fails or stays "assigning" with retry-after 0 or an
 * absurd retry-after: no spin (requests per attempt are counted, never seconds), and the same
 * code and message on both transports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dps_harness.h"

/* Whole registration budget of every attempt here. With a growing back-off whose first pause is
 * at least 1 s (throttling) or 50 ms (polling) and doubles, at most 3 throttled requests or
 * 6 polls fit into 6 s, plus the one status query sent at once after the register's explicit
 * retry-after 0; a client that honours retry-after 0 every time sends hundreds. */
#define BUDGET_MS 6000u
#define MAX_THROTTLED_REQUESTS 4
#define MAX_POLLS 7

/* Timeout of one exchange; the whole budget unless a test says otherwise. */
static uint32_t request_timeout_ms = BUDGET_MS;

typedef struct outcome {
  iotc_result result;
  iotc_error err;
  int registers;
  int polls;
} outcome;

static const char *tname(iotc_dps_transport t) {
  return t == IOTC_DPS_TRANSPORT_MQTT ? "MQTT" : "HTTPS";
}

/* One registration against a fresh hostile DPS running @p script. */
static outcome attempt(const char *script, iotc_dps_transport t) {
  dps_hostile h;
  assert_int_equal(dps_hostile_start(script, &h), 0);
  iotc_dps_config cfg;
  dps_hostile_config(&h, t, &cfg);
  cfg.timeout_ms = BUDGET_MS;
  cfg.request_timeout_ms = request_timeout_ms;
  outcome o;
  memset(&o, 0, sizeof o);
  iotc_dps_registration reg;
  o.result = iotc_dps_register(&cfg, &reg, &o.err);
  iotc_dps_registration_clear(&reg);
  o.registers = dps_hostile_count(&h, "register");
  o.polls = dps_hostile_count(&h, "poll");
  dps_hostile_stop(&h);
  printf("# %-5s %s: %d register, %d poll: %s\n", tname(t), iotc_strerror(o.result), o.registers,
         o.polls, o.err.message);
  return o;
}

/* The same script on both transports: the same code and message, and bounded request counts. */
static void both(const char *script, iotc_result want, int want_status, int max_registers,
                 int max_polls) {
  outcome m = attempt(script, IOTC_DPS_TRANSPORT_MQTT);
  outcome s = attempt(script, IOTC_DPS_TRANSPORT_HTTPS);
  for (int i = 0; i < 2; ++i) {
    const outcome *o = i == 0 ? &m : &s;
    if (o->result != want) {
      fail_msg("%s: got %s (%s), want %s", tname((iotc_dps_transport)i), iotc_strerror(o->result),
               o->err.message, iotc_strerror(want));
    }
    assert_int_equal(o->err.result, want);
    assert_int_equal(o->err.status, want_status);
    assert_true(o->registers >= 1);
    if (o->registers > max_registers || o->polls > max_polls) {
      fail_msg("%s: %d register requests and %d polls in one attempt (at most %d and %d)",
               tname((iotc_dps_transport)i), o->registers, o->polls, max_registers, max_polls);
    }
  }
  assert_string_equal(m.err.message, s.err.message);
}

#define THROTTLE(status, retry_after)                                                              \
  "{\"register\":[{\"status\":" #status ",\"retryAfter\":\"" retry_after "\",\"body\":"            \
  "{\"errorCode\":" #status "001,\"message\":\"come back later\"}}]}"

static void test_429_with_retry_after_0_backs_off(void **s) {
  (void)s;
  both(THROTTLE(429, "0"), IOTC_ERR_THROTTLED, 429, MAX_THROTTLED_REQUESTS, 0);
}

static void test_503_with_retry_after_0_backs_off(void **s) {
  (void)s;
  both(THROTTLE(503, "0"), IOTC_ERR_SERVICE, 503, MAX_THROTTLED_REQUESTS, 0);
}

/* Neighbour: no retry-after at all. */
static void test_429_without_retry_after_backs_off(void **s) {
  (void)s;
  both("{\"register\":[{\"status\":429,\"body\":{\"errorCode\":429001,\"message\":\"no\"}}]}",
       IOTC_ERR_THROTTLED, 429, MAX_THROTTLED_REQUESTS, 0);
}

/* A ten-digit retry-after is a very long pause on both transports: one request, then the
 * budget cannot hold the pause and the throttling is reported. */
static void test_ten_digit_retry_after_is_a_long_pause(void **s) {
  (void)s;
  both(THROTTLE(429, "9999999999"), IOTC_ERR_THROTTLED, 429, 1, 0);
}

/* Neighbour: the largest nine-digit value, and a value far beyond 32 bits. */
static void test_nine_and_thirty_digit_retry_after(void **s) {
  (void)s;
  both(THROTTLE(503, "999999999"), IOTC_ERR_SERVICE, 503, 1, 0);
  both(THROTTLE(503, "123456789012345678901234567890"), IOTC_ERR_SERVICE, 503, 1, 0);
}

#define ASSIGNING(retry_after)                                                                     \
  "{\"status\":202,\"retryAfter\":\"" retry_after "\",\"body\":{\"operationId\":\"op-1\","         \
  "\"status\":\"assigning\"}}"

/* "assigning" for ever with retry-after 0: polls back off, and the outcome says DPS answered. */
static void test_assigning_for_ever_with_retry_after_0(void **s) {
  (void)s;
  const char *script = "{\"register\":[" ASSIGNING("0") "],\"poll\":[" ASSIGNING("0") "]}";
  both(script, IOTC_ERR_TIMEOUT, 202, 1, MAX_POLLS);
  outcome o = attempt(script, IOTC_DPS_TRANSPORT_MQTT);
  assert_null(strstr(o.err.message, "did not answer"));
  assert_non_null(strstr(o.err.message, "assigning"));
}

/* Neighbour: throttled while polling. */
static void test_poll_throttled_with_retry_after_0(void **s) {
  (void)s;
  both("{\"register\":[" ASSIGNING("0") "],\"poll\":[{\"status\":429,\"retryAfter\":\"0\","
       "\"body\":{\"errorCode\":429001,\"message\":\"slow\"}}]}",
       IOTC_ERR_THROTTLED, 429, 1, MAX_THROTTLED_REQUESTS);
}

/* A DPS that drops the connection instead of answering, or never answers. */
static void test_closed_connection_reads_alike(void **s) {
  (void)s;
  both("{\"register\":[{\"action\":\"close\"}]}", IOTC_ERR_CONNECT, 0, 1, 0);
}

static void test_silence_reads_alike(void **s) {
  (void)s;
  request_timeout_ms = 2000;
  both("{\"register\":[{\"action\":\"silent\"}]}", IOTC_ERR_TIMEOUT, 0, 1, 0);
  both("{\"register\":[" ASSIGNING("0") "],\"poll\":[{\"action\":\"silent\"}]}",
       IOTC_ERR_TIMEOUT, 0, 1, 1);
  request_timeout_ms = BUDGET_MS;
}

/* Garbage where JSON belongs, and a body beyond the response limit: the same on both. */
static void test_garbage_bodies_read_alike(void **s) {
  (void)s;
  both("{\"register\":[{\"status\":200,\"raw\":\"\\u0001\\u00ff not json {\"}]}",
       IOTC_ERR_MALFORMED, 200, 1, 0);
  both("{\"register\":[{\"status\":202,\"raw\":\"[1,2,3]\"}]}", IOTC_ERR_MALFORMED, 202, 1, 0);
  both("{\"register\":[" ASSIGNING("0") "],\"poll\":[{\"status\":200,\"raw\":\"\"}]}",
       IOTC_ERR_MALFORMED, 200, 1, 1);
  /* A refusal with garbage for a body is still a refusal, retried as such. */
  both("{\"register\":[{\"status\":429,\"retryAfter\":\"0\",\"raw\":\"<html>busy\"}]}",
       IOTC_ERR_THROTTLED, 429, MAX_THROTTLED_REQUESTS, 0);
}

static void test_oversized_body_reads_alike(void **s) {
  (void)s;
  static char script[80 * 1024];
  int n = snprintf(script, sizeof script, "{\"register\":[{\"status\":200,\"raw\":\"");
  memset(script + n, 'x', 70 * 1024);
  snprintf(script + n + 70 * 1024, sizeof script - (size_t)n - 70 * 1024, "\"}]}");
  both(script, IOTC_ERR_PROTOCOL, 200, 1, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_429_with_retry_after_0_backs_off),
      cmocka_unit_test(test_503_with_retry_after_0_backs_off),
      cmocka_unit_test(test_429_without_retry_after_backs_off),
      cmocka_unit_test(test_ten_digit_retry_after_is_a_long_pause),
      cmocka_unit_test(test_nine_and_thirty_digit_retry_after),
      cmocka_unit_test(test_assigning_for_ever_with_retry_after_0),
      cmocka_unit_test(test_poll_throttled_with_retry_after_0),
      cmocka_unit_test(test_closed_connection_reads_alike),
      cmocka_unit_test(test_silence_reads_alike),
      cmocka_unit_test(test_garbage_bodies_read_alike),
      cmocka_unit_test(test_oversized_body_reads_alike),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
