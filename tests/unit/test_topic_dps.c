/* SPDX-License-Identifier: MIT */
/* DPS over MQTT topics. Expected strings come from PROTOCOL.md section 4 (Azure's documented
 * examples), not from running the library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "iotc/dps_topic.h"

#define USERNAME "0neFEEDC0DE/registrations/myRegistrationId/api-version=2019-03-31"
#define REGISTER "$dps/registrations/PUT/iotdps-register/?$rid=1"
#define OPSTATUS                                                                                  \
  "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1&operationId=4.d0a671905ea5b2c8."     \
  "42d78160-4c78-479e-8be7-61d5e55dac0d"
#define OPID "4.d0a671905ea5b2c8.42d78160-4c78-479e-8be7-61d5e55dac0d"

static void fill(char *buf, size_t n) { memset(buf, '#', n); }

static void assert_untouched(const char *buf, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    assert_int_equal(buf[i], '#');
  }
}

/* Every builder: exact size works, one byte less writes nothing and reports the need. */
static void check_boundaries(iotc_result (*build)(char *, size_t, size_t *), const char *want) {
  size_t want_len = strlen(want);
  char buf[512];
  size_t len = 0;
  fill(buf, sizeof buf);
  assert_int_equal(build(buf, want_len + 1, &len), IOTC_OK);
  assert_string_equal(buf, want);
  assert_int_equal(len, want_len);
  assert_int_equal(buf[want_len + 1], '#');

  for (size_t short_size = 0; short_size <= want_len; short_size += (short_size < 3 ? 1 : want_len / 4 + 1)) {
    fill(buf, sizeof buf);
    len = 0;
    assert_int_equal(build(buf, short_size, &len), IOTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(len, want_len);
    assert_untouched(buf, sizeof buf);
  }
  fill(buf, sizeof buf);
  assert_int_equal(build(buf, want_len, NULL), IOTC_ERR_BUFFER_TOO_SMALL);
  assert_untouched(buf, sizeof buf);
  assert_int_equal(build(buf, sizeof buf, NULL), IOTC_OK);
  assert_string_equal(buf, want);
}

static iotc_result build_username(char *b, size_t s, size_t *l) {
  return iotc_dps_topic_username("0neFEEDC0DE", "myRegistrationId", b, s, l);
}
static iotc_result build_register(char *b, size_t s, size_t *l) {
  return iotc_dps_topic_register("1", b, s, l);
}
static iotc_result build_opstatus(char *b, size_t s, size_t *l) {
  return iotc_dps_topic_operation_status("1", OPID, b, s, l);
}
static iotc_result build_register_escaped(char *b, size_t s, size_t *l) {
  return iotc_dps_topic_register("a b&c=d", b, s, l);
}

static void test_username_has_no_question_mark_and_fits_its_buffer_exactly(void **state) {
  (void)state;
  check_boundaries(build_username, USERNAME);
}

static void test_register_topic_matches_the_documented_example(void **state) {
  (void)state;
  check_boundaries(build_register, REGISTER);
}

static void test_operation_status_topic_matches_the_documented_example(void **state) {
  (void)state;
  check_boundaries(build_opstatus, OPSTATUS);
}

static void test_request_ids_are_percent_encoded_in_the_query(void **state) {
  (void)state;
  check_boundaries(build_register_escaped, "$dps/registrations/PUT/iotdps-register/?$rid=a%20b%26c%3Dd");
}

static void test_username_refuses_ids_that_would_break_the_topic(void **state) {
  (void)state;
  char buf[512];
  size_t len = 7;
  const char *bad_regs[] = {"", "a/b", "a b", "a?b", "a#b", "a+b", "a&b", "caf\xc3\xa9"};
  for (size_t i = 0; i < sizeof bad_regs / sizeof *bad_regs; ++i) {
    assert_int_equal(iotc_dps_topic_username("0ne1", bad_regs[i], buf, sizeof buf, &len),
                     IOTC_ERR_INVALID_ARG);
  }
  assert_int_equal(iotc_dps_topic_username("0ne-1", "dev", buf, sizeof buf, &len), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_dps_topic_username("", "dev", buf, sizeof buf, &len), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_dps_topic_username(NULL, "dev", buf, sizeof buf, &len), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_dps_topic_username("0ne1", NULL, buf, sizeof buf, &len), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_dps_topic_username("0ne1", "dev", NULL, 10, &len), IOTC_ERR_INVALID_ARG);
  assert_int_equal(len, 7);
  assert_int_equal(iotc_dps_topic_username("0ne1", "a-b.c_d:e", buf, sizeof buf, NULL), IOTC_OK);
  assert_string_equal(buf, "0ne1/registrations/a-b.c_d:e/api-version=2019-03-31");
}

static void test_registration_id_length_limit_is_128(void **state) {
  (void)state;
  char id[130];
  memset(id, 'a', sizeof id);
  id[128] = '\0';
  assert_true(iotc_dps_registration_id_is_valid(id));
  id[128] = 'a';
  id[129] = '\0';
  assert_false(iotc_dps_registration_id_is_valid(id));
  char scope[66];
  memset(scope, '0', sizeof scope);
  scope[64] = '\0';
  assert_true(iotc_dps_id_scope_is_valid(scope));
  scope[64] = '0';
  scope[65] = '\0';
  assert_false(iotc_dps_id_scope_is_valid(scope));
  assert_false(iotc_dps_id_scope_is_valid(NULL));
  assert_false(iotc_dps_registration_id_is_valid(NULL));
}

static void test_request_builders_refuse_missing_or_oversized_ids(void **state) {
  (void)state;
  char buf[1024];
  char big[300];
  memset(big, 'x', sizeof big);
  big[sizeof big - 1] = '\0';
  assert_int_equal(iotc_dps_topic_register(NULL, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_dps_topic_register("", buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_dps_topic_register(big, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_dps_topic_operation_status("1", "", buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_dps_topic_operation_status("1", NULL, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_dps_topic_operation_status("1", big, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_dps_topic_operation_status("1", "op", NULL, 0, NULL), IOTC_ERR_INVALID_ARG);
}

static iotc_result parse(const char *topic, iotc_dps_topic_response *out) {
  return iotc_dps_topic_parse_response(topic, strlen(topic), out);
}

static void test_response_parser_reads_status_rid_and_retry_after(void **state) {
  (void)state;
  iotc_dps_topic_response r;
  const char *t = "$dps/registrations/res/202/?$rid=1&retry-after=3";
  assert_int_equal(parse(t, &r), IOTC_OK);
  assert_int_equal(r.status, 202);
  assert_int_equal(r.rid_len, 1);
  assert_memory_equal(r.rid, "1", 1);
  assert_ptr_equal(r.rid, t + strlen("$dps/registrations/res/202/?$rid="));
  assert_true(r.has_retry_after);
  assert_int_equal(r.retry_after_s, 3);

  assert_int_equal(parse("$dps/registrations/res/200/?$rid=04c51050-2f20", &r), IOTC_OK);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.rid_len, strlen("04c51050-2f20"));
  assert_false(r.has_retry_after);
  assert_int_equal(r.retry_after_s, 0);

  /* Order does not matter; unknown parameters are ignored; 0 is a valid hint. */
  assert_int_equal(parse("$dps/registrations/res/429/?retry-after=0&x=y&$rid=abc&flag", &r), IOTC_OK);
  assert_int_equal(r.status, 429);
  assert_true(r.has_retry_after);
  assert_int_equal(r.retry_after_s, 0);
  assert_memory_equal(r.rid, "abc", 3);
  assert_int_equal(parse("$dps/registrations/res/401/?$rid=1&retry-after=999999999", &r), IOTC_OK);
  assert_int_equal(r.retry_after_s, 999999999u);
  /* Longer numbers are very long pauses, not errors: they read as the maximum. */
  assert_int_equal(parse("$dps/registrations/res/429/?$rid=1&retry-after=1000000000", &r), IOTC_OK);
  assert_int_equal(r.retry_after_s, IOTC_DPS_RETRY_AFTER_MAX_S);
  assert_int_equal(parse("$dps/registrations/res/429/?$rid=1&retry-after=99999999999999999999999", &r),
                   IOTC_OK);
  assert_int_equal(r.retry_after_s, IOTC_DPS_RETRY_AFTER_MAX_S);
}

static void test_response_parser_leaves_neighbouring_topics_alone(void **state) {
  (void)state;
  const char *others[] = {
      "",
      "$dps/registrations/res",
      "$dps/registrations/PUT/iotdps-register/?$rid=1",
      "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1&operationId=x",
      "$iothub/twin/res/200/?$rid=1",
      "$iothub/methods/POST/reboot/?$rid=1",
      "devices/d/messages/devicebound/%24.mid=1",
      "$DPS/registrations/res/200/?$rid=1",
  };
  iotc_dps_topic_response r;
  memset(&r, 0x5a, sizeof r);
  for (size_t i = 0; i < sizeof others / sizeof *others; ++i) {
    assert_int_equal(parse(others[i], &r), IOTC_ERR_NO_MATCH);
  }
  assert_int_equal(r.status, 0x5a5a5a5a);
}

static void test_response_parser_rejects_malformed_dps_topics(void **state) {
  (void)state;
  const char *bad[] = {
      "$dps/registrations/res/",
      "$dps/registrations/res/20/?$rid=1",
      "$dps/registrations/res/2000/?$rid=1",
      "$dps/registrations/res/abc/?$rid=1",
      "$dps/registrations/res/099/?$rid=1",
      "$dps/registrations/res/200?$rid=1",
      "$dps/registrations/res/200/$rid=1",
      "$dps/registrations/res/200/?",
      "$dps/registrations/res/200/?$rid=",
      "$dps/registrations/res/200/?rid=1",
      "$dps/registrations/res/200/?$rid=1&$rid=2",
      "$dps/registrations/res/202/?$rid=1&retry-after=",
      "$dps/registrations/res/202/?$rid=1&retry-after=-1",
      "$dps/registrations/res/202/?$rid=1&retry-after=1.5",
      "$dps/registrations/res/202/?$rid=1&retry-after=1&retry-after=2",
  };
  iotc_dps_topic_response r;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    assert_int_equal(parse(bad[i], &r), IOTC_ERR_MALFORMED);
  }
}

static void test_response_parser_honours_the_length_not_the_nul(void **state) {
  (void)state;
  iotc_dps_topic_response r;
  const char t[] = "$dps/registrations/res/202/?$rid=12&retry-after=34";
  /* Truncated inside retry-after: the view ends at the length given. */
  assert_int_equal(iotc_dps_topic_parse_response(t, strlen(t) - 1, &r), IOTC_OK);
  assert_int_equal(r.retry_after_s, 3);
  /* Truncated right after the rid's first byte. */
  assert_int_equal(iotc_dps_topic_parse_response(t, strlen("$dps/registrations/res/202/?$rid=1"), &r),
                   IOTC_OK);
  assert_int_equal(r.rid_len, 1);
  assert_false(r.has_retry_after);
  /* Truncated inside the status. */
  assert_int_equal(iotc_dps_topic_parse_response(t, strlen("$dps/registrations/res/20"), &r),
                   IOTC_ERR_MALFORMED);
  /* An embedded NUL is refused. */
  const char nul[] = "$dps/registrations/res/200/?$rid=1\0x";
  assert_int_equal(iotc_dps_topic_parse_response(nul, sizeof nul - 1, &r), IOTC_ERR_MALFORMED);
  assert_int_equal(iotc_dps_topic_parse_response(NULL, 3, &r), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_dps_topic_parse_response(t, strlen(t), NULL), IOTC_ERR_INVALID_ARG);
}

static void test_builders_round_trip_through_the_parser_shape(void **state) {
  (void)state;
  /* The topics we build are never mistaken for responses. */
  char buf[512];
  iotc_dps_topic_response r;
  assert_int_equal(iotc_dps_topic_register("x", buf, sizeof buf, NULL), IOTC_OK);
  assert_int_equal(parse(buf, &r), IOTC_ERR_NO_MATCH);
  assert_int_equal(iotc_dps_topic_operation_status("x", "y", buf, sizeof buf, NULL), IOTC_OK);
  assert_int_equal(parse(buf, &r), IOTC_ERR_NO_MATCH);
  assert_string_equal(IOTC_DPS_TOPIC_RESPONSE_FILTER, "$dps/registrations/res/#");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_username_has_no_question_mark_and_fits_its_buffer_exactly),
      cmocka_unit_test(test_register_topic_matches_the_documented_example),
      cmocka_unit_test(test_operation_status_topic_matches_the_documented_example),
      cmocka_unit_test(test_request_ids_are_percent_encoded_in_the_query),
      cmocka_unit_test(test_username_refuses_ids_that_would_break_the_topic),
      cmocka_unit_test(test_registration_id_length_limit_is_128),
      cmocka_unit_test(test_request_builders_refuse_missing_or_oversized_ids),
      cmocka_unit_test(test_response_parser_reads_status_rid_and_retry_after),
      cmocka_unit_test(test_response_parser_leaves_neighbouring_topics_alone),
      cmocka_unit_test(test_response_parser_rejects_malformed_dps_topics),
      cmocka_unit_test(test_response_parser_honours_the_length_not_the_nul),
      cmocka_unit_test(test_builders_round_trip_through_the_parser_shape),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
