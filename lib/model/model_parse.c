/* SPDX-License-Identifier: MIT */
/* DTDL v2/v3 device model -> the compact representation of model.h. Every refusal names the
 * place in the document ("[1].contents[3].schema") and what is wrong with it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "model/model.h"

#define PATH_SIZE 160
/* A model file is a template, not a payload; this is far beyond any IoT Central export. */
#define MODEL_FILE_MAX IOTC__JSON_MAX_LEN

/* A named definition found anywhere in the document: an interface or a `schemas` entry. */
typedef struct def {
  const char *id;
  json_t *json;
  int version; /* DTDL 2 or 3 */
  bool is_iface;
  bool building;
  void *built; /* iotc__interface * or iotc__schema * */
  char path[PATH_SIZE];
} def;

typedef struct parser {
  iotc__model *m;
  def *defs;
  size_t ndefs, cap;
  char *why;
  iotc_result failed; /* first failure; later ones keep it */
} parser;

/* Primitive schemas carry no per-model data: one constant table serves every model. */
typedef struct primitive_def {
  iotc__schema schema;
  int min_version;
} primitive_def;

#define PRIM(n, k, v) {{.kind = (k), .name = (n)}, (v)}
#define GEO(n, t) {{.kind = IOTC__S_GEO, .name = (n), .geo_type = (t)}, 2}
static const primitive_def PRIMITIVES[] = {
    PRIM("boolean", IOTC__S_BOOLEAN, 2),
    PRIM("date", IOTC__S_DATE, 2),
    PRIM("dateTime", IOTC__S_DATETIME, 2),
    PRIM("double", IOTC__S_DOUBLE, 2),
    PRIM("duration", IOTC__S_DURATION, 2),
    PRIM("float", IOTC__S_FLOAT, 2),
    PRIM("integer", IOTC__S_INTEGER, 2),
    PRIM("long", IOTC__S_LONG, 2),
    PRIM("string", IOTC__S_STRING, 2),
    PRIM("time", IOTC__S_TIME, 2),
    PRIM("byte", IOTC__S_BYTE, 3),
    PRIM("bytes", IOTC__S_BYTES, 3),
    PRIM("decimal", IOTC__S_DECIMAL, 3),
    PRIM("short", IOTC__S_SHORT, 3),
    PRIM("uuid", IOTC__S_UUID, 3),
    PRIM("unsignedByte", IOTC__S_UNSIGNED_BYTE, 3),
    PRIM("unsignedShort", IOTC__S_UNSIGNED_SHORT, 3),
    PRIM("unsignedInteger", IOTC__S_UNSIGNED_INTEGER, 3),
    PRIM("unsignedLong", IOTC__S_UNSIGNED_LONG, 3),
    GEO("point", "Point"),
    GEO("multiPoint", "MultiPoint"),
    GEO("lineString", "LineString"),
    GEO("multiLineString", "MultiLineString"),
    GEO("polygon", "Polygon"),
    GEO("multiPolygon", "MultiPolygon"),
};
#undef PRIM
#undef GEO

static iotc_result fail(parser *p, const char *path, const char *fmt, ...) IOTC__PRINTF(3, 4);

