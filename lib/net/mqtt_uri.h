/* SPDX-License-Identifier: MIT */
/* The Paho server URI of an MQTT endpoint (IoT Hub or DPS), over TLS or over WebSockets over TLS
 * (internal). IoT Hub and DPS serve MQTT over WebSockets at the path /$iothub/websocket on 443;
 * Paho sends the subprotocol `mqtt` itself. A device authenticating with a SAS token (no client
 * certificate) adds `?iothub-no-client-cert=true`, which tells IoT Hub not to ask for one. */
#ifndef IOTC_NET_MQTT_URI_H
#define IOTC_NET_MQTT_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "iotc/result.h"

#define IOTC__MQTT_PORT 8883
#define IOTC__WS_PORT 443
#define IOTC__WS_PATH "/$iothub/websocket"
#define IOTC__WS_NO_CLIENT_CERT "?iothub-no-client-cert=true"

/**
 * Write `ssl://host:port` or `wss://host:port/$iothub/websocket[?iothub-no-client-cert=true]`.
 * @param host a name, an IPv4 address or a bare IPv6 address (bracketed here)
 * @param port 1 to 65535
 * @param no_client_cert WebSockets only: add the query (SAS authentication)
 * @retval IOTC_ERR_BUFFER_TOO_SMALL the URI does not fit @p size
 */
iotc_result iotc__mqtt_uri(const char *host, int port, bool websocket, bool no_client_cert,
                           char *uri, size_t size);

#endif
