/* SPDX-License-Identifier: MIT */
#include "iotc/result.h"

#include <string.h>

const char *iotc_strerror(iotc_result result) {
  switch (result) {
  case IOTC_OK: return "success";
  case IOTC_ERR_INVALID_ARG: return "invalid argument";
  case IOTC_ERR_BUFFER_TOO_SMALL: return "buffer too small";
  case IOTC_ERR_NO_MATCH: return "no match";
  case IOTC_ERR_MALFORMED: return "malformed input";
  case IOTC_ERR_NO_MEMORY: return "out of memory";
  case IOTC_ERR_BAD_ENCODING: return "bad encoding";
  case IOTC_ERR_CRYPTO: return "cryptographic operation failed";
  case IOTC_ERR_IO: return "file I/O failed";
  case IOTC_ERR_TLS: return "TLS failure";
  case IOTC_ERR_CONNECT: return "could not connect";
  case IOTC_ERR_TIMEOUT: return "timed out";
  case IOTC_ERR_CANCELLED: return "cancelled";
  case IOTC_ERR_UNAUTHORIZED: return "not authorized";
  case IOTC_ERR_NOT_FOUND: return "not found";
  case IOTC_ERR_THROTTLED: return "throttled by the service";
  case IOTC_ERR_SERVICE: return "service error";
  case IOTC_ERR_PROVISIONING_FAILED: return "provisioning failed";
  case IOTC_ERR_PROVISIONING_DISABLED: return "provisioning disabled";
  case IOTC_ERR_PROTOCOL: return "protocol violation by the service";
  case IOTC_ERR_QUEUE_FULL: return "queue full";
  case IOTC_ERR_NOT_CONNECTED: return "not connected";
  case IOTC_ERR_STATE: return "not allowed in the current state";
  case IOTC_ERR_TOO_LARGE: return "too large";
  case IOTC_ERR_TRANSPORT: return "MQTT transport error";
  case IOTC_ERR_HTTP: return "HTTP transport error";
  case IOTC_ERR_SHUTDOWN: return "client shutting down";
  case IOTC_ERR_NOT_SUPPORTED: return "not supported";
  case IOTC_ERR_INTERNAL: return "internal error";
  case IOTC_ERR_EXPIRED: return "expired";
  case IOTC_ERR_CONNECTION_LOST: return "connection lost";
  case IOTC_ERR_LOCKED: return "in use by another client";
  case IOTC_ERR_NO_SPACE: return "no space left on the file system";
  }
  return "unknown error";
}

void iotc_error_clear(iotc_error *err) {
  if (err) {
    memset(err, 0, sizeof *err);
  }
}
