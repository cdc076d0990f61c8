/* SPDX-License-Identifier: MIT */
/* iotc_client_create() checks everything it can without the network and says what is wrong in
 * the iotc_error it hands back (logging stays off): each bad field is refused with its own
 * message, and no message carries a key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "iotc/client.h"

#define KEY "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define SECRET "c2VjcmV0LWtleS10aGF0LW11c3Qtbm90LWxlYWs=!"

static void dps(iotc_client_config *cfg) {
  iotc_client_config_init(cfg);
  cfg->id_scope = "0ne00000000";
  cfg->device_id = "dev-1";
  cfg->device_key = KEY;
  cfg->dps_endpoint = "127.0.0.1:1";
}

typedef struct bad_case {
  const char *what;
  void (*edit)(iotc_client_config *cfg);
  iotc_result result;
  const char *message_part; /* must appear in err.message */
} bad_case;

static void no_identity(iotc_client_config *c) { iotc_client_config_init(c); }
static void no_device_id(iotc_client_config *c) { c->device_id = NULL; }
static void bad_device_id(iotc_client_config *c) { c->device_id = "a/b#"; }
static void bad_key(iotc_client_config *c) { c->device_key = SECRET; }
static void bad_group_key(iotc_client_config *c) { c->device_key = NULL; c->group_key = SECRET; }
static void two_keys(iotc_client_config *c) { c->group_key = KEY; }
static void no_credential(iotc_client_config *c) { c->device_key = NULL; }
static void dps_and_string(iotc_client_config *c) {
  c->connection_string = "HostName=h.example.net;DeviceId=d;SharedAccessKey=" KEY;
}
static void missing_ca(iotc_client_config *c) { c->ca_file = "/nonexistent/iotc/ca.pem"; }
static void missing_cert(iotc_client_config *c) {
  c->device_key = NULL;
  c->cert_file = "/nonexistent/iotc/device.pem";
  c->key_file = "/nonexistent/iotc/device.key";
}
static void cert_without_key(iotc_client_config *c) {
  c->device_key = NULL;
  c->cert_file = "/nonexistent/iotc/device.pem";
}
static void port_zero(iotc_client_config *c) { c->dps_endpoint = "dps.example.net:0"; }
static void endpoint_path(iotc_client_config *c) { c->dps_endpoint = "evil.com/../#"; }
static void scope_path(iotc_client_config *c) { c->id_scope = "0ne/../#"; }
static void host_path(iotc_client_config *c) {
  iotc_client_config_init(c);
  c->connection_string = "HostName=evil.com/../#;DeviceId=d;SharedAccessKey=" KEY;
}
static void host_port_zero(iotc_client_config *c) {
  iotc_client_config_init(c);
  c->connection_string = "HostName=hub.example.net:0;DeviceId=d;SharedAccessKey=" KEY;
}
static void string_bad_key(iotc_client_config *c) {
  iotc_client_config_init(c);
  c->connection_string = "HostName=hub.example.net;DeviceId=d;SharedAccessKey=" SECRET;
}
static void string_bad_id(iotc_client_config *c) {
  iotc_client_config_init(c);
  c->connection_string = "HostName=hub.example.net;DeviceId=a#b;SharedAccessKey=" KEY;
}
static void string_no_key(iotc_client_config *c) {
  iotc_client_config_init(c);
  c->connection_string = "HostName=hub.example.net;DeviceId=d";
}
static void timeout_wraps(iotc_client_config *c) { c->connect_timeout_ms = UINT32_MAX; }
static void timeout_too_long(iotc_client_config *c) { c->connect_timeout_ms = 3600001; }
static void no_window(iotc_client_config *c) { c->max_inflight = 0; }
static void no_queue(iotc_client_config *c) { c->queue_capacity = 0; }
static void short_sas(iotc_client_config *c) { c->sas_ttl_s = 5; }
static void unknown_version(iotc_client_config *c) { c->struct_version = 99; }
static void missing_model(iotc_client_config *c) { c->model_file = "/nonexistent/iotc/model.json"; }

