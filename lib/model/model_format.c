/* SPDX-License-Identifier: MIT */
/* The string formats of DTDL's primitive schemas: RFC 3339 date, time and date-time, ISO 8601
 * duration, UUID and base64 bytes. */
#include <stdbool.h>
#include <string.h>

#include "model/model_format.h"

static bool digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

static int num(const char *s, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
  return v;
}

/* YYYY-MM-DD; returns the end or NULL. */
static const char *date(const char *s) {
  if (!digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' || !digits(s + 8, 2)) {
    return NULL;
  }
  int y = num(s, 4), m = num(s + 5, 2), d = num(s + 8, 2);
  static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1 || d > days[m - 1]) return NULL;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && d == 29 && !leap) return NULL;
  return s + 10;
}

/* hh:mm:ss[.frac]; returns the end or NULL. Second 60 is a leap second. */
static const char *partial_time(const char *s) {
  if (!digits(s, 2) || s[2] != ':' || !digits(s + 3, 2) || s[5] != ':' || !digits(s + 6, 2)) {
    return NULL;
  }
  if (num(s, 2) > 23 || num(s + 3, 2) > 59 || num(s + 6, 2) > 60) return NULL;
  s += 8;
  if (*s == '.') {
    s++;
    if (*s < '0' || *s > '9') return NULL;
    while (*s >= '0' && *s <= '9') s++;
  }
  return s;
}

/* Z or +hh:mm / -hh:mm; returns the end or NULL. */
static const char *offset(const char *s) {
  if (*s == 'Z' || *s == 'z') return s + 1;
  if ((*s != '+' && *s != '-') || !digits(s + 1, 2) || s[3] != ':' || !digits(s + 4, 2)) {
    return NULL;
  }
  if (num(s + 1, 2) > 23 || num(s + 4, 2) > 59) return NULL;
  return s + 6;
}

static bool is_time(const char *s) {
  s = partial_time(s);
  if (s && *s) s = offset(s); /* the offset is optional */
  return s && *s == '\0';
}

static bool is_datetime(const char *s) {
  s = date(s);
  if (s == NULL || (*s != 'T' && *s != 't')) return false;
  s = partial_time(s + 1);
  s = s ? offset(s) : NULL;
  return s && *s == '\0';
}

/* PnYnMnWnDTnHnMnS: at least one part, each part in order, T followed by a part; a fraction
 * only on the last part. */
static bool is_duration(const char *s) {
  if (*s++ != 'P') return false;
  static const char date_units[] = "YMWD", time_units[] = "HMS";
  const char *units = date_units;
  size_t next = 0;
  bool any = false, in_time = false, need_part = false, fraction = false;
  while (*s) {
    if (*s == 'T') {
      if (in_time) return false;
      in_time = true;
      need_part = true;
      units = time_units;
      next = 0;
      s++;
      continue;
    }
    if (fraction) return false; /* something after a fractional part */
    const char *start = s;
    while (*s >= '0' && *s <= '9') s++;
    if (s == start) return false;
    if (*s == '.' || *s == ',') {
      s++;
      const char *f = s;
      while (*s >= '0' && *s <= '9') s++;
      if (s == f) return false;
      fraction = true;
    }
    const char *u = *s ? strchr(units + next, *s) : NULL;
    if (u == NULL) return false;
    next = (size_t)(u - units) + 1;
    s++;
    any = true;
    need_part = false;
  }
  return any && !need_part;
}

static bool is_uuid(const char *s) {
  for (size_t i = 0; i < 36; i++) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return s[36] == '\0';
}

static bool is_base64(const char *s) {
  size_t n = strlen(s), pad = 0;
  if (n % 4 != 0) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '=') {
      if (i + 2 < n) return false; /* only the last two may be padding */
      pad++;
    } else if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '+' || c == '/')) {
      return false;
    }
  }
  return true;
}

const char *iotc__model_format_check(iotc__schema_kind kind, const char *s) {
  switch (kind) {
    case IOTC__S_DATE: {
      const char *e = date(s);
      return e && *e == '\0' ? NULL : "a date (YYYY-MM-DD)";
    }
    case IOTC__S_TIME:
      return is_time(s) ? NULL : "a time (hh:mm:ss[.fff][Z|+hh:mm])";
    case IOTC__S_DATETIME:
      return is_datetime(s) ? NULL : "a dateTime (YYYY-MM-DDThh:mm:ss[.fff]Z|+hh:mm)";
    case IOTC__S_DURATION:
      return is_duration(s) ? NULL : "a duration (ISO 8601, e.g. PT1H30M)";
    case IOTC__S_UUID:
      return is_uuid(s) ? NULL : "a uuid (8-4-4-4-12 hex digits)";
    case IOTC__S_BYTES:
      return is_base64(s) ? NULL : "bytes (base64)";
    default:
      return NULL;
  }
}
