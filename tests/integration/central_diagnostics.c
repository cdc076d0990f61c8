/* SPDX-License-Identifier: MIT */
/* Failures a field engineer can act on, end to end against the emulator: a hub whose certificate
 * the configured roots do not trust, and a hub reached under a name its certificate does not
 * carry, both come back as IOTC_ERR_TLS with OpenSSL's reason in the error; a DPS whose Date
 * disagrees with the local clock gets a warning, and a refusal then blames the clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emu.h"
#include "iotc/client.h"
#include "iotc/dps.h"
#include "iotc/log.h"

static emu_info emu;

/* A device provisioned on hub 0 of emulator e; its connection string (with @p host_port as
 * HostName) in cs. */
static void device_connection_string(const emu_info *e, const char *host_port, char *id,
                                     size_t id_size, char *cs, size_t cs_size) {
  emu_direct_device dev;
  assert_int_equal(emu_provision_direct(e, "diag", 0, &dev), 0);
  snprintf(id, id_size, "%s", dev.id);
  snprintf(cs, cs_size, "HostName=%s;DeviceId=%s;SharedAccessKey=%s", host_port, dev.id, dev.key);
}

/* Connect once (no retries) and return the result with its detail. */
static iotc_result connect_once(const char *cs, const char *ca_file, iotc_error *err) {
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = cs;
  cfg.ca_file = ca_file;
  cfg.give_up_after = 1;
  cfg.connect_timeout_ms = 10000;
  iotc_client *client = NULL;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_OK);
  iotc_result r = iotc_client_connect(client, 30000, err);
  iotc_client_destroy(client);
  return r;
}

static void a_hub_outside_the_trusted_roots_is_a_tls_error_with_the_reason(void **state) {
  (void)state;
  char id[128], cs[1024];
  device_connection_string(&emu, emu.hubs[0], id, sizeof id, cs, sizeof cs);
  iotc_error err;
  /* No ca_file: the Azure roots, which did not sign the emulator's certificate. */
  iotc_result r = connect_once(cs, NULL, &err);
  if (r != IOTC_ERR_TLS) fail_msg("%s: %s | %s", iotc_strerror(r), err.message, err.transport);
  print_message("message: %s\ntransport: %s\n", err.message, err.transport);
  assert_int_equal(err.result, IOTC_ERR_TLS);
  assert_non_null(strstr(err.transport, "unable to get local issuer certificate"));
  assert_non_null(strstr(err.message, "unable to get local issuer certificate"));
  assert_int_equal(emu_wire_count(&emu, id, "in", "CONNECT", NULL), 0);
  /* The emulator's own CA: the same device connects. */
  assert_int_equal(connect_once(cs, emu.ca_file, &err), IOTC_OK);
}

/* A second emulator whose certificate names 127.0.0.1 only: its hubs are reached as localhost
 * (which every hosts file maps to 127.0.0.1), a name the certificate does not carry. */
static void a_hub_name_not_in_its_certificate_is_a_tls_error_naming_both(void **state) {
  (void)state;
  assert_true(strncmp(emu_ip_only.hubs[0], "localhost:", 10) == 0);
  char id[128], cs[1024];
  device_connection_string(&emu_ip_only, emu_ip_only.hubs[0], id, sizeof id, cs, sizeof cs);
  iotc_error err;
  iotc_result r = connect_once(cs, emu_ip_only.ca_file, &err);
  if (r != IOTC_ERR_TLS) fail_msg("%s: %s | %s", iotc_strerror(r), err.message, err.transport);
  print_message("message: %s\ntransport: %s\n", err.message, err.transport);
  assert_non_null(strstr(err.transport, "host name mismatch"));
  assert_non_null(strstr(err.transport, "localhost"));
  assert_non_null(strstr(err.transport, "127.0.0.1")); /* the name the certificate carries */
  assert_non_null(strstr(err.message, "host name mismatch"));
  assert_int_equal(emu_wire_count(&emu_ip_only, id, "in", "CONNECT", NULL), 0);
  /* The same hub, device and CA under the name the certificate carries: connected. */
  char host_port[300];
  snprintf(host_port, sizeof host_port, "127.0.0.1%s", strrchr(emu_ip_only.hubs[0], ':'));
  const char *key = strstr(cs, ";SharedAccessKey=");
  assert_non_null(key);
  char by_ip[1024];
  snprintf(by_ip, sizeof by_ip, "HostName=%s;DeviceId=%s%s", host_port, id, key);
  r = connect_once(by_ip, emu_ip_only.ca_file, &err);
  if (r != IOTC_OK) fail_msg("%s: %s | %s", iotc_strerror(r), err.message, err.transport);
}

