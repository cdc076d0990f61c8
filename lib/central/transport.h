/* SPDX-License-Identifier: MIT */
/* Which transport the client uses (internal): MQTT over TLS on 8883, MQTT over WebSockets on
 * 443, or automatic: 8883 first, for at most fallback_ms, then 443 at once when 8883 did not
 * connect (refused, reset, silent); the transport that connected is remembered in the cache
 * file so the next start goes straight to it. Worker thread only, except
 * iotc__transport_now() (any thread). */
#ifndef IOTC_CENTRAL_TRANSPORT_H
#define IOTC_CENTRAL_TRANSPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/client.h"

struct iotc_client;

typedef struct iotc__transport_state {
  iotc_transport configured; /* MQTT, MQTT_WS or AUTO */
  uint32_t fallback_ms;      /* AUTO: one attempt on 8883 */
  atomic_int now;            /* MQTT or MQTT_WS: this attempt's (or the next one's) */
  int cached;                /* the cache file's transport, -1 when none */
  uint64_t started_at;       /* this attempt's start (monotonic ms) */
} iotc__transport_state;

/** From the configuration (iotc_client_create()). */
void iotc__transport_init(iotc__transport_state *t, iotc_transport configured,
                          uint32_t fallback_ms);

/** The transport of this attempt (MQTT or MQTT_WS). */
iotc_transport iotc__transport_now(const struct iotc_client *c);

/** The cache file named @p transport (-1: none): an automatic choice starts with it. */
void iotc__transport_cached(struct iotc_client *c, int transport);

/** An attempt (DPS or hub) starts now; returns its connect time limit in ms. */
uint32_t iotc__transport_begin(struct iotc_client *c, uint32_t connect_timeout_ms);

/**
 * An attempt failed before the service answered (no CONNACK: refused, reset, silent). With
 * AUTO on 8883 this switches to 443 and returns true with the status message in @p msg
 * ("MQTT on 8883 did not connect after N ms (why): trying MQTT over WebSockets on 443").
 * With AUTO on 443 the next attempt goes back to 8883. False otherwise.
 */
bool iotc__transport_fall_back(struct iotc_client *c, const char *why, char *msg, size_t size);

/** Connected: with AUTO, remember the transport in the cache file when it changed. */
void iotc__transport_connected(struct iotc_client *c);

#endif
