/* SPDX-License-Identifier: MIT */
/* Cloud-to-device messages: subscribe filter and received-topic parser. */
#include "hub/topic_common.h"

static const char c2d_head[] = "devices/";
static const char c2d_tail[] = "messages/devicebound";

iotc_result iotc_hub_topic_c2d_subscribe(const char *device_id, char *buf, size_t size,
                                         size_t *out_len) {
  static const char tail[] = "/messages/devicebound/#";
  size_t id_len = iotc__hub_device_id_len(device_id);
  if (id_len == 0 || buf == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t need = IOTC__LIT_LEN(c2d_head) + id_len + IOTC__LIT_LEN(tail);
  if (out_len) {
    *out_len = need;
  }
  if (need >= size) {
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  char *p = iotc__put(buf, c2d_head, IOTC__LIT_LEN(c2d_head));
  p = iotc__put(p, device_id, id_len);
  p = iotc__put(p, tail, IOTC__LIT_LEN(tail));
  *p = '\0';
  return IOTC_OK;
}

iotc_result iotc_hub_topic_c2d_parse(const char *topic, size_t topic_len,
                                     iotc_hub_c2d_message *out) {
  if (out == NULL || (topic == NULL && topic_len > 0)) {
    return IOTC_ERR_INVALID_ARG;
  }
  if (!iotc__hub_starts_with(topic, topic_len, c2d_head, IOTC__LIT_LEN(c2d_head))) {
    return IOTC_ERR_NO_MATCH;
  }
  const char *end = topic + topic_len;
  const char *id = topic + IOTC__LIT_LEN(c2d_head);
  const char *slash = memchr(id, '/', (size_t)(end - id));
  if (slash == NULL) {
    return IOTC_ERR_NO_MATCH;
  }
  const char *rest = slash + 1;
  size_t rest_len = (size_t)(end - rest);
  if (!iotc__hub_starts_with(rest, rest_len, c2d_tail, IOTC__LIT_LEN(c2d_tail))) {
    return IOTC_ERR_NO_MATCH; /* telemetry, modules, ... */
  }
  const char *bag = rest + IOTC__LIT_LEN(c2d_tail);
  if (bag == end) {
    return IOTC_ERR_MALFORMED; /* the service always sends the trailing '/' */
  }
  if (*bag != '/') {
    return IOTC_ERR_NO_MATCH; /* "devicebound" is only the prefix of another word */
  }
  if (slash == id) {
    return IOTC_ERR_MALFORMED;
  }
  ++bag;
  out->device_id.ptr = id;
  out->device_id.len = (size_t)(slash - id);
  out->properties.ptr = bag;
  out->properties.len = (size_t)(end - bag);
  out->method_name.ptr = NULL;
  out->method_name.len = 0;
  iotc_hub_property_view prop;
  if (iotc_hub_property_find(out->properties, "method-name", &prop) == IOTC_OK &&
      prop.has_value) {
    out->method_name = prop.value;
  }
  return IOTC_OK;
}
