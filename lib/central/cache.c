/* SPDX-License-Identifier: MIT */
/* The provisioning cache file, a small JSON object. */
#include "central/cache.h"

#include "common/json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *str_member(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A real cache is a few hundred bytes; anything much larger is not ours. */
#define CACHE_MAX_BYTES 16384

iotc_result iotc__cache_read(const char *path, const char *id_scope, const char *registration_id,
                             char *hub, size_t hub_size, char *device_id, size_t device_id_size) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return IOTC_ERR_NOT_FOUND;
  char text[CACHE_MAX_BYTES + 1];
  size_t n = fread(text, 1, sizeof text, f);
  fclose(f);
  json_t *o = iotc__json_load(text, n, CACHE_MAX_BYTES, 0, NULL);
  if (o == NULL) return IOTC_ERR_MALFORMED;
  iotc_result r = IOTC_ERR_NOT_FOUND;
  const char *scope = str_member(o, "idScope"), *reg = str_member(o, "registrationId");
  const char *h = str_member(o, "hub"), *d = str_member(o, "deviceId");
  if (!h || !d || !*h || !*d) {
    r = IOTC_ERR_MALFORMED;
  } else if (scope && reg && strcmp(scope, id_scope) == 0 && strcmp(reg, registration_id) == 0) {
    if (strlen(h) < hub_size && strlen(d) < device_id_size) {
      strcpy(hub, h);
      strcpy(device_id, d);
      r = IOTC_OK;
    } else {
      r = IOTC_ERR_MALFORMED;
    }
  }
  json_decref(o);
  return r;
}

iotc_result iotc__cache_write(const char *path, const char *id_scope, const char *registration_id,
                              const char *hub, const char *device_id) {
  json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "idScope", id_scope, "registrationId",
                        registration_id, "hub", hub, "deviceId", device_id);
  if (o == NULL) return IOTC_ERR_NO_MEMORY;
  size_t n = strlen(path) + 8;
  char *tmp = malloc(n);
  iotc_result r = IOTC_ERR_NO_MEMORY;
  if (tmp) {
    snprintf(tmp, n, "%s.tmp", path);
    r = json_dump_file(o, tmp, JSON_COMPACT) == 0 && rename(tmp, path) == 0 ? IOTC_OK : IOTC_ERR_IO;
    if (r != IOTC_OK) unlink(tmp);
    free(tmp);
  }
  json_decref(o);
  return r;
}

void iotc__cache_remove(const char *path) { unlink(path); }
