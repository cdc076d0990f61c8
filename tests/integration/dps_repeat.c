/* SPDX-License-Identifier: MIT */
/* Provisions repeatedly over both transports and with each credential kind, then exits: run
 * under valgrind (integration.dps_repeat_valgrind) it shows that every registration frees
 * what it took, Paho clients and curl handles included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu.h"
#include "iotc/dps.h"

#define ROUNDS 3

static int provision(const emu_info *emu, iotc_dps_transport t, iotc_dps_credential c,
                     const char *dir) {
  char id[96];
  char cert[1024];
  char key[1024];
  emu_unique_id(t == IOTC_DPS_TRANSPORT_MQTT ? "rep-mqtt" : "rep-https", id, sizeof id);
  iotc_dps_config cfg;
  iotc_dps_config_init(&cfg);
  cfg.id_scope = emu->id_scope;
  cfg.registration_id = id;
  cfg.transport = t;
  cfg.endpoint = t == IOTC_DPS_TRANSPORT_MQTT ? emu->dps_mqtt : emu->dps_https;
  cfg.ca_file = emu->ca_file;
  cfg.credential = c;
  cfg.model_id = "dtmi:com:example:Thermostat;1";
  cfg.timeout_ms = 60000;
  if (c == IOTC_DPS_CREDENTIAL_X509) {
    if (emu_issue_cert(emu, id, dir, cert, key) != 0) {
      return 1;
    }
    cfg.cert_file = cert;
    cfg.key_file = key;
  } else if (c == IOTC_DPS_CREDENTIAL_DEVICE_KEY) {
    if (emu_create_device(emu, id, NULL) != 0 || emu_set_device_key(emu, id, key, sizeof key) != 0) {
      return 1;
    }
    cfg.key = key;
  } else {
    cfg.key = emu->group_key;
  }
  iotc_dps_registration reg;
  iotc_error err;
  iotc_result r = iotc_dps_register(&cfg, &reg, &err);
  int bad = r != IOTC_OK || strcmp(reg.device_id, id) != 0 || reg.payload_json == NULL;
  if (bad) {
    fprintf(stderr, "%s: %s: %s %s\n", id, iotc_strerror(r), err.message, err.transport);
  }
  iotc_dps_registration_clear(&reg);
  /* A refused one too: the error path must free as much as the success path. */
  cfg.credential = IOTC_DPS_CREDENTIAL_DEVICE_KEY;
  cfg.key = "d3JvbmctYnV0LXZhbGlkLWJhc2U2NC1rZXktMDAwMDA=";
  if (iotc_dps_register(&cfg, &reg, &err) != IOTC_ERR_UNAUTHORIZED) {
    fprintf(stderr, "%s: a wrong key was not refused: %s\n", id, err.message);
    bad = 1;
  }
  return bad;
}

int main(void) {
  emu_info emu;
  if (emu_load(&emu) != 0) {
    return 1;
  }
  char dir[] = "/tmp/iotc-dps-repeat-XXXXXX";
  if (mkdtemp(dir) == NULL) {
    return 1;
  }
  int failures = 0;
  for (int round = 0; round < ROUNDS; ++round) {
    for (int t = 0; t < 2; ++t) {
      for (int c = IOTC_DPS_CREDENTIAL_DEVICE_KEY; c <= IOTC_DPS_CREDENTIAL_X509; ++c) {
        failures += provision(&emu, (iotc_dps_transport)t, (iotc_dps_credential)c, dir);
      }
    }
  }
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) {
    ++failures;
  }
  printf("%d registrations, %d failed\n", ROUNDS * 6, failures);
  return failures == 0 ? 0 : 1;
}
