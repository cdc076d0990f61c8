/* SPDX-License-Identifier: MIT */
#include "options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: environmental_sensor [options]\n"
    "\n"
    "The IoT Central environmental sensor: registers through DPS, reports its properties,\n"
    "sends {\"temp\",\"humid\"} telemetry, and handles the blink, turnon, turnoff and\n"
    "rundiagnostics commands and the writable properties name and brightness.\n"
    "Type Q (or q) then Enter to quit; Ctrl-C, SIGTERM and end of input quit too.\n"
    "\n"
    "Each option can also come from the environment variable in brackets.\n"
    "  --id-scope SCOPE          DPS ID scope of the application   [IOTC_ID_SCOPE]\n"
    "  --device-id ID            device id (registration id)       [IOTC_DEVICE_ID]\n"
    "  --device-key KEY          device's primary key (base64)     [IOTC_DEVICE_KEY]\n"
    "  --group-key KEY           enrollment group key (base64); the device key is derived\n"
    "                                                              [IOTC_GROUP_KEY]\n"
    "  --connection-string CS    connect straight to a hub, without DPS\n"
    "                                                              [IOTC_CONNECTION_STRING]\n"
    "  --dps-endpoint HOST[:PORT]  DPS endpoint (default global.azure-devices-provisioning.net)\n"
    "                                                              [IOTC_DPS_ENDPOINT]\n"
    "  --dps-transport mqtt|https  how to talk to DPS (default mqtt) [IOTC_DPS_TRANSPORT]\n"
    "  --ca-file FILE            PEM trust bundle (default: the Azure roots)  [IOTC_CA_FILE]\n"
    "  --model-id DTMI           model id (default " SENSOR_DEFAULT_MODEL_ID ")\n"
    "                                                              [IOTC_MODEL_ID]\n"
    "  --cache-file FILE         remember the assigned hub between runs [IOTC_CACHE_FILE]\n"
    "  --persist-dir DIR         keep unsent telemetry and properties on disk, so a crash or\n"
    "                            a power cut loses none (store and forward) [IOTC_PERSIST_DIR]\n"
    "  --log-level LEVEL         iotc's own log on stderr: error|warn|info|debug [IOTC_LOG_LEVEL]\n"
    "  --interval-ms MS          time between telemetry messages (default 2000)\n"
    "  --count N                 quit after N telemetry messages\n"
    "  --duration SECONDS        quit after this long\n"
    "  --connect-timeout SECONDS wait this long for the first connection (default 60)\n"
    "  --no-stdin                do not read standard input (quit with a signal)\n"
    "  --help                    this text\n";

static bool parse_u64(const char *text, uint64_t max, uint64_t *out) {
  if (!text || !*text || *text == '-') return false;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || *end || v > max) return false;
  *out = v;
  return true;
}

static bool parse_level(const char *text, iotc_log_level *out) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  for (int i = 0; i < 4; i++) {
    if (strcmp(text, names[i]) == 0) {
      *out = (iotc_log_level)i;
      return true;
    }
  }
  return false;
}

static bool parse_transport(const char *text, bool *https) {
  if (strcmp(text, "mqtt") == 0) {
    *https = false;
    return true;
  }
  if (strcmp(text, "https") == 0) {
    *https = true;
    return true;
  }
  return false;
}

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

static int bad(const char *what, const char *value) {
  if (value)
    fprintf(stderr, "environmental_sensor: %s: '%s'\nTry --help.\n", what, value);
  else
    fprintf(stderr, "environmental_sensor: %s\nTry --help.\n", what);
  return 2;
}

