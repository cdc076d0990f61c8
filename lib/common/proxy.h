/* SPDX-License-Identifier: MIT */
/* How an MQTT/TLS connection (DPS or IoT Hub, both over Paho) goes through an HTTP proxy
 * (internal; the decision is pure: net/proxy_env.h reads the environment).
 *
 * Paho MQTT C 1.3.12 reads the lower-case `https_proxy` variable by itself at every connect
 * (unless the connect options carry an explicit `httpsProxy`, which then wins), ignores
 * `no_proxy`, only understands the value without a scheme or with `https://`, and cannot be
 * told to connect directly while `https_proxy` is set (an empty `httpsProxy` is used as an
 * empty proxy address). So:
 * - no proxy variable set: connect directly;
 * - `https_proxy` (else `HTTPS_PROXY`) set and the host not in `no_proxy` (else `NO_PROXY`):
 *   pass it explicitly, rewritten to the `https://[user:pass@]host:port` form Paho accepts
 *   (an `http://` scheme is what users write; port 1080 when absent, as libcurl does);
 * - the host in `no_proxy`: connect directly when only `HTTPS_PROXY` is set (Paho does not read
 *   it); when `https_proxy` is set, Paho would still use it: refuse with a message saying so;
 * - `https_proxy` set but empty: Paho would dial an empty address: refuse likewise. */
#ifndef IOTC_COMMON_PROXY_H
#define IOTC_COMMON_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "iotc/result.h"

/** Longest proxy URL handed to Paho, with its NUL. */
#define IOTC__PROXY_URL_SIZE 512

/** The proxy variables as the process has them (each nullable: not set). */
typedef struct iotc__proxy_env {
  const char *https_proxy;       /* read by Paho 1.3.12 itself */
  const char *https_proxy_upper; /* HTTPS_PROXY: used when https_proxy is not set or empty */
  const char *no_proxy;
  const char *no_proxy_upper;    /* NO_PROXY: used when no_proxy is not set */
} iotc__proxy_env;

/**
 * Decide how to reach @p host (`host`, `host:port`, `[v6]:port`) over MQTT/TLS.
 * @param url receives the explicit `httpsProxy` value for Paho, or "" to connect directly
 * @param why a static explanation when the result is not IOTC_OK (never contains a password)
 * @retval IOTC_OK
 * @retval IOTC_ERR_NOT_SUPPORTED Paho 1.3.12 cannot do what the variables ask (see above), or
 *         the proxy is not an HTTP CONNECT proxy (`socks5://...`)
 * @retval IOTC_ERR_INVALID_ARG the proxy value is not `[scheme://][user:pass@]host[:port][/]`
 * @retval IOTC_ERR_BUFFER_TOO_SMALL @p url_size is too small for the rewritten value
 */
iotc_result iotc__mqtt_proxy(const char *host, const iotc__proxy_env *env, char *url,
                             size_t url_size, const char **why);

/** True when @p host (port and brackets ignored) is excluded by the no_proxy list @p list. */
bool iotc__no_proxy_match(const char *host, const char *list);

#endif
