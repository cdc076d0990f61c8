/* SPDX-License-Identifier: MIT */
/* The client's device model: loaded once at create, then read without a lock (immutable). */
#include "central/model_client.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"

iotc_result iotc__client_model_load(iotc_client *c, const char *path, iotc_error *err) {
  char why[IOTC__MODEL_WHY_SIZE];
  iotc_result r = iotc__model_load(path, &c->model, why);
  if (r != IOTC_OK) {
    r = r == IOTC_ERR_NO_MEMORY || r == IOTC_ERR_IO ? r : IOTC_ERR_INVALID_ARG;
    IOTC_LOGE("iotc_client_create: model_file '%.200s': %s", path, why);
    if (err) {
      iotc_error_clear(err);
      err->result = r;
      snprintf(err->message, sizeof err->message, "model_file '%.60s': %.180s", path, why);
    }
    return r;
  }
  return IOTC_OK;
}

static iotc_result refused(const char *fn, iotc_result r, const char *why) {
  if (r == IOTC_OK) return IOTC_OK;
  if (r == IOTC_ERR_NO_MEMORY) return r;
  IOTC_LOGE("%s: the device model refuses it: %s", fn, why);
  return IOTC_ERR_INVALID_ARG;
}

iotc_result iotc__client_model_value(const iotc_client *c, const char *fn, const char *component,
                                     iotc__model_use use, const char *name, const char *json) {
  if (c->model == NULL) return IOTC_OK;
  char why[IOTC__MODEL_WHY_SIZE];
  return refused(fn, iotc__model_check_text(c->model, component, use, name, json, strlen(json), why),
                 why);
}

iotc_result iotc__client_model_members(const iotc_client *c, const char *fn,
                                       const char *component, iotc__model_use use,
                                       const char *json, size_t len) {
  if (c->model == NULL) return IOTC_OK;
  char why[IOTC__MODEL_WHY_SIZE];
  return refused(fn, iotc__model_check_members(c->model, component, use, json, len, why), why);
}

int iotc__client_model_command(const iotc_client *c, const char *component, const char *name,
                               const char *payload, size_t len, char why[IOTC__MODEL_WHY_SIZE]) {
  if (c->model == NULL) return 0;
  iotc_result r = iotc__model_check_text(c->model, component, IOTC__MODEL_COMMAND_REQUEST, name,
                                         payload, len, why);
  if (r == IOTC_OK) return 0;
  return r == IOTC_ERR_NOT_FOUND ? 404 : 400;
}
