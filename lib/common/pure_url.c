#include "common/url.h"

#include <string.h>

static const char hex_digits[] = "0123456789ABCDEF";

bool iotc__url_is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

size_t iotc__url_encoded_len(const char *in, size_t in_len) {
  size_t n = 0;
  for (size_t i = 0; i < in_len; ++i) {
    n += iotc__url_is_unreserved(in[i]) ? 1 : 3;
  }
  return n;
}

iotc_result iotc__url_encode(const char *in, size_t in_len, char *buf, size_t size, size_t *out_len) {
  if ((in == NULL && in_len > 0) || buf == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t need = iotc__url_encoded_len(in, in_len);
  if (out_len) {
    *out_len = need;
  }
  if (need + 1 > size) {
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  char *p = buf;
  for (size_t i = 0; i < in_len; ++i) {
    unsigned char c = (unsigned char)in[i];
    if (iotc__url_is_unreserved((char)c)) {
      *p++ = (char)c;
    } else {
      *p++ = '%';
      *p++ = hex_digits[c >> 4];
      *p++ = hex_digits[c & 0xF];
    }
  }
  *p = '\0';
  return IOTC_OK;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

iotc_result iotc__url_decode(const char *in, size_t in_len, char *buf, size_t size, size_t *out_len) {
  if ((in == NULL && in_len > 0) || buf == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  /* First pass validates and measures, so a failure writes nothing. */
  size_t need = 0;
  for (size_t i = 0; i < in_len; ++i, ++need) {
    if (in[i] == '%') {
      if (i + 2 >= in_len) {
        return IOTC_ERR_BAD_ENCODING;
      }
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
        return IOTC_ERR_BAD_ENCODING;
      }
      i += 2;
    }
  }
  if (out_len) {
    *out_len = need;
  }
  if (need + 1 > size) {
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  char *p = buf;
  for (size_t i = 0; i < in_len; ++i) {
    if (in[i] == '%') {
      *p++ = (char)((hex_value(in[i + 1]) << 4) | hex_value(in[i + 2]));
      i += 2;
    } else {
      *p++ = in[i];
    }
  }
  *p = '\0';
  return IOTC_OK;
}
