/* SPDX-License-Identifier: MIT */
/* Small JSON helpers: a one-pass validator (no recursion, bounded nesting), string escaping,
 * a growable string buffer, and the one way the library hands text to jansson. */
#ifndef IOTC_COMMON_JSON_H
#define IOTC_COMMON_JSON_H

#include <jansson.h>
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

/** Longest JSON text iotc__json_load() is asked to parse anywhere: a device model file. Messages
 * are far smaller (IoT Hub carries at most 256 KiB). */
#define IOTC__JSON_MAX_LEN (4u * 1024u * 1024u)

/** Room for the reason iotc__json_load() gives. */
#define IOTC__JSON_WHY_SIZE 192
/** What iotc__json_load() writes as its reason when memory ran out. */
#define IOTC__JSON_NO_MEMORY "out of memory"

/**
 * Parse s[0..len) with jansson, bounded: refused when longer than @p max_len bytes or when
 * iotc__json_check() refuses it (nesting deeper than IOTC__JSON_MAX_DEPTH among others), both
 * before jansson sees it, since jansson recurses per level and callers run on small stacks.
 * @param flags jansson decoding flags (0: an object or an array; JSON_DECODE_ANY;
 *        JSON_REJECT_DUPLICATES)
 * @param why nullable; on failure, why: "longer than N bytes", the checker's reason, or
 *        "line L, column C: jansson's reason"
 * @return the value (the caller json_decref()s it), or NULL (also when out of memory)
 */
json_t *iotc__json_load(const char *s, size_t len, size_t max_len, size_t flags,
                        char why[IOTC__JSON_WHY_SIZE]);

/** json_dumps() that fails cleanly: NULL when memory runs out, never a text with bytes missing
 * (jansson 2.14's own json_dumps() can drop a key's closing quote when an append fails). The text
 * is sized first, then written into one buffer; the caller frees it. */
char *iotc__json_dump(const json_t *j, size_t flags);

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

#endif
