/* SPDX-License-Identifier: MIT */
/* Reconciliation of writable properties: which desired values the device still has to apply. */
#include "central/twin.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

struct iotc__twin {
  json_t *root;
  json_t *desired;  /* borrowed from root */
  json_t *reported; /* borrowed from root, may be NULL */
  int64_t version;
};

static bool is_marked_component(json_t *v) {
  json_t *t = json_is_object(v) ? json_object_get(v, "__t") : NULL;
  return t && json_is_string(t) && strcmp(json_string_value(t), "c") == 0;
}

static bool is_component(json_t *v, const char *key, iotc__twin_is_component_fn fn, void *ctx) {
  if (!json_is_object(v)) return false;
  return is_marked_component(v) || (fn && fn(ctx, key));
}

/* Remove the `{"value":…}` wrapper: an object whose only member is "value". */
static json_t *unwrap(json_t *v) {
  if (json_is_object(v) && json_object_size(v) == 1) {
    json_t *inner = json_object_get(v, "value");
    if (inner) return inner;
  }
  return v;
}

static void visit_one(const char *component, const char *name, json_t *value, int64_t version,
                      iotc__twin_visit_fn visit, void *vctx) {
  char *text = iotc__json_dump(unwrap(value), JSON_COMPACT | JSON_ENCODE_ANY);
  iotc__twin_update u = {component, name, text, version}; /* text NULL: out of memory */
  visit(vctx, &u);
  free(text);
}

static bool skip_key(const char *key) { return key[0] == '$' || strcmp(key, "__t") == 0; }

static json_t *lookup(json_t *section, const char *component, const char *name) {
  if (!json_is_object(section)) return NULL;
  if (component) {
    section = json_object_get(section, component);
    if (!json_is_object(section)) return NULL;
  }
  return json_object_get(section, name);
}

/* The document, or NULL: not JSON, too deep, or (*no_memory) no memory to read it. */
static json_t *load(const char *json, size_t len, bool *no_memory) {
  char why[IOTC__JSON_WHY_SIZE] = "";
  json_t *root = iotc__json_load(json, len, IOTC__JSON_MAX_LEN, 0, why);
  *no_memory = root == NULL && strcmp(why, IOTC__JSON_NO_MEMORY) == 0;
  return root;
}

iotc_result iotc__twin_parse(const char *json, size_t len, iotc__twin **out, int64_t *out_version,
                             const char **why) {
  *out = NULL;
  bool no_memory;
  json_t *root = load(json, len, &no_memory);
  if (no_memory) {
    *why = "out of memory";
    return IOTC_ERR_NO_MEMORY;
  }
  if (root == NULL) {
    *why = "the twin is not valid JSON or nests too deeply";
    return IOTC_ERR_MALFORMED;
  }
  json_t *desired = json_object_get(root, "desired");
  json_t *reported = json_object_get(root, "reported");
  json_t *ver = desired ? json_object_get(desired, "$version") : NULL;
  if (!json_is_object(desired) || !json_is_integer(ver) ||
      (reported != NULL && !json_is_object(reported))) {
    json_decref(root);
    *why = "the twin lacks desired/$version or has a non-object section";
    return IOTC_ERR_MALFORMED;
  }
  iotc__twin *t = calloc(1, sizeof *t);
  if (t == NULL) {
    json_decref(root);
    *why = "out of memory";
    return IOTC_ERR_NO_MEMORY;
  }
  t->root = root;
  t->desired = desired;
  t->reported = reported;
  t->version = json_integer_value(ver);
  *out_version = t->version;
  *out = t;
  return IOTC_OK;
}

/* Acknowledged version of a property in the reported section, -1 when none. */
static int64_t acked_version(const iotc__twin *t, const char *component, const char *name) {
  json_t *r = lookup(t->reported, component, name);
  json_t *av = json_is_object(r) ? json_object_get(r, "av") : NULL;
  return json_is_integer(av) ? json_integer_value(av) : -1;
}

static void pending_in(const iotc__twin *t, const char *component, json_t *section,
                       iotc__twin_visit_fn visit, void *vctx) {
  const char *key;
  json_t *value;
  json_object_foreach(section, key, value) {
    if (skip_key(key) || json_is_null(value)) continue;
    if (acked_version(t, component, key) >= t->version) continue;
    visit_one(component, key, value, t->version, visit, vctx);
  }
}

void iotc__twin_pending(const iotc__twin *t, iotc__twin_is_component_fn is_comp, void *cctx,
                        iotc__twin_visit_fn visit, void *vctx) {
  const char *key;
  json_t *value;
  json_object_foreach(t->desired, key, value) {
    if (skip_key(key)) continue;
    if (is_component(value, key, is_comp, cctx)) {
      pending_in(t, key, value, visit, vctx);
    } else if (!json_is_null(value) && acked_version(t, NULL, key) < t->version) {
      visit_one(NULL, key, value, t->version, visit, vctx);
    }
  }
}

bool iotc__twin_has_desired(const iotc__twin *t, const char *component, const char *name) {
  json_t *v = lookup(t->desired, component, name);
  return v != NULL && !json_is_null(v);
}

bool iotc__twin_has_reported(const iotc__twin *t, const char *component, const char *name) {
  json_t *v = lookup(t->reported, component, name);
  return v != NULL && !json_is_null(v);
}

void iotc__twin_free(iotc__twin *t) {
  if (t == NULL) return;
  json_decref(t->root);
  free(t);
}

iotc_result iotc__twin_patch(const char *json, size_t len, iotc__twin_is_component_fn is_comp,
                             void *cctx, iotc__twin_visit_fn visit, void *vctx,
                             int64_t topic_version, int64_t newer_than, int64_t *out_version,
                             const char **why) {
  bool no_memory;
  json_t *root = load(json, len, &no_memory);
  *out_version = topic_version < 0 ? -1 : topic_version;
  if (no_memory) {
    *why = "out of memory";
    return IOTC_ERR_NO_MEMORY;
  }
  if (!json_is_object(root)) {
    json_decref(root);
    *why = "the desired patch is not a JSON object or nests too deeply";
    return IOTC_ERR_MALFORMED;
  }
  json_t *ver = json_object_get(root, "$version");
  if (json_is_integer(ver) && json_integer_value(ver) >= 0) *out_version = json_integer_value(ver);
  if (*out_version <= newer_than) {
    json_decref(root);
    *why = "not newer than the twin";
    return IOTC_ERR_NO_MATCH;
  }
  const char *key;
  json_t *value;
  json_object_foreach(root, key, value) {
    if (skip_key(key) || json_is_null(value)) continue;
    if (is_component(value, key, is_comp, cctx)) {
      const char *k2;
      json_t *v2;
      json_object_foreach(value, k2, v2) {
        if (skip_key(k2) || json_is_null(v2)) continue;
        visit_one(key, k2, v2, *out_version, visit, vctx);
      }
    } else {
      visit_one(NULL, key, value, *out_version, visit, vctx);
    }
  }
  json_decref(root);
  return IOTC_OK;
}
