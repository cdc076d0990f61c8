/* SPDX-License-Identifier: MIT */
/* The MQTT proxy decision: which proxy Paho gets, when it connects directly, and when iotc
 * refuses because Paho 1.3.12 would break or ignore no_proxy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/proxy.h"

static iotc_result decide(const char *host, const char *lower, const char *upper,
                          const char *no_proxy, char *url) {
  iotc__proxy_env env = {lower, upper, no_proxy, NULL};
  const char *why = NULL;
  memset(url, 0x5A, IOTC__PROXY_URL_SIZE);
  iotc_result r = iotc__mqtt_proxy(host, &env, url, IOTC__PROXY_URL_SIZE, &why);
  assert_non_null(why);
  if (r != IOTC_OK) assert_true(why[0] != '\0');
  return r;
}

static void test_without_proxy_variables_mqtt_connects_directly(void **state) {
  (void)state;
  char url[IOTC__PROXY_URL_SIZE];
  assert_int_equal(decide("hub.example.net:8883", NULL, NULL, NULL, url), IOTC_OK);
  assert_string_equal(url, "");
  assert_int_equal(decide("hub.example.net", NULL, "", "x", url), IOTC_OK);
  assert_string_equal(url, "");
}

static void test_an_http_scheme_is_rewritten_to_the_form_paho_accepts(void **state) {
  (void)state;
  char url[IOTC__PROXY_URL_SIZE];
  const struct {
    const char *in, *out;
  } cases[] = {
      {"http://proxy.corp:3128", "https://proxy.corp:3128"},
      {"HTTP://proxy.corp:3128/", "https://proxy.corp:3128"},
      {"https://proxy.corp:8443", "https://proxy.corp:8443"},
      {"proxy.corp:3128", "https://proxy.corp:3128"},
      {"http://proxy.corp", "https://proxy.corp:1080"},
      {"http://user:p%40ss@proxy.corp:3128", "https://user:p%40ss@proxy.corp:3128"},
      {"http://[::1]:3128", "https://[::1]:3128"},
      {"http://[fd00::2]", "https://[fd00::2]:1080"},
      {"http://127.0.0.1:65535", "https://127.0.0.1:65535"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(decide("hub.example.net:8883", cases[i].in, NULL, NULL, url), IOTC_OK);
    assert_string_equal(url, cases[i].out);
  }
}

static void test_upper_case_https_proxy_is_used_when_the_lower_case_one_is_absent(void **state) {
  (void)state;
  char url[IOTC__PROXY_URL_SIZE];
  assert_int_equal(decide("hub", NULL, "http://up:1", NULL, url), IOTC_OK);
  assert_string_equal(url, "https://up:1");
  assert_int_equal(decide("hub", "http://low:2", "http://up:1", NULL, url), IOTC_OK);
  assert_string_equal(url, "https://low:2");
}

static void test_no_proxy_makes_mqtt_direct_when_paho_does_not_read_the_proxy(void **state) {
  (void)state;
  char url[IOTC__PROXY_URL_SIZE];
  assert_int_equal(decide("localhost:4711", NULL, "http://up:1", "localhost", url), IOTC_OK);
  assert_string_equal(url, "");
  iotc__proxy_env env = {NULL, "http://up:1", NULL, ".example.net"}; /* NO_PROXY */
  const char *why = NULL;
  assert_int_equal(iotc__mqtt_proxy("a.example.net", &env, url, sizeof url, &why), IOTC_OK);
  assert_string_equal(url, "");
}

static void test_no_proxy_with_lower_case_https_proxy_is_refused_with_the_reason(void **state) {
  (void)state;
  char url[IOTC__PROXY_URL_SIZE];
  iotc__proxy_env env = {"http://low:2", NULL, "localhost,127.0.0.1", NULL};
  const char *why = NULL;
  assert_int_equal(iotc__mqtt_proxy("localhost:4711", &env, url, sizeof url, &why),
                   IOTC_ERR_NOT_SUPPORTED);
  assert_non_null(strstr(why, "no_proxy"));
  assert_non_null(strstr(why, "unset https_proxy"));
  assert_string_equal(url, "");
  /* a host not in the list still goes through the proxy */
  assert_int_equal(iotc__mqtt_proxy("hub.example.net", &env, url, sizeof url, &why), IOTC_OK);
  assert_string_equal(url, "https://low:2");
}

