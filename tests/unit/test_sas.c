/* SPDX-License-Identifier: MIT */
/* SAS tokens and derived device keys.
 *
 * Expected values were computed outside the library, with python3's hmac, hashlib, base64 and
 * urllib.parse.quote(resource, safe='-._~'):
 *   sr  = quote(resource); sig = b64encode(hmac.new(b64decode(key), f"{sr}\n{se}", sha256))
 *   token = f"SharedAccessSignature sr={sr}&sig={quote(sig)}&se={se}" [+ "&skn=registration"]
 * and cross-checked with the openssl CLI, e.g. for the first hub token:
 *   printf 'myiothub.azure-devices.net%%2Fdevices%%2Fmy_device\n1578941692' |
 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf %s "$KEY" | base64 -d | od -An -tx1 |
 *     tr -d ' \n') -binary | base64      -> Dw6NxkeYw90bGmPiiiixKov1nodnHd18oSa/FZwM7og=
 * The keys are random (openssl rand -base64 32 / 64) and belong to nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "iotc/sas.h"

static const char device_key[] = "rdRYwBVZxEOciRpVTGjf4Qgg4hUJVR98mMw6J7hBsHM=";
static const char group_key[] =
    "r+gqFwjnugy6EP6M5rnLb4nWEMF73kOdH9N5+Lb3NnH6N7gVkGRqOF5yKCtIZwXlArTPPvEOcsPwV9C4BnNCOg==";

static const char hub_token[] =
    "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_device"
    "&sig=Dw6NxkeYw90bGmPiiiixKov1nodnHd18oSa%2FFZwM7og%3D&se=1578941692";

static void test_hub_token_matches_an_independently_computed_token(void **state) {
  (void)state;
  char buf[512];
  size_t len = 0;
  assert_int_equal(iotc_sas_hub_token("myiothub.azure-devices.net", "my_device", device_key,
                                      1578941692u, buf, sizeof buf, &len),
                   IOTC_OK);
  assert_string_equal(buf, hub_token);
  assert_int_equal(len, strlen(hub_token));
}

static void test_hub_host_with_port_keeps_the_port_in_sr(void **state) {
  (void)state;
  char buf[512];
  assert_int_equal(iotc_sas_hub_token("localhost:46255", "dev-mqtt-1", device_key, 1795710196u,
                                      buf, sizeof buf, NULL),
                   IOTC_OK);
  assert_string_equal(buf, "SharedAccessSignature sr=localhost%3A46255%2Fdevices%2Fdev-mqtt-1"
                           "&sig=Wz9odck6m6j86fbexxZlsqiqMITl9Bv8B9BbMCqoFq8%3D&se=1795710196");
}

static void test_hub_token_percent_encodes_device_id_and_signs_the_encoded_sr(void **state) {
  (void)state;
  char buf[512];
  assert_int_equal(
      iotc_sas_hub_token("hub.example", "a b/c#d&e", device_key, 0, buf, sizeof buf, NULL),
      IOTC_OK);
  assert_string_equal(buf, "SharedAccessSignature sr=hub.example%2Fdevices%2Fa%20b%2Fc%23d%26e"
                           "&sig=sZxTaiGq81bR56Ia4a1qJNhiK48VaR%2BPtmuznZxPYXg%3D&se=0");
}

static void test_hub_token_writes_the_largest_expiry_in_full(void **state) {
  (void)state;
  char buf[512];
  assert_int_equal(iotc_sas_hub_token("myiothub.azure-devices.net", "my_device", device_key,
                                      UINT64_MAX, buf, sizeof buf, NULL),
                   IOTC_OK);
  assert_string_equal(buf, "SharedAccessSignature sr=myiothub.azure-devices.net%2Fdevices%2Fmy_"
                           "device&sig=OSICuaf1Z3obFXLMcYLyKlTOzfee3sTLyFLOPTJ7h48%3D"
                           "&se=18446744073709551615");
}

static void test_dps_token_matches_an_independently_computed_token(void **state) {
  (void)state;
  char buf[512];
  size_t len = 0;
  static const char want[] =
      "SharedAccessSignature sr=0ne00ABCDEF%2Fregistrations%2Fdev-mqtt-1"
      "&sig=INnDdyzRJk7Uit%2FLNUgfVuHh5YINwZf6tf7Emjw3Le0%3D&se=1795710195&skn=registration";
  assert_int_equal(iotc_sas_dps_token("0ne00ABCDEF", "dev-mqtt-1", device_key, 1795710195u, buf,
                                      sizeof buf, &len),
                   IOTC_OK);
  assert_string_equal(buf, want);
  assert_int_equal(len, strlen(want));
}

static void test_token_buffer_of_exact_size_succeeds_and_one_less_writes_nothing(void **state) {
  (void)state;
  const size_t n = strlen(hub_token);
  char buf[512];
  size_t len = 0;
  /* Size query without a buffer. */
  assert_int_equal(iotc_sas_hub_token("myiothub.azure-devices.net", "my_device", device_key,
                                      1578941692u, NULL, 0, &len),
                   IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, n);
  /* One byte short (no room for the NUL): nothing written. */
  memset(buf, '#', sizeof buf);
  len = 0;
  assert_int_equal(iotc_sas_hub_token("myiothub.azure-devices.net", "my_device", device_key,
                                      1578941692u, buf, n, &len),
                   IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, n);
  for (size_t i = 0; i < sizeof buf; ++i) {
    assert_int_equal(buf[i], '#');
  }
  /* Exactly the length plus the NUL. */
  assert_int_equal(iotc_sas_hub_token("myiothub.azure-devices.net", "my_device", device_key,
                                      1578941692u, buf, n + 1, &len),
                   IOTC_OK);
  assert_string_equal(buf, hub_token);
  assert_int_equal(buf[n + 1], '#');
}

