/* SPDX-License-Identifier: MIT */
/*
 * The environmental sensor's settings: from the environment (IOTC_*), overridden by flags.
 */
#ifndef SENSOR_OPTIONS_H
#define SENSOR_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "iotc/log.h"

/** The DTMI of EnvironmentalSensor.json beside this file: the default model id. */
#define SENSOR_DEFAULT_MODEL_ID "dtmi:com:example:iotc:EnvironmentalSensor;1"

typedef struct sensor_options {
  const char *id_scope;
  const char *device_id;
  const char *device_key;
  const char *group_key;
  const char *connection_string;
  const char *dps_endpoint;   /* host[:port]; NULL: the global DPS endpoint */
  bool dps_over_https;
  const char *ca_file;
  const char *model_id;
  const char *cache_file;
  const char *persist_dir;    /* store and forward; NULL: in memory only */
  uint32_t interval_ms;       /* between telemetry messages; the tutorial's 2 s */
  uint64_t count;             /* stop after this many messages; 0: never */
  uint32_t duration_s;        /* stop after this long; 0: never */
  uint32_t connect_timeout_s; /* wait this long for the first connection */
  bool read_stdin;            /* Q/q + Enter and end of input quit */
  bool log_enabled;
  iotc_log_level log_level;
} sensor_options;

/**
 * Fill @p opts from the environment, then from argv. Returns 0 to run, 1 when --help was
 * printed, 2 on a usage error (already reported on stderr). Strings point into argv/environ.
 */
int sensor_options_parse(sensor_options *opts, int argc, char **argv);

#endif
