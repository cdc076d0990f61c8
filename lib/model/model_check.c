/* SPDX-License-Identifier: MIT */
/* Values against a DTDL model: is the name in the (component's) interface, and does the value
 * match its schema? Refusals say where and why: "config.limits[2]: expected number, got string". */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "model/model.h"
#include "model/model_format.h"

#define VPATH_SIZE 160

typedef struct vctx {
  char path[VPATH_SIZE];
  size_t len;
  char *why;
} vctx;

static iotc_result refuse(vctx *v, const char *fmt, ...) IOTC__PRINTF(2, 3);
static iotc_result refuse(vctx *v, const char *fmt, ...) {
  char msg[IOTC__MODEL_WHY_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(v->why, IOTC__MODEL_WHY_SIZE, "%.100s: %.150s", v->path, msg);
  return IOTC_ERR_INVALID_ARG;
}

/* Append to the path; returns the length to restore. */
static size_t push(vctx *v, const char *fmt, ...) IOTC__PRINTF(2, 3);
static size_t push(vctx *v, const char *fmt, ...) {
  size_t old = v->len;
  if (v->len < sizeof v->path - 1) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v->path + v->len, sizeof v->path - v->len, fmt, ap);
    va_end(ap);
    if (n > 0) v->len += (size_t)n;
    if (v->len > sizeof v->path - 1) v->len = sizeof v->path - 1;
  }
  return old;
}

static void pop(vctx *v, size_t len) {
  v->len = len;
  v->path[len] = '\0';
}

static const char *json_kind(const json_t *j) {
  switch (json_typeof(j)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
  }
}

static const char *expected(const iotc__schema *s) {
  switch (s->kind) {
    case IOTC__S_BOOLEAN: return "boolean";
    case IOTC__S_DOUBLE:
    case IOTC__S_FLOAT:
    case IOTC__S_DECIMAL: return "number";
    case IOTC__S_INTEGER:
    case IOTC__S_LONG:
    case IOTC__S_BYTE:
    case IOTC__S_SHORT:
    case IOTC__S_UNSIGNED_BYTE:
    case IOTC__S_UNSIGNED_SHORT:
    case IOTC__S_UNSIGNED_INTEGER:
    case IOTC__S_UNSIGNED_LONG: return "integer";
    case IOTC__S_ENUM: return s->enum_int ? "integer" : "string";
    case IOTC__S_OBJECT:
    case IOTC__S_MAP:
    case IOTC__S_GEO: return "object";
    case IOTC__S_ARRAY: return "array";
    default: return "string";
  }
}

static bool type_fits(const iotc__schema *s, const json_t *j) {
  const char *want = expected(s);
  if (strcmp(want, "number") == 0) return json_is_number(j);
  return strcmp(want, json_kind(j)) == 0;
}

static iotc_result integer_range(vctx *v, const iotc__schema *s, json_int_t x) {
  long long lo = INT64_MIN, hi = INT64_MAX;
  switch (s->kind) {
    case IOTC__S_INTEGER: lo = INT32_MIN; hi = INT32_MAX; break;
    case IOTC__S_BYTE: lo = INT8_MIN; hi = INT8_MAX; break;
    case IOTC__S_SHORT: lo = INT16_MIN; hi = INT16_MAX; break;
    case IOTC__S_UNSIGNED_BYTE: lo = 0; hi = UINT8_MAX; break;
    case IOTC__S_UNSIGNED_SHORT: lo = 0; hi = UINT16_MAX; break;
    case IOTC__S_UNSIGNED_INTEGER: lo = 0; hi = UINT32_MAX; break;
    case IOTC__S_UNSIGNED_LONG: lo = 0; break;
    default: break;
  }
  if (x < lo || x > hi) {
    return refuse(v, "%" JSON_INTEGER_FORMAT " is out of range for %s", x, s->name);
  }
  return IOTC_OK;
}

static iotc_result value(vctx *v, const iotc__schema *s, const json_t *j);

