/* SPDX-License-Identifier: MIT */
/* Test support for the IoT Central client tests (central_*.c): devices on the emulator, clients
 * configured for it, and the operator's view of them (telemetry, commands, properties), waited
 * for through the operator API. Built on emu.h and record.h. Functions print one line to stderr
 * when they fail. */
#ifndef IOTC_TEST_CENTRAL_H
#define IOTC_TEST_CENTRAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu.h"
#include "iotc/client.h"
#include "record.h"

typedef struct central_device {
  char id[128];
  char key[128];
} central_device;

/** Loads the emulator's ready line once; aborts the test program when it cannot. */
const emu_info *central_emu(void);

/** Create a fresh device (unique id from @p prefix) and read its symmetric key. */
int central_device_new(const char *prefix, central_device *out);
/* The same, created as a device of the given device template (uploaded beforehand). */
int central_device_of_template(const char *prefix, const char *template_id, central_device *out);

/** A DPS-over-MQTT configuration for @p dev on the emulator (strings borrowed from @p dev). */
void central_config(const central_device *dev, iotc_client_config *cfg);
/** The same for any device id, authenticated with the emulator's enrollment-group key (DPS
 * registers the device on first contact; @p device_id is borrowed). */
void central_group_config(const char *device_id, iotc_client_config *cfg);

/** Create a client for @p cfg, or fail the test. */
iotc_client *central_client(const iotc_client_config *cfg);

/** A client that is never connected (a made-up key, DPS at 127.0.0.1:1), for tests of the API
 * alone: arguments, queues, scheduling. NULL on failure. */
iotc_client *central_offline_client(const char *device_id);

/** A new device (unique id from @p prefix) and a client for it with central_config(), not
 * connected yet (so handlers can be set first). NULL on failure. */
iotc_client *central_new(const char *prefix, central_device *dev);

/** Connect (CENTRAL_WAIT_MS); 0 on IOTC_OK, else prints the error. */
int central_connect(iotc_client *client);

/** GET path and return the JSON body when the status is 2xx, else NULL. */
json_t *central_get(const char *path_fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Poll GET @p path until @p ready(body, ctx) is true or CENTRAL_WAIT_MS passes. Returns the
 * last body (a new reference; NULL when never fetched). *ok tells whether ready became true.
 */
json_t *central_poll(const char *path, bool (*ready)(json_t *body, void *ctx), void *ctx, bool *ok);

/** Long-poll until the device's connection holds the subscription @p filter (e.g. "$iothub/methods/POST/#"). */
int central_wait_subscribed(const char *device_id, const char *filter);

/** Long-poll until the device is connected (true) or not (false). */
int central_wait_connected(const char *device_id, bool connected);

/** Wait until the emulator holds at least @p count messages of the device; returns them (array, new ref). */
json_t *central_wait_messages(const char *device_id, size_t count);

/** All telemetry messages of the device received so far (array, new reference). */
json_t *central_messages(const char *device_id);

/** Send one telemetry message (default options) and wait for its completion; its result. */
iotc_result central_send_telemetry_wait(iotc_client *client, const char *json);

/** Wait until the operator's latest value of the device's telemetry field @p name is @p value. */
int central_wait_telemetry(const char *device_id, const char *name, json_int_t value);

/** Send {"seq": seq}, wait for its completion (must be IOTC_OK), then wait until the operator
 * shows it as the device's latest `seq`. 0 when both happened. */
int central_telemetry_round_trip(iotc_client *client, const char *device_id, int seq);

/**
 * POST a command through the operator API (component nullable). Returns the response body (new
 * reference) and the HTTP status in *http_status; NULL on transport failure.
 */
json_t *central_command(const char *device_id, const char *component, const char *name,
                        const char *body_json, long *http_status);

/** central_command() reduced to the device's responseCode (-HTTP status when there is none). */
long central_command_code(const char *device_id, const char *component, const char *name,
                          const char *body_json);

/** PATCH writable properties (component nullable); returns the HTTP status, -1 on failure. */
long central_patch(const char *device_id, const char *component, const char *json_object);

/** The device's properties as the operator sees them (component nullable). New reference. */
json_t *central_properties(const char *device_id, const char *component);

/**
 * Wait until the operator's $metadata of @p name shows an acknowledgement for the current
 * desired version. Returns the properties body (new reference) or NULL on timeout.
 */
json_t *central_wait_ack(const char *device_id, const char *component, const char *name);

/**
 * A loopback TCP listener that never accepts nor answers: connections to it complete and then
 * hang (a server that does not respond). Returns the socket (close it when done) and its port
 * in *port; -1 on failure.
 */
int central_silent_listener(int *port);

/** Monotonic milliseconds. */
uint64_t central_now_ms(void);

/** Sleep @p ms (used only to pace senders, never to wait for an outcome). */
void central_sleep_ms(uint32_t ms);

#endif
