/* SPDX-License-Identifier: MIT */
/* libcurl is loaded on the first HTTPS request only. This program is linked with
 * -Wl,--wrap=dlopen, and its dlopen() refuses libcurl as a machine without the package would:
 * HTTPS provisioning then fails with IOTC_ERR_NOT_SUPPORTED and a message naming libcurl, and
 * MQTT provisioning never asks for libcurl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "iotc/dps.h"

void *__real_dlopen(const char *file, int mode);
void *__wrap_dlopen(const char *file, int mode);

static int curl_asked;

void *__wrap_dlopen(const char *file, int mode) {
  if (file != NULL && strstr(file, "libcurl") != NULL) {
    curl_asked++;
    return NULL;
  }
  return __real_dlopen(file, mode);
}

static void base_config(iotc_dps_config *cfg) {
  iotc_dps_config_init(cfg);
  cfg->id_scope = "0ne00ABCDEF";
  cfg->registration_id = "dev-1";
  cfg->credential = IOTC_DPS_CREDENTIAL_DEVICE_KEY;
  cfg->key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  cfg->endpoint = "127.0.0.1:1"; /* nothing listens there */
}

/* Runs first: nothing has asked for libcurl yet in this process. */
static void test_mqtt_provisioning_never_loads_libcurl(void **state) {
  (void)state;
  iotc_dps_config cfg;
  base_config(&cfg);
  iotc_dps_registration reg;
  iotc_error err;
  assert_int_equal(iotc_dps_register(&cfg, &reg, &err), IOTC_ERR_CONNECT);
  assert_int_equal(curl_asked, 0);
}

static void test_https_provisioning_without_libcurl_is_not_supported_and_says_so(void **state) {
  (void)state;
  iotc_dps_config cfg;
  base_config(&cfg);
  cfg.transport = IOTC_DPS_TRANSPORT_HTTPS;
  iotc_dps_registration reg;
  iotc_error err;
  assert_int_equal(iotc_dps_register(&cfg, &reg, &err), IOTC_ERR_NOT_SUPPORTED);
  assert_int_equal(err.result, IOTC_ERR_NOT_SUPPORTED);
  assert_non_null(strstr(err.message, "libcurl"));
  assert_non_null(strstr(err.message, "libcurl4")); /* the package to install */
  assert_int_equal(curl_asked, 1);
  /* The answer holds for the process: libcurl is not looked for again on every request. */
  assert_int_equal(iotc_dps_register(&cfg, &reg, &err), IOTC_ERR_NOT_SUPPORTED);
  assert_non_null(strstr(err.message, "libcurl"));
  assert_int_equal(curl_asked, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mqtt_provisioning_never_loads_libcurl),
      cmocka_unit_test(test_https_provisioning_without_libcurl_is_not_supported_and_says_so),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
