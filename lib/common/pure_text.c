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
