/* SPDX-License-Identifier: MIT */
/* iotc provision: register a device with DPS and print where it was assigned, as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iotc/dps.h"

enum {
  OPT_ID_SCOPE,
  OPT_DEVICE_ID,
  OPT_KEY,
  OPT_GROUP_KEY,
  OPT_CERT,
  OPT_CERT_KEY,
  OPT_ENDPOINT,
  OPT_TRANSPORT,
  OPT_MODEL_ID,
  OPT_PAYLOAD,
  OPT_CA_FILE,
  OPT_TIMEOUT,
  OPT_COUNT
};

static int print_result(const iotc_dps_registration *reg) {
  printf("{\"status\":");
  cli_put_json_string(reg->status);
  printf(",\"assignedHub\":");
  cli_put_json_string(reg->assigned_hub);
  printf(",\"deviceId\":");
  cli_put_json_string(reg->device_id);
  printf(",\"substatus\":");
  cli_put_json_string(reg->substatus);
  if (reg->payload_json != NULL) {
    printf(",\"payload\":%s", reg->payload_json); /* compact JSON produced by the library */
  }
  printf("}\n");
  return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
}

/* Bad input the user can fix in the command line is a usage error; the rest a refusal. */
static int failure(const char *name, iotc_result rc, const iotc_error *err) {
  char detail[IOTC_ERROR_MESSAGE_SIZE + IOTC_ERROR_ID_SIZE + 64] = "";
  size_t n = 0;
  if (err->service_code != 0 || err->status != 0) {
    n += (size_t)snprintf(detail + n, sizeof detail - n, " [");
    if (err->status != 0) {
      n += (size_t)snprintf(detail + n, sizeof detail - n, "status %d", err->status);
    }
    /* DPS errorCodes have six digits; 1-5 is an MQTT CONNACK return code, which the transport
     * text names. */
    if (err->service_code >= 100) {
      n += (size_t)snprintf(detail + n, sizeof detail - n, "%sDPS code %d",
                            err->status ? ", " : "", err->service_code);
    }
    if (err->tracking_id[0] != '\0') {
      n += (size_t)snprintf(detail + n, sizeof detail - n, ", trackingId %s", err->tracking_id);
    }
    snprintf(detail + n, sizeof detail - n, "]");
  }
  /* The parts of the transport text ("a; b; c") the message does not already say. */
  char transport[sizeof err->transport + 2] = "";
  size_t t = 0;
  for (const char *p = err->transport; *p != '\0';) {
    size_t len = strcspn(p, ";");
    char part[sizeof err->transport];
    snprintf(part, sizeof part, "%.*s", (int)len, p);
    if (strstr(err->message, part) == NULL) {
      t += (size_t)snprintf(transport + t, sizeof transport - t, "; %s", part);
    }
    p += len;
    p += strspn(p, "; ");
  }
  cli_error(name, "%s%s%s", err->message[0] ? err->message : iotc_strerror(rc), detail, transport);
  switch (rc) {
  case IOTC_ERR_INVALID_ARG:
  case IOTC_ERR_BAD_ENCODING:
  case IOTC_ERR_IO:
    return CLI_EXIT_USAGE;
  default:
    return CLI_EXIT_REFUSED;
  }
}

/* Exactly one credential: --key, --group-key, or --cert (with optional --cert-key). */
static bool pick_credential(const char *name, const cli_option *o, iotc_dps_config *cfg) {
  int given = (o[OPT_KEY].value != NULL) + (o[OPT_GROUP_KEY].value != NULL) +
              (o[OPT_CERT].value != NULL);
  if (given != 1) {
    cli_usage_error(name, "give exactly one of --key, --group-key or --cert");
    return false;
  }
  if (o[OPT_CERT_KEY].value != NULL && o[OPT_CERT].value == NULL) {
    cli_usage_error(name, "--cert-key needs --cert");
    return false;
  }
  if (o[OPT_KEY].value != NULL) {
    cfg->credential = IOTC_DPS_CREDENTIAL_DEVICE_KEY;
    cfg->key = o[OPT_KEY].value;
  } else if (o[OPT_GROUP_KEY].value != NULL) {
    cfg->credential = IOTC_DPS_CREDENTIAL_GROUP_KEY;
    cfg->key = o[OPT_GROUP_KEY].value;
  } else {
    cfg->credential = IOTC_DPS_CREDENTIAL_X509;
    cfg->cert_file = o[OPT_CERT].value;
    cfg->key_file = o[OPT_CERT_KEY].value;
  }
  return true;
}

