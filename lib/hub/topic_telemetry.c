/* Telemetry publish topic with its property bag. Runs once per message: two linear passes
 * (measure, then write), no formatting library. */
#include "common/url.h"
#include "hub/topic_common.h"

void iotc_hub_telemetry_options_init(iotc_hub_telemetry_options *options) {
  if (options) {
    memset(options, 0, sizeof *options);
    options->struct_version = IOTC_HUB_TELEMETRY_OPTIONS_VERSION;
  }
}

/* System properties in the order they are written; keys already encoded ('$' is %24). */
enum { SYS_COUNT = 6 };
static const struct {
  const char *key;
  size_t len;
} sys_keys[SYS_COUNT] = {
    {"%24.mid=", 8}, {"%24.cid=", 8}, {"%24.ct=", 7},
    {"%24.ce=", 7},  {"%24.sub=", 8}, {"iothub-creation-time-utc=", 25},
};

static void sys_values(const iotc_hub_telemetry_options *o, const char *v[SYS_COUNT]) {
  v[0] = o->message_id;
  v[1] = o->correlation_id;
  v[2] = o->content_type;
  v[3] = o->content_encoding;
  v[4] = o->component;
  v[5] = o->creation_time_utc;
}

static bool options_valid(const iotc_hub_telemetry_options *o, const char *const v[SYS_COUNT]) {
  if (o->struct_version != IOTC_HUB_TELEMETRY_OPTIONS_VERSION ||
      (o->properties == NULL && o->property_count > 0)) {
    return false;
  }
  for (size_t i = 0; i < SYS_COUNT; ++i) {
    if (v[i] != NULL && v[i][0] == '\0') {
      return false;
    }
  }
  if (o->component != NULL &&
      iotc_hub_name_check(IOTC_HUB_NAME_COMPONENT, o->component, NULL, NULL) != IOTC_OK) {
    return false;
  }
  for (size_t i = 0; i < o->property_count; ++i) {
    if (o->properties[i].key == NULL || o->properties[i].key[0] == '\0') {
      return false;
    }
  }
  return true;
}

/* Length of the bag, capped just above the MQTT limit so it cannot overflow. */
static size_t bag_len(const iotc_hub_telemetry_options *o, const char *const v[SYS_COUNT]) {
  size_t n = 0, count = 0;
  for (size_t i = 0; i < SYS_COUNT; ++i) {
    if (v[i]) {
      n += sys_keys[i].len + iotc__url_encoded_len(v[i], strlen(v[i]));
      ++count;
    }
  }
  for (size_t i = 0; i < o->property_count && n <= IOTC__HUB_TOPIC_MAX; ++i) {
    const iotc_hub_property *pr = &o->properties[i];
    n += iotc__url_encoded_len(pr->key, strlen(pr->key));
    if (pr->value) {
      n += 1 + iotc__url_encoded_len(pr->value, strlen(pr->value));
    }
    ++count;
  }
  return count ? n + count - 1 : 0; /* '&' between pairs */
}

static char *write_bag(char *p, const iotc_hub_telemetry_options *o,
                       const char *const v[SYS_COUNT]) {
  const char *start = p;
  for (size_t i = 0; i < SYS_COUNT; ++i) {
    if (v[i]) {
      if (p != start) {
        *p++ = '&';
      }
      p = iotc__put(p, sys_keys[i].key, sys_keys[i].len);
      p = iotc__url_encode_to(v[i], strlen(v[i]), p);
    }
  }
  for (size_t i = 0; i < o->property_count; ++i) {
    const iotc_hub_property *pr = &o->properties[i];
    if (p != start) {
      *p++ = '&';
    }
    p = iotc__url_encode_to(pr->key, strlen(pr->key), p);
    if (pr->value) {
      *p++ = '=';
      p = iotc__url_encode_to(pr->value, strlen(pr->value), p);
    }
  }
  return p;
}

iotc_result iotc_hub_topic_telemetry(const char *device_id,
                                     const iotc_hub_telemetry_options *options, char *buf,
                                     size_t size, size_t *out_len) {
  static const char head[] = "devices/";
  static const char tail[] = "/messages/events/";
  size_t id_len = iotc__hub_device_id_len(device_id);
  if (id_len == 0 || buf == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  const char *v[SYS_COUNT] = {NULL};
  if (options) {
    sys_values(options, v);
    if (!options_valid(options, v)) {
      return IOTC_ERR_INVALID_ARG;
    }
  }
  size_t need = IOTC__LIT_LEN(head) + id_len + IOTC__LIT_LEN(tail);
  if (options) {
    need += bag_len(options, v);
  }
  if (need > IOTC__HUB_TOPIC_MAX) {
    return IOTC_ERR_TOO_LARGE;
  }
  if (out_len) {
    *out_len = need;
  }
  if (need >= size) {
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  char *p = iotc__put(buf, head, IOTC__LIT_LEN(head));
  p = iotc__put(p, device_id, id_len);
  p = iotc__put(p, tail, IOTC__LIT_LEN(tail));
  if (options) {
    p = write_bag(p, options, v);
  }
  *p = '\0';
  return IOTC_OK;
}
