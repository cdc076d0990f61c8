/* SPDX-License-Identifier: MIT */
/* One-pass JSON validation, escaping, a growable string, and bounded loading into jansson. */
#include "common/json.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ws(const char *p, const char *e) {
  while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  return p;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Length of the run of plain string bytes at p: up to the first quote, backslash or control
 * character, or to e. Plain bytes are most of a telemetry payload and checking them one at a time
 * was most of the library's cost per message, so eight are checked at once where the byte order
 * allows: per byte, (x - k) & ~x has its top bit set first at the lowest byte below k. */
static size_t plain_run(const char *p, const char *e) {
  const char *s = p;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t ones = 0x0101010101010101u, tops = 0x8080808080808080u;
  while (e - p >= 8) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
    uint64_t hit = (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v)) & tops;
    if (hit) return (size_t)(p - s) + (size_t)__builtin_ctzll(hit) / 8;
    p += 8;
  }
#endif
  while (p < e && (unsigned char)*p >= 0x20 && *p != '"' && *p != '\\') p++;
  return (size_t)(p - s);
}

/* p points after the opening quote; returns the byte after the closing quote or NULL. */
static const char *scan_string(const char *p, const char *e) {
  for (;;) {
    p += plain_run(p, e);
    if (p >= e) return NULL;
    unsigned char c = (unsigned char)*p++;
    if (c == '"') return p;
    if (c != '\\') return NULL; /* a control character */
    if (p >= e) return NULL;
    switch (*p++) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        break;
      case 'u':
        if (e - p < 4) return NULL;
        for (int i = 0; i < 4; i++) {
          if (hexval(p[i]) < 0) return NULL;
        }
        p += 4;
        break;
      default:
        return NULL;
    }
  }
}

static const char *scan_digits(const char *p, const char *e) {
  const char *s = p;
  while (p < e && *p >= '0' && *p <= '9') p++;
  return p == s ? NULL : p;
}

static const char *scan_number(const char *p, const char *e) {
  if (p < e && *p == '-') p++;
  if (p >= e) return NULL;
  if (*p == '0') {
    p++;
  } else if ((p = scan_digits(p, e)) == NULL) {
    return NULL;
  }
  if (p < e && *p == '.') {
    if ((p = scan_digits(p + 1, e)) == NULL) return NULL;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < e && (*p == '+' || *p == '-')) p++;
    if ((p = scan_digits(p, e)) == NULL) return NULL;
  }
  return p;
}

static const char *scan_literal(const char *p, const char *e, const char *lit, size_t n) {
  if ((size_t)(e - p) < n || memcmp(p, lit, n) != 0) return NULL;
  return p + n;
}

const char *iotc__json_check(const char *s, size_t len, char *out_kind) {
  if (s == NULL) return "no text";
  const char *p = s, *e = s + len;
  char stack[IOTC__JSON_MAX_DEPTH]; /* '{' or '[' per open container */
  int depth = 0;
  p = skip_ws(p, e);
  if (p >= e) return "empty";
  if (out_kind) *out_kind = *p;
  for (;;) {
    /* a value starts at p */
    p = skip_ws(p, e);
    if (p >= e) return "truncated";
    switch (*p) {
      case '{':
      case '[':
        if (depth == IOTC__JSON_MAX_DEPTH) return "nested too deeply";
        stack[depth++] = *p++;
        p = skip_ws(p, e);
        if (p < e && (*p == '}' || *p == ']')) {
          if ((*p == '}') != (stack[depth - 1] == '{')) return "mismatched bracket";
          depth--;
          p++;
          goto after_value;
        }
        if (stack[depth - 1] == '[') continue;
        goto key;
      case '"':
        p = scan_string(p + 1, e);
        if (p == NULL) return "bad string";
        goto after_value;
      case 't': p = scan_literal(p, e, "true", 4); break;
      case 'f': p = scan_literal(p, e, "false", 5); break;
      case 'n': p = scan_literal(p, e, "null", 4); break;
      default: p = scan_number(p, e); break;
    }
    if (p == NULL) return "invalid value";
  after_value:
    p = skip_ws(p, e);
    if (depth == 0) return p == e ? NULL : "text after the value";
    if (p >= e) return "truncated";
    if (*p == ',') {
      p++;
      if (stack[depth - 1] == '[') continue;
      p = skip_ws(p, e);
      goto key;
    }
    if ((*p == '}' && stack[depth - 1] == '{') || (*p == ']' && stack[depth - 1] == '[')) {
      depth--;
      p++;
      goto after_value;
    }
    return "expected ',' or a closing bracket";
  key:
    if (p >= e || *p != '"') return "expected a member name";
    p = scan_string(p + 1, e);
    if (p == NULL) return "bad member name";
    p = skip_ws(p, e);
    if (p >= e || *p != ':') return "expected ':'";
    p++;
  }
}