static iotc_result object_value(vctx *v, const iotc__schema *s, const json_t *j) {
  const char *key;
  json_t *member;
  json_object_foreach((json_t *)j, key, member) {
    const iotc__field *f = NULL;
    for (size_t i = 0; i < s->count && f == NULL; i++) {
      if (strcmp(s->fields[i].name, key) == 0) f = &s->fields[i];
    }
    if (f == NULL) return refuse(v, "unknown field '%.64s'", key);
    size_t mark = push(v, ".%s", key);
    iotc_result r = value(v, f->schema, member);
    pop(v, mark);
    if (r != IOTC_OK) return r;
  }
  return IOTC_OK;
}

static iotc_result enum_value(vctx *v, const iotc__schema *s, const json_t *j) {
  for (size_t i = 0; i < s->count; i++) {
    if (s->enum_int ? json_integer_value(j) == s->fields[i].int_value
                    : strcmp(json_string_value(j), s->fields[i].str_value) == 0) {
      return IOTC_OK;
    }
  }
  if (s->enum_int) {
    return refuse(v, "%" JSON_INTEGER_FORMAT " is not one of the enum's values",
                  json_integer_value(j));
  }
  return refuse(v, "'%.64s' is not one of the enum's values", json_string_value(j));
}

static iotc_result geo_value(vctx *v, const iotc__schema *s, const json_t *j) {
  json_t *type = json_object_get(j, "type");
  if (!json_is_string(type) || strcmp(json_string_value(type), s->geo_type) != 0) {
    return refuse(v, "expected a GeoJSON object with \"type\": \"%s\"", s->geo_type);
  }
  if (!json_is_array(json_object_get(j, "coordinates"))) {
    return refuse(v, "expected GeoJSON \"coordinates\" (an array)");
  }
  return IOTC_OK;
}

static iotc_result value(vctx *v, const iotc__schema *s, const json_t *j) {
  if (!type_fits(s, j)) {
    /* name the DTDL schema where it says more than the JSON type */
    bool formatted = s->kind == IOTC__S_DATE || s->kind == IOTC__S_DATETIME ||
                     s->kind == IOTC__S_TIME || s->kind == IOTC__S_DURATION ||
                     s->kind == IOTC__S_UUID || s->kind == IOTC__S_BYTES;
    return refuse(v, "expected %s, got %s", formatted ? s->name : expected(s), json_kind(j));
  }
  switch (s->kind) {
    case IOTC__S_OBJECT:
      return object_value(v, s, j);
    case IOTC__S_MAP: {
      const char *key;
      json_t *member;
      json_object_foreach((json_t *)j, key, member) {
        size_t mark = push(v, ".%s", key);
        iotc_result r = value(v, s->item, member);
        pop(v, mark);
        if (r != IOTC_OK) return r;
      }
      return IOTC_OK;
    }
    case IOTC__S_ARRAY:
      for (size_t i = 0; i < json_array_size(j); i++) {
        size_t mark = push(v, "[%zu]", i);
        iotc_result r = value(v, s->item, json_array_get(j, i));
        pop(v, mark);
        if (r != IOTC_OK) return r;
      }
      return IOTC_OK;
    case IOTC__S_ENUM:
      return enum_value(v, s, j);
    case IOTC__S_GEO:
      return geo_value(v, s, j);
    case IOTC__S_FLOAT:
      if (fabs(json_number_value(j)) > FLT_MAX) {
        return refuse(v, "%g is out of range for float", json_number_value(j));
      }
      return IOTC_OK;
    default:
      break;
  }
  if (json_is_integer(j)) return integer_range(v, s, json_integer_value(j));
  if (json_is_string(j)) {
    const char *want = iotc__model_format_check(s->kind, json_string_value(j));
    if (want) return refuse(v, "'%.48s' is not %s", json_string_value(j), want);
  }
  return IOTC_OK;
}

const iotc__element *iotc__model_find(const iotc__interface *iface, const char *name) {
  for (size_t i = 0; i < iface->count; i++) {
    if (strcmp(iface->items[i].name, name) == 0) return &iface->items[i];
  }
  return NULL;
}

