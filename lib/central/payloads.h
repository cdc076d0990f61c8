/* SPDX-License-Identifier: MIT */
/* The JSON payloads IoT Central expects of a device (heap strings, free() them). */
#ifndef IOTC_CENTRAL_PAYLOADS_H
#define IOTC_CENTRAL_PAYLOADS_H

#include <stddef.h>
#include <stdint.h>

/**
 * `{"name":value}` or `{"component":{"__t":"c","name":value}}`. Inputs already validated.
 * Heap result (free()), NULL on allocation failure.
 */
char *iotc__json_reported_one(const char *component, const char *name, const char *value_json,
                              size_t *out_len);

/**
 * A whole object of properties, under @p component (NULL: root). @p object_json must be a
 * valid JSON object. NULL on allocation failure.
 */
char *iotc__json_reported_many(const char *component, const char *object_json, size_t *out_len);

/** `{"name":{"value":V,"ac":S,"av":N[,"ad":"D"]}}` under @p component. */
char *iotc__json_ack(const char *component, const char *name, const char *value_json, int status,
                     int64_t version, const char *description, size_t *out_len);

/** `{"name":{"value":V}}` under @p component (long-running command completion). */
char *iotc__json_command_done(const char *component, const char *name, const char *value_json,
                              size_t *out_len);

#endif
