/* SPDX-License-Identifier: MIT */
/* HMAC-SHA256 (lib/common/hmac.h) and secret wiping (lib/common/secret.h).
 * HMAC vectors: RFC 4231 test cases 1, 2 and 6, re-checked with python3
 * (hmac.new(key, msg, hashlib.sha256).hexdigest()); the empty key/empty message value was
 * computed with python3 the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/hmac.h"
#include "common/secret.h"

static void to_hex(const unsigned char *in, size_t n, char *out) {
  for (size_t i = 0; i < n; ++i) {
    snprintf(out + 2 * i, 3, "%02x", in[i]);
  }
}

static void assert_hmac(const void *key, size_t key_len, const char *msg, const char *hex) {
  unsigned char mac[IOTC__SHA256_LEN];
  char got[2 * IOTC__SHA256_LEN + 1];
  assert_int_equal(iotc__hmac_sha256(key, key_len, msg, strlen(msg), mac), IOTC_OK);
  to_hex(mac, sizeof mac, got);
  assert_string_equal(got, hex);
}

static void test_hmac_matches_rfc4231_vectors(void **state) {
  (void)state;
  unsigned char key[131];
  memset(key, 0x0b, 20);
  assert_hmac(key, 20, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  assert_hmac("Jefe", 4, "what do ya want for nothing?",
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  /* A key longer than the SHA-256 block is hashed first. */
  memset(key, 0xaa, sizeof key);
  assert_hmac(key, sizeof key, "Test Using Larger Than Block-Size Key - Hash Key First",
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_hmac_accepts_empty_key_and_message(void **state) {
  (void)state;
  assert_hmac(NULL, 0, "", "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  unsigned char mac[IOTC__SHA256_LEN];
  assert_int_equal(iotc__hmac_sha256(NULL, 0, NULL, 0, mac), IOTC_OK);
}

static void test_hmac_refuses_null_with_a_length(void **state) {
  (void)state;
  unsigned char mac[IOTC__SHA256_LEN];
  assert_int_equal(iotc__hmac_sha256(NULL, 1, "m", 1, mac), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__hmac_sha256("k", 1, NULL, 1, mac), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__hmac_sha256("k", 1, "m", 1, NULL), IOTC_ERR_INVALID_ARG);
}

static void test_wipe_zeroes_memory_and_accepts_null(void **state) {
  (void)state;
  unsigned char buf[37];
  memset(buf, 0xa5, sizeof buf);
  iotc__wipe(buf + 1, sizeof buf - 2);
  assert_int_equal(buf[0], 0xa5);
  for (size_t i = 1; i < sizeof buf - 1; ++i) {
    assert_int_equal(buf[i], 0);
  }
  assert_int_equal(buf[sizeof buf - 1], 0xa5);
  iotc__wipe(NULL, 10);
  iotc__wipe(buf, 0);
}

static void test_secret_strings_copy_and_free(void **state) {
  (void)state;
  char *copy = iotc__secret_dup("SharedAccessSignature sr=x&sig=y&se=1");
  assert_non_null(copy);
  assert_string_equal(copy, "SharedAccessSignature sr=x&sig=y&se=1");
  iotc__secret_free(copy); /* ASan reports a leak or double free if this is wrong */
  assert_null(iotc__secret_dup(NULL));
  iotc__secret_free(NULL);
  iotc_free(NULL); /* public counterpart: NULL is a no-op too */
  unsigned char *raw = malloc(16);
  assert_non_null(raw);
  memset(raw, 1, 16);
  iotc__secret_free_n(raw, 16);
  iotc__secret_free_n(NULL, 16);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hmac_matches_rfc4231_vectors),
      cmocka_unit_test(test_hmac_accepts_empty_key_and_message),
      cmocka_unit_test(test_hmac_refuses_null_with_a_length),
      cmocka_unit_test(test_wipe_zeroes_memory_and_accepts_null),
      cmocka_unit_test(test_secret_strings_copy_and_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
