/* SPDX-License-Identifier: MIT */
/* Provisioning without a network: configuration checks, the default trust bundle, response
 * interpretation, cancellation and local connection failures. The end-to-end flows run against
 * the emulator in tests/integration/test_dps_*.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <unistd.h>

#include "dps/dps_internal.h"
#include "iotc/dps.h"

/* 32 zero bytes in base64: a syntactically valid key. */
#define KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void base_config(iotc_dps_config *cfg) {
  iotc_dps_config_init(cfg);
  cfg->id_scope = "0ne00ABCDEF";
  cfg->registration_id = "dev-1";
  cfg->credential = IOTC_DPS_CREDENTIAL_DEVICE_KEY;
  cfg->key = KEY;
}

static iotc_result create_with(const iotc_dps_config *cfg, iotc_error *err) {
  iotc_dps *dps = NULL;
  iotc_result r = iotc_dps_create(cfg, &dps, err);
  if (r == IOTC_OK) {
    assert_non_null(dps);
  } else {
    assert_null(dps);
    assert_int_equal(err->result, r);
    assert_true(err->message[0] != '\0');
    assert_null(strstr(err->message, KEY));
  }
  iotc_dps_destroy(dps);
  return r;
}

static void test_config_init_sets_version_and_defaults(void **state) {
  (void)state;
  iotc_dps_config cfg;
  memset(&cfg, 0x5a, sizeof cfg);
  iotc_dps_config_init(&cfg);
  assert_int_equal(cfg.struct_version, IOTC_DPS_CONFIG_VERSION);
  assert_int_equal(cfg.transport, IOTC_DPS_TRANSPORT_MQTT);
  assert_null(cfg.endpoint);
  assert_null(cfg.key);
  assert_int_equal(cfg.timeout_ms, 0);
  iotc_dps_config_init(NULL);
  iotc_dps_destroy(NULL);
  iotc_dps_cancel(NULL);
  iotc_dps_registration_clear(NULL);
}

static void test_create_accepts_a_complete_configuration(void **state) {
  (void)state;
  iotc_dps_config cfg;
  iotc_error err;
  base_config(&cfg);
  assert_int_equal(create_with(&cfg, &err), IOTC_OK);
  cfg.credential = IOTC_DPS_CREDENTIAL_GROUP_KEY;
  cfg.endpoint = "localhost:8443";
  cfg.transport = IOTC_DPS_TRANSPORT_HTTPS;
  cfg.model_id = "dtmi:com:example:Thermostat;1";
  assert_int_equal(create_with(&cfg, &err), IOTC_OK);
  cfg.payload_json = "{\"modelId\":\"x\",\"extra\":[1,2]}";
  cfg.endpoint = "[::1]:9";
  assert_int_equal(create_with(&cfg, &err), IOTC_OK);
}

