/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/url.h"

static void test_unreserved_set_is_exactly_rfc3986(void **state) {
  (void)state;
  for (int c = 0; c < 256; ++c) {
    bool want = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~';
    assert_int_equal(iotc__url_is_unreserved((char)c), want);
  }
}

static void test_encode_escapes_reserved_bytes_in_uppercase(void **state) {
  (void)state;
  const struct {
    const char *in, *out;
  } cases[] = {
      {"a b", "a%20b"},       {"a+b", "a%2Bb"},   {"100%", "100%25"},   {"k=v&x", "k%3Dv%26x"},
      {"/?#[]@", "%2F%3F%23%5B%5D%40"},            {"~-._Az09", "~-._Az09"},
      {"caf\xc3\xa9", "caf%C3%A9"},                {"\x01\x7f\xff", "%01%7F%FF"},
      {"", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    char buf[64];
    size_t n = 999;
    size_t in_len = strlen(cases[i].in);
    assert_int_equal(iotc__url_encode(cases[i].in, in_len, buf, sizeof buf, &n), IOTC_OK);
    assert_string_equal(buf, cases[i].out);
    assert_int_equal(n, strlen(cases[i].out));
    assert_int_equal(iotc__url_encoded_len(cases[i].in, in_len), n);
    /* The raw writer produces the same bytes without a NUL. */
    char raw[64];
    memset(raw, 'Z', sizeof raw);
    char *end = iotc__url_encode_to(cases[i].in, in_len, raw);
    assert_int_equal((size_t)(end - raw), n);
    assert_memory_equal(raw, cases[i].out, n);
    assert_int_equal(raw[n], 'Z');
  }
}

static void test_encode_at_buffer_boundaries_writes_all_or_nothing(void **state) {
  (void)state;
  const char *in = "a b"; /* "a%20b": 5 bytes + NUL */
  char buf[8];
  const size_t sizes[] = {0, 1, 5};
  for (size_t i = 0; i < 3; ++i) {
    memset(buf, 'Z', sizeof buf);
    size_t n = 0;
    assert_int_equal(iotc__url_encode(in, 3, buf, sizes[i], &n), IOTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 5);
    for (size_t k = 0; k < sizeof buf; ++k) {
      assert_int_equal(buf[k], 'Z');
    }
  }
  memset(buf, 'Z', sizeof buf);
  assert_int_equal(iotc__url_encode(in, 3, buf, 6, NULL), IOTC_OK);
  assert_string_equal(buf, "a%20b");
  assert_int_equal(buf[6], 'Z');
  /* Only in_len bytes are read: the rest of the string is ignored. */
  assert_int_equal(iotc__url_encode("abc def", 3, buf, sizeof buf, NULL), IOTC_OK);
  assert_string_equal(buf, "abc");
}

static void test_encode_and_decode_refuse_null_arguments(void **state) {
  (void)state;
  char buf[4];
  assert_int_equal(iotc__url_encode(NULL, 1, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__url_encode("a", 1, NULL, 4, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__url_decode(NULL, 1, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__url_decode("a", 1, NULL, 4, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__url_encode(NULL, 0, buf, sizeof buf, NULL), IOTC_OK);
  assert_string_equal(buf, "");
  assert_int_equal(iotc__url_decode(NULL, 0, buf, sizeof buf, NULL), IOTC_OK);
  assert_string_equal(buf, "");
}

static void test_decode_reverses_encode_for_every_byte(void **state) {
  (void)state;
  char in[255];
  for (int i = 0; i < 255; ++i) {
    in[i] = (char)(i + 1); /* every byte but NUL */
  }
  char enc[3 * 255 + 1], dec[256];
  size_t n = 0, m = 0;
  assert_int_equal(iotc__url_encode(in, sizeof in, enc, sizeof enc, &n), IOTC_OK);
  assert_int_equal(iotc__url_decode(enc, n, dec, sizeof dec, &m), IOTC_OK);
  assert_int_equal(m, sizeof in);
  assert_memory_equal(dec, in, sizeof in);
}

static void test_decode_keeps_plus_and_accepts_both_hex_cases(void **state) {
  (void)state;
  char buf[16];
  size_t n;
  assert_int_equal(iotc__url_decode("a+b%2f%2F", 9, buf, sizeof buf, &n), IOTC_OK);
  assert_string_equal(buf, "a+b//");
  assert_int_equal(n, 5);
}

static void test_decode_refuses_broken_escapes_and_writes_nothing(void **state) {
  (void)state;
  const char *bad[] = {"%", "a%", "%2", "a%2", "%zz", "%2g", "%g2", "%00", "ok%0"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    /* Exactly-sized heap copy without NUL: a read past the end would be caught. */
    size_t len = strlen(bad[i]);
    char *in = malloc(len);
    assert_non_null(in);
    memcpy(in, bad[i], len);
    char buf[8] = "ZZZZZZZ";
    assert_int_equal(iotc__url_decode(in, len, buf, sizeof buf, NULL), IOTC_ERR_BAD_ENCODING);
    assert_string_equal(buf, "ZZZZZZZ");
    free(in);
  }
}

static void test_decode_refuses_a_raw_nul_that_would_cut_the_text_short(void **state) {
  (void)state;
  static const char in[] = {'a', 'b', '\0', 'c'};
  char buf[8] = "ZZZZZZZ";
  size_t n = 99;
  assert_int_equal(iotc__url_decode(in, sizeof in, buf, sizeof buf, &n), IOTC_ERR_BAD_ENCODING);
  assert_string_equal(buf, "ZZZZZZZ");
  assert_int_equal(n, 99);
}

static void test_decode_at_buffer_boundaries_writes_all_or_nothing(void **state) {
  (void)state;
  char buf[8];
  const size_t sizes[] = {0, 3};
  for (size_t i = 0; i < 2; ++i) {
    memset(buf, 'Z', sizeof buf);
    size_t n = 0;
    assert_int_equal(iotc__url_decode("a%20b", 5, buf, sizes[i], &n), IOTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(n, 3);
    for (size_t k = 0; k < sizeof buf; ++k) {
      assert_int_equal(buf[k], 'Z');
    }
  }
  memset(buf, 'Z', sizeof buf);
  assert_int_equal(iotc__url_decode("a%20b", 5, buf, 4, NULL), IOTC_OK);
  assert_string_equal(buf, "a b");
  assert_int_equal(buf[4], 'Z');
}

static void test_hex_value_reads_both_cases(void **state) {
  (void)state;
  assert_int_equal(iotc__url_hex_value('0'), 0);
  assert_int_equal(iotc__url_hex_value('9'), 9);
  assert_int_equal(iotc__url_hex_value('a'), 10);
  assert_int_equal(iotc__url_hex_value('F'), 15);
  assert_int_equal(iotc__url_hex_value('g'), -1);
  assert_int_equal(iotc__url_hex_value('/'), -1);
  assert_int_equal(iotc__url_hex_value('\0'), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unreserved_set_is_exactly_rfc3986),
      cmocka_unit_test(test_encode_escapes_reserved_bytes_in_uppercase),
      cmocka_unit_test(test_encode_at_buffer_boundaries_writes_all_or_nothing),
      cmocka_unit_test(test_encode_and_decode_refuse_null_arguments),
      cmocka_unit_test(test_decode_reverses_encode_for_every_byte),
      cmocka_unit_test(test_decode_keeps_plus_and_accepts_both_hex_cases),
      cmocka_unit_test(test_decode_refuses_broken_escapes_and_writes_nothing),
      cmocka_unit_test(test_decode_refuses_a_raw_nul_that_would_cut_the_text_short),
      cmocka_unit_test(test_decode_at_buffer_boundaries_writes_all_or_nothing),
      cmocka_unit_test(test_hex_value_reads_both_cases),
  };
  return cmocka_run_group_tests_name("percent-encoding", tests, NULL, NULL);
}
