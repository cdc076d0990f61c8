/* SPDX-License-Identifier: MIT */
/* Why MQTT over WebSockets did not connect when TCP and TLS did (internal). Paho says only
 * "socket error" when the server refuses the WebSocket upgrade (a 403 from a filtering gateway,
 * a 404 for a wrong path, a web server that is not IoT Hub): this probe repeats the handshake
 * and the upgrade request on the calling thread and names the answer. */
#ifndef IOTC_NET_WS_PROBE_H
#define IOTC_NET_WS_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * TLS to @p host:@p port as Paho does, then `GET @p path` with the upgrade headers Paho sends
 * (subprotocol mqtt). True when the upgrade failed, with the reason in @p out: the HTTP status
 * that refused it, no answer, or an answer that is not HTTP. False when the upgrade is accepted
 * (101), or TLS or TCP failed before it (iotc__tls_probe() and iotc__connect_cause() name
 * those). Blocks up to @p timeout_ms.
 */
bool iotc__ws_probe(const char *host, int port, const char *path, const char *ca_file,
                    const char *cert_file, const char *key_file, uint32_t timeout_ms, char *out,
                    size_t size);

#endif
