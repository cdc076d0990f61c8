/* SPDX-License-Identifier: MIT */
/* Cloud-to-device messages: subscribe filter, received-topic parser, property-bag decoder. */
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

/* The decoded length of a raw key or value; false when it cannot be decoded. */
static bool decoded_len(iotc_hub_view raw, size_t *len) {
  char probe[1];
  return iotc_hub_property_decode(raw, probe, 0, len) == IOTC_ERR_BUFFER_TOO_SMALL;
}

/* The next property that can be decoded, with its decoded lengths; counts the others. */
static bool next_decodable(iotc_hub_property_iter *it, iotc_hub_property_view *pv, size_t *kn,
                           size_t *vn, size_t *skipped) {
  iotc_result r;
  while ((r = iotc_hub_property_next(it, pv)) != IOTC_ERR_NO_MATCH) {
    if (r == IOTC_OK && decoded_len(pv->key, kn) && decoded_len(pv->value, vn)) {
      return true;
    }
    ++*skipped; /* `=v` (IOTC_ERR_MALFORMED) or a bad escape */
  }
  return false;
}

iotc_result iotc_hub_property_bag_decode(iotc_hub_view bag, iotc_hub_property *pairs,
                                         size_t max_pairs, char *text, size_t text_size,
                                         iotc_hub_bag_sizes *out) {
  iotc_hub_property_iter it;
  if (out == NULL || (pairs == NULL && max_pairs > 0) || (text == NULL && text_size > 0) ||
      iotc_hub_property_iter_init(&it, bag) != IOTC_OK) {
    return IOTC_ERR_INVALID_ARG;
  }
  iotc_hub_property_iter start = it;
  /* First pass measures, so buffers too small are left untouched. */
  iotc_hub_bag_sizes need = {0, 0, 0};
  iotc_hub_property_view pv;
  size_t kn = 0, vn = 0;
  while (next_decodable(&it, &pv, &kn, &vn, &need.skipped)) {
    ++need.count;
    need.text_len += kn + 1 + vn + 1;
  }
  *out = need;
  if (need.count > max_pairs || need.text_len > text_size) {
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  size_t skipped = 0, used = 0;
  for (size_t i = 0; i < need.count && next_decodable(&start, &pv, &kn, &vn, &skipped); ++i) {
    char *key = text + used, *value = key + kn + 1;
    if (iotc_hub_property_decode(pv.key, key, kn + 1, NULL) != IOTC_OK ||
        iotc_hub_property_decode(pv.value, value, vn + 1, NULL) != IOTC_OK) {
      return IOTC_ERR_MALFORMED; /* not reached: the first pass measured and decoded both */
    }
    used += kn + 1 + vn + 1;
    pairs[i].key = key;
    pairs[i].value = value;
  }
  return IOTC_OK;
}