static bool fill_config(const char *name, const cli_option *o, iotc_dps_config *cfg) {
  iotc_dps_config_init(cfg);
  if (o[OPT_ID_SCOPE].value == NULL || o[OPT_DEVICE_ID].value == NULL) {
    cli_usage_error(name, "missing --%s", o[OPT_ID_SCOPE].value ? "device-id" : "id-scope");
    return false;
  }
  cfg->id_scope = o[OPT_ID_SCOPE].value;
  cfg->registration_id = o[OPT_DEVICE_ID].value;
  if (!pick_credential(name, o, cfg)) {
    return false;
  }
  const char *transport = o[OPT_TRANSPORT].value;
  if (transport == NULL || strcmp(transport, "mqtt") == 0) {
    cfg->transport = IOTC_DPS_TRANSPORT_MQTT;
  } else if (strcmp(transport, "https") == 0) {
    cfg->transport = IOTC_DPS_TRANSPORT_HTTPS;
  } else if (strcmp(transport, "mqtt-ws") == 0) {
    cfg->transport = IOTC_DPS_TRANSPORT_MQTT_WS;
  } else {
    cli_usage_error(name, "--transport must be mqtt, mqtt-ws or https");
    return false;
  }
  cfg->endpoint = o[OPT_ENDPOINT].value;
  cfg->model_id = o[OPT_MODEL_ID].value;
  cfg->payload_json = o[OPT_PAYLOAD].value;
  cfg->ca_file = o[OPT_CA_FILE].value;
  if (o[OPT_TIMEOUT].value != NULL) {
    uint64_t s = 0;
    if (!cli_parse_u64(o[OPT_TIMEOUT].value, &s) || s == 0 || s > 3600) {
      cli_usage_error(name, "--timeout must be 1-3600 seconds");
      return false;
    }
    cfg->timeout_ms = (uint32_t)(s * 1000u);
  }
  return true;
}

int cli_provision(int argc, char **argv) {
  cli_option options[OPT_COUNT] = {
      [OPT_ID_SCOPE] = {"id-scope", "SCOPE", "ID scope of the IoT Central application", NULL},
      [OPT_DEVICE_ID] = {"device-id", "ID", "device ID (the DPS registration ID)", NULL},
      [OPT_KEY] = {"key", "KEY", "device key, base64 (individual enrollment)", NULL},
      [OPT_GROUP_KEY] = {"group-key", "KEY", "enrollment group key, base64 (SAS-IoT-Devices)",
                         NULL},
      [OPT_CERT] = {"cert", "FILE", "X.509 device certificate, PEM (CN = device ID)", NULL},
      [OPT_CERT_KEY] = {"cert-key", "FILE", "private key of --cert, PEM (default: in --cert)",
                        NULL},
      [OPT_ENDPOINT] = {"dps-endpoint", "HOST[:PORT]",
                        "DPS endpoint (default " IOTC_DPS_DEFAULT_ENDPOINT ")", NULL},
      [OPT_TRANSPORT] = {"transport", "mqtt|mqtt-ws|https",
                         "MQTT over TLS on 8883 (default), MQTT over WebSockets on 443, or HTTPS",
                         NULL},
      [OPT_MODEL_ID] = {"model-id", "DTMI", "device model, sent as {\"modelId\": DTMI}", NULL},
      [OPT_PAYLOAD] = {"payload", "JSON", "custom registration payload (a JSON object)", NULL},
      [OPT_CA_FILE] = {"ca-file", "FILE", "trusted roots, PEM (default: Azure's roots)", NULL},
      [OPT_TIMEOUT] = {"timeout", "SECONDS", "give up after this long (default 90)", NULL},
  };
  const cli_spec spec = {
      "provision",
      "--id-scope SCOPE --device-id ID --key KEY [OPTIONS]\n"
      "--id-scope SCOPE --device-id ID --group-key KEY [OPTIONS]\n"
      "--id-scope SCOPE --device-id ID --cert FILE [--cert-key FILE] [OPTIONS]",
      "Register the device with the Device Provisioning Service and print one JSON object:\n"
      "{\"status\":\"assigned\",\"assignedHub\":...,\"deviceId\":...,\"substatus\":...}.\n"
      "Exit status 1 when DPS refuses or cannot be reached, 2 for bad usage or input.\n"
      "Every transport follows https_proxy/HTTPS_PROXY (user:password@ too) and no_proxy. Over\n"
      "MQTT, a host listed in no_proxy cannot bypass a lower-case https_proxy: use HTTPS_PROXY or\n"
      "--transport https.\n"
      "A refusal over MQTT cannot say whether the ID scope, device ID or key is wrong;\n"
      "--transport https says which.",
      options,
      OPT_COUNT,
  };
  int code = CLI_EXIT_OK;
  if (!cli_parse(&spec, argc, argv, &code)) {
    return code;
  }
  iotc_dps_config cfg;
  if (!fill_config(spec.name, options, &cfg)) {
    return CLI_EXIT_USAGE;
  }
  iotc_dps_registration reg;
  iotc_error err;
  iotc_result rc = iotc_dps_register(&cfg, &reg, &err);
  code = rc == IOTC_OK ? print_result(&reg) : failure(spec.name, rc, &err);
  iotc_dps_registration_clear(&reg);
  return code;
}