int sensor_options_parse(sensor_options *opts, int argc, char **argv) {
  memset(opts, 0, sizeof *opts);
  opts->id_scope = env("IOTC_ID_SCOPE");
  opts->device_id = env("IOTC_DEVICE_ID");
  opts->device_key = env("IOTC_DEVICE_KEY");
  opts->group_key = env("IOTC_GROUP_KEY");
  opts->connection_string = env("IOTC_CONNECTION_STRING");
  opts->dps_endpoint = env("IOTC_DPS_ENDPOINT");
  opts->ca_file = env("IOTC_CA_FILE");
  opts->model_id = env("IOTC_MODEL_ID");
  opts->cache_file = env("IOTC_CACHE_FILE");
  opts->persist_dir = env("IOTC_PERSIST_DIR");
  opts->interval_ms = 2000;
  opts->connect_timeout_s = 60;
  opts->read_stdin = true;
  const char *transport = env("IOTC_DPS_TRANSPORT");
  if (transport && !parse_transport(transport, &opts->dps_over_https))
    return bad("IOTC_DPS_TRANSPORT must be mqtt or https", transport);
  const char *level = env("IOTC_LOG_LEVEL");
  if (level) {
    if (!parse_level(level, &opts->log_level)) return bad("IOTC_LOG_LEVEL is not a level", level);
    opts->log_enabled = true;
  }

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(usage, stdout);
      return 1;
    }
    if (strcmp(arg, "--no-stdin") == 0) {
      opts->read_stdin = false;
      continue;
    }
    if (strncmp(arg, "--", 2) != 0) return bad("unexpected argument", arg);
    if (i + 1 >= argc) return bad("missing value after", arg);
    const char *v = argv[++i];
    uint64_t n = 0;
    if (strcmp(arg, "--id-scope") == 0) opts->id_scope = v;
    else if (strcmp(arg, "--device-id") == 0) opts->device_id = v;
    else if (strcmp(arg, "--device-key") == 0) opts->device_key = v;
    else if (strcmp(arg, "--group-key") == 0) opts->group_key = v;
    else if (strcmp(arg, "--connection-string") == 0) opts->connection_string = v;
    else if (strcmp(arg, "--dps-endpoint") == 0) opts->dps_endpoint = v;
    else if (strcmp(arg, "--ca-file") == 0) opts->ca_file = v;
    else if (strcmp(arg, "--model-id") == 0) opts->model_id = v;
    else if (strcmp(arg, "--cache-file") == 0) opts->cache_file = v;
    else if (strcmp(arg, "--persist-dir") == 0) opts->persist_dir = v;
    else if (strcmp(arg, "--dps-transport") == 0) {
      if (!parse_transport(v, &opts->dps_over_https)) return bad("--dps-transport must be mqtt or https", v);
    } else if (strcmp(arg, "--log-level") == 0) {
      if (!parse_level(v, &opts->log_level)) return bad("--log-level must be error, warn, info or debug", v);
      opts->log_enabled = true;
    } else if (strcmp(arg, "--interval-ms") == 0) {
      if (!parse_u64(v, 86400000u, &n) || n == 0) return bad("--interval-ms must be 1..86400000", v);
      opts->interval_ms = (uint32_t)n;
    } else if (strcmp(arg, "--count") == 0) {
      if (!parse_u64(v, UINT64_MAX, &n)) return bad("--count must be a number", v);
      opts->count = n;
    } else if (strcmp(arg, "--duration") == 0) {
      if (!parse_u64(v, 31536000u, &n)) return bad("--duration must be a number of seconds", v);
      opts->duration_s = (uint32_t)n;
    } else if (strcmp(arg, "--connect-timeout") == 0) {
      if (!parse_u64(v, 86400u, &n)) return bad("--connect-timeout must be a number of seconds", v);
      opts->connect_timeout_s = (uint32_t)n;
    } else {
      return bad("unknown option", arg);
    }
  }

  if (!opts->model_id) opts->model_id = SENSOR_DEFAULT_MODEL_ID;
  if (opts->connection_string) return 0;
  if (!opts->id_scope) return bad("the ID scope is missing (IOTC_ID_SCOPE or --id-scope)", NULL);
  if (!opts->device_id) return bad("the device id is missing (IOTC_DEVICE_ID or --device-id)", NULL);
  if (!opts->device_key == !opts->group_key)
    return bad("give exactly one of a device key (IOTC_DEVICE_KEY, --device-key) and a group key "
               "(IOTC_GROUP_KEY, --group-key)", NULL);
  return 0;
}
