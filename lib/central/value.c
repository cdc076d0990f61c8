/* SPDX-License-Identifier: MIT */
/* Typed readers for the JSON values handed to callbacks. */
#include <jansson.h>
#include <string.h>

#include "common/json.h"
#include "iotc/client.h"

/* Nesting is bounded first: these run on the client worker's small stack, in callbacks. */
static json_t *load(const char *text) {
  if (text == NULL) return NULL;
  return iotc__json_load(text, strlen(text), IOTC__JSON_MAX_LEN, JSON_DECODE_ANY, NULL);
}

iotc_result iotc_value_int(const char *value_json, int64_t *out) {
  json_t *v = load(value_json);
  iotc_result r = IOTC_ERR_INVALID_ARG;
  if (out && json_is_integer(v)) {
    *out = json_integer_value(v);
    r = IOTC_OK;
  } else if (out && json_is_real(v)) {
    double d = json_real_value(v);
    /* Range first: converting a double outside int64_t's range is undefined behaviour. */
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == (double)(int64_t)d) {
      *out = (int64_t)d;
      r = IOTC_OK;
    }
  }
  json_decref(v);
  return r;
}

iotc_result iotc_value_double(const char *value_json, double *out) {
  json_t *v = load(value_json);
  iotc_result r = IOTC_ERR_INVALID_ARG;
  if (out && json_is_number(v)) {
    *out = json_number_value(v);
    r = IOTC_OK;
  }
  json_decref(v);
  return r;
}

iotc_result iotc_value_bool(const char *value_json, bool *out) {
  json_t *v = load(value_json);
  iotc_result r = IOTC_ERR_INVALID_ARG;
  if (out && json_is_boolean(v)) {
    *out = json_is_true(v);
    r = IOTC_OK;
  }
  json_decref(v);
  return r;
}

iotc_result iotc_value_string(const char *value_json, char *buf, size_t size, size_t *out_len) {
  json_t *v = load(value_json);
  iotc_result r = IOTC_ERR_INVALID_ARG;
  if (json_is_string(v)) {
    size_t n = json_string_length(v);
    if (out_len) *out_len = n;
    if (buf == NULL || size < n + 1) {
      r = buf == NULL && size != 0 ? IOTC_ERR_INVALID_ARG : IOTC_ERR_BUFFER_TOO_SMALL;
    } else {
      memcpy(buf, json_string_value(v), n + 1);
      r = IOTC_OK;
    }
  }
  json_decref(v);
  return r;
}
