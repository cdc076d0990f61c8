/* SPDX-License-Identifier: MIT */
/* Direct methods (IoT Central commands): request parser, name split, response topic. */
#include "hub/topic_common.h"

static const char post_head[] = "$iothub/methods/POST/";

iotc_result iotc_hub_command_name_split(iotc_hub_view name, iotc_hub_view *out_component,
                                        iotc_hub_view *out_command) {
  if (out_component == NULL || out_command == NULL || (name.ptr == NULL && name.len > 0)) {
    return IOTC_ERR_INVALID_ARG;
  }
  if (name.len == 0) {
    return IOTC_ERR_MALFORMED;
  }
  const char *star = memchr(name.ptr, '*', name.len);
  if (star == NULL) {
    out_component->ptr = NULL;
    out_component->len = 0;
    *out_command = name;
    return IOTC_OK;
  }
  const char *cmd = star + 1;
  size_t cmd_len = name.len - (size_t)(cmd - name.ptr);
  if (star == name.ptr || cmd_len == 0 || memchr(cmd, '*', cmd_len) != NULL) {
    return IOTC_ERR_MALFORMED;
  }
  out_component->ptr = name.ptr;
  out_component->len = (size_t)(star - name.ptr);
  out_command->ptr = cmd;
  out_command->len = cmd_len;
  return IOTC_OK;
}

iotc_result iotc_hub_topic_method_parse(const char *topic, size_t topic_len,
                                        iotc_hub_method_request *out) {
  if (out == NULL || (topic == NULL && topic_len > 0)) {
    return IOTC_ERR_INVALID_ARG;
  }
  if (!iotc__hub_starts_with(topic, topic_len, post_head, IOTC__LIT_LEN(post_head))) {
    return IOTC_ERR_NO_MATCH;
  }
  memset(out, 0, sizeof *out);
  const char *end = topic + topic_len;
  const char *name = topic + IOTC__LIT_LEN(post_head);
  const char *slash = memchr(name, '/', (size_t)(end - name));
  if (slash == NULL) {
    return IOTC_ERR_MALFORMED;
  }
  /* The request id comes first so that a caller can still answer a broken request. */
  iotc_result r = iotc__hub_parse_query(slash + 1, end, true, &out->request_id, NULL, NULL);
  if (r != IOTC_OK) {
    return r;
  }
  if (slash == name) {
    return IOTC_ERR_MALFORMED;
  }
  out->name.ptr = name;
  out->name.len = (size_t)(slash - name);
  if (iotc_hub_command_name_split(out->name, &out->component, &out->command) != IOTC_OK) {
    out->component.ptr = NULL;
    out->component.len = 0;
    out->command.ptr = NULL;
    out->command.len = 0;
  }
  return IOTC_OK;
}

iotc_result iotc_hub_topic_method_response(int status, const char *request_id, char *buf,
                                           size_t size, size_t *out_len) {
  static const char head[] = "$iothub/methods/res/";
  if (status < 100 || status > 999) {
    return IOTC_ERR_INVALID_ARG;
  }
  return iotc__hub_build_rid_topic(head, IOTC__LIT_LEN(head), status, request_id, buf, size,
                                   out_len);
}
