/* SPDX-License-Identifier: MIT */
#include "common/url.h"

#include <string.h>

static const char hex_digits[] = "0123456789ABCDEF";

/* Unreserved bytes per RFC 3986, as a table: encoding runs per telemetry message. */
static const unsigned char unreserved[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
    ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
    ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
    ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

bool iotc__url_is_unreserved(char c) { return unreserved[(unsigned char)c] != 0; }

int iotc__url_hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

size_t iotc__url_encoded_len(const char *in, size_t in_len) {
  size_t n = in_len;
  for (size_t i = 0; i < in_len; ++i) {
    n += unreserved[(unsigned char)in[i]] ? 0 : 2;
  }
  return n;
}

char *iotc__url_encode_to(const char *in, size_t in_len, char *dst) {
  for (size_t i = 0; i < in_len; ++i) {
    unsigned char c = (unsigned char)in[i];
    if (unreserved[c]) {
      *dst++ = (char)c;
    } else {
      dst[0] = '%';
      dst[1] = hex_digits[c >> 4];
      dst[2] = hex_digits[c & 0xF];
      dst += 3;
    }
  }
  return dst;
}

char *iotc__url_encode_str_to(const char *in, char *dst) {
  for (const unsigned char *s = (const unsigned char *)in;; ++s) {
    unsigned char c = *s;
    if (unreserved[c]) {
      *dst++ = (char)c;
    } else if (c == '\0') {
      return dst;
    } else {
      dst[0] = '%';
      dst[1] = hex_digits[c >> 4];
      dst[2] = hex_digits[c & 0xF];
      dst += 3;
    }
  }
}

iotc_result iotc__url_encode(const char *in, size_t in_len, char *buf, size_t size, size_t *out_len) {
  if ((in == NULL && in_len > 0) || buf == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t need = iotc__url_encoded_len(in, in_len);
  if (out_len) {
    *out_len = need;
  }
  if (need >= size) {
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  *iotc__url_encode_to(in, in_len, buf) = '\0';
  return IOTC_OK;
}

iotc_result iotc__url_decode(const char *in, size_t in_len, char *buf, size_t size, size_t *out_len) {
  if ((in == NULL && in_len > 0) || buf == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  /* First pass validates and measures, so a failure writes nothing. */
  size_t need = 0;
  for (size_t i = 0; i < in_len; ++i, ++need) {
    if (in[i] == '\0') {
      return IOTC_ERR_BAD_ENCODING; /* the result is a C string: a NUL would cut it short */
    }
    if (in[i] == '%') {
      if (in_len - i < 3) {
        return IOTC_ERR_BAD_ENCODING;
      }
      int hi = iotc__url_hex_value(in[i + 1]), lo = iotc__url_hex_value(in[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
        return IOTC_ERR_BAD_ENCODING;
      }
      i += 2;
    }
  }
  if (out_len) {
    *out_len = need;
  }
  if (need >= size) {
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  char *p = buf;
  for (size_t i = 0; i < in_len; ++i) {
    if (in[i] == '%') {
      *p++ = (char)((iotc__url_hex_value(in[i + 1]) << 4) | iotc__url_hex_value(in[i + 2]));
      i += 2;
    } else {
      *p++ = in[i];
    }
  }
  *p = '\0';
  return IOTC_OK;
}
