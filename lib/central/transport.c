/* SPDX-License-Identifier: MIT */
#include "central/transport.h"

#include <stdio.h>
#include <string.h>

#include "central/cache.h"
#include "central/client_internal.h"
#include "common/log.h"

const char *iotc_transport_str(iotc_transport transport) {
  switch (transport) {
    case IOTC_TRANSPORT_MQTT: return "mqtt";
    case IOTC_TRANSPORT_MQTT_WS: return "mqtt-ws";
    case IOTC_TRANSPORT_AUTO: return "auto";
    default: return "unknown transport";
  }
}

void iotc__transport_init(iotc__transport_state *t, iotc_transport configured,
                          uint32_t fallback_ms) {
  t->configured = configured;
  t->fallback_ms = fallback_ms;
  atomic_store(&t->now, configured == IOTC_TRANSPORT_MQTT_WS ? IOTC_TRANSPORT_MQTT_WS
                                                            : IOTC_TRANSPORT_MQTT);
  t->cached = -1;
  t->started_at = 0;
}

iotc_transport iotc__transport_now(const iotc_client *c) {
  return (iotc_transport)atomic_load(&c->tr.now);
}

iotc_transport iotc_client_get_transport(const iotc_client *client) {
  return client ? iotc__transport_now(client) : IOTC_TRANSPORT_MQTT;
}

void iotc__transport_cached(iotc_client *c, int transport) {
  c->tr.cached = transport;
  if (c->tr.configured == IOTC_TRANSPORT_AUTO && transport >= 0) {
    atomic_store(&c->tr.now, transport);
    IOTC_LOGI("the cache file says %s connected last: trying it first",
              iotc_transport_str((iotc_transport)transport));
  }
}

uint32_t iotc__transport_begin(iotc_client *c, uint32_t connect_timeout_ms) {
  c->tr.started_at = iotc__client_now(c);
  bool trial = c->tr.configured == IOTC_TRANSPORT_AUTO &&
               atomic_load(&c->tr.now) == IOTC_TRANSPORT_MQTT;
  return trial && c->tr.fallback_ms < connect_timeout_ms ? c->tr.fallback_ms : connect_timeout_ms;
}

bool iotc__transport_fall_back(iotc_client *c, const char *why, char *msg, size_t size) {
  if (c->tr.configured != IOTC_TRANSPORT_AUTO) return false;
  if (atomic_load(&c->tr.now) == IOTC_TRANSPORT_MQTT_WS) {
    atomic_store(&c->tr.now, IOTC_TRANSPORT_MQTT); /* 443 failed too: 8883 first next time */
    return false;
  }
  atomic_store(&c->tr.now, IOTC_TRANSPORT_MQTT_WS);
  unsigned long long took = (unsigned long long)(iotc__client_now(c) - c->tr.started_at);
  snprintf(msg, size, "MQTT on 8883 did not connect after %llu ms (%.200s): trying MQTT over "
           "WebSockets on 443", took, why);
  IOTC_LOGW("%s", msg);
  return true;
}

void iotc__transport_connected(iotc_client *c) {
  int now = atomic_load(&c->tr.now);
  if (c->tr.configured != IOTC_TRANSPORT_AUTO || c->cache_file == NULL || now == c->tr.cached) {
    return;
  }
  pthread_mutex_lock(&c->mu);
  char hub[sizeof c->hub], dev[sizeof c->device_id];
  memcpy(hub, c->hub, sizeof hub);
  memcpy(dev, c->device_id, sizeof dev);
  pthread_mutex_unlock(&c->mu);
  if (iotc__cache_write(c->cache_file, c->id_scope, c->registration_id, hub, dev, now) == IOTC_OK) {
    c->tr.cached = now;
  } else {
    IOTC_LOGW("could not write the cache file %s", c->cache_file);
  }
}