static void test_create_refuses_missing_or_ill_formed_settings(void **state) {
  (void)state;
  iotc_dps_config cfg;
  iotc_error err;
  iotc_dps *dps = (iotc_dps *)&cfg;
  assert_int_equal(iotc_dps_create(NULL, &dps, &err), IOTC_ERR_INVALID_ARG);
  assert_null(dps);
  base_config(&cfg);
  assert_int_equal(iotc_dps_create(&cfg, NULL, NULL), IOTC_ERR_INVALID_ARG);

  base_config(&cfg); cfg.struct_version = 99;
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_INVALID_ARG);
  base_config(&cfg); cfg.id_scope = NULL;
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_INVALID_ARG);
  base_config(&cfg); cfg.id_scope = "0ne/1";
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_INVALID_ARG);
  base_config(&cfg); cfg.registration_id = "";
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_INVALID_ARG);
  base_config(&cfg); cfg.registration_id = "a/b";
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_INVALID_ARG);
  base_config(&cfg); cfg.credential = IOTC_DPS_CREDENTIAL_NONE;
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_INVALID_ARG);
  base_config(&cfg); cfg.key = "";
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_INVALID_ARG);
  base_config(&cfg); cfg.key = "not base64!";
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_BAD_ENCODING);
  base_config(&cfg); cfg.credential = IOTC_DPS_CREDENTIAL_GROUP_KEY; cfg.key = "@@@@";
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_BAD_ENCODING);
  base_config(&cfg); cfg.transport = (iotc_dps_transport)7;
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_INVALID_ARG);
  const char *bad_endpoints[] = {"", ":8883", "host:", "host:0", "host:65536", "host:12x",
                                 "ho st", "host/path", "[::1", "[zz]:1", "a:b:c"};
  for (size_t i = 0; i < sizeof bad_endpoints / sizeof *bad_endpoints; ++i) {
    base_config(&cfg);
    cfg.endpoint = bad_endpoints[i];
    assert_int_equal(create_with(&cfg, &err), IOTC_ERR_INVALID_ARG);
  }
  const char *bad_payloads[] = {"", "[1]", "\"s\"", "{", "{\"a\":1,\"a\":2}", "null"};
  for (size_t i = 0; i < sizeof bad_payloads / sizeof *bad_payloads; ++i) {
    base_config(&cfg);
    cfg.payload_json = bad_payloads[i];
    assert_int_equal(create_with(&cfg, &err), IOTC_ERR_INVALID_ARG);
  }
  base_config(&cfg); cfg.ca_file = "/nonexistent/ca.pem";
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_IO);
  assert_non_null(strstr(err.message, "/nonexistent/ca.pem"));
  base_config(&cfg); cfg.credential = IOTC_DPS_CREDENTIAL_X509;
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_INVALID_ARG);
  cfg.cert_file = "/nonexistent/cert.pem";
  assert_int_equal(create_with(&cfg, &err), IOTC_ERR_IO);
}

/* Counts the certificates and the Azure root names in the PEM file at @p path. */
static void count_roots(const char *path, int *certs, int *names) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[256];
  *certs = *names = 0;
  while (fgets(line, sizeof line, f)) {
    *certs += strncmp(line, "-----BEGIN CERTIFICATE-----", 27) == 0;
    *names += strstr(line, "DigiCert Global Root G2") != NULL ||
              strstr(line, "DigiCert Global Root G3") != NULL ||
              strstr(line, "Microsoft RSA Root Certificate Authority 2017") != NULL;
  }
  fclose(f);
}

static void test_default_trust_bundle_holds_the_three_azure_roots(void **state) {
  (void)state;
  const char *path = iotc_dps_default_ca_file();
  assert_non_null(path);
  int certs, names;
  count_roots(path, &certs, &names);
  assert_int_equal(certs, 3);
  assert_int_equal(names, 3);
  /* Sealed: nobody, this process included, can truncate or rewrite it. */
  assert_null(fopen(path, "w"));
}

/* An application that closes the descriptor behind the default roots (and reuses its number)
 * gets a fresh copy of the roots from the next call, never the other file. */
static void test_default_trust_bundle_survives_its_descriptor_being_closed(void **state) {
  (void)state;
  const char *path = iotc_dps_default_ca_file();
  assert_non_null(path);
  const char *prefix = "/proc/self/fd/";
  assert_int_equal(strncmp(path, prefix, strlen(prefix)), 0);
  int fd = atoi(path + strlen(prefix));
  assert_int_equal(close(fd), 0);
  int other = open("/dev/null", O_RDONLY);
  assert_true(other >= 0);
  path = iotc_dps_default_ca_file();
  assert_non_null(path);
  int certs, names;
  count_roots(path, &certs, &names);
  assert_int_equal(certs, 3);
  assert_int_equal(names, 3);
  close(other);
}

/* ---- response interpretation ------------------------------------------------------------ */

static iotc_result interpret(int status, const char *body, bool *done, char **op, bool *retry,
                             iotc_dps_registration *reg, iotc_error *err) {
  iotc__dps_reply reply = {0};
  reply.status = status;
  reply.body = (char *)body;
  reply.body_len = body ? strlen(body) : 0;
  memset(reg, 0, sizeof *reg);
  iotc_error_clear(err);
  return iotc__dps_interpret(&reply, done, op, retry, reg, err);
}

