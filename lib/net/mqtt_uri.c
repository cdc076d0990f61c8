/* SPDX-License-Identifier: MIT */
#include "net/mqtt_uri.h"

#include <stdio.h>
#include <string.h>

iotc_result iotc__mqtt_uri(const char *host, int port, bool websocket, bool no_client_cert,
                           char *uri, size_t size) {
  if (host == NULL || uri == NULL || size == 0 || port < 1 || port > 65535) {
    return IOTC_ERR_INVALID_ARG;
  }
  bool v6 = strchr(host, ':') != NULL;
  int n = snprintf(uri, size, "%s://%s%s%s:%d%s%s", websocket ? "wss" : "ssl", v6 ? "[" : "", host,
                   v6 ? "]" : "", port, websocket ? IOTC__WS_PATH : "",
                   websocket && no_client_cert ? IOTC__WS_NO_CLIENT_CERT : "");
  return n >= 0 && (size_t)n < size ? IOTC_OK : IOTC_ERR_BUFFER_TOO_SMALL;
}
