/* SPDX-License-Identifier: MIT */
/* Device connection strings: `HostName=…;DeviceId=…;SharedAccessKey=…`. */
#ifndef IOTC_CENTRAL_CONN_STRING_H
#define IOTC_CENTRAL_CONN_STRING_H

#include "iotc/result.h"

typedef struct iotc__conn_string {
  char *host;      /* heap */
  char *device_id; /* heap */
  char *key;       /* heap, secret: release with iotc__conn_string_clear() */
} iotc__conn_string;

/**
 * Parse @p text. Unknown parts (GatewayHostName, …) are ignored; ModuleId and
 * x509=true are refused. @p why gets a static reason on failure (never the key).
 * @retval IOTC_OK, IOTC_ERR_INVALID_ARG, IOTC_ERR_NO_MEMORY
 */
iotc_result iotc__conn_string_parse(const char *text, iotc__conn_string *out, const char **why);

/** Free and wipe. Safe on a zeroed struct. */
void iotc__conn_string_clear(iotc__conn_string *cs);

#endif
