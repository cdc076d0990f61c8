/* SPDX-License-Identifier: MIT */
#include "net/http_line.h"

#include <string.h>

int iotc__http_status_line(const char *resp, size_t len, char *text, size_t size) {
  const char *eol = memchr(resp, '\r', len);
  size_t line = eol ? (size_t)(eol - resp) : len;
  size_t j = 0;
  for (size_t i = 0; i < line && i < 80 && j + 1 < size; i++) {
    unsigned char c = (unsigned char)resp[i];
    text[j++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
  }
  if (size > 0) text[j] = '\0';
  /* "HTTP/1.x NNN" */
  if (line < 12 || strncmp(resp, "HTTP/1.", 7) != 0 || resp[8] != ' ') return 0;
  int code = 0;
  for (int i = 9; i < 12; i++) {
    if (resp[i] < '0' || resp[i] > '9') return 0;
    code = code * 10 + (resp[i] - '0');
  }
  return code >= 100 && code <= 599 ? code : 0;
}
