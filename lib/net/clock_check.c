/* SPDX-License-Identifier: MIT */
/* Clock sanity checks and the hint they add to authentication refusals. */
#include "net/clock_check.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"

#define NOTE_SIZE 160

static pthread_mutex_t note_mu = PTHREAD_MUTEX_INITIALIZER;
static char build_note[NOTE_SIZE]; /* (note_mu) */
static char skew_note[NOTE_SIZE];  /* (note_mu) */

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t iotc__utc_seconds(int64_t year, int month, int day, int hour, int min, int sec) {
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
}

static int month_index(const char *s) {
  for (int i = 0; i < 12; ++i) {
    if (strncmp(s, months + 3 * i, 3) == 0) return i + 1;
  }
  return 0;
}

static bool digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool iotc__http_date_parse(const char *s, size_t len, int64_t *out) {
  /* "Sun, 06 Nov 1994 08:49:37 GMT": fixed width, 29 characters. */
  if (s == NULL) return false;
  while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == '\n' || s[len - 1] == ' ')) --len;
  if (len != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
      s[16] != ' ' || s[19] != ':' || s[22] != ':' || memcmp(s + 25, " GMT", 4) != 0) {
    return false;
  }
  int d, y, hh, mm, ss;
  int m = month_index(s + 8);
  if (m == 0 || !digits(s + 5, 2, &d) || !digits(s + 12, 4, &y) || !digits(s + 17, 2, &hh) ||
      !digits(s + 20, 2, &mm) || !digits(s + 23, 2, &ss) || d < 1 || d > 31 || hh > 23 ||
      mm > 59 || ss > 60) {
    return false;
  }
  *out = iotc__utc_seconds(y, m, d, hh, mm, ss);
  return true;
}

/* The configure time (CMake honours SOURCE_DATE_EPOCH, so builds stay reproducible); a clock
 * earlier than this is certainly wrong. The fallback is the first day of 2026. */
#ifndef IOTC_BUILD_EPOCH
#define IOTC_BUILD_EPOCH 1767225600
#endif
int64_t iotc__build_time(void) { return (int64_t)IOTC_BUILD_EPOCH; }

static void format_day(int64_t t, char *out, size_t size) {
  time_t tt = (time_t)t;
  struct tm tm;
  if (gmtime_r(&tt, &tm) == NULL || strftime(out, size, "%Y-%m-%d", &tm) == 0) {
    snprintf(out, size, "%lld", (long long)t);
  }
}

bool iotc__clock_judge_build(int64_t now, int64_t build, char *out, size_t size) {
  if (now >= build) return false;
  char a[32], b[32];
  format_day(now, a, sizeof a);
  format_day(build, b, sizeof b);
  snprintf(out, size, "the system clock is wrong (it says %s, before this library was built on %s)",
           a, b);
  return true;
}

bool iotc__clock_judge_skew(int64_t local, int64_t server, char *out, size_t size) {
  int64_t diff = local - server;
  int64_t mag = diff < 0 ? -diff : diff;
  if (mag <= IOTC__CLOCK_MAX_SKEW_S) return false;
  snprintf(out, size, "the system clock is wrong (%lld s %s the Date of DPS's answer)",
           (long long)mag, diff < 0 ? "behind" : "ahead of");
  return true;
}

static bool mentions(const char *text, const char *word) {
  size_t n = strlen(word);
  for (const char *p = text; *p; ++p) {
    if (strncasecmp(p, word, n) == 0) return true;
  }
  return false;
}

void iotc__auth_hint(const char *clock_note, const char *service_message, char *out, size_t size) {
  if (size == 0) return;
  out[0] = '\0';
  bool clock = clock_note != NULL && clock_note[0] != '\0';
  bool told = service_message != NULL && service_message[0] != '\0';
  bool expired = told && mentions(service_message, "expired");
  if (expired) {
    snprintf(out, size, "; the token expired%s%s", clock ? ": " : "", clock ? clock_note : "");
  } else if (clock) {
    snprintf(out, size, "; likely an expired token or clock skew: %s", clock_note);
  } else if (told) {
    snprintf(out, size, "; the credential was refused (check the key, ID scope and device ID)");
  }
}

bool iotc__clock_check_system(void) {
  char text[NOTE_SIZE];
  bool wrong = iotc__clock_judge_build((int64_t)time(NULL), iotc__build_time(), text, sizeof text);
  pthread_mutex_lock(&note_mu);
  bool known = strcmp(build_note, wrong ? text : "") == 0;
  snprintf(build_note, sizeof build_note, "%s", wrong ? text : "");
  pthread_mutex_unlock(&note_mu);
  if (wrong && !known) IOTC_LOGE("%s: SAS tokens will be refused", text);
  return wrong;
}

bool iotc__clock_check_server(int64_t server_time) {
  char text[NOTE_SIZE];
  bool wrong = iotc__clock_judge_skew((int64_t)time(NULL), server_time, text, sizeof text);
  pthread_mutex_lock(&note_mu);
  snprintf(skew_note, sizeof skew_note, "%s", wrong ? text : "");
  pthread_mutex_unlock(&note_mu);
  if (wrong) IOTC_LOGW("%s: SAS tokens may be refused", text);
  return wrong;
}

void iotc__clock_note(char *out, size_t size) {
  pthread_mutex_lock(&note_mu);
  snprintf(out, size, "%s", build_note[0] ? build_note : skew_note);
  pthread_mutex_unlock(&note_mu);
}

void iotc__auth_refusal_hint(const char *service_message, char *out, size_t size) {
  char note[NOTE_SIZE];
  iotc__clock_note(note, sizeof note);
  iotc__auth_hint(note, service_message, out, size);
}
