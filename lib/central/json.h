/* SPDX-License-Identifier: MIT */
/* Small JSON helpers for the client's hot paths: a one-pass validator and the builders of
 * reported-property payloads (direct string building, no DOM). */
#ifndef IOTC_CENTRAL_JSON_H
#define IOTC_CENTRAL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

/** Deepest nesting iotc__json_check() accepts. */
#define IOTC__JSON_MAX_DEPTH 128

/**
 * Check that s[0..len) is exactly one JSON value (RFC 8259; surrounding whitespace allowed).
 * @param[out] out_kind nullable: first byte of the value ('{', '[', '"', 't', 'f', 'n', or a
 *             number's first byte)
 * @return NULL when valid, else a short static text saying why not
 */
const char *iotc__json_check(const char *s, size_t len, char *out_kind);

/** Length of @p s escaped as the inside of a JSON string (no quotes). */
size_t iotc__json_escaped_len(const char *s);
/** Write @p s escaped (no quotes, no NUL) at @p dst; returns the end. */
char *iotc__json_escape_to(const char *s, char *dst);

/** A growable heap string; on allocation failure @c failed is set and appends do nothing. */
typedef struct iotc__sbuf {
  char *ptr;
  size_t len;
  size_t cap;
  bool failed;
} iotc__sbuf;

void iotc__sbuf_add(iotc__sbuf *b, const char *s, size_t n);
void iotc__sbuf_adds(iotc__sbuf *b, const char *s);
void iotc__sbuf_add_json_string(iotc__sbuf *b, const char *s);
void iotc__sbuf_add_int(iotc__sbuf *b, int64_t v);
/** Hand the NUL-terminated text over (NULL on failure, then the buffer is freed). */
char *iotc__sbuf_take(iotc__sbuf *b, size_t *out_len);

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
