/* SPDX-License-Identifier: MIT */
/* Public functions that refuse an argument say why in the log, and never quote a key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "iotc/dps.h"
#include "iotc/log.h"
#include "iotc/sas.h"

static char last[1024];
static int errors;

static void on_log(iotc_log_level level, const char *message, void *ctx) {
  (void)ctx;
  if (level == IOTC_LOG_ERROR) {
    errors++;
    snprintf(last, sizeof last, "%s", message);
  }
}

static void expect_logged(const char *fn, const char *secret) {
  assert_true(errors > 0);
  assert_non_null(strstr(last, fn));
  if (secret) assert_null(strstr(last, secret));
  errors = 0;
  last[0] = '\0';
}

static void sas_functions_log_their_refusals_without_the_key(void **state) {
  (void)state;
  iotc_log_set_handler(on_log, IOTC_LOG_ERROR, NULL);
  char buf[256];
  const char *bad_key = "SeCrEt-not-base64!";
  assert_int_equal(iotc_sas_hub_token("h", "d", bad_key, 1, buf, sizeof buf, NULL),
                   IOTC_ERR_BAD_ENCODING);
  expect_logged("iotc_sas_hub_token", bad_key);
  assert_int_equal(iotc_sas_dps_token(NULL, "d", "AAAA", 1, buf, sizeof buf, NULL),
                   IOTC_ERR_INVALID_ARG);
  expect_logged("iotc_sas_dps_token", NULL);
  assert_int_equal(iotc_derive_device_key(bad_key, "d", buf, sizeof buf, NULL),
                   IOTC_ERR_BAD_ENCODING);
  expect_logged("iotc_derive_device_key", bad_key);
  assert_int_equal(iotc_derive_device_key("AAAA", "", buf, sizeof buf, NULL), IOTC_ERR_INVALID_ARG);
  expect_logged("iotc_derive_device_key", NULL);
  /* A size probe is not a refusal. */
  assert_int_equal(iotc_sas_hub_token("h", "d", "AAAA", 1, NULL, 0, NULL), IOTC_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(errors, 0);
  iotc_log_set_handler(NULL, IOTC_LOG_ERROR, NULL);
}

static void dps_create_logs_why_it_refused_even_without_an_error_struct(void **state) {
  (void)state;
  iotc_log_set_handler(on_log, IOTC_LOG_ERROR, NULL);
  iotc_dps *dps = NULL;
  assert_int_equal(iotc_dps_create(NULL, &dps, NULL), IOTC_ERR_INVALID_ARG);
  expect_logged("iotc_dps_create", NULL);
  iotc_dps_config cfg;
  iotc_dps_config_init(&cfg);
  cfg.id_scope = "0ne00000000";
  cfg.registration_id = "dev";
  cfg.credential = IOTC_DPS_CREDENTIAL_DEVICE_KEY;
  cfg.key = "SeCrEt-not-base64!";
  assert_int_equal(iotc_dps_create(&cfg, &dps, NULL), IOTC_ERR_BAD_ENCODING);
  assert_null(dps);
  expect_logged("iotc_dps_create", cfg.key);
  iotc_log_set_handler(NULL, IOTC_LOG_ERROR, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sas_functions_log_their_refusals_without_the_key),
      cmocka_unit_test(dps_create_logs_why_it_refused_even_without_an_error_struct),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