static void test_token_rejects_null_empty_and_oversized_arguments(void **state) {
  (void)state;
  char buf[512];
  char big[IOTC_SAS_MAX_FIELD_LEN + 2];
  memset(big, 'h', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  const char *h = "hub.example";
  assert_int_equal(iotc_sas_hub_token(NULL, "d", device_key, 1, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_sas_hub_token("", "d", device_key, 1, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_sas_hub_token(h, NULL, device_key, 1, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_sas_hub_token(h, "", device_key, 1, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_sas_hub_token(h, "d", NULL, 1, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_sas_hub_token(h, "d", "", 1, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_sas_hub_token(h, "d", device_key, 1, NULL, 10, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_sas_hub_token(big, "d", device_key, 1, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_sas_dps_token("scope", big, device_key, 1, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_sas_dps_token(NULL, "r", device_key, 1, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  /* The longest accepted field still fits the internal buffers. */
  big[IOTC_SAS_MAX_FIELD_LEN] = '\0';
  char huge[3 * 2 * IOTC_SAS_MAX_FIELD_LEN + 256];
  assert_int_equal(iotc_sas_hub_token(big, big, device_key, 1, huge, sizeof huge, NULL), IOTC_OK);
}

static void test_token_rejects_a_key_that_is_not_base64(void **state) {
  (void)state;
  char buf[512];
  static const char *const bad[] = {
      "rdRYwBVZxEOciRpVTGjf4Qgg4hUJVR98mMw6J7hBsHM",    /* padding missing */
      "rdRYwBVZxEOciRpVTGjf4Qgg4hUJVR98mMw6J7hBsHM=\n", /* trailing newline */
      "rdRYwBVZxEOciRpVTGjf4Qgg 4hUJVR98mMw6J7hBsHM=",  /* embedded space */
      "rdRYwBVZxEOciRpVTGjf4Qgg4hUJVR98mMw6J7hBsH_=",   /* base64url character */
      "not a key!",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    size_t len = 1234;
    assert_int_equal(iotc_sas_hub_token("h", "d", bad[i], 1, buf, sizeof buf, &len),
                     IOTC_ERR_BAD_ENCODING);
    assert_int_equal(len, 1234);
    assert_int_equal(iotc_sas_dps_token("s", "r", bad[i], 1, buf, sizeof buf, NULL),
                     IOTC_ERR_BAD_ENCODING);
    assert_int_equal(iotc_derive_device_key(bad[i], "r", buf, sizeof buf, NULL),
                     IOTC_ERR_BAD_ENCODING);
  }
  char long_key[IOTC_SAS_MAX_KEY_LEN + 5];
  memset(long_key, 'A', sizeof long_key - 1);
  long_key[sizeof long_key - 1] = '\0';
  assert_int_equal(iotc_sas_hub_token("h", "d", long_key, 1, buf, sizeof buf, NULL),
                   IOTC_ERR_INVALID_ARG);
}

static void test_derived_key_matches_independently_computed_vectors(void **state) {
  (void)state;
  /* printf %s dev1 | openssl dgst -sha256 -mac HMAC -macopt hexkey:<hex of group key> -binary
   * | base64, and the same with python3 hmac. */
  static const struct {
    const char *id;
    const char *key;
  } vectors[] = {
      {"dev1", "Ns6t/TJ9eFtbi9oe1Br3CwHJvg5qIGKx1MBQf+zts4s="},
      {"sample-device-01", "uXFnS2+5qfzbkRsIHyBxGC1/mZgP9vuKA7gjXRyu6zg="},
  };
  for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; ++i) {
    char buf[IOTC_DERIVED_KEY_SIZE];
    size_t len = 0;
    assert_int_equal(iotc_derive_device_key(group_key, vectors[i].id, buf, sizeof buf, &len),
                     IOTC_OK);
    assert_string_equal(buf, vectors[i].key);
    assert_int_equal(len, IOTC_DERIVED_KEY_SIZE - 1);
  }
}

static void test_derived_key_signs_a_dps_token_like_any_device_key(void **state) {
  (void)state;
  char derived[IOTC_DERIVED_KEY_SIZE];
  assert_int_equal(iotc_derive_device_key(group_key, "dev1", derived, sizeof derived, NULL), IOTC_OK);
  char a[512];
  char b[512];
  assert_int_equal(iotc_sas_dps_token("0ne00ABCDEF", "dev1", derived, 42, a, sizeof a, NULL), IOTC_OK);
  assert_int_equal(iotc_sas_dps_token("0ne00ABCDEF", "dev1",
                                      "Ns6t/TJ9eFtbi9oe1Br3CwHJvg5qIGKx1MBQf+zts4s=", 42, b,
                                      sizeof b, NULL),
                   IOTC_OK);
  assert_string_equal(a, b);
}

static void test_derived_key_buffer_boundaries_and_bad_arguments(void **state) {
  (void)state;
  char buf[IOTC_DERIVED_KEY_SIZE + 1];
  size_t len = 0;
  assert_int_equal(iotc_derive_device_key(group_key, "dev1", NULL, 0, &len), IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 44);
  memset(buf, '#', sizeof buf);
  assert_int_equal(iotc_derive_device_key(group_key, "dev1", buf, 44, &len), IOTC_ERR_BUFFER_TOO_SMALL);
  for (size_t i = 0; i < sizeof buf; ++i) {
    assert_int_equal(buf[i], '#');
  }
  assert_int_equal(iotc_derive_device_key(group_key, "dev1", buf, 45, NULL), IOTC_OK);
  assert_string_equal(buf, "Ns6t/TJ9eFtbi9oe1Br3CwHJvg5qIGKx1MBQf+zts4s=");
  assert_int_equal(buf[45], '#');
  assert_int_equal(iotc_derive_device_key(NULL, "dev1", buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_derive_device_key("", "dev1", buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_derive_device_key(group_key, NULL, buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_derive_device_key(group_key, "", buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_derive_device_key(group_key, "dev1", NULL, 45, NULL), IOTC_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hub_token_matches_an_independently_computed_token),
      cmocka_unit_test(test_hub_host_with_port_keeps_the_port_in_sr),
      cmocka_unit_test(test_hub_token_percent_encodes_device_id_and_signs_the_encoded_sr),
      cmocka_unit_test(test_hub_token_writes_the_largest_expiry_in_full),
      cmocka_unit_test(test_dps_token_matches_an_independently_computed_token),
      cmocka_unit_test(test_token_buffer_of_exact_size_succeeds_and_one_less_writes_nothing),
      cmocka_unit_test(test_token_rejects_null_empty_and_oversized_arguments),
      cmocka_unit_test(test_token_rejects_a_key_that_is_not_base64),
      cmocka_unit_test(test_derived_key_matches_independently_computed_vectors),
      cmocka_unit_test(test_derived_key_signs_a_dps_token_like_any_device_key),
      cmocka_unit_test(test_derived_key_buffer_boundaries_and_bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