static void test_assigning_yields_the_operation_to_poll(void **state) {
  (void)state;
  bool done = true, retry = true;
  char *op = NULL;
  iotc_dps_registration reg;
  iotc_error err;
  assert_int_equal(interpret(202, "{\"operationId\":\"4.abc\",\"status\":\"assigning\"}", &done,
                             &op, &retry, &reg, &err),
                   IOTC_OK);
  assert_false(done);
  assert_false(retry);
  assert_string_equal(op, "4.abc");
  free(op);
  assert_int_equal(interpret(202, "{\"status\":\"assigning\"}", &done, &op, &retry, &reg, &err),
                   IOTC_ERR_MALFORMED);
  assert_null(op);
}

static void test_assigned_fills_hub_device_substatus_and_payload(void **state) {
  (void)state;
  bool done = false, retry = true;
  char *op = NULL;
  iotc_dps_registration reg;
  iotc_error err;
  const char *body =
      "{\"operationId\":\"4.abc\",\"status\":\"assigned\",\"registrationState\":{"
      "\"registrationId\":\"dev-1\",\"assignedHub\":\"localhost:4321\",\"deviceId\":\"dev-1\","
      "\"status\":\"assigned\",\"substatus\":\"initialAssignment\","
      "\"payload\":{\"modelId\":\"dtmi:x;1\"}}}";
  assert_int_equal(interpret(200, body, &done, &op, &retry, &reg, &err), IOTC_OK);
  assert_true(done);
  assert_null(op);
  assert_string_equal(reg.status, "assigned");
  assert_string_equal(reg.assigned_hub, "localhost:4321");
  assert_string_equal(reg.device_id, "dev-1");
  assert_string_equal(reg.registration_id, "dev-1");
  assert_string_equal(reg.substatus, "initialAssignment");
  assert_string_equal(reg.payload_json, "{\"modelId\":\"dtmi:x;1\"}");
  iotc_dps_registration_clear(&reg);
  assert_null(reg.payload_json);
  assert_string_equal(reg.assigned_hub, "");
}

static void test_failed_and_disabled_carry_the_dps_error_code(void **state) {
  (void)state;
  bool done, retry;
  char *op = NULL;
  iotc_dps_registration reg;
  iotc_error err;
  assert_int_equal(
      interpret(200,
                "{\"operationId\":\"o\",\"status\":\"failed\",\"registrationState\":{\"status\":"
                "\"failed\",\"errorCode\":400209,\"errorMessage\":\"Custom allocation failed\"}}",
                &done, &op, &retry, &reg, &err),
      IOTC_ERR_PROVISIONING_FAILED);
  assert_int_equal(err.service_code, 400209);
  assert_non_null(strstr(err.message, "Custom allocation failed"));
  assert_false(retry);
  assert_int_equal(interpret(200, "{\"status\":\"disabled\",\"registrationState\":{}}", &done, &op,
                             &retry, &reg, &err),
                   IOTC_ERR_PROVISIONING_DISABLED);
}

static void test_refusals_map_to_results_and_only_429_and_5xx_retry(void **state) {
  (void)state;
  bool done, retry;
  char *op = NULL;
  iotc_dps_registration reg;
  iotc_error err;
  const char *body = "{\"errorCode\":401002,\"trackingId\":\"t-1\",\"message\":\"Invalid token\"}";
  assert_int_equal(interpret(401, body, &done, &op, &retry, &reg, &err), IOTC_ERR_UNAUTHORIZED);
  assert_false(retry);
  assert_int_equal(err.status, 401);
  assert_int_equal(err.service_code, 401002);
  assert_string_equal(err.tracking_id, "t-1");
  assert_non_null(strstr(err.message, "Invalid token"));
  assert_int_equal(interpret(403, NULL, &done, &op, &retry, &reg, &err), IOTC_ERR_UNAUTHORIZED);
  assert_int_equal(interpret(404, "not json", &done, &op, &retry, &reg, &err), IOTC_ERR_NOT_FOUND);
  assert_false(retry);
  assert_int_equal(interpret(429, "{}", &done, &op, &retry, &reg, &err), IOTC_ERR_THROTTLED);
  assert_true(retry);
  assert_int_equal(interpret(503, "", &done, &op, &retry, &reg, &err), IOTC_ERR_SERVICE);
  assert_true(retry);
  assert_int_equal(interpret(400, "{\"errorCode\":400004}", &done, &op, &retry, &reg, &err),
                   IOTC_ERR_SERVICE);
  assert_false(retry);
  assert_int_equal(err.service_code, 400004);
}

