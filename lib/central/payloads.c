/* SPDX-License-Identifier: MIT */
/* The JSON payloads IoT Central expects of a device: reported properties, acknowledgements of
 * writable properties and completions of long-running commands (direct string building). */
#include "central/payloads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

/* Opens `{` or `{"component":{"__t":"c",` so a member can follow. */
static void open_under(iotc__sbuf *b, const char *component) {
  if (component == NULL) {
    iotc__sbuf_add(b, "{", 1);
    return;
  }
  iotc__sbuf_add(b, "{", 1);
  iotc__sbuf_add_json_string(b, component);
  iotc__sbuf_adds(b, ":{\"__t\":\"c\"");
}

/* `{"name":` under the component's object (after its "__t" marker). */
static void open_member(iotc__sbuf *b, const char *component, const char *name) {
  open_under(b, component);
  if (component) iotc__sbuf_add(b, ",", 1);
  iotc__sbuf_add_json_string(b, name);
  iotc__sbuf_add(b, ":", 1);
}

static char *close_under(iotc__sbuf *b, const char *component, size_t *out_len) {
  iotc__sbuf_adds(b, component ? "}}" : "}");
  return iotc__sbuf_take(b, out_len);
}

/* Trimmed copy boundaries of a JSON text. */
static void trim(const char **s, size_t *n) {
  while (*n && (**s == ' ' || **s == '\n' || **s == '\r' || **s == '\t')) {
    (*s)++;
    (*n)--;
  }
  while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\n' || (*s)[*n - 1] == '\r' ||
                (*s)[*n - 1] == '\t')) {
    (*n)--;
  }
}

static void add_value(iotc__sbuf *b, const char *value_json) {
  size_t n = strlen(value_json);
  trim(&value_json, &n);
  iotc__sbuf_add(b, value_json, n);
}

char *iotc__json_reported_one(const char *component, const char *name, const char *value_json,
                              size_t *out_len) {
  iotc__sbuf b = {0};
  open_member(&b, component, name);
  add_value(&b, value_json);
  return close_under(&b, component, out_len);
}

char *iotc__json_reported_many(const char *component, const char *object_json, size_t *out_len) {
  const char *s = object_json;
  size_t n = strlen(s);
  trim(&s, &n);
  if (component == NULL) {
    iotc__sbuf b = {0};
    iotc__sbuf_add(&b, s, n);
    return iotc__sbuf_take(&b, out_len);
  }
  /* the members between the braces, if any */
  const char *in = s + 1;
  size_t in_n = n - 2;
  trim(&in, &in_n);
  iotc__sbuf b = {0};
  open_under(&b, component);
  if (in_n) {
    iotc__sbuf_add(&b, ",", 1);
    iotc__sbuf_add(&b, in, in_n);
  }
  return close_under(&b, component, out_len);
}

char *iotc__json_ack(const char *component, const char *name, const char *value_json, int status,
                     int64_t version, const char *description, size_t *out_len) {
  iotc__sbuf b = {0};
  open_member(&b, component, name);
  iotc__sbuf_adds(&b, "{\"value\":");
  add_value(&b, value_json);
  iotc__sbuf_adds(&b, ",\"ac\":");
  iotc__sbuf_add_int(&b, status);
  iotc__sbuf_adds(&b, ",\"av\":");
  iotc__sbuf_add_int(&b, version);
  if (description) {
    iotc__sbuf_adds(&b, ",\"ad\":");
    iotc__sbuf_add_json_string(&b, description);
  }
  iotc__sbuf_add(&b, "}", 1);
  return close_under(&b, component, out_len);
}

char *iotc__json_command_done(const char *component, const char *name, const char *value_json,
                              size_t *out_len) {
  iotc__sbuf b = {0};
  open_member(&b, component, name);
  iotc__sbuf_adds(&b, "{\"value\":");
  add_value(&b, value_json);
  iotc__sbuf_add(&b, "}", 1);
  return close_under(&b, component, out_len);
}