static char warned[512]; /* the last warning logged */

static void keep_warning(iotc_log_level level, const char *message, void *ctx) {
  (void)ctx;
  if (level == IOTC_LOG_WARN) snprintf(warned, sizeof warned, "%s", message);
}

static iotc_result register_https(const char *id, const char *group_key, iotc_error *err) {
  iotc_dps_config cfg;
  iotc_dps_config_init(&cfg);
  cfg.id_scope = emu.id_scope;
  cfg.registration_id = id;
  cfg.transport = IOTC_DPS_TRANSPORT_HTTPS;
  cfg.endpoint = emu.dps_https;
  cfg.ca_file = emu.ca_file;
  cfg.credential = IOTC_DPS_CREDENTIAL_GROUP_KEY;
  cfg.key = group_key;
  cfg.timeout_ms = 30000;
  iotc_dps_registration reg;
  iotc_result r = iotc_dps_register(&cfg, &reg, err);
  if (r == IOTC_OK) iotc_dps_registration_clear(&reg);
  return r;
}

static void a_dps_clock_an_hour_apart_is_reported_and_blamed_for_a_refusal(void **state) {
  (void)state;
  char id[128], fault[256];
  emu_unique_id("skew", id, sizeof id);
  snprintf(fault, sizeof fault,
           "{\"kind\":\"dpsDateSkew\",\"skewSeconds\":-3600,\"deviceId\":\"%s\",\"count\":20}", id);
  assert_int_equal(emu_fault(&emu, fault), 0);
  iotc_log_set_handler(keep_warning, IOTC_LOG_WARN, NULL);
  warned[0] = '\0';
  iotc_error err;
  /* A key DPS does not know: refused, and the refusal names the clock as the likely cause. */
  iotc_result r = register_https(id, "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=", &err);
  assert_int_equal(r, IOTC_ERR_UNAUTHORIZED);
  print_message("message: %s\n", err.message);
  assert_non_null(strstr(warned, "the system clock is wrong (3600 s ahead of"));
  assert_non_null(strstr(err.message, "clock skew: the system clock is wrong (3600 s ahead of"));
  /* The right key still works (the emulator checks expiry by its own clock): only a warning. */
  warned[0] = '\0';
  assert_int_equal(register_https(id, emu.group_key, &err), IOTC_OK);
  assert_non_null(strstr(warned, "the system clock is wrong"));
  /* A device without the fault: the same refusal blames the credential instead. */
  emu_unique_id("noskew", id, sizeof id);
  r = register_https(id, "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=", &err);
  assert_int_equal(r, IOTC_ERR_UNAUTHORIZED);
  assert_null(strstr(err.message, "clock"));
  assert_non_null(strstr(err.message, "the credential was refused"));
  iotc_log_set_handler(NULL, IOTC_LOG_ERROR, NULL);
}

int main(void) {
  if (emu_load(&emu) != 0) return 1;
  iotc_log_set_handler(NULL, IOTC_LOG_ERROR, NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_hub_outside_the_trusted_roots_is_a_tls_error_with_the_reason),
      cmocka_unit_test_setup_teardown(a_hub_name_not_in_its_certificate_is_a_tls_error_naming_both,
                                      emu_ip_only_start, emu_ip_only_stop),
      cmocka_unit_test(a_dps_clock_an_hour_apart_is_reported_and_blamed_for_a_refusal),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
