/* SPDX-License-Identifier: MIT */
/* Clock sanity (internal). A SAS token carries an absolute expiry computed from the local clock,
 * so a device whose clock is wrong mints tokens the service refuses as expired or not yet valid,
 * and nothing else says why. Two checks leave a process-wide note that refusals then quote:
 * the clock is earlier than this library's build date, or DPS's HTTP Date header disagrees with
 * it by more than the service's tolerance. */
#ifndef IOTC_NET_CLOCK_CHECK_H
#define IOTC_NET_CLOCK_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Skew the service tolerates (about five minutes). */
#define IOTC__CLOCK_MAX_SKEW_S 300

/** Seconds since the epoch of a UTC date and time (month 1..12); no time zone involved. */
int64_t iotc__utc_seconds(int64_t year, int month, int day, int hour, int min, int sec);

/** Parse an HTTP IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") to seconds since the epoch. */
bool iotc__http_date_parse(const char *s, size_t len, int64_t *out);

/** Midnight UTC of the day this library was compiled. */
int64_t iotc__build_time(void);

/** True (and a description in @p out) when @p now is before @p build. */
bool iotc__clock_judge_build(int64_t now, int64_t build, char *out, size_t size);

/** True (and a description in @p out) when @p local and @p server differ by more than 5 min. */
bool iotc__clock_judge_skew(int64_t local, int64_t server, char *out, size_t size);

/**
 * What to add to an authentication refusal. @p clock_note: a clock problem found earlier ("" if
 * none). @p service_message: the service's own reason (NULL or "" when it gave none, as with a
 * bare CONNACK). Says "the token expired" or "the credential was refused" when the service told
 * us which, and points at the clock when a check found a problem. "" when there is nothing to add.
 */
void iotc__auth_hint(const char *clock_note, const char *service_message, char *out, size_t size);

/** Check the system clock against the build date: logs an error and keeps the note. */
bool iotc__clock_check_system(void);

/** Compare a server's Date (seconds since the epoch) with the system clock: warns, keeps the note. */
bool iotc__clock_check_server(int64_t server_time);

/** The current note ("" when both checks passed last time). Thread-safe. */
void iotc__clock_note(char *out, size_t size);

/** iotc__auth_hint() with the current note. */
void iotc__auth_refusal_hint(const char *service_message, char *out, size_t size);

#endif
