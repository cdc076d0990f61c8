/* SPDX-License-Identifier: MIT */
/* Every way the device client reaches its hub, end to end against the emulator: X.509 through
 * DPS (MQTT and HTTPS), a device connection string straight to a hub, provisioning over HTTPS,
 * an enrollment-group key and an individual device key. Each path ends with telemetry the
 * operator sees, and the wire log shows the path taken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "central.h"

#define MODEL "dtmi:com:example:Thermostat;1"

static const emu_info *emu;
static char tmpdir[256];

/* DPS over MQTT without a credential yet: each test sets the one it is about. */
static void base_config(iotc_client_config *cfg, const char *id) {
  central_group_config(id, cfg);
  cfg->group_key = NULL;
  cfg->model_id = MODEL;
  cfg->reconnect_min_ms = 200;
}

/* Create, connect, check the hub and the statuses, send one message, close. */
static void connect_and_send(const iotc_client_config *cfg, const char *id, int want_provisions,
                             char *hub_out, size_t hub_size) {
  central_statuses log;
  central_statuses_init(&log);
  iotc_client *client = central_client(cfg);
  assert_non_null(client);
  assert_int_equal(iotc_client_on_status(client, central_on_status, &log), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  char hub[300], dev[200];
  assert_int_equal(iotc_client_get_hub(client, hub, sizeof hub, dev, sizeof dev), IOTC_OK);
  assert_string_equal(dev, id);
  assert_true(strcmp(hub, emu->hubs[0]) == 0 || strcmp(hub, emu->hubs[1]) == 0);
  if (hub_out) snprintf(hub_out, hub_size, "%s", hub);
  assert_int_equal(central_telemetry_round_trip(client, id, 7), 0);
  iotc_client_stats st;
  assert_int_equal(iotc_client_get_stats(client, &st), IOTC_OK);
  assert_int_equal(st.provisionings, (uint64_t)want_provisions);
  assert_int_equal(st.connects, 1);
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
  assert_int_equal(central_status_count(&log, IOTC_STATUS_PROVISIONING), want_provisions);
  assert_int_equal(central_status_count(&log, IOTC_STATUS_CONNECTED), 1);
  assert_int_equal(central_status_count(&log, IOTC_STATUS_GAVE_UP), 0);
  central_statuses_destroy(&log);
}

/* The hub accepted the device's CONNECT with the given authentication ("sas" or "x509"). */
static void assert_hub_auth(const char *id, const char *auth) {
  json_t *w = emu_wire(emu, id, 0);
  assert_non_null(w);
  int accepted = 0;
  size_t i;
  json_t *e;
  json_array_foreach(w, i, e) {
    const char *svc = json_string_value(json_object_get(e, "svc"));
    const char *type = json_string_value(json_object_get(e, "type"));
    if (svc && strncmp(svc, "hub", 3) == 0 && type && strcmp(type, "CONNACK") == 0 &&
        json_integer_value(json_object_get(e, "returnCode")) == 0) {
      assert_string_equal(json_string_value(json_object_get(e, "auth")), auth);
      accepted++;
    }
  }
  json_decref(w);
  assert_int_equal(accepted, 1);
}

static void x509_through_dps(bool https) {
  char id[128], cert[1024], key[1024];
  emu_unique_id(https ? "x509h" : "x509m", id, sizeof id);
  assert_int_equal(emu_issue_cert(emu, id, tmpdir, cert, key), 0);
  iotc_client_config cfg;
  base_config(&cfg, id);
  cfg.cert_file = cert;
  cfg.key_file = key;
  cfg.dps_over_https = https;
  cfg.dps_endpoint = https ? emu->dps_https : emu->dps_mqtt;
  connect_and_send(&cfg, id, 1, NULL, 0);
  assert_true(emu_wire_svc_count(emu, id, 0, https ? "dps-https" : "dps-mqtt") > 0);
  assert_int_equal(emu_wire_svc_count(emu, id, 0, https ? "dps-mqtt" : "dps-https"), 0);
  assert_hub_auth(id, "x509");
  unlink(cert);
  unlink(key);
}

static void an_x509_device_provisions_over_mqtt_and_sends(void **state) {
  (void)state;
  x509_through_dps(false);
}

static void an_x509_device_provisions_over_https_and_sends(void **state) {
  (void)state;
  x509_through_dps(true);
}

static void a_connection_string_goes_straight_to_the_hub(void **state) {
  (void)state;
  emu_direct_device dev;
  assert_int_equal(emu_provision_direct(emu, "cstr", 1, &dev), 0);
  const char *id = dev.id;
  assert_string_equal(dev.hub, emu->hubs[1]);

  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = dev.connection_string;
  cfg.ca_file = emu->ca_file;
  cfg.model_id = MODEL;
  char used[300];
  connect_and_send(&cfg, id, 0, used, sizeof used);
  assert_string_equal(used, emu->hubs[1]);
  assert_int_equal(emu_wire_svc_count(emu, id, 0, "dps"), 0); /* DPS never heard of it */
  assert_hub_auth(id, "sas");
}

static void provisioning_over_https_never_touches_dps_mqtt(void **state) {
  (void)state;
  char id[128];
  emu_unique_id("https", id, sizeof id);
  iotc_client_config cfg;
  base_config(&cfg, id);
  cfg.group_key = emu->group_key;
  cfg.dps_over_https = true;
  cfg.dps_endpoint = emu->dps_https;
  connect_and_send(&cfg, id, 1, NULL, 0);
  assert_true(emu_wire_svc_count(emu, id, 0, "dps-https") >= 2); /* register + poll, at least */
  assert_int_equal(emu_wire_svc_count(emu, id, 0, "dps-mqtt"), 0);
  assert_hub_auth(id, "sas");
}

static void a_group_key_derives_the_key_the_service_expects(void **state) {
  (void)state;
  char id[128];
  emu_unique_id("group", id, sizeof id);
  iotc_client_config cfg;
  base_config(&cfg, id);
  cfg.group_key = emu->group_key;
  connect_and_send(&cfg, id, 1, NULL, 0);
  assert_hub_auth(id, "sas");
  /* The operator shows the device's derived key; used as an individual key, it works too. */
  char key[128];
  assert_int_equal(emu_device_key(emu, id, key, sizeof key), 0);
  base_config(&cfg, id);
  cfg.device_key = key;
  connect_and_send(&cfg, id, 1, NULL, 0);
}

static void an_individual_device_key_provisions_and_sends(void **state) {
  (void)state;
  char id[128], key[128];
  emu_unique_id("indiv", id, sizeof id);
  assert_int_equal(emu_create_device(emu, id, NULL), 0);
  assert_int_equal(emu_set_device_key(emu, id, key, sizeof key), 0);
  iotc_client_config cfg;
  base_config(&cfg, id);
  cfg.device_key = key;
  connect_and_send(&cfg, id, 1, NULL, 0);
  /* The group key no longer fits a device with its own key: DPS refuses, permanently. */
  base_config(&cfg, id);
  cfg.group_key = emu->group_key;
  iotc_client *client = NULL;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_OK);
  iotc_error err;
  assert_int_equal(iotc_client_connect(client, 60000, &err), IOTC_ERR_UNAUTHORIZED);
  assert_int_equal(err.result, IOTC_ERR_UNAUTHORIZED);
  iotc_client_destroy(client);
}

int main(void) {
  emu = central_emu();
  snprintf(tmpdir, sizeof tmpdir, "/tmp/iotc-paths-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return 1;
  central_log_warnings();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_x509_device_provisions_over_mqtt_and_sends),
      cmocka_unit_test(an_x509_device_provisions_over_https_and_sends),
      cmocka_unit_test(a_connection_string_goes_straight_to_the_hub),
      cmocka_unit_test(provisioning_over_https_never_touches_dps_mqtt),
      cmocka_unit_test(a_group_key_derives_the_key_the_service_expects),
      cmocka_unit_test(an_individual_device_key_provisions_and_sends),
  };
  if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  rmdir(tmpdir);
  return rc;
}