static const bad_case bad_cases[] = {
    {"no identity", no_identity, IOTC_ERR_INVALID_ARG, "id_scope is missing"},
    {"no device id", no_device_id, IOTC_ERR_INVALID_ARG, "device_id is missing"},
    {"bad device id", bad_device_id, IOTC_ERR_INVALID_ARG, "device_id 'a/b#' is not valid"},
    {"bad device key", bad_key, IOTC_ERR_INVALID_ARG, "device_key is not valid base64"},
    {"bad group key", bad_group_key, IOTC_ERR_INVALID_ARG, "group_key is not valid base64"},
    {"two credentials", two_keys, IOTC_ERR_INVALID_ARG, "more than one credential"},
    {"no credential", no_credential, IOTC_ERR_INVALID_ARG, "no credential"},
    {"DPS and a connection string", dps_and_string, IOTC_ERR_INVALID_ARG, "not both"},
    {"missing CA file", missing_ca, IOTC_ERR_IO,
     "ca_file '/nonexistent/iotc/ca.pem' cannot be read: No such file"},
    {"missing certificate", missing_cert, IOTC_ERR_IO,
     "cert_file '/nonexistent/iotc/device.pem' cannot be read"},
    {"certificate without key", cert_without_key, IOTC_ERR_INVALID_ARG, "key_file is missing"},
    {"DPS port 0", port_zero, IOTC_ERR_INVALID_ARG, "endpoint must be host or host:port"},
    {"DPS endpoint with a path", endpoint_path, IOTC_ERR_INVALID_ARG, "endpoint must be host"},
    {"ID scope with a path", scope_path, IOTC_ERR_INVALID_ARG, "id_scope must be"},
    {"HostName with a path", host_path, IOTC_ERR_INVALID_ARG, "HostName must be a host name"},
    {"HostName port 0", host_port_zero, IOTC_ERR_INVALID_ARG, "HostName must be a host name"},
    {"connection string key", string_bad_key, IOTC_ERR_INVALID_ARG,
     "SharedAccessKey is not valid base64"},
    {"connection string device id", string_bad_id, IOTC_ERR_INVALID_ARG, "DeviceId is not valid"},
    {"connection string without key", string_no_key, IOTC_ERR_INVALID_ARG,
     "needs HostName, DeviceId and SharedAccessKey"},
    {"connect timeout that wraps", timeout_wraps, IOTC_ERR_INVALID_ARG,
     "connect_timeout_ms 4294967295 is more than 3600000"},
    {"connect timeout over an hour", timeout_too_long, IOTC_ERR_INVALID_ARG,
     "connect_timeout_ms 3600001"},
    {"no window", no_window, IOTC_ERR_INVALID_ARG, "max_inflight must be greater than 0"},
    {"no queue", no_queue, IOTC_ERR_INVALID_ARG, "queue_capacity must be greater than 0"},
    {"short SAS", short_sas, IOTC_ERR_INVALID_ARG, "sas_ttl_s must be at least 10"},
    {"unknown struct version", unknown_version, IOTC_ERR_INVALID_ARG, "struct_version 99"},
    {"missing model file", missing_model, IOTC_ERR_IO, "model_file '/nonexistent/iotc/model.json'"},
};

static void every_refusal_names_what_is_wrong(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const bad_case *t = &bad_cases[i];
    iotc_client_config cfg;
    dps(&cfg);
    t->edit(&cfg);
    iotc_client *client = (iotc_client *)&cfg; /* must be reset to NULL */
    iotc_error err;
    memset(&err, 0x5a, sizeof err);
    iotc_result r = iotc_client_create(&cfg, &client, &err);
    printf("%-32s -> %s: %s\n", t->what, iotc_strerror(r), err.message);
    assert_int_equal(r, t->result);
    assert_null(client);
    assert_int_equal(err.result, t->result);
    assert_non_null(strstr(err.message, t->message_part));
    assert_null(strstr(err.message, SECRET));
    assert_null(strstr(err.message, "c2VjcmV0"));
    assert_string_equal(err.transport, "");
  }
}

static void good_configurations_are_accepted_and_err_is_cleared(void **state) {
  (void)state;
  const char *endpoints[] = {NULL, "dps.example.net", "dps.example.net:8883", "127.0.0.1:65535"};
  for (size_t i = 0; i < sizeof endpoints / sizeof endpoints[0]; i++) {
    iotc_client_config cfg;
    dps(&cfg);
    cfg.dps_endpoint = endpoints[i];
    cfg.connect_timeout_ms = 3600000;
    iotc_client *client = NULL;
    iotc_error err;
    memset(&err, 0x5a, sizeof err);
    assert_int_equal(iotc_client_create(&cfg, &client, &err), IOTC_OK);
    assert_int_equal(err.result, IOTC_OK);
    assert_string_equal(err.message, "");
    iotc_client_destroy(client);
  }
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = "HostName=my-hub.azure-devices.net;DeviceId=d;SharedAccessKey=" KEY;
  iotc_client *client = NULL;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_OK);
  iotc_client_destroy(client);
  cfg.connection_string = "HostName=localhost:8883;DeviceId=d;SharedAccessKey=" KEY;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_OK);
  iotc_client_destroy(client);
}

static void null_arguments_are_described(void **state) {
  (void)state;
  iotc_error err;
  iotc_client *client = NULL;
  assert_int_equal(iotc_client_create(NULL, &client, &err), IOTC_ERR_INVALID_ARG);
  assert_string_equal(err.message, "cfg is NULL");
  iotc_client_config cfg;
  dps(&cfg);
  assert_int_equal(iotc_client_create(&cfg, NULL, &err), IOTC_ERR_INVALID_ARG);
  assert_string_equal(err.message, "out_client is NULL");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_refusal_names_what_is_wrong),
      cmocka_unit_test(good_configurations_are_accepted_and_err_is_cleared),
      cmocka_unit_test(null_arguments_are_described),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
