/* SPDX-License-Identifier: MIT */
/* Warning about trust anchors that are about to expire (internal): the Baltimore root's
 * retirement broke every device with a hard-coded bundle, so say so before it happens. */
#ifndef IOTC_NET_CA_EXPIRY_H
#define IOTC_NET_CA_EXPIRY_H

#include <stddef.h>
#include <stdint.h>

/** Warn this long before a root's notAfter. */
#define IOTC__CA_EXPIRY_WARN_DAYS 90

/**
 * Count the certificates in the PEM file @p path whose notAfter is before @p now + @p days
 * (expired ones included) and describe the one that expires first in @p out ("" when none).
 * Returns -1 when the file cannot be read.
 */
int iotc__ca_expiring(const char *path, int64_t now, int days, char *out, size_t size);

/** Log a warning for each root in @p path expiring within IOTC__CA_EXPIRY_WARN_DAYS; the count. */
int iotc__ca_warn_expiring(const char *path);

#endif
