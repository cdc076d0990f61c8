/* SPDX-License-Identifier: MIT */
/* Property bags `k=v&k2&k3=`: iteration, lookup by decoded key, decoding. */
#include "common/url.h"
#include "hub/topic_common.h"

iotc_result iotc_hub_property_iter_init(iotc_hub_property_iter *iter, iotc_hub_view bag) {
  if (iter == NULL || (bag.ptr == NULL && bag.len > 0)) {
    return IOTC_ERR_INVALID_ARG;
  }
  iter->next = bag.ptr;
  iter->end = bag.ptr ? bag.ptr + bag.len : NULL;
  return IOTC_OK;
}

iotc_result iotc_hub_property_next(iotc_hub_property_iter *iter, iotc_hub_property_view *out) {
  if (iter == NULL || out == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  while (iter->next != NULL && iter->next < iter->end) {
    const char *seg = iter->next;
    size_t rest = (size_t)(iter->end - seg);
    const char *amp = memchr(seg, '&', rest);
    const char *seg_end = amp ? amp : iter->end;
    iter->next = amp ? amp + 1 : iter->end;
    size_t seg_len = (size_t)(seg_end - seg);
    if (seg_len == 0) {
      continue; /* "a&&b" or a trailing '&' */
    }
    const char *eq = memchr(seg, '=', seg_len);
    if (eq == seg) {
      return IOTC_ERR_MALFORMED;
    }
    out->key.ptr = seg;
    if (eq) {
      out->key.len = (size_t)(eq - seg);
      out->value.ptr = eq + 1;
      out->value.len = (size_t)(seg_end - eq - 1);
      out->has_value = true;
    } else {
      out->key.len = seg_len;
      out->value.ptr = NULL;
      out->value.len = 0;
      out->has_value = false;
    }
    return IOTC_OK;
  }
  return IOTC_ERR_NO_MATCH;
}

/* True when raw, once percent-decoded, equals the NUL-terminated @p text. */
static bool decoded_equals(iotc_hub_view raw, const char *text) {
  size_t t = 0;
  for (size_t i = 0; i < raw.len; ++i, ++t) {
    char c = raw.ptr[i];
    if (c == '%') {
      if (raw.len - i < 3) {
        return false;
      }
      int hi = iotc__url_hex_value(raw.ptr[i + 1]), lo = iotc__url_hex_value(raw.ptr[i + 2]);
      if (hi < 0 || lo < 0) {
        return false;
      }
      c = (char)((hi << 4) | lo);
      i += 2;
    }
    if (c == '\0' || text[t] != c) {
      return false;
    }
  }
  return text[t] == '\0';
}

iotc_result iotc_hub_property_find(iotc_hub_view bag, const char *key,
                                   iotc_hub_property_view *out) {
  iotc_hub_property_iter it;
  if (key == NULL || out == NULL || iotc_hub_property_iter_init(&it, bag) != IOTC_OK) {
    return IOTC_ERR_INVALID_ARG;
  }
  iotc_hub_property_view prop;
  for (;;) {
    iotc_result r = iotc_hub_property_next(&it, &prop);
    if (r == IOTC_ERR_NO_MATCH) {
      return IOTC_ERR_NO_MATCH;
    }
    if (r == IOTC_OK && decoded_equals(prop.key, key)) {
      *out = prop;
      return IOTC_OK;
    }
  }
}

iotc_result iotc_hub_property_decode(iotc_hub_view raw, char *buf, size_t size, size_t *out_len) {
  if (raw.ptr == NULL && raw.len > 0) {
    return IOTC_ERR_INVALID_ARG;
  }
  return iotc__url_decode(raw.ptr, raw.len, buf, size, out_len);
}
