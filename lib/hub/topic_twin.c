/* SPDX-License-Identifier: MIT */
/* Device twin: GET and reported-PATCH topics, response and desired-update parsers. */
#include "hub/topic_common.h"

iotc_result iotc_hub_topic_twin_get(const char *request_id, char *buf, size_t size,
                                    size_t *out_len) {
  static const char head[] = "$iothub/twin/GET/?$rid=";
  return iotc__hub_build_rid_topic(head, IOTC__LIT_LEN(head), -1, request_id, buf, size,
                                   out_len);
}

iotc_result iotc_hub_topic_twin_patch_reported(const char *request_id, char *buf, size_t size,
                                               size_t *out_len) {
  static const char head[] = "$iothub/twin/PATCH/properties/reported/?$rid=";
  return iotc__hub_build_rid_topic(head, IOTC__LIT_LEN(head), -1, request_id, buf, size,
                                   out_len);
}

iotc_result iotc_hub_topic_twin_response_parse(const char *topic, size_t topic_len,
                                               iotc_hub_twin_response *out) {
  static const char head[] = "$iothub/twin/res/";
  if (out == NULL || (topic == NULL && topic_len > 0)) {
    return IOTC_ERR_INVALID_ARG;
  }
  if (!iotc__hub_starts_with(topic, topic_len, head, IOTC__LIT_LEN(head))) {
    return IOTC_ERR_NO_MATCH;
  }
  memset(out, 0, sizeof *out);
  const char *end = topic + topic_len;
  const char *s = topic + IOTC__LIT_LEN(head);
  /* Exactly three digits, then '/'. */
  if (end - s < 4 || s[3] != '/') {
    return IOTC_ERR_MALFORMED;
  }
  uint64_t status;
  if (!iotc__hub_parse_u64((iotc_hub_view){s, 3}, &status) || status < 100) {
    return IOTC_ERR_MALFORMED;
  }
  out->status = (int)status;
  return iotc__hub_parse_query(s + 4, end, true, &out->request_id, &out->has_version,
                               &out->version);
}

iotc_result iotc_hub_topic_twin_desired_parse(const char *topic, size_t topic_len,
                                              iotc_hub_twin_desired *out) {
  static const char head[] = "$iothub/twin/PATCH/properties/desired/";
  if (out == NULL || (topic == NULL && topic_len > 0)) {
    return IOTC_ERR_INVALID_ARG;
  }
  if (!iotc__hub_starts_with(topic, topic_len, head, IOTC__LIT_LEN(head))) {
    return IOTC_ERR_NO_MATCH;
  }
  iotc_hub_view rid;
  bool has_version = false;
  iotc_result r = iotc__hub_parse_query(topic + IOTC__LIT_LEN(head), topic + topic_len, false,
                                        &rid, &has_version, &out->version);
  if (r == IOTC_OK && !has_version) {
    r = IOTC_ERR_MALFORMED;
  }
  return r;
}
