/* SPDX-License-Identifier: MIT */
#include "common/text.h"

#include <string.h>

bool iotc__copy_text(char *dst, size_t size, const char *src) {
  if (dst == NULL || size == 0) return src == NULL || *src == '\0';
  size_t n = src ? strlen(src) : 0;
  bool fits = n < size;
  if (!fits) n = size - 1;
  if (n) memcpy(dst, src, n);
  dst[n] = '\0';
  return fits;
}

bool iotc__escape_text(char *dst, size_t size, const char *src) {
  static const char hex[] = "0123456789abcdef";
  if (dst == NULL || size == 0) return src == NULL || *src == '\0';
  size_t o = 0;
  for (const char *p = src ? src : ""; *p != '\0'; ++p) {
    unsigned char c = (unsigned char)*p;
    char e[4];
    size_t n = 2;
    e[0] = '\\';
    if (c == '\r') e[1] = 'r';
    else if (c == '\n') e[1] = 'n';
    else if (c == '\t') e[1] = 't';
    else if (c < 0x20 || c == 0x7F) {
      e[1] = 'x';
      e[2] = hex[c >> 4];
      e[3] = hex[c & 0xF];
      n = 4;
    } else {
      e[0] = (char)c;
      n = 1;
    }
    if (o + n >= size) {
      dst[o] = '\0';
      return false;
    }
    memcpy(dst + o, e, n);
    o += n;
  }
  dst[o] = '\0';
  return true;
}