static iotc_result fail(parser *p, const char *path, const char *fmt, ...) {
  if (p->failed != IOTC_OK) return p->failed;
  p->failed = IOTC_ERR_INVALID_ARG;
  char msg[IOTC__MODEL_WHY_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(p->why, IOTC__MODEL_WHY_SIZE, "%.100s%s%.150s", path, *path ? ": " : "", msg);
  return p->failed;
}

static iotc_result oom(parser *p) {
  if (p->failed == IOTC_OK) {
    p->failed = IOTC_ERR_NO_MEMORY;
    snprintf(p->why, IOTC__MODEL_WHY_SIZE, "out of memory");
  }
  return p->failed;
}

/* out = path + "." + name, or path + "[i]" when name starts with '['. */
static void join(char out[PATH_SIZE], const char *path, const char *fmt, ...) IOTC__PRINTF(3, 4);
static void join(char out[PATH_SIZE], const char *path, const char *fmt, ...) {
  char tail[PATH_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tail, sizeof tail, fmt, ap);
  va_end(ap);
  const char *dot = (*path && tail[0] != '[') ? "." : "";
  char joined[PATH_SIZE]; /* out may be path */
  snprintf(joined, sizeof joined, "%.100s%s%.58s", path, dot, tail);
  memcpy(out, joined, sizeof joined);
}

/* Does @type (a string or an array of strings) include @p want? */
static bool has_type(json_t *obj, const char *want) {
  json_t *t = json_object_get(obj, "@type");
  if (json_is_string(t)) return strcmp(json_string_value(t), want) == 0;
  size_t i;
  json_t *v;
  json_array_foreach(t, i, v) {
    if (json_is_string(v) && strcmp(json_string_value(v), want) == 0) return true;
  }
  return false;
}

static const char *type_text(json_t *obj) {
  json_t *t = json_object_get(obj, "@type");
  if (json_is_string(t)) return json_string_value(t);
  if (json_is_string(json_array_get(t, 0))) return json_string_value(json_array_get(t, 0));
  return "(none)";
}

/* The DTDL version a @context names: 2, 3, 0 when it names neither, -1 when absent. */
static int context_version(json_t *ctx) {
  if (ctx == NULL) return -1;
  json_t *one = ctx;
  size_t i = 0;
  if (json_is_array(ctx)) one = json_array_get(ctx, 0);
  while (one) {
    if (json_is_string(one)) {
      const char *s = json_string_value(one);
      if (strcmp(s, "dtmi:dtdl:context;2") == 0) return 2;
      if (strcmp(s, "dtmi:dtdl:context;3") == 0) return 3;
    }
    one = json_is_array(ctx) ? json_array_get(ctx, ++i) : NULL;
  }
  return 0;
}

static iotc_result version_of(parser *p, json_t *obj, int inherited, const char *path, int *out) {
  int v = context_version(json_object_get(obj, "@context"));
  if (v == -1) v = inherited;
  if (v == 2 || v == 3) {
    *out = v;
    return IOTC_OK;
  }
  char at[PATH_SIZE];
  join(at, path, "@context");
  if (v == -1) {
    return fail(p, at, "missing (dtmi:dtdl:context;2 or dtmi:dtdl:context;3 expected)");
  }
  return fail(p, at, "no DTDL v2 or v3 context (dtmi:dtdl:context;2 or dtmi:dtdl:context;3)");
}

static def *find_def(parser *p, const char *id, bool is_iface) {
  for (size_t i = 0; i < p->ndefs; i++) {
    if (p->defs[i].is_iface == is_iface && strcmp(p->defs[i].id, id) == 0) return &p->defs[i];
  }
  return NULL;
}

static iotc_result add_def(parser *p, json_t *json, int version, bool is_iface, const char *path) {
  json_t *id = json_object_get(json, "@id");
  char at[PATH_SIZE];
  join(at, path, "@id");
  if (!json_is_string(id) || strncmp(json_string_value(id), "dtmi:", 5) != 0) {
    return fail(p, at, "missing or not a DTMI (dtmi:...;N)");
  }
  if (find_def(p, json_string_value(id), is_iface)) {
    return fail(p, at, "'%.80s' is defined twice", json_string_value(id));
  }
  if (p->ndefs == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 16;
    def *grown = realloc(p->defs, cap * sizeof *grown);
    if (grown == NULL) return oom(p);
    p->defs = grown;
    p->cap = cap;
  }
  def *d = &p->defs[p->ndefs++];
  memset(d, 0, sizeof *d);
  d->id = json_string_value(id);
  d->json = json;
  d->version = version;
  d->is_iface = is_iface;
  snprintf(d->path, sizeof d->path, "%s", path);
  return IOTC_OK;
}

/* Register an interface, its `schemas`, and interfaces given inline in its components and
 * `extends`, so references by @id can be resolved in any order. */
static iotc_result collect_interface(parser *p, json_t *iface, int inherited, const char *path) {
  if (!json_is_object(iface) || !has_type(iface, "Interface")) {
    return fail(p, path, "not an Interface (an object with \"@type\": \"Interface\")");
  }
  int version = 0;
  if (version_of(p, iface, inherited, path, &version) != IOTC_OK) return p->failed;
  if (add_def(p, iface, version, true, path) != IOTC_OK) return p->failed;
  char at[PATH_SIZE];
  size_t i;
  json_t *v;
  json_t *schemas = json_object_get(iface, "schemas");
  if (schemas && !json_is_array(schemas)) {
    join(at, path, "schemas");
    return fail(p, at, "not an array");
  }
  json_array_foreach(schemas, i, v) {
    join(at, path, "schemas[%zu]", i);
    if (!json_is_object(v)) return fail(p, at, "not a schema object");
    if (add_def(p, v, version, false, at) != IOTC_OK) return p->failed;
  }
  json_t *contents = json_object_get(iface, "contents");
  json_array_foreach(contents, i, v) {
    json_t *schema = json_object_get(v, "schema");
    if (has_type(v, "Component") && json_is_object(schema)) {
      join(at, path, "contents[%zu].schema", i);
      if (collect_interface(p, schema, version, at) != IOTC_OK) return p->failed;
    }
  }
  json_t *ext = json_object_get(iface, "extends");
  if (json_is_object(ext)) {
    join(at, path, "extends");
    return collect_interface(p, ext, version, at);
  }
  json_array_foreach(ext, i, v) {
    if (json_is_object(v)) {
      join(at, path, "extends[%zu]", i);
      if (collect_interface(p, v, version, at) != IOTC_OK) return p->failed;
    }
  }
  return IOTC_OK;
}

/* ---- schemas ---------------------------------------------------------------------------- */

static iotc__schema *new_schema(parser *p, iotc__schema_kind kind) {
  iotc__schema *s = calloc(1, sizeof *s);
  if (s == NULL) {
    oom(p);
    return NULL;
  }
  s->kind = kind;
  s->next_owned = p->m->schemas;
  p->m->schemas = s;
  return s;
}

static char *dup_string(parser *p, const char *s) {
  char *d = strdup(s);
  if (d == NULL) oom(p);
  return d;
}

static const iotc__schema *schema_of(parser *p, json_t *json, int version, const char *path);

static bool valid_name(const char *s, int version) {
  size_t n = strlen(s);
  if (n == 0 || n > (version >= 3 ? 512u : 64u)) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return s[n - 1] != '_';
}

/* The "name" member of @p obj, checked; NULL after a failure. */
static const char *name_of(parser *p, json_t *obj, int version, const char *path) {
  json_t *n = json_object_get(obj, "name");
  char at[PATH_SIZE];
  join(at, path, "name");
  if (!json_is_string(n)) {
    fail(p, at, "missing or not a string");
    return NULL;
  }
  if (!valid_name(json_string_value(n), version)) {
    fail(p, at, "'%.64s' is not a DTDL name (letters, digits, '_'; a letter first)",
         json_string_value(n));
    return NULL;
  }
  return json_string_value(n);
}

/* A schema with room for @p n fields or enum values. */
static iotc__schema *schema_with_fields(parser *p, iotc__schema_kind kind, size_t n) {
  iotc__schema *s = new_schema(p, kind);
  if (s == NULL) return NULL;
  s->fields = n ? calloc(n, sizeof *s->fields) : NULL;
  if (n && s->fields == NULL) {
    oom(p);
    return NULL;
  }
  return s;
}

/* The name of entry @p e of a field or enum-value list: an object with a "name" given once. */
static const char *entry_name(parser *p, const iotc__schema *s, json_t *e, int version,
                              const char *at) {
  if (!json_is_object(e)) {
    fail(p, at, "not an object");
    return NULL;
  }
  const char *name = name_of(p, e, version, at);
  for (size_t k = 0; name && k < s->count; k++) {
    if (strcmp(s->fields[k].name, name) == 0) {
      fail(p, at, "'%s' is given twice", name);
      return NULL;
    }
  }
  return name;
}

static const iotc__schema *object_schema(parser *p, json_t *json, int version, const char *path) {
  char at[PATH_SIZE];
  json_t *fields = json_object_get(json, "fields");
  join(at, path, "fields");
  if (!json_is_array(fields)) {
    fail(p, at, "missing or not an array");
    return NULL;
  }
  iotc__schema *s = schema_with_fields(p, IOTC__S_OBJECT, json_array_size(fields));
  if (s == NULL) return NULL;
  size_t i;
  json_t *f;
  json_array_foreach(fields, i, f) {
    join(at, path, "fields[%zu]", i);
    const char *name = entry_name(p, s, f, version, at);
    if (name == NULL) return NULL;
    char sat[PATH_SIZE];
    join(sat, at, "schema");
    const iotc__schema *fs = schema_of(p, json_object_get(f, "schema"), version, sat);
    if (fs == NULL) return NULL;
    s->fields[s->count].name = dup_string(p, name);
    s->fields[s->count++].schema = fs;
    if (p->failed) return NULL;
  }
  return s;
}

static const iotc__schema *enum_schema(parser *p, json_t *json, const char *path, int version) {
  char at[PATH_SIZE];
  json_t *vs = json_object_get(json, "valueSchema");
  join(at, path, "valueSchema");
  const char *vst = json_is_string(vs) ? json_string_value(vs) : "";
  bool is_int = strcmp(vst, "integer") == 0;
  if (!is_int && strcmp(vst, "string") != 0) {
    fail(p, at, "must be \"integer\" or \"string\"");
    return NULL;
  }
  json_t *values = json_object_get(json, "enumValues");
  join(at, path, "enumValues");
  if (!json_is_array(values) || json_array_size(values) == 0) {
    fail(p, at, "missing, empty or not an array");
    return NULL;
  }
  iotc__schema *s = schema_with_fields(p, IOTC__S_ENUM, json_array_size(values));
  if (s == NULL) return NULL;
  s->enum_int = is_int;
  size_t i;
  json_t *v;
  json_array_foreach(values, i, v) {
    join(at, path, "enumValues[%zu]", i);
    const char *name = entry_name(p, s, v, version, at);
    if (name == NULL) return NULL;
    json_t *ev = json_object_get(v, "enumValue");
    char eat[PATH_SIZE];
    join(eat, at, "enumValue");
    if (is_int ? !json_is_integer(ev) : !json_is_string(ev)) {
      fail(p, eat, "missing or not %s (the enum's valueSchema)", is_int ? "an integer" : "a string");
      return NULL;
    }
    iotc__field *f = &s->fields[s->count++];
    f->name = dup_string(p, name);
    if (is_int) {
      f->int_value = json_integer_value(ev);
    } else {
      f->str_value = dup_string(p, json_string_value(ev));
    }
    if (p->failed) return NULL;
  }
  return s;
}

static const iotc__schema *map_schema(parser *p, json_t *json, int version, const char *path) {
  char at[PATH_SIZE];
  json_t *key = json_object_get(json, "mapKey");
  join(at, path, "mapKey");
  if (!json_is_object(key) || name_of(p, key, version, at) == NULL) {
    if (!p->failed) fail(p, at, "missing or not an object");
    return NULL;
  }
  json_t *ks = json_object_get(key, "schema");
  if (!json_is_string(ks) || strcmp(json_string_value(ks), "string") != 0) {
    join(at, at, "schema");
    fail(p, at, "must be \"string\"");
    return NULL;
  }
  json_t *val = json_object_get(json, "mapValue");
  join(at, path, "mapValue");
  if (!json_is_object(val) || name_of(p, val, version, at) == NULL) {
    if (!p->failed) fail(p, at, "missing or not an object");
    return NULL;
  }
  join(at, at, "schema");
  const iotc__schema *vs = schema_of(p, json_object_get(val, "schema"), version, at);
  if (vs == NULL) return NULL;
  iotc__schema *s = new_schema(p, IOTC__S_MAP);
  if (s) s->item = vs;
  return s;
}

static const iotc__schema *array_schema(parser *p, json_t *json, int version, const char *path) {
  char at[PATH_SIZE];
  join(at, path, "elementSchema");
  const iotc__schema *es = schema_of(p, json_object_get(json, "elementSchema"), version, at);
  if (es == NULL) return NULL;
  iotc__schema *s = new_schema(p, IOTC__S_ARRAY);
  if (s) s->item = es;
  return s;
}

static const iotc__schema *complex_schema(parser *p, json_t *json, int version, const char *path) {
  if (has_type(json, "Object")) return object_schema(p, json, version, path);
  if (has_type(json, "Enum")) return enum_schema(p, json, path, version);
  if (has_type(json, "Map")) return map_schema(p, json, version, path);
  if (has_type(json, "Array")) return array_schema(p, json, version, path);
  char at[PATH_SIZE];
  join(at, path, "@type");
  fail(p, at, "unknown schema type '%.64s' (Array, Enum, Map or Object expected)", type_text(json));
  return NULL;
}

static const iotc__schema *named_schema(parser *p, const char *name, int version,
                                        const char *path) {
  for (size_t i = 0; i < sizeof PRIMITIVES / sizeof PRIMITIVES[0]; i++) {
    if (strcmp(PRIMITIVES[i].schema.name, name) != 0) continue;
    if (PRIMITIVES[i].min_version > version) {
      fail(p, path, "schema '%s' needs DTDL v3 (the model's context is v%d)", name, version);
      return NULL;
    }
    return &PRIMITIVES[i].schema;
  }
  def *d = find_def(p, name, false);
  if (d == NULL) {
    fail(p, path, "unknown schema '%.80s'", name);
    return NULL;
  }
  if (d->built) return d->built;
  if (d->building) {
    fail(p, path, "schema '%.80s' refers to itself", name);
    return NULL;
  }
  d->building = true;
  const iotc__schema *s = complex_schema(p, d->json, d->version, d->path);
  d->building = false;
  d->built = (void *)s;
  return s;
}

static const iotc__schema *schema_of(parser *p, json_t *json, int version, const char *path) {
  if (json_is_string(json)) return named_schema(p, json_string_value(json), version, path);
  if (json_is_object(json)) return complex_schema(p, json, version, path);
  fail(p, path, json ? "not a schema name or a schema object" : "missing");
  return NULL;
}

/* ---- interfaces ------------------------------------------------------------------------- */

static const iotc__interface *build_interface(parser *p, def *d, int depth);

static iotc__element *add_element(parser *p, iotc__interface *it, const char *name,
                                  const char *path) {
  if (iotc__model_find(it, name)) {
    fail(p, path, "'%s' is in the interface twice (or also in one it extends)", name);
    return NULL;
  }
  if (it->count == it->cap) {
    size_t cap = it->cap ? it->cap * 2 : 8;
    iotc__element *grown = realloc(it->items, cap * sizeof *grown);
    if (grown == NULL) {
      oom(p);
      return NULL;
    }
    it->items = grown;
    it->cap = cap;
  }
  iotc__element *e = &it->items[it->count];
  memset(e, 0, sizeof *e);
  e->name = dup_string(p, name);
  if (e->name == NULL) return NULL;
  it->count++;
  return e;
}

/* A command's request or response: {"name": …, "schema": …, "nullable": …}. */
static iotc_result payload_of(parser *p, json_t *obj, int version, const char *path,
                              const iotc__schema **schema, bool *nullable, const char **name) {
  if (obj == NULL) return IOTC_OK;
  if (!json_is_object(obj)) return fail(p, path, "not an object");
  const char *n = name_of(p, obj, version, path);
  if (n == NULL) return p->failed;
  if (name) *name = n;
  char at[PATH_SIZE];
  join(at, path, "schema");
  *schema = schema_of(p, json_object_get(obj, "schema"), version, at);
  if (*schema == NULL) return p->failed;
  *nullable = json_is_true(json_object_get(obj, "nullable"));
  return IOTC_OK;
}

static def *interface_ref(parser *p, json_t *ref, const char *path) {
  const char *id = json_is_string(ref) ? json_string_value(ref)
                                       : json_string_value(json_object_get(ref, "@id"));
  def *d = id ? find_def(p, id, true) : NULL;
  if (d == NULL) {
    fail(p, path, "interface '%.80s' is not in the model file", id ? id : "(no @id)");
  }
  return d;
}

static iotc_result content_of(parser *p, iotc__interface *it, json_t *c, int version, int depth,
                              const char *path) {
  if (!json_is_object(c)) return fail(p, path, "not an object");
  static const char *const bases[] = {"Telemetry", "Property", "Command", "Component",
                                      "Relationship"};
  int base = -1;
  for (int i = 0; i < 5; i++) {
    if (!has_type(c, bases[i])) continue;
    char at[PATH_SIZE];
    join(at, path, "@type");
    if (base >= 0) return fail(p, at, "both %s and %s", bases[base], bases[i]);
    base = i;
  }
  char at[PATH_SIZE];
  if (base < 0) {
    join(at, path, "@type");
    return fail(p, at, "'%.64s' is not Telemetry, Property, Command, Component or Relationship",
                type_text(c));
  }
  /* Relationships are for the cloud; IoT Central's cloud properties are never on the device. */
  if (base == 4 || (base == 1 && has_type(c, "Cloud"))) return IOTC_OK;
  const char *name = name_of(p, c, version, path);
  if (name == NULL) return p->failed;
  join(at, path, "schema");
  json_t *schema = json_object_get(c, "schema");
  if (base == 3) {
    if (depth > 0) {
      return fail(p, path, "component '%s' is inside a component's interface: IoT Central "
                  "addresses components of the root interface only", name);
    }
    def *d = interface_ref(p, schema, at);
    const iotc__interface *ci = d ? build_interface(p, d, depth + 1) : NULL;
    iotc__element *e = ci ? add_element(p, it, name, path) : NULL;
    if (e == NULL) return p->failed;
    e->kind = IOTC__E_COMPONENT;
    e->iface = ci;
    return IOTC_OK;
  }
  if (base == 2) {
    const iotc__schema *req = NULL, *resp = NULL;
    bool req_null = false, resp_null = false;
    const char *req_name = NULL;
    char rat[PATH_SIZE];
    join(rat, path, "request");
    if (payload_of(p, json_object_get(c, "request"), version, rat, &req, &req_null, &req_name)) {
      return p->failed;
    }
    join(rat, path, "response");
    if (payload_of(p, json_object_get(c, "response"), version, rat, &resp, &resp_null, NULL)) {
      return p->failed;
    }
    iotc__element *e = add_element(p, it, name, path);
    if (e == NULL) return p->failed;
    e->kind = IOTC__E_COMMAND;
    e->schema = req;
    e->response = resp;
    e->request_nullable = req_null;
    e->response_nullable = resp_null;
    if (req_name) e->request_name = dup_string(p, req_name);
    return p->failed;
  }
  const iotc__schema *s = schema_of(p, schema, version, at);
  if (s == NULL) return p->failed;
  json_t *writable = json_object_get(c, "writable");
  if (writable && !json_is_boolean(writable)) {
    join(at, path, "writable");
    return fail(p, at, "not true or false");
  }
  iotc__element *e = add_element(p, it, name, path);
  if (e == NULL) return p->failed;
  e->kind = base == 0 ? IOTC__E_TELEMETRY : IOTC__E_PROPERTY;
  e->writable = base == 1 && json_is_true(writable);
  e->schema = s;
  return IOTC_OK;
}

/* Copy what an extended interface holds into @p it. */
static iotc_result extend(parser *p, iotc__interface *it, json_t *ref, int depth,
                          const char *path) {
  def *d = interface_ref(p, ref, path);
  const iotc__interface *base = d ? build_interface(p, d, depth) : NULL;
  if (base == NULL) return p->failed;
  for (size_t i = 0; i < base->count; i++) {
    iotc__element *e = add_element(p, it, base->items[i].name, path);
    if (e == NULL) return p->failed;
    char *name = e->name;
    *e = base->items[i];
    e->name = name;
    e->request_name = NULL;
    if (base->items[i].request_name) {
      e->request_name = dup_string(p, base->items[i].request_name);
    }
  }
  return p->failed;
}

static const iotc__interface *build_interface(parser *p, def *d, int depth) {
  if (d->built) return d->built;
  if (d->building) {
    fail(p, d->path, "interface '%.80s' contains or extends itself", d->id);
    return NULL;
  }
  d->building = true;
  iotc__interface *it = calloc(1, sizeof *it);
  if (it == NULL) {
    oom(p);
    return NULL;
  }
  it->next_owned = p->m->interfaces;
  p->m->interfaces = it;
  it->id = dup_string(p, d->id);
  char at[PATH_SIZE];
  json_t *ext = json_object_get(d->json, "extends");
  size_t i;
  json_t *v;
  if (json_is_string(ext) || json_is_object(ext)) {
    join(at, d->path, "extends");
    extend(p, it, ext, depth, at);
  } else {
    json_array_foreach(ext, i, v) {
      join(at, d->path, "extends[%zu]", i);
      if (extend(p, it, v, depth, at) != IOTC_OK) break;
    }
  }
  json_t *contents = json_object_get(d->json, "contents");
  if (contents && !json_is_array(contents)) {
    join(at, d->path, "contents");
    fail(p, at, "not an array");
  }
  json_array_foreach(contents, i, v) {
    if (p->failed) break;
    join(at, d->path, "contents[%zu]", i);
    content_of(p, it, v, d->version, depth, at);
  }
  d->building = false;
  if (p->failed) return NULL;
  d->built = it;
  return it;
}

/* The root of an array: the first interface that no other one uses or extends by @id. */
static def *find_root(parser *p, json_t *doc) {
  if (json_is_object(doc)) return &p->defs[0];
  size_t n = json_array_size(doc);
  for (size_t i = 0; i < n; i++) {
    const char *id = json_string_value(json_object_get(json_array_get(doc, i), "@id"));
    bool used = false;
    for (size_t k = 0; k < n && !used; k++) {
      json_t *other = json_array_get(doc, k);
      size_t j;
      json_t *c;
      json_array_foreach(json_object_get(other, "contents"), j, c) {
        json_t *s = json_object_get(c, "schema");
        if (has_type(c, "Component") && json_is_string(s) && strcmp(json_string_value(s), id) == 0) {
          used = true;
        }
      }
      json_t *ext = json_object_get(other, "extends");
      if (json_is_string(ext) && strcmp(json_string_value(ext), id) == 0) used = true;
      json_array_foreach(ext, j, c) {
        if (json_is_string(c) && strcmp(json_string_value(c), id) == 0) used = true;
      }
    }
    if (!used) return find_def(p, id, true);
  }
  fail(p, "", "no root interface: every interface is used by another one");
  return NULL;
}

iotc_result iotc__model_parse(const char *json, size_t len, iotc__model **out,
                              char why[IOTC__MODEL_WHY_SIZE]) {
  *out = NULL;
  why[0] = '\0';
  char bad[IOTC__JSON_WHY_SIZE];
  json_t *doc = iotc__json_load(json, len, IOTC__JSON_MAX_LEN, JSON_DECODE_ANY, bad);
  if (doc == NULL) {
    snprintf(why, IOTC__MODEL_WHY_SIZE, "not valid JSON: %s", bad);
    return IOTC_ERR_INVALID_ARG;
  }
  parser p = {0};
  p.why = why;
  p.m = calloc(1, sizeof *p.m);
  if (p.m == NULL) {
    json_decref(doc);
    return IOTC_ERR_NO_MEMORY;
  }
  if (json_is_object(doc)) {
    collect_interface(&p, doc, -1, "");
  } else if (json_is_array(doc) && json_array_size(doc) > 0) {
    size_t i;
    json_t *v;
    json_array_foreach(doc, i, v) {
      char at[PATH_SIZE];
      snprintf(at, sizeof at, "[%zu]", i);
      int inherited = p.ndefs ? p.defs[0].version : -1;
      if (collect_interface(&p, v, inherited, at) != IOTC_OK) break;
    }
  } else {
    fail(&p, "", "the model is neither an interface nor a non-empty array of interfaces");
  }
  def *root = p.failed ? NULL : find_root(&p, doc);
  if (root) p.m->root = build_interface(&p, root, 0);
  iotc_result r = p.failed;
  free(p.defs);
  json_decref(doc);
  if (r != IOTC_OK) {
    iotc__model_free(p.m);
    return r;
  }
  *out = p.m;
  return IOTC_OK;
}

iotc_result iotc__model_load(const char *path, iotc__model **out, char why[IOTC__MODEL_WHY_SIZE]) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    snprintf(why, IOTC__MODEL_WHY_SIZE, "cannot open it: %s", strerror(errno));
    return IOTC_ERR_IO;
  }
  char *buf = malloc(MODEL_FILE_MAX + 1);
  size_t n = buf ? fread(buf, 1, MODEL_FILE_MAX + 1, f) : 0;
  bool err = ferror(f) != 0;
  fclose(f);
  if (buf == NULL) return IOTC_ERR_NO_MEMORY;
  iotc_result r;
  if (err) {
    snprintf(why, IOTC__MODEL_WHY_SIZE, "cannot read it");
    r = IOTC_ERR_IO;
  } else if (n > MODEL_FILE_MAX) {
    snprintf(why, IOTC__MODEL_WHY_SIZE, "larger than %u bytes", MODEL_FILE_MAX);
    r = IOTC_ERR_INVALID_ARG;
  } else {
    r = iotc__model_parse(buf, n, out, why);
  }
  free(buf);
  return r;
}

const char *iotc__model_id(const iotc__model *m) { return m->root->id; }

void iotc__model_free(iotc__model *m) {
  if (m == NULL) return;
  while (m->interfaces) {
    iotc__interface *it = m->interfaces;
    m->interfaces = it->next_owned;
    for (size_t i = 0; i < it->count; i++) {
      free(it->items[i].name);
      free(it->items[i].request_name);
    }
    free(it->items);
    free(it->id);
    free(it);
  }
  while (m->schemas) {
    iotc__schema *s = m->schemas;
    m->schemas = s->next_owned;
    for (size_t i = 0; i < s->count; i++) {
      free(s->fields[i].name);
      free(s->fields[i].str_value);
    }
    free(s->fields);
    free(s);
  }
  free(m);
}
