/* SPDX-License-Identifier: MIT */
/* DPS over MQTT: user name, request topics, response-topic parser (pure layer). */
#include "iotc/dps_topic.h"

#include <string.h>

#include "common/url.h"
#include "dps/retry_after.h"

#define RESPONSE_PREFIX "$dps/registrations/res/"
#define REGISTER_PREFIX "$dps/registrations/PUT/iotdps-register/?$rid="
#define STATUS_PREFIX "$dps/registrations/GET/iotdps-get-operationstatus/?$rid="
#define OPERATION_PARAM "&operationId="
#define RID_MAX 128
#define OPERATION_ID_MAX 256

#define LIT_LEN(s) (sizeof(s) - 1)

static bool is_alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Length of s up to max + 1 (so callers can tell "too long" without scanning further). */
static size_t bounded_len(const char *s, size_t max) {
  size_t n = 0;
  while (n <= max && s[n] != '\0') {
    ++n;
  }
  return n;
}

static bool is_registration_char(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == ':';
}

/* 1..max characters, each accepted by ok(). */
static bool is_token(const char *s, size_t max, bool (*ok)(char)) {
  if (s == NULL) {
    return false;
  }
  size_t n = bounded_len(s, max);
  if (n == 0 || n > max) {
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!ok(s[i])) {
      return false;
    }
  }
  return true;
}

bool iotc_dps_id_scope_is_valid(const char *id_scope) {
  return is_token(id_scope, IOTC_DPS_ID_SCOPE_MAX, is_alnum);
}

bool iotc_dps_registration_id_is_valid(const char *registration_id) {
  return is_token(registration_id, IOTC_DPS_REGISTRATION_ID_MAX, is_registration_char);
}

/* Final step shared by the builders: report the length, refuse a short buffer. */
static iotc_result check_room(size_t need, size_t size, size_t *out_len) {
  if (out_len) {
    *out_len = need;
  }
  return need + 1 > size ? IOTC_ERR_BUFFER_TOO_SMALL : IOTC_OK;
}

static char *put(char *p, const char *s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}

/* Percent-encode into p; the room was checked by the caller. */
static char *put_encoded(char *p, const char *s, size_t n) {
  size_t written = 0;
  size_t room = iotc__url_encoded_len(s, n) + 1;
  if (iotc__url_encode(s, n, p, room, &written) != IOTC_OK) {
    return p; /* cannot happen: room is exact */
  }
  return p + written;
}

iotc_result iotc_dps_topic_username(const char *id_scope, const char *registration_id, char *buf,
                                    size_t size, size_t *out_len) {
  static const char middle[] = "/registrations/";
  static const char tail[] = "/api-version=" IOTC_DPS_MQTT_API_VERSION;
  if (buf == NULL || !iotc_dps_id_scope_is_valid(id_scope) ||
      !iotc_dps_registration_id_is_valid(registration_id)) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t scope_len = strlen(id_scope);
  size_t reg_len = strlen(registration_id);
  size_t need = scope_len + LIT_LEN(middle) + reg_len + LIT_LEN(tail);
  iotc_result r = check_room(need, size, out_len);
  if (r != IOTC_OK) {
    return r;
  }
  char *p = buf;
  p = put(p, id_scope, scope_len);
  p = put(p, middle, LIT_LEN(middle));
  p = put(p, registration_id, reg_len);
  p = put(p, tail, LIT_LEN(tail));
  *p = '\0';
  return IOTC_OK;
}

static bool id_ok(const char *s, size_t max, size_t *len) {
  if (s == NULL) {
    return false;
  }
  *len = bounded_len(s, max);
  return *len > 0 && *len <= max;
}

iotc_result iotc_dps_topic_register(const char *rid, char *buf, size_t size, size_t *out_len) {
  size_t rid_len = 0;
  if (buf == NULL || !id_ok(rid, RID_MAX, &rid_len)) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t need = LIT_LEN(REGISTER_PREFIX) + iotc__url_encoded_len(rid, rid_len);
  iotc_result r = check_room(need, size, out_len);
  if (r != IOTC_OK) {
    return r;
  }
  char *p = put(buf, REGISTER_PREFIX, LIT_LEN(REGISTER_PREFIX));
  p = put_encoded(p, rid, rid_len);
  *p = '\0';
  return IOTC_OK;
}

