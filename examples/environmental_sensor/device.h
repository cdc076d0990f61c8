/* SPDX-License-Identifier: MIT */
/*
 * What the environmental sensor does: the IoT Central tutorial's device, on the iotc client.
 */
#ifndef SENSOR_DEVICE_H
#define SENSOR_DEVICE_H

#include <stdint.h>

#include "iotc/client.h"

typedef struct sensor_device sensor_device;

/** A writable property of the model and how long the device takes to apply it. */
typedef struct sensor_property {
  sensor_device *dev;
  const char *name;
  uint32_t ack_delay_ms;
  int kind; /* what a valid value is: see device.c */
} sensor_property;

struct sensor_device {
  iotc_client *client;
  unsigned int seed;      /* rand_r() state: telemetry values */
  int last_status;        /* last iotc_connection_status seen, -1 before any */
  sensor_property properties[2];
};

/**
 * Install the command, writable-property and status handlers on @p client. @p dev must stay
 * where it is while the client lives (the handlers point to it). Delayed work (acknowledgements,
 * the diagnostics run) is scheduled on the client's own thread with iotc_client_schedule().
 */
iotc_result sensor_device_attach(sensor_device *dev, iotc_client *client);

/** Queue the reported properties the device sends at startup (state, architecture, version). */
iotc_result sensor_device_report_startup(sensor_device *dev);

/** Queue one {"temp":…,"humid":…} message; it is printed once the hub accepted it. */
iotc_result sensor_device_send_telemetry(sensor_device *dev);

#endif