static void test_an_empty_lower_case_https_proxy_is_refused(void **state) {
  (void)state;
  char url[IOTC__PROXY_URL_SIZE];
  assert_int_equal(decide("hub", "", NULL, NULL, url), IOTC_ERR_NOT_SUPPORTED);
  /* HTTPS_PROXY then speaks for it, and the explicit value overrides the empty variable */
  assert_int_equal(decide("hub", "", "http://up:1", NULL, url), IOTC_OK);
  assert_string_equal(url, "https://up:1");
}

static void test_unusable_proxy_values_are_refused(void **state) {
  (void)state;
  char url[IOTC__PROXY_URL_SIZE];
  assert_int_equal(decide("hub", "socks5://p:1080", NULL, NULL, url), IOTC_ERR_NOT_SUPPORTED);
  const char *bad[] = {"http://",        "http://:3128",        "http://p:0",
                       "http://p:65536", "http://p:12a",        "http://p:",
                       "http://a@b@p:1", "http://@p:1",         "http://p:1/path",
                       "http://p:1?x",   "http://::1:3128",     "http://[::1:3128",
                       "http://p x:1",   "http://[::1]x"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (decide("hub", bad[i], NULL, NULL, url) != IOTC_ERR_INVALID_ARG) fail_msg("%s", bad[i]);
  }
}

static void test_a_short_output_buffer_is_reported(void **state) {
  (void)state;
  iotc__proxy_env env = {"http://proxy.corp:3128", NULL, NULL, NULL};
  char url[16];
  const char *why = NULL;
  assert_int_equal(iotc__mqtt_proxy("hub", &env, url, sizeof url, &why),
                   IOTC_ERR_BUFFER_TOO_SMALL);
  char fits[sizeof "https://proxy.corp:3128"];
  assert_int_equal(iotc__mqtt_proxy("hub", &env, fits, sizeof fits, &why), IOTC_OK);
  assert_string_equal(fits, "https://proxy.corp:3128");
  assert_int_equal(iotc__mqtt_proxy(NULL, &env, fits, sizeof fits, &why), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__mqtt_proxy("hub", NULL, fits, sizeof fits, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__mqtt_proxy("hub", &env, fits, 0, &why), IOTC_ERR_INVALID_ARG);
}

static void test_no_proxy_matches_like_curl(void **state) {
  (void)state;
  const struct {
    const char *host, *list;
    bool match;
  } cases[] = {
      {"localhost", "localhost", true},
      {"localhost:8883", "localhost", true},
      {"LocalHost", "localhost", true},
      {"hub.example.net", "example.net", true},
      {"hub.example.net", ".example.net", true},
      {"example.net", ".example.net", true},
      {"badexample.net", "example.net", false},
      {"example.net.evil", "example.net", false},
      {"hub.example.net", " other.org , example.net ", true},
      {"hub.example.net", "other.org,,", false},
      {"anything", "*", true},
      {"anything", "*.example.net", false},
      {"127.0.0.1:8883", "127.0.0.1", true},
      {"127.0.0.10", "127.0.0.1", false},
      {"[::1]:8883", "::1", true},
      {"[::1]:8883", "[::1]", true},
      {"localhost", "localhost:9999", true},
      {"hub.example.net.", "example.net", true},
      {"localhost", "", false},
      {"localhost", NULL, false},
      {"", "*", false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (iotc__no_proxy_match(cases[i].host, cases[i].list) != cases[i].match) {
      fail_msg("%s in '%s'", cases[i].host, cases[i].list ? cases[i].list : "(null)");
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_without_proxy_variables_mqtt_connects_directly),
      cmocka_unit_test(test_an_http_scheme_is_rewritten_to_the_form_paho_accepts),
      cmocka_unit_test(test_upper_case_https_proxy_is_used_when_the_lower_case_one_is_absent),
      cmocka_unit_test(test_no_proxy_makes_mqtt_direct_when_paho_does_not_read_the_proxy),
      cmocka_unit_test(test_no_proxy_with_lower_case_https_proxy_is_refused_with_the_reason),
      cmocka_unit_test(test_an_empty_lower_case_https_proxy_is_refused),
      cmocka_unit_test(test_unusable_proxy_values_are_refused),
      cmocka_unit_test(test_a_short_output_buffer_is_reported),
      cmocka_unit_test(test_no_proxy_matches_like_curl),
  };
  return cmocka_run_group_tests_name("mqtt proxy decision", tests, NULL, NULL);
}
