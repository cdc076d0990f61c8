/* SPDX-License-Identifier: MIT */
/* DPS request and response bodies (jansson). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/text.h"
#include "dps/dps_internal.h"
#include "hub/topic_common.h"
#include "net/clock_check.h"

/* JSON goes through iotc__json_load(): it bounds the nesting before jansson, which recurses per
 * level (also when it dumps a value) and would overflow the small stack of the client worker
 * that provisions. */

iotc_result iotc__dps_request_body(const char *registration_id, const char *model_id,
                                   const char *payload_json, char **out, iotc_error *err) {
  json_t *payload = NULL;
  if (payload_json != NULL) {
    char bad[IOTC__JSON_WHY_SIZE];
    payload = iotc__json_load(payload_json, strlen(payload_json), IOTC__JSON_MAX_LEN,
                              JSON_REJECT_DUPLICATES, bad);
    if (payload == NULL || !json_is_object(payload)) {
      json_decref(payload);
      return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0,
                            "payload_json must be a JSON object (%s)",
                            payload ? "not an object" : bad);
    }
  } else if (model_id != NULL) {
    payload = json_pack("{s:s}", "modelId", model_id);
    if (payload == NULL) {
      return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0, "model_id is not valid UTF-8");
    }
  }
  json_t *body = json_pack("{s:s}", "registrationId", registration_id);
  if (body == NULL) {
    json_decref(payload); /* json_object_set_new() takes it even when it fails, not before */
    return iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "cannot build the request body");
  }
  if (payload != NULL && json_object_set_new(body, "payload", payload) != 0) {
    json_decref(body);
    return iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "cannot build the request body");
  }
  *out = iotc__json_dump(body, JSON_COMPACT);
  json_decref(body);
  return *out ? IOTC_OK : iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "cannot build the request body");
}

/* Copy a string member into a fixed field, control characters escaped; false if absent, not a
 * string, empty or too long. */
static bool copy_member(json_t *obj, const char *key, char *dst, size_t size) {
  const char *s = json_string_value(json_object_get(obj, key));
  return s != NULL && s[0] != '\0' && iotc__escape_text(dst, size, s);
}

/* A DNS host name or IPv4 address (labels of letters, digits and inner '-', 1-63 characters,
 * 253 at most), optionally ":port" (1-65535): what the hub connection can dial and put into its
 * MQTT user name and SAS resource. */
static bool hub_name_ok(const char *s) {
  size_t label = 0;
  size_t i = 0;
  for (; s[i] != '\0' && s[i] != ':'; ++i) {
    char c = s[i];
    if (c == '.') {
      if (label == 0 || s[i - 1] == '-') return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c == '-' && label > 0)) {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  if (i == 0 || i > 253 || label == 0 || s[i - 1] == '-') return false;
  if (s[i] == '\0') return true;
  const char *p = s + i + 1;
  long port = 0;
  size_t digits = 0;
  for (; p[digits] >= '0' && p[digits] <= '9' && digits < 5; ++digits) {
    port = port * 10 + (p[digits] - '0');
  }
  return digits > 0 && p[digits] == '\0' && p[0] != '0' && port <= 65535;
}

/* Error detail common to all refusals: errorCode, message / errorMessage, trackingId. */
static void error_details(json_t *obj, int *code, const char **message, iotc_error *err) {
  json_t *c = json_object_get(obj, "errorCode");
  if (json_is_integer(c) && json_integer_value(c) > 0 && json_integer_value(c) < 1000000000) {
    *code = (int)json_integer_value(c);
  }
  const char *m = json_string_value(json_object_get(obj, "message"));
  if (m == NULL) {
    m = json_string_value(json_object_get(obj, "errorMessage"));
  }
  if (m != NULL) {
    *message = m;
  }
  const char *t = json_string_value(json_object_get(obj, "trackingId"));
  if (t != NULL && err != NULL) {
    iotc__escape_text(err->tracking_id, sizeof err->tracking_id, t);
  }
}

static iotc_result refusal(const iotc__dps_reply *reply, json_t *root, bool *retryable,
                           iotc_error *err) {
  int code = 0;
  const char *message = "";
  char tracking[IOTC_ERROR_ID_SIZE] = "";
  if (json_is_object(root)) {
    iotc_error tmp = {0};
    error_details(root, &code, &message, &tmp);
    memcpy(tracking, tmp.tracking_id, sizeof tracking);
  }
  iotc_result r;
  const char *what;
  int s = reply->status;
  *retryable = false;
  if (s == 401 || s == 403) {
    r = IOTC_ERR_UNAUTHORIZED;
    what = "DPS refused the credentials";
  } else if (s == 404) {
    r = IOTC_ERR_NOT_FOUND;
    what = "DPS does not know this ID scope or registration";
  } else if (s == 429) {
    r = IOTC_ERR_THROTTLED;
    what = "DPS throttled the request";
    *retryable = true;
  } else if (s >= 500) {
    r = IOTC_ERR_SERVICE;
    what = "DPS failed";
    *retryable = true;
  } else {
    r = IOTC_ERR_SERVICE;
    what = "DPS rejected the request";
  }
  char hint[IOTC_ERROR_MESSAGE_SIZE] = "";
  if (r == IOTC_ERR_UNAUTHORIZED) {
    iotc__auth_refusal_hint(message, hint, sizeof hint);
  }
  r = iotc__dps_fail(err, r, s, "%s: status %d%s%.100s%.150s", what, s, *message ? ": " : "",
                     message, hint);
  if (err) {
    err->service_code = code;
    memcpy(err->tracking_id, tracking, sizeof err->tracking_id);
  }
  return r;
}

static iotc_result assigned(json_t *root, iotc_dps_registration *out, iotc_error *err) {
  json_t *state = json_object_get(root, "registrationState");
  if (!json_is_object(state)) {
    return iotc__dps_fail(err, IOTC_ERR_MALFORMED, 200,
                          "DPS said assigned without a registrationState object");
  }
  iotc_dps_registration reg;
  memset(&reg, 0, sizeof reg);
  snprintf(reg.status, sizeof reg.status, "assigned");
  const char *hub = json_string_value(json_object_get(state, "assignedHub"));
  const char *device = json_string_value(json_object_get(state, "deviceId"));
  if (hub == NULL || device == NULL) {
    return iotc__dps_fail(err, IOTC_ERR_MALFORMED, 200,
                          "DPS said assigned without a usable assignedHub and deviceId");
  }
  /* Checked here, where a retry can still fix it, not at the hub connect. */
  if (!hub_name_ok(hub) || strlen(hub) >= sizeof reg.assigned_hub) {
    return iotc__dps_fail(err, IOTC_ERR_MALFORMED, 200,
                          "DPS assigned a hub that is not a host name[:port]: \"%.80s\"", hub);
  }
  if (iotc__hub_device_id_len(device) == 0 || strlen(device) >= sizeof reg.device_id) {
    return iotc__dps_fail(err, IOTC_ERR_MALFORMED, 200,
                          "DPS assigned a device id IoT Hub cannot use: \"%.80s\"", device);
  }
  memcpy(reg.assigned_hub, hub, strlen(hub) + 1);
  memcpy(reg.device_id, device, strlen(device) + 1);
  (void)copy_member(state, "substatus", reg.substatus, sizeof reg.substatus);
  (void)copy_member(state, "registrationId", reg.registration_id, sizeof reg.registration_id);
  json_t *payload = json_object_get(state, "payload");
  if (payload != NULL && !json_is_null(payload)) {
    char *dumped = iotc__json_dump(payload, JSON_COMPACT | JSON_ENCODE_ANY);
    if (dumped == NULL) {
      return iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 200, "cannot copy the echoed payload");
    }
    reg.payload_json = malloc(strlen(dumped) + 1);
    if (reg.payload_json == NULL) {
      free(dumped);
      return iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 200, "cannot copy the echoed payload");
    }
    memcpy(reg.payload_json, dumped, strlen(dumped) + 1);
    free(dumped);
  }
  *out = reg;
  return IOTC_OK;
}