bool iotc__model_has_component(const iotc__model *m, const char *name) {
  const iotc__element *e = name ? iotc__model_find(m->root, name) : NULL;
  return e && e->kind == IOTC__E_COMPONENT;
}

static const char *const USE_TEXT[] = {"a telemetry", "a property", "a writable property",
                                       "a command", "a command"};

iotc_result iotc__model_check(const iotc__model *m, const char *component, iotc__model_use use,
                              const char *name, const json_t *json,
                              char why[IOTC__MODEL_WHY_SIZE]) {
  const iotc__interface *iface = m->root;
  if (component) {
    const iotc__element *c = iotc__model_find(m->root, component);
    if (c == NULL || c->kind != IOTC__E_COMPONENT) {
      snprintf(why, IOTC__MODEL_WHY_SIZE, "'%.64s' is not a component of %s", component,
               m->root->id);
      return IOTC_ERR_NOT_FOUND;
    }
    iface = c->iface;
  }
  const iotc__element *e = iotc__model_find(iface, name);
  bool fits = false;
  if (e) {
    switch (use) {
      case IOTC__MODEL_TELEMETRY: fits = e->kind == IOTC__E_TELEMETRY; break;
      case IOTC__MODEL_REPORTED: fits = e->kind == IOTC__E_PROPERTY; break;
      case IOTC__MODEL_WRITABLE: fits = e->kind == IOTC__E_PROPERTY && e->writable; break;
      default: fits = e->kind == IOTC__E_COMMAND; break;
    }
  }
  if (!fits) {
    snprintf(why, IOTC__MODEL_WHY_SIZE, "'%.64s' is not %s of %s", name, USE_TEXT[use], iface->id);
    return IOTC_ERR_NOT_FOUND;
  }
  const iotc__schema *s = e->schema;
  bool nullable = false;
  vctx v = {.why = why};
  if (use == IOTC__MODEL_COMMAND_REQUEST) {
    nullable = e->request_nullable;
    push(&v, "%s", e->request_name ? e->request_name : name);
  } else if (use == IOTC__MODEL_COMMAND_RESPONSE) {
    s = e->response;
    nullable = e->response_nullable;
    push(&v, "%s", name);
  } else {
    push(&v, "%s", name);
  }
  if (s == NULL || (nullable && json_is_null(json))) return IOTC_OK;
  return value(&v, s, json);
}

static json_t *load(const char *json, size_t len, char why[IOTC__MODEL_WHY_SIZE]) {
  char bad[IOTC__JSON_WHY_SIZE];
  json_t *j = iotc__json_load(json, len, IOTC__JSON_MAX_LEN, JSON_DECODE_ANY, bad);
  if (j == NULL) snprintf(why, IOTC__MODEL_WHY_SIZE, "not valid JSON: %s", bad);
  return j;
}

iotc_result iotc__model_check_text(const iotc__model *m, const char *component,
                                   iotc__model_use use, const char *name, const char *json,
                                   size_t len, char why[IOTC__MODEL_WHY_SIZE]) {
  json_t *j = load(json, len, why);
  if (j == NULL) return IOTC_ERR_INVALID_ARG;
  iotc_result r = iotc__model_check(m, component, use, name, j, why);
  json_decref(j);
  return r;
}

iotc_result iotc__model_check_members(const iotc__model *m, const char *component,
                                      iotc__model_use use, const char *json, size_t len,
                                      char why[IOTC__MODEL_WHY_SIZE]) {
  json_t *j = load(json, len, why);
  if (j == NULL) return IOTC_ERR_INVALID_ARG;
  iotc_result r = IOTC_OK;
  if (!json_is_object(j)) {
    snprintf(why, IOTC__MODEL_WHY_SIZE, "expected a JSON object, got %s", json_kind(j));
    r = IOTC_ERR_INVALID_ARG;
  }
  const char *key;
  json_t *member;
  json_object_foreach(j, key, member) {
    r = iotc__model_check(m, component, use, key, member, why);
    if (r != IOTC_OK) break;
  }
  json_decref(j);
  return r;
}
