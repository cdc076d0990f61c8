/* SPDX-License-Identifier: MIT */
/* The provisioning cache file: the hub DPS assigned and the device id, so restarts skip DPS, and
 * the transport that last connected ("mqtt" or "mqtt-ws"), so an automatic choice starts with it. */
#ifndef IOTC_CENTRAL_CACHE_H
#define IOTC_CENTRAL_CACHE_H

#include <stddef.h>

#include "iotc/result.h"

/**
 * Read @p path. The entry counts only when it was written for the same @p id_scope and
 * @p registration_id. IOTC_ERR_NOT_FOUND when absent or for another identity,
 * IOTC_ERR_MALFORMED when unreadable.
 * @param transport nullable; gets the remembered iotc_transport, or -1 when none (or unknown)
 */
iotc_result iotc__cache_read(const char *path, const char *id_scope, const char *registration_id,
                             char *hub, size_t hub_size, char *device_id, size_t device_id_size,
                             int *transport);

/** Write (atomically: temporary file + rename); @p transport -1 leaves it out. */
iotc_result iotc__cache_write(const char *path, const char *id_scope, const char *registration_id,
                              const char *hub, const char *device_id, int transport);

/** Forget the entry (the hub refused us). */
void iotc__cache_remove(const char *path);

#endif