json_t *iotc__json_load(const char *s, size_t len, size_t max_len, size_t flags,
                        char why[IOTC__JSON_WHY_SIZE]) {
  if (len > max_len) {
    if (why != NULL) snprintf(why, IOTC__JSON_WHY_SIZE, "longer than %zu bytes", max_len);
    return NULL;
  }
  const char *bad = iotc__json_check(s, len, NULL);
  if (bad != NULL) {
    if (why != NULL) snprintf(why, IOTC__JSON_WHY_SIZE, "%s", bad);
    return NULL;
  }
  json_error_t jerr;
  json_t *j = json_loadb(s, len, flags, &jerr);
  if (j == NULL && why != NULL) {
    /* jansson leaves the text empty when even its first buffer cannot be allocated */
    if (json_error_code(&jerr) == json_error_out_of_memory || jerr.text[0] == '\0') {
      snprintf(why, IOTC__JSON_WHY_SIZE, "%s", IOTC__JSON_NO_MEMORY);
    } else {
      snprintf(why, IOTC__JSON_WHY_SIZE, "line %d, column %d: %s", jerr.line, jerr.column,
               jerr.text);
    }
  }
  return j;
}

char *iotc__json_dump(const json_t *j, size_t flags) {
  if (j == NULL) return NULL;
  size_t n = json_dumpb(j, NULL, 0, flags);
  if (n == 0) return NULL;
  char *text = malloc(n + 1);
  if (text == NULL) return NULL;
  if (json_dumpb(j, text, n, flags) != n) {
    free(text);
    return NULL;
  }
  text[n] = '\0';
  return text;
}

size_t iotc__json_escaped_len(const char *s) {
  size_t n = 0;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
      n += 2;
    } else if (c < 0x20) {
      n += 6;
    } else {
      n++;
    }
  }
  return n;
}

char *iotc__json_escape_to(const char *s, char *d) {
  static const char hex[] = "0123456789abcdef";
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    char esc = 0;
    switch (c) {
      case '"': esc = '"'; break;
      case '\\': esc = '\\'; break;
      case '\n': esc = 'n'; break;
      case '\r': esc = 'r'; break;
      case '\t': esc = 't'; break;
      case '\b': esc = 'b'; break;
      case '\f': esc = 'f'; break;
      default: break;
    }
    if (esc) {
      *d++ = '\\';
      *d++ = esc;
    } else if (c < 0x20) {
      memcpy(d, "\\u00", 4);
      d[4] = hex[c >> 4];
      d[5] = hex[c & 15];
      d += 6;
    } else {
      *d++ = (char)c;
    }
  }
  return d;
}

void iotc__sbuf_add(iotc__sbuf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->ptr, cap);
    if (p == NULL) {
      b->failed = true;
      return;
    }
    b->ptr = p;
    b->cap = cap;
  }
  memcpy(b->ptr + b->len, s, n);
  b->len += n;
  b->ptr[b->len] = '\0';
}

void iotc__sbuf_adds(iotc__sbuf *b, const char *s) { iotc__sbuf_add(b, s, strlen(s)); }

void iotc__sbuf_add_json_string(iotc__sbuf *b, const char *s) {
  size_t n = iotc__json_escaped_len(s);
  char small[256];
  char *tmp = n <= sizeof small ? small : malloc(n);
  if (tmp == NULL) {
    b->failed = true;
    return;
  }
  iotc__json_escape_to(s, tmp);
  iotc__sbuf_add(b, "\"", 1);
  iotc__sbuf_add(b, tmp, n);
  iotc__sbuf_add(b, "\"", 1);
  if (tmp != small) free(tmp);
}

void iotc__sbuf_add_int(iotc__sbuf *b, int64_t v) {
  char tmp[24];
  int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
  iotc__sbuf_add(b, tmp, (size_t)n);
}

char *iotc__sbuf_take(iotc__sbuf *b, size_t *out_len) {
  if (b->failed || b->ptr == NULL) {
    free(b->ptr);
    b->ptr = NULL;
    return NULL;
  }
  if (out_len) *out_len = b->len;
  char *p = b->ptr;
  b->ptr = NULL;
  return p;
}
