/* SPDX-License-Identifier: MIT */
/* Rules and small tools shared by the IoT Hub topic builders and parsers. */
#include "hub/topic_common.h"

/* Character classes of the hub's name rules, as a table: the device id is checked on every
 * telemetry message. */
#define ID IOTC__HUB_CHAR_DEVICE_ID
#define AL (IOTC__HUB_CHAR_DEVICE_ID | IOTC__HUB_CHAR_ALPHA | IOTC__HUB_CHAR_WORD)
#define DG (IOTC__HUB_CHAR_DEVICE_ID | IOTC__HUB_CHAR_WORD)
static const unsigned char char_class[256] = {
    ['A'] = AL, ['B'] = AL, ['C'] = AL, ['D'] = AL, ['E'] = AL, ['F'] = AL, ['G'] = AL, ['H'] = AL,
    ['I'] = AL, ['J'] = AL, ['K'] = AL, ['L'] = AL, ['M'] = AL,
    ['N'] = AL, ['O'] = AL, ['P'] = AL, ['Q'] = AL, ['R'] = AL, ['S'] = AL, ['T'] = AL, ['U'] = AL,
    ['V'] = AL, ['W'] = AL, ['X'] = AL, ['Y'] = AL, ['Z'] = AL,
    ['a'] = AL, ['b'] = AL, ['c'] = AL, ['d'] = AL, ['e'] = AL, ['f'] = AL, ['g'] = AL, ['h'] = AL,
    ['i'] = AL, ['j'] = AL, ['k'] = AL, ['l'] = AL, ['m'] = AL,
    ['n'] = AL, ['o'] = AL, ['p'] = AL, ['q'] = AL, ['r'] = AL, ['s'] = AL, ['t'] = AL, ['u'] = AL,
    ['v'] = AL, ['w'] = AL, ['x'] = AL, ['y'] = AL, ['z'] = AL,
    ['0'] = DG, ['1'] = DG, ['2'] = DG, ['3'] = DG, ['4'] = DG, ['5'] = DG, ['6'] = DG, ['7'] = DG,
    ['8'] = DG, ['9'] = DG,
    ['-'] = ID, ['.'] = ID, ['%'] = ID, ['*'] = ID, ['?'] = ID, ['!'] = ID, ['('] = ID, [')'] = ID,
    [','] = ID, [':'] = ID, ['='] = ID, ['@'] = ID, ['$'] = ID, ['\''] = ID,
    ['_'] = DG,
};
#undef ID
#undef AL
#undef DG

/* A function rather than an exported array: sanitizer builds would add a non-iotc symbol. */
const unsigned char *iotc__hub_char_classes(void) { return char_class; }

size_t iotc__hub_device_id_len(const char *id) {
  if (id == NULL) {
    return 0;
  }
  /* The NUL has no class bit, so one test per byte both checks and finds the end. */
  const unsigned char *s = (const unsigned char *)id;
  while (char_class[*s] & IOTC__HUB_CHAR_DEVICE_ID) {
    ++s;
  }
  size_t n = (size_t)(s - (const unsigned char *)id);
  return (*s == '\0' && n <= IOTC_HUB_DEVICE_ID_MAX) ? n : 0;
}

size_t iotc__hub_request_id_len(const char *rid) {
  if (rid == NULL) {
    return 0;
  }
  size_t n = 0;
  for (; rid[n] != '\0'; ++n) {
    unsigned char c = (unsigned char)rid[n];
    if (n == IOTC_HUB_REQUEST_ID_MAX || c < 0x21 || c > 0x7E || c == '#' || c == '+' ||
        c == '/' || c == '&') {
      return 0;
    }
  }
  return n;
}

size_t iotc__hub_u32_digits(uint32_t v) {
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

char *iotc__hub_put_u32(char *p, uint32_t v) {
  size_t n = iotc__hub_u32_digits(v);
  for (size_t i = n; i > 0; --i) {
    p[i - 1] = (char)('0' + v % 10);
    v /= 10;
  }
  return p + n;
}

bool iotc__hub_parse_u64(iotc_hub_view v, uint64_t *out) {
  if (v.len == 0) {
    return false;
  }
  uint64_t value = 0;
  for (size_t i = 0; i < v.len; ++i) {
    unsigned char c = (unsigned char)v.ptr[i];
    if (c < '0' || c > '9') {
      return false;
    }
    unsigned d = (unsigned)(c - '0');
    if (value > (UINT64_MAX - d) / 10) {
      return false;
    }
    value = value * 10 + d;
  }
  *out = value;
  return true;
}

iotc_result iotc__hub_parse_query(const char *p, const char *end, bool need_rid,
                                  iotc_hub_view *out_rid, bool *out_has_version,
                                  uint64_t *out_version) {
  out_rid->ptr = NULL;
  out_rid->len = 0;
  if (out_has_version) {
    *out_has_version = false;
  }
  if (p >= end || *p != '?') {
    return IOTC_ERR_MALFORMED;
  }
  iotc_hub_view query = {p + 1, (size_t)(end - p - 1)};
  iotc_hub_property_view prop;
  if (iotc_hub_property_find(query, "$rid", &prop) == IOTC_OK && prop.value.len > 0) {
    *out_rid = prop.value;
  } else if (need_rid) {
    return IOTC_ERR_MALFORMED;
  }
  if (out_has_version && iotc_hub_property_find(query, "$version", &prop) == IOTC_OK) {
    if (!iotc__hub_parse_u64(prop.value, out_version)) {
      return IOTC_ERR_MALFORMED;
    }
    *out_has_version = true;
  }
  return IOTC_OK;
}

iotc_result iotc__hub_build_rid_topic(const char *prefix, size_t prefix_len, int status,
                                      const char *rid, char *buf, size_t size, size_t *out_len) {
  static const char rid_key[] = "/?$rid=";
  size_t rid_len = iotc__hub_request_id_len(rid);
  if (rid_len == 0 || buf == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t need = prefix_len + rid_len;
  if (status >= 0) {
    need += iotc__hub_u32_digits((uint32_t)status) + IOTC__LIT_LEN(rid_key);
  }
  if (out_len) {
    *out_len = need;
  }
  if (need >= size) {
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  char *p = iotc__put(buf, prefix, prefix_len);
  if (status >= 0) {
    p = iotc__hub_put_u32(p, (uint32_t)status);
    p = iotc__put(p, rid_key, IOTC__LIT_LEN(rid_key));
  }
  p = iotc__put(p, rid, rid_len);
  *p = '\0';
  return IOTC_OK;
}