static void test_malformed_bodies_are_errors_not_crashes(void **state) {
  (void)state;
  bool done, retry;
  char *op = NULL;
  iotc_dps_registration reg;
  iotc_error err;
  const char *bad[] = {
      "", "{", "[]", "\"assigned\"", "{\"status\":1}", "{\"status\":\"assigned\"}",
      "{\"status\":\"assigned\",\"registrationState\":[]}",
      "{\"status\":\"assigned\",\"registrationState\":{\"deviceId\":\"d\"}}",
      "{\"status\":\"assigned\",\"registrationState\":{\"assignedHub\":\"h\",\"deviceId\":7}}",
      "{\"status\":\"assigned\",\"registrationState\":{\"assignedHub\":\"\",\"deviceId\":\"d\"}}",
      "{\"status\":\"assigning\",\"operationId\":\"\"}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
    assert_int_equal(interpret(200, bad[i], &done, &op, &retry, &reg, &err), IOTC_ERR_MALFORMED);
    assert_false(done);
    assert_null(reg.payload_json);
  }
  assert_int_equal(interpret(200, "{\"status\":\"bogus\"}", &done, &op, &retry, &reg, &err),
                   IOTC_ERR_PROTOCOL);
  /* A hub name longer than the result field is refused, not truncated. */
  char body[800];
  char hub[400];
  memset(hub, 'h', sizeof hub - 1);
  hub[sizeof hub - 1] = '\0';
  snprintf(body, sizeof body,
           "{\"status\":\"assigned\",\"registrationState\":{\"assignedHub\":\"%s\",\"deviceId\":"
           "\"d\"}}",
           hub);
  assert_int_equal(interpret(200, body, &done, &op, &retry, &reg, &err), IOTC_ERR_MALFORMED);
}

static void test_deeply_nested_bodies_and_payloads_are_refused(void **state) {
  (void)state;
  /* An echoed payload 1000 levels deep: dumping it would overflow the client worker's stack. */
  enum { DEPTH = 1000 };
  char *body = malloc(2 * DEPTH + 200);
  assert_non_null(body);
  char *p = body + sprintf(body, "{\"status\":\"assigned\",\"registrationState\":{"
                                 "\"assignedHub\":\"h\",\"deviceId\":\"d\",\"payload\":");
  memset(p, '[', DEPTH);
  memset(p + DEPTH, ']', DEPTH);
  strcpy(p + 2 * DEPTH, "}}");
  bool done = true, retry = true;
  char *op = NULL;
  iotc_dps_registration reg;
  iotc_error err;
  assert_int_equal(interpret(200, body, &done, &op, &retry, &reg, &err), IOTC_ERR_MALFORMED);
  assert_false(done);
  assert_null(reg.payload_json);
  /* The same nesting from the application is refused when the request is built. */
  p = body + sprintf(body, "{\"a\":");
  memset(p, '[', DEPTH);
  memset(p + DEPTH, ']', DEPTH);
  strcpy(p + 2 * DEPTH, "}");
  char *out = NULL;
  assert_int_equal(iotc__dps_request_body("dev1", NULL, body, &out, &err), IOTC_ERR_INVALID_ARG);
  assert_null(out);
  free(body);
}

/* ---- running without a service ---------------------------------------------------------- */

