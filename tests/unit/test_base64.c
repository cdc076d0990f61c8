/* SPDX-License-Identifier: MIT */
/* Base64 (lib/common/base64.h). Vectors are those of RFC 4648 section 10, plus values checked
 * with coreutils: printf '\373\377\277' | base64 -> "+/+/". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/base64.h"

static const struct {
  const char *plain;
  const char *text;
} rfc4648[] = {
    {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

static void test_encode_matches_rfc4648_vectors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; ++i) {
    char buf[16];
    size_t len = 99;
    const size_t n = strlen(rfc4648[i].plain);
    assert_int_equal(iotc__base64_encode((const unsigned char *)rfc4648[i].plain, n, buf, sizeof buf, &len), IOTC_OK);
    assert_string_equal(buf, rfc4648[i].text);
    assert_int_equal(len, strlen(rfc4648[i].text));
    assert_int_equal(iotc__base64_encoded_len(n), len);
  }
}

static void test_decode_matches_rfc4648_vectors(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; ++i) {
    unsigned char buf[16];
    size_t len = 99;
    assert_int_equal(iotc__base64_decode(rfc4648[i].text, strlen(rfc4648[i].text), buf, sizeof buf, &len), IOTC_OK);
    assert_int_equal(len, strlen(rfc4648[i].plain));
    assert_memory_equal(buf, rfc4648[i].plain, len);
  }
}

static void test_plus_and_slash_are_the_last_two_digits(void **state) {
  (void)state;
  static const unsigned char bytes[] = {0xfb, 0xff, 0xbf};
  char text[8];
  assert_int_equal(iotc__base64_encode(bytes, sizeof bytes, text, sizeof text, NULL), IOTC_OK);
  assert_string_equal(text, "+/+/");
  unsigned char back[3];
  size_t len = 0;
  assert_int_equal(iotc__base64_decode("+/+/", 4, back, sizeof back, &len), IOTC_OK);
  assert_int_equal(len, 3);
  assert_memory_equal(back, bytes, 3);
}

static void test_every_length_and_byte_value_round_trips(void **state) {
  (void)state;
  unsigned char in[300];
  for (size_t i = 0; i < sizeof in; ++i) {
    in[i] = (unsigned char)(i * 167u + 13u); /* every byte value appears */
  }
  for (size_t n = 0; n <= sizeof in; ++n) {
    char text[404];
    size_t tlen = 0;
    assert_int_equal(iotc__base64_encode(in, n, text, sizeof text, &tlen), IOTC_OK);
    assert_int_equal(tlen, (n + 2) / 3 * 4);
    unsigned char out[300];
    size_t olen = 0;
    assert_int_equal(iotc__base64_decode(text, tlen, out, n, &olen), IOTC_OK);
    assert_int_equal(olen, n);
    if (n > 0) {
      assert_memory_equal(in, out, n);
    }
  }
}

static void test_encode_short_buffer_reports_size_and_writes_nothing(void **state) {
  (void)state;
  char buf[10];
  size_t len = 0;
  memset(buf, '#', sizeof buf);
  assert_int_equal(iotc__base64_encode((const unsigned char *)"foob", 4, buf, 8, &len), IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 8);
  for (size_t i = 0; i < sizeof buf; ++i) {
    assert_int_equal(buf[i], '#');
  }
  assert_int_equal(iotc__base64_encode((const unsigned char *)"foob", 4, buf, 9, &len), IOTC_OK);
  assert_string_equal(buf, "Zm9vYg==");
  assert_int_equal(buf[9], '#');
  assert_int_equal(iotc__base64_encode((const unsigned char *)"", 0, buf, 0, &len), IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 0);
}

static void test_decode_short_buffer_reports_size_and_writes_nothing(void **state) {
  (void)state;
  unsigned char buf[8];
  size_t len = 0;
  memset(buf, '#', sizeof buf);
  /* "Zm9vYg==" is 4 bytes: 3 would not hold it, even though the quads alone suggest 6. */
  assert_int_equal(iotc__base64_decode("Zm9vYg==", 8, buf, 3, &len), IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 4);
  for (size_t i = 0; i < sizeof buf; ++i) {
    assert_int_equal(buf[i], '#');
  }
  assert_int_equal(iotc__base64_decode("Zm9vYg==", 8, buf, 4, &len), IOTC_OK);
  assert_memory_equal(buf, "foob", 4);
  assert_int_equal(buf[4], '#'); /* padding bytes never land past the decoded length */
  assert_int_equal(iotc__base64_decode("", 0, NULL, 0, &len), IOTC_OK);
  assert_int_equal(len, 0);
}

static void test_decode_rejects_anything_but_canonical_base64(void **state) {
  (void)state;
  static const struct {
    const char *text;
    size_t len;
  } bad[] = {
      {"Zg", 2},         /* padding left out */
      {"Zg=", 3},        /* length not a multiple of 4 */
      {"Zg===", 5},      /* too much padding */
      {"Z===", 4},       /* three '=' in one quad */
      {"====", 4},       /* padding only */
      {"Zg=a", 4},       /* '=' before the end */
      {"Zg==Zg==", 8},   /* padding in the middle */
      {"Zh==", 4},       /* unused bits set: not the canonical text of "f" */
      {"Zm9=", 4},       /* the same with one '=' */
      {" Zm9v", 5},      /* leading space (EVP_DecodeBlock would strip it) */
      {"Zm9v\n", 5},     /* trailing newline */
      {"Zm9v    ", 8},   /* trailing spaces that make the length a multiple of 4 */
      {"Zm 9v   ", 8},   /* embedded space */
      {"Zm9\nv===", 8},  /* embedded newline */
      {"Zm9-", 4},       /* base64url '-' */
      {"Zm9_", 4},       /* base64url '_' */
      {"Zm\0v", 4},      /* embedded NUL */
      {"Zm9v\xc3\xa9==", 8}, /* non-ASCII */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    unsigned char buf[16];
    size_t len = 1234;
    memset(buf, '#', sizeof buf);
    assert_int_equal(iotc__base64_decode(bad[i].text, bad[i].len, buf, sizeof buf, &len), IOTC_ERR_BAD_ENCODING);
    assert_int_equal(len, 1234);
    assert_int_equal(buf[0], '#');
  }
}

static void test_null_arguments_are_refused(void **state) {
  (void)state;
  char text[8];
  unsigned char bytes[8];
  assert_int_equal(iotc__base64_encode(NULL, 1, text, sizeof text, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__base64_encode(bytes, 1, NULL, 8, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__base64_decode(NULL, 4, bytes, sizeof bytes, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__base64_decode("Zm9v", 4, NULL, 8, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__base64_encode(NULL, 0, text, sizeof text, NULL), IOTC_OK);
  assert_string_equal(text, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_encode_matches_rfc4648_vectors),
      cmocka_unit_test(test_decode_matches_rfc4648_vectors),
      cmocka_unit_test(test_plus_and_slash_are_the_last_two_digits),
      cmocka_unit_test(test_every_length_and_byte_value_round_trips),
      cmocka_unit_test(test_encode_short_buffer_reports_size_and_writes_nothing),
      cmocka_unit_test(test_decode_short_buffer_reports_size_and_writes_nothing),
      cmocka_unit_test(test_decode_rejects_anything_but_canonical_base64),
      cmocka_unit_test(test_null_arguments_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
