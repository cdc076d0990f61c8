/* SPDX-License-Identifier: MIT */
/* Telemetry publish topic and its property bag. Runs once per message, so it avoids
 * formatting libraries and, when the buffer fits even the worst case (every byte escaped),
 * skips the measuring pass and writes in one go. */
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

/* The system property values present, with their lengths, in writing order. */
typedef struct {
  const char *value[SYS_COUNT];
  size_t len[SYS_COUNT];
} sys_props;

static const char head[] = "devices/";
static const char tail[] = "/messages/events/";

/* Validates @p o and fills @p sys; adds the worst-case bag length to *worst (capped so it
 * cannot overflow). */
static bool read_options(const iotc_hub_telemetry_options *o, sys_props *sys, size_t *worst) {
  if (o->struct_version != IOTC_HUB_TELEMETRY_OPTIONS_VERSION ||
      (o->properties == NULL && o->property_count > 0)) {
    return false;
  }
  const char *v[SYS_COUNT] = {o->message_id,       o->correlation_id, o->content_type,
                              o->content_encoding, o->component,      o->creation_time_utc};
  size_t w = 0;
  for (size_t i = 0; i < SYS_COUNT; ++i) {
    sys->value[i] = v[i];
    sys->len[i] = v[i] ? strlen(v[i]) : 0;
    if (v[i] != NULL && sys->len[i] == 0) {
      return false;
    }
    w += v[i] ? sys_keys[i].len + 3 * sys->len[i] + 1 : 0;
  }
  if (o->component != NULL &&
      iotc_hub_name_check(IOTC_HUB_NAME_COMPONENT, o->component, NULL, NULL) != IOTC_OK) {
    return false;
  }
  for (size_t i = 0; i < o->property_count; ++i) {
    const iotc_hub_property *pr = &o->properties[i];
    if (pr->key == NULL || pr->key[0] == '\0') {
      return false;
    }
    if (w <= IOTC__HUB_TOPIC_MAX) {
      w += 3 * strlen(pr->key) + (pr->value ? 1 + 3 * strlen(pr->value) : 0) + 1;
    }
  }
  *worst += w;
  return true;
}

/* Exact bag length, capped just above the MQTT limit so it cannot overflow. */
static size_t bag_len(const iotc_hub_telemetry_options *o, const sys_props *sys) {
  size_t n = 0, count = 0;
  for (size_t i = 0; i < SYS_COUNT; ++i) {
    if (sys->value[i]) {
      n += sys_keys[i].len + iotc__url_encoded_len(sys->value[i], sys->len[i]);
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

static char *write_bag(char *p, const iotc_hub_telemetry_options *o, const sys_props *sys) {
  const char *start = p;
  for (size_t i = 0; i < SYS_COUNT; ++i) {
    if (sys->value[i]) {
      if (p != start) {
        *p++ = '&';
      }
      p = iotc__put(p, sys_keys[i].key, sys_keys[i].len);
      p = iotc__url_encode_str_to(sys->value[i], p);
    }
  }
  for (size_t i = 0; i < o->property_count; ++i) {
    const iotc_hub_property *pr = &o->properties[i];
    if (p != start) {
      *p++ = '&';
    }
    p = iotc__url_encode_str_to(pr->key, p);
    if (pr->value) {
      *p++ = '=';
      p = iotc__url_encode_str_to(pr->value, p);
    }
  }
  return p;
}

static size_t write_topic(char *buf, const char *device_id, size_t id_len,
                          const iotc_hub_telemetry_options *o, const sys_props *sys) {
  char *p = iotc__put(buf, head, IOTC__LIT_LEN(head));
  p = iotc__put(p, device_id, id_len);
  p = iotc__put(p, tail, IOTC__LIT_LEN(tail));
  if (o) {
    p = write_bag(p, o, sys);
  }
  *p = '\0';
  return (size_t)(p - buf);
}

iotc_result iotc_hub_topic_telemetry(const char *device_id,
                                     const iotc_hub_telemetry_options *options, char *buf,
                                     size_t size, size_t *out_len) {
  size_t id_len = iotc__hub_device_id_len(device_id);
  if (id_len == 0 || buf == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  sys_props sys;
  size_t fixed = IOTC__LIT_LEN(head) + id_len + IOTC__LIT_LEN(tail);
  size_t worst = fixed;
  if (options && !read_options(options, &sys, &worst)) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t need;
  if (worst <= IOTC__HUB_TOPIC_MAX && worst < size) {
    need = write_topic(buf, device_id, id_len, options, &sys); /* fits whatever the bytes */
  } else {
    need = fixed + (options ? bag_len(options, &sys) : 0);
    if (need > IOTC__HUB_TOPIC_MAX) {
      return IOTC_ERR_TOO_LARGE;
    }
    if (need >= size) {
      if (out_len) {
        *out_len = need;
      }
      return IOTC_ERR_BUFFER_TOO_SMALL;
    }
    write_topic(buf, device_id, id_len, options, &sys);
  }
  if (out_len) {
    *out_len = need;
  }
  return IOTC_OK;
}

/* The shortest topic a bag can end: `devices/` + a one-byte id + `/messages/events/`. */
#define SHORTEST_PREFIX (IOTC__LIT_LEN(head) + 1 + IOTC__LIT_LEN(tail))

iotc_result iotc_hub_topic_property_bag(const iotc_hub_telemetry_options *options, char *buf,
                                        size_t size, size_t *out_len) {
  if (buf == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  sys_props sys;
  size_t worst = 0;
  if (options && !read_options(options, &sys, &worst)) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t need = 0;
  if (worst <= IOTC__HUB_TOPIC_MAX - SHORTEST_PREFIX && worst < size) {
    need = options ? (size_t)(write_bag(buf, options, &sys) - buf) : 0; /* one pass */
  } else {
    need = options ? bag_len(options, &sys) : 0;
    if (need > IOTC__HUB_TOPIC_MAX - SHORTEST_PREFIX) {
      return IOTC_ERR_TOO_LARGE;
    }
    if (need >= size) {
      if (out_len) {
        *out_len = need;
      }
      return IOTC_ERR_BUFFER_TOO_SMALL;
    }
    if (options) {
      write_bag(buf, options, &sys);
    }
  }
  buf[need] = '\0';
  if (out_len) {
    *out_len = need;
  }
  return IOTC_OK;
}
