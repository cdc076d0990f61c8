/* SPDX-License-Identifier: MIT */
/* Why a connection through an HTTP CONNECT proxy failed (internal). Paho reports only a failed
 * connect whatever the proxy answered (407 for missing or wrong credentials, 403 for a target
 * the proxy does not allow, 502 when it cannot reach it, or a closed connection): this probe
 * repeats the CONNECT request on the calling thread and names the answer, never the
 * credentials. */
#ifndef IOTC_NET_PROXY_PROBE_H
#define IOTC_NET_PROXY_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Ask the proxy @p proxy_url (the `https://[user:pass@]host:port` form common/proxy.h gives
 * Paho) for a tunnel to @p host:@p port, as Paho does (Basic credentials when present).
 * True when the proxy did not open it, with the reason in @p out ("the proxy 10.0.0.1:3128
 * refused the tunnel to hub:443: HTTP/1.1 407 Proxy Authentication Required"); false when it
 * did (the proxy is not the problem) or @p proxy_url is empty. Blocks up to @p timeout_ms.
 */
bool iotc__proxy_probe(const char *proxy_url, const char *host, int port, uint32_t timeout_ms,
                       char *out, size_t size);

#endif