static void test_cancel_before_run_returns_cancelled_once(void **state) {
  (void)state;
  iotc_dps_config cfg;
  base_config(&cfg);
  cfg.endpoint = "127.0.0.1:1";
  iotc_dps *dps = NULL;
  iotc_error err;
  iotc_dps_registration reg;
  assert_int_equal(iotc_dps_create(&cfg, &dps, &err), IOTC_OK);
  iotc_dps_cancel(dps);
  assert_int_equal(iotc_dps_run(dps, &reg, &err), IOTC_ERR_CANCELLED);
  assert_int_equal(err.result, IOTC_ERR_CANCELLED);
  /* The flag is consumed: the next run tries to connect (and finds nothing on port 1). */
  assert_int_equal(iotc_dps_run(dps, &reg, &err), IOTC_ERR_CONNECT);
  iotc_dps_destroy(dps);
}

static void test_unreachable_endpoint_is_a_connect_error_on_both_transports(void **state) {
  (void)state;
  iotc_dps_config cfg;
  base_config(&cfg);
  cfg.endpoint = "127.0.0.1:1";
  iotc_dps_registration reg;
  iotc_error err;
  assert_int_equal(iotc_dps_register(&cfg, &reg, &err), IOTC_ERR_CONNECT);
  assert_true(err.transport[0] != '\0');
  cfg.transport = IOTC_DPS_TRANSPORT_HTTPS;
  assert_int_equal(iotc_dps_register(&cfg, &reg, &err), IOTC_ERR_CONNECT);
  assert_non_null(strstr(err.transport, "curl"));
  assert_int_equal(iotc_dps_register(&cfg, NULL, &err), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_dps_register(&cfg, &reg, NULL), IOTC_ERR_CONNECT);
}

static void test_mqtt_goes_through_https_proxy_and_refuses_what_paho_cannot_do(void **state) {
  (void)state;
  iotc_dps_config cfg;
  base_config(&cfg);
  cfg.endpoint = "127.0.0.1:1";
  iotc_dps_registration reg;
  iotc_error err;
  /* an http:// proxy is handed to Paho (nothing listens there: a connect error) */
  setenv("https_proxy", "http://127.0.0.1:1", 1);
  assert_int_equal(iotc_dps_register(&cfg, &reg, &err), IOTC_ERR_CONNECT);
  /* no_proxy naming the host cannot be honoured while https_proxy is set */
  setenv("no_proxy", "127.0.0.1", 1);
  assert_int_equal(iotc_dps_register(&cfg, &reg, &err), IOTC_ERR_NOT_SUPPORTED);
  assert_non_null(strstr(err.message, "no_proxy"));
  unsetenv("no_proxy");
  setenv("https_proxy", "socks5://127.0.0.1:1", 1);
  assert_int_equal(iotc_dps_register(&cfg, &reg, &err), IOTC_ERR_NOT_SUPPORTED);
  assert_non_null(strstr(err.message, "scheme"));
  unsetenv("https_proxy");
}

int main(void) {
  unsetenv("https_proxy");
  unsetenv("http_proxy");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_init_sets_version_and_defaults),
      cmocka_unit_test(test_create_accepts_a_complete_configuration),
      cmocka_unit_test(test_create_refuses_missing_or_ill_formed_settings),
      cmocka_unit_test(test_default_trust_bundle_holds_the_three_azure_roots),
      cmocka_unit_test(test_default_trust_bundle_survives_its_descriptor_being_closed),
      cmocka_unit_test(test_assigning_yields_the_operation_to_poll),
      cmocka_unit_test(test_assigned_fills_hub_device_substatus_and_payload),
      cmocka_unit_test(test_failed_and_disabled_carry_the_dps_error_code),
      cmocka_unit_test(test_refusals_map_to_results_and_only_429_and_5xx_retry),
      cmocka_unit_test(test_malformed_bodies_are_errors_not_crashes),
      cmocka_unit_test(test_deeply_nested_bodies_and_payloads_are_refused),
      cmocka_unit_test(test_cancel_before_run_returns_cancelled_once),
      cmocka_unit_test(test_unreachable_endpoint_is_a_connect_error_on_both_transports),
      cmocka_unit_test(test_mqtt_goes_through_https_proxy_and_refuses_what_paho_cannot_do),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
