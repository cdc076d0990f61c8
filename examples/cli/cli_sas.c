/* SPDX-License-Identifier: MIT */
/* iotc sas: an IoT Hub device token or a DPS registration token. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "iotc/sas.h"

enum { OPT_HUB, OPT_DEVICE_ID, OPT_ID_SCOPE, OPT_REGISTRATION_ID, OPT_KEY, OPT_EXPIRY, OPT_TTL };

#define DEFAULT_TTL 3600u

/* Expiry from --expiry or --ttl (default one hour from now). Reports and returns false on error. */
static bool expiry_from(const char *name, const cli_option *options, uint64_t *expiry) {
  const char *expiry_text = options[OPT_EXPIRY].value;
  const char *ttl_text = options[OPT_TTL].value;
  if (expiry_text && ttl_text) {
    cli_usage_error(name, "give --expiry or --ttl, not both");
    return false;
  }
  if (expiry_text) {
    if (!cli_parse_u64(expiry_text, expiry)) {
      cli_usage_error(name, "--expiry must be a whole number of seconds since 1970-01-01 UTC");
      return false;
    }
    return true;
  }
  uint64_t ttl = DEFAULT_TTL;
  if (ttl_text && (!cli_parse_u64(ttl_text, &ttl) || ttl == 0)) {
    cli_usage_error(name, "--ttl must be a whole number of seconds greater than 0");
    return false;
  }
  time_t now = time(NULL);
  if (now < 0 || ttl > UINT64_MAX - (uint64_t)now) {
    cli_usage_error(name, "--ttl is too large");
    return false;
  }
  *expiry = (uint64_t)now + ttl;
  return true;
}

int cli_sas(int argc, char **argv) {
  cli_option options[] = {
      [OPT_HUB] = {"hub", "HOST", "IoT Hub host name (host:port kept whole), for a hub token", NULL},
      [OPT_DEVICE_ID] = {"device-id", "ID", "device ID, for a hub token", NULL},
      [OPT_ID_SCOPE] = {"id-scope", "SCOPE", "DPS ID scope, for a DPS token", NULL},
      [OPT_REGISTRATION_ID] = {"registration-id", "ID", "DPS registration ID, for a DPS token", NULL},
      [OPT_KEY] = {"key", "KEY", "device (or derived) symmetric key, base64", NULL},
      [OPT_EXPIRY] = {"expiry", "EPOCH", "expiry, seconds since 1970-01-01 UTC", NULL},
      [OPT_TTL] = {"ttl", "SECONDS", "lifetime from now (default 3600)", NULL},
  };
  const cli_spec spec = {
      "sas",
      "--hub HOST --device-id ID --key KEY [--expiry EPOCH | --ttl SECONDS]\n"
      "--id-scope SCOPE --registration-id ID --key KEY [--expiry EPOCH | --ttl SECONDS]",
      "Print a shared access signature: the MQTT password of a device on an IoT Hub, or\n"
      "the DPS registration token (skn=registration) for MQTT and HTTPS provisioning.",
      options,
      sizeof options / sizeof options[0],
  };
  int code = CLI_EXIT_OK;
  if (!cli_parse(&spec, argc, argv, &code)) {
    return code;
  }
  bool hub = options[OPT_HUB].value || options[OPT_DEVICE_ID].value;
  bool dps = options[OPT_ID_SCOPE].value || options[OPT_REGISTRATION_ID].value;
  if (hub == dps) {
    cli_usage_error(spec.name, hub ? "give --hub/--device-id or --id-scope/--registration-id, not both"
                                   : "missing --hub and --device-id, or --id-scope and --registration-id");
    return CLI_EXIT_USAGE;
  }
  const int required[] = {hub ? OPT_HUB : OPT_ID_SCOPE, hub ? OPT_DEVICE_ID : OPT_REGISTRATION_ID,
                          OPT_KEY};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; ++i) {
    if (options[required[i]].value == NULL) {
      cli_usage_error(spec.name, "missing --%s", options[required[i]].name);
      return CLI_EXIT_USAGE;
    }
  }
  uint64_t expiry = 0;
  if (!expiry_from(spec.name, options, &expiry)) {
    return CLI_EXIT_USAGE;
  }

  iotc_result (*build)(const char *, const char *, const char *, uint64_t, char *, size_t,
                       size_t *) = hub ? iotc_sas_hub_token : iotc_sas_dps_token;
  const char *first = options[required[0]].value;
  const char *id = options[required[1]].value;
  const char *key = options[OPT_KEY].value;
  size_t len = 0;
  iotc_result rc = build(first, id, key, expiry, NULL, 0, &len);
  if (rc != IOTC_ERR_BUFFER_TOO_SMALL) {
    return cli_key_failure(spec.name, options[OPT_KEY].name, rc);
  }
  char *token = malloc(len + 1);
  if (token == NULL) {
    cli_error(spec.name, "out of memory");
    return CLI_EXIT_REFUSED;
  }
  rc = build(first, id, key, expiry, token, len + 1, NULL);
  if (rc == IOTC_OK) {
    printf("%s\n", token);
    code = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
  } else {
    code = cli_key_failure(spec.name, options[OPT_KEY].name, rc);
  }
  cli_wipe(token, len + 1);
  free(token);
  return code;
}