iotc_result iotc_dps_topic_operation_status(const char *rid, const char *operation_id, char *buf,
                                            size_t size, size_t *out_len) {
  size_t rid_len = 0;
  size_t op_len = 0;
  if (buf == NULL || !id_ok(rid, RID_MAX, &rid_len) ||
      !id_ok(operation_id, OPERATION_ID_MAX, &op_len)) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t need = LIT_LEN(STATUS_PREFIX) + iotc__url_encoded_len(rid, rid_len) +
                LIT_LEN(OPERATION_PARAM) + iotc__url_encoded_len(operation_id, op_len);
  iotc_result r = check_room(need, size, out_len);
  if (r != IOTC_OK) {
    return r;
  }
  char *p = put(buf, STATUS_PREFIX, LIT_LEN(STATUS_PREFIX));
  p = put_encoded(p, rid, rid_len);
  p = put(p, OPERATION_PARAM, LIT_LEN(OPERATION_PARAM));
  p = put_encoded(p, operation_id, op_len);
  *p = '\0';
  return IOTC_OK;
}

bool iotc__dps_retry_after_parse(const char *s, size_t n, uint32_t *out) {
  if (n == 0) {
    return false;
  }
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!is_digit(s[i])) {
      return false;
    }
    v = v > IOTC_DPS_RETRY_AFTER_MAX_S / 10u ? IOTC_DPS_RETRY_AFTER_MAX_S
                                              : v * 10u + (uint32_t)(s[i] - '0');
  }
  *out = v > IOTC_DPS_RETRY_AFTER_MAX_S ? IOTC_DPS_RETRY_AFTER_MAX_S : v;
  return true;
}

static bool key_is(const char *key, size_t key_len, const char *name) {
  size_t n = strlen(name);
  return key_len == n && memcmp(key, name, n) == 0;
}

/* Walk `k=v&k=v...`, picking out $rid and retry-after; other keys are ignored. */
static iotc_result parse_query(const char *q, size_t n, iotc_dps_topic_response *out) {
  bool have_rid = false;
  size_t i = 0;
  while (i < n) {
    size_t start = i;
    while (i < n && q[i] != '&') {
      ++i;
    }
    const char *item = q + start;
    size_t item_len = i - start;
    const char *eq = memchr(item, '=', item_len);
    size_t key_len = eq ? (size_t)(eq - item) : item_len;
    const char *val = eq ? eq + 1 : item + item_len;
    size_t val_len = item_len - key_len - (eq ? 1 : 0);
    if (key_is(item, key_len, "$rid")) {
      if (have_rid || val_len == 0) {
        return IOTC_ERR_MALFORMED;
      }
      out->rid = val;
      out->rid_len = val_len;
      have_rid = true;
    } else if (key_is(item, key_len, "retry-after")) {
      if (out->has_retry_after || !iotc__dps_retry_after_parse(val, val_len, &out->retry_after_s)) {
        return IOTC_ERR_MALFORMED;
      }
      out->has_retry_after = true;
    }
    ++i; /* skip '&' */
  }
  return have_rid ? IOTC_OK : IOTC_ERR_MALFORMED;
}

iotc_result iotc_dps_topic_parse_response(const char *topic, size_t topic_len,
                                          iotc_dps_topic_response *out) {
  if (topic == NULL || out == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  if (topic_len < LIT_LEN(RESPONSE_PREFIX) ||
      memcmp(topic, RESPONSE_PREFIX, LIT_LEN(RESPONSE_PREFIX)) != 0) {
    return IOTC_ERR_NO_MATCH;
  }
  iotc_dps_topic_response r = {0};
  const char *p = topic + LIT_LEN(RESPONSE_PREFIX);
  size_t rest = topic_len - LIT_LEN(RESPONSE_PREFIX);
  /* Exactly three digits, then "/?". */
  if (rest < 5 || !is_digit(p[0]) || !is_digit(p[1]) || !is_digit(p[2]) || p[0] == '0' ||
      p[3] != '/' || p[4] != '?') {
    return IOTC_ERR_MALFORMED;
  }
  r.status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
  if (memchr(topic, '\0', topic_len) != NULL) {
    return IOTC_ERR_MALFORMED;
  }
  iotc_result res = parse_query(p + 5, rest - 5, &r);
  if (res != IOTC_OK) {
    return res;
  }
  *out = r;
  return IOTC_OK;
}