static iotc_result terminal_failure(json_t *root, const char *status, iotc_error *err) {
  json_t *state = json_object_get(root, "registrationState");
  int code = 0;
  const char *message = "";
  iotc_error tmp = {0};
  error_details(root, &code, &message, &tmp);
  if (json_is_object(state)) {
    error_details(state, &code, &message, &tmp);
  }
  bool disabled = strcmp(status, "disabled") == 0;
  iotc_result r = iotc__dps_fail(
      err, disabled ? IOTC_ERR_PROVISIONING_DISABLED : IOTC_ERR_PROVISIONING_FAILED, 200,
      "DPS registration %s%s%s", status, *message ? ": " : "", message);
  if (err) {
    err->service_code = code;
    memcpy(err->tracking_id, tmp.tracking_id, sizeof err->tracking_id);
  }
  return r;
}

iotc_result iotc__dps_interpret(const iotc__dps_reply *reply, bool *done, char **operation_id,
                                bool *retryable, iotc_dps_registration *out, iotc_error *err) {
  *done = false;
  *operation_id = NULL;
  *retryable = false;
  json_t *root = NULL;
  if (reply->body != NULL && reply->body_len > 0) {
    root = iotc__json_load(reply->body, reply->body_len, IOTC__DPS_MAX_RESPONSE,
                           JSON_REJECT_DUPLICATES, NULL);
  }
  iotc_result r;
  if (reply->status != 200 && reply->status != 202) {
    r = refusal(reply, root, retryable, err);
    json_decref(root);
    return r;
  }
  if (!json_is_object(root)) {
    json_decref(root);
    return iotc__dps_fail(err, IOTC_ERR_MALFORMED, reply->status,
                          "DPS answered %d with a body that is not a JSON object", reply->status);
  }
  const char *status = json_string_value(json_object_get(root, "status"));
  if (status == NULL) {
    r = iotc__dps_fail(err, IOTC_ERR_MALFORMED, reply->status,
                       "DPS answered %d without a registration status", reply->status);
  } else if (strcmp(status, "assigned") == 0) {
    r = assigned(root, out, err);
    *done = r == IOTC_OK;
  } else if (strcmp(status, "failed") == 0 || strcmp(status, "disabled") == 0) {
    r = terminal_failure(root, status, err);
  } else if (strcmp(status, "assigning") == 0 || strcmp(status, "unassigned") == 0) {
    const char *op = json_string_value(json_object_get(root, "operationId"));
    size_t n = op ? strlen(op) : 0;
    if (n == 0 || n > 256) {
      r = iotc__dps_fail(err, IOTC_ERR_MALFORMED, reply->status,
                         "DPS answered '%s' without a usable operationId", status);
    } else if ((*operation_id = malloc(n + 1)) == NULL) {
      r = iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "out of memory");
    } else {
      memcpy(*operation_id, op, n + 1);
      r = IOTC_OK;
    }
  } else {
    r = iotc__dps_fail(err, IOTC_ERR_PROTOCOL, reply->status,
                       "DPS answered an unknown registration status '%.40s'", status);
  }
  json_decref(root);
  return r;
}
