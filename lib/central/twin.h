/* SPDX-License-Identifier: MIT */
/* Writable-property reconciliation over twin documents and desired patches (jansson). */
#ifndef IOTC_CENTRAL_TWIN_H
#define IOTC_CENTRAL_TWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

/** One writable property that needs the application's attention. All borrowed. */
typedef struct iotc__twin_update {
  const char *component; /* NULL: root */
  const char *name;
  const char *value_json; /* the `{"value":…}` wrapper removed; NULL when there was no memory
                           * to copy it: the update is lost, for the visitor to count */
  int64_t version;        /* desired $version */
} iotc__twin_update;

typedef void (*iotc__twin_visit_fn)(void *ctx, const iotc__twin_update *update);
/** Does the application know @p name as a component (handlers or defaults under it)? */
typedef bool (*iotc__twin_is_component_fn)(void *ctx, const char *name);

typedef struct iotc__twin iotc__twin;

/* Both parsers refuse documents nested deeper than IOTC__JSON_MAX_DEPTH: jansson recurses per
 * level when it dumps a value, and a deep one would overflow the client worker's stack. */

/**
 * Parse a twin GET body (`{"desired":{…},"reported":{…}}`).
 * @param[out] out_version desired `$version`
 * @param why short reason on failure (static text)
 * @retval IOTC_OK, IOTC_ERR_MALFORMED, IOTC_ERR_NO_MEMORY
 */
iotc_result iotc__twin_parse(const char *json, size_t len, iotc__twin **out,
                             int64_t *out_version, const char **why);

/**
 * Visit every desired writable property whose `$version` is newer than its acknowledged `av`
 * (or never acknowledged). Components: objects with `"__t":"c"`, or names @p is_component knows.
 */
void iotc__twin_pending(const iotc__twin *twin, iotc__twin_is_component_fn is_component,
                        void *cctx, iotc__twin_visit_fn visit, void *vctx);

/** Has the twin a desired value, or a reported value, for this property? */
bool iotc__twin_has_desired(const iotc__twin *twin, const char *component, const char *name);
bool iotc__twin_has_reported(const iotc__twin *twin, const char *component, const char *name);

void iotc__twin_free(iotc__twin *twin);

/**
 * Parse a desired patch and visit each property in it (null values, i.e. deletions, skipped).
 * The patch's version is the body's integer `$version` when it has one (>= 0), else
 * @p topic_version (the topic's `$version`; -1 when it has none).
 * @param newer_than visit nothing when the version is not above this (INT64_MIN: no limit)
 * @param[out] out_version the patch's version as above (-1 when neither has one)
 * @retval IOTC_OK, IOTC_ERR_MALFORMED, IOTC_ERR_NO_MATCH (not newer than @p newer_than)
 */
iotc_result iotc__twin_patch(const char *json, size_t len, iotc__twin_is_component_fn is_component,
                             void *cctx, iotc__twin_visit_fn visit, void *vctx,
                             int64_t topic_version, int64_t newer_than, int64_t *out_version,
                             const char **why);

#endif
