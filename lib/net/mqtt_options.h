/* SPDX-License-Identifier: MIT */
/* The connect settings every iotc MQTT connection shares (IoT Hub and DPS), in one place so no
 * transport can forget one: MQTT 3.1.1 only (no 3.1 fallback doubling each attempt), a clean
 * session, iotc's own reconnects, and TLS that verifies the server certificate AND its host name
 * (Paho's initializer leaves the host-name check off), with OpenSSL's reasons collected. */
#ifndef IOTC_NET_MQTT_OPTIONS_H
#define IOTC_NET_MQTT_OPTIONS_H

#include <MQTTAsync.h>

#include "net/tls_diag.h"

typedef struct iotc__mqtt_endpoint {
  const char *username;
  const char *password;   /* NULL for X.509 */
  const char *ca_file;    /* trusted roots (PEM) */
  const char *cert_file;  /* client certificate (PEM), nullable */
  const char *key_file;   /* its key, nullable */
  const char *proxy;      /* explicit https proxy or "" (see common/proxy.h) */
  iotc__tls_note *tls;    /* where Paho's TLS errors go */
  int keepalive_s;
  int connect_timeout_s;
} iotc__mqtt_endpoint;

/**
 * Fill @p ssl and @p o (both freshly initialised here) for @p ep; @p o->ssl points to @p ssl,
 * so both must live until MQTTAsync_connect() returns. The caller adds callbacks, context and
 * anything specific (maxInflight).
 */
void iotc__mqtt_connect_options(const iotc__mqtt_endpoint *ep, MQTTAsync_SSLOptions *ssl,
                                MQTTAsync_connectOptions *o);

#endif
