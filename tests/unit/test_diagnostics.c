/* SPDX-License-Identifier: MIT */
/* The decisions behind actionable failures: OpenSSL error lines shortened to their reason, the
 * clock checks (build date, DPS Date header), the hint added to a refused credential, and the
 * expiry of the roots in a CA file (with CAs made by the openssl command). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/ca_expiry.h"
#include "net/clock_check.h"
#include "net/tls_diag.h"

static void an_openssl_error_line_is_shortened_to_its_reason(void **s) {
  (void)s;
  char out[160];
  const char *line = "40F7D1A5F07F0000:error:0A000086:SSL routines:tls_post_process_server_"
                     "certificate:certificate verify failed:../ssl/statem/statem_clnt.c:1889:\n";
  iotc__tls_reason(line, strlen(line), out, sizeof out);
  assert_string_equal(out, "certificate verify failed");
  const char *with_data = "1:error:80000002:system library:file_open:No such file or directory:"
                          "../providers/implementations/storemgmt/file_store.c:267:calling "
                          "stat(/nope.pem)\n";
  iotc__tls_reason(with_data, strlen(with_data), out, sizeof out);
  assert_string_equal(out, "No such file or directory (calling stat(/nope.pem))");
  iotc__tls_reason("something else\n", 15, out, sizeof out);
  assert_string_equal(out, "something else");
}

static void a_tls_note_keeps_the_first_reason_only(void **s) {
  (void)s;
  iotc__tls_note n;
  iotc__tls_note_init(&n);
  const char *a = "1:error:0A000086:SSL routines:f:certificate verify failed:x.c:1:\n";
  const char *b = "1:error:0A000410:SSL routines:f:sslv3 alert handshake failure:x.c:2:\n";
  iotc__tls_note_cb(a, strlen(a), &n);
  iotc__tls_note_cb(b, strlen(b), &n);
  char out[IOTC__TLS_NOTE_SIZE];
  iotc__tls_note_get(&n, out, sizeof out);
  assert_string_equal(out, "certificate verify failed");
  iotc__tls_note_clear(&n);
  iotc__tls_note_get(&n, out, sizeof out);
  assert_string_equal(out, "");
  iotc__tls_note_destroy(&n);
}

static void an_http_date_is_parsed_and_anything_else_refused(void **s) {
  (void)s;
  int64_t t = 0;
  assert_true(iotc__http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", 29, &t));
  assert_int_equal(t, 784111777);
  assert_true(iotc__http_date_parse("Thu, 29 Feb 2024 23:59:59 GMT\r\n", 31, &t));
  assert_int_equal(t, 1709251199);
  assert_false(iotc__http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", 30, &t));
  assert_false(iotc__http_date_parse("Sun, 06 Xyz 1994 08:49:37 GMT", 29, &t));
  assert_false(iotc__http_date_parse("Sun, 06 Nov 1994 25:49:37 GMT", 29, &t));
  assert_false(iotc__http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC", 29, &t));
  assert_false(iotc__http_date_parse(NULL, 0, &t));
}

static void a_clock_before_the_build_date_is_called_wrong(void **s) {
  (void)s;
  char out[200];
  int64_t build = iotc__build_time();
  assert_true(build > 1700000000); /* compiled after November 2023 */
  assert_true(build <= (int64_t)time(NULL));
  assert_false(iotc__clock_judge_build(build, build, out, sizeof out));
  assert_true(iotc__clock_judge_build(0, build, out, sizeof out));
  assert_non_null(strstr(out, "the system clock is wrong (it says 1970-01-01, before this library"));
  assert_false(iotc__clock_check_system()); /* this machine's clock is fine */
}

static void a_skew_over_five_minutes_is_reported_either_way(void **s) {
  (void)s;
  char out[200];
  assert_false(iotc__clock_judge_skew(1000300, 1000000, out, sizeof out));
  assert_false(iotc__clock_judge_skew(1000000, 1000300, out, sizeof out));
  assert_true(iotc__clock_judge_skew(1000301, 1000000, out, sizeof out));
  assert_string_equal(out, "the system clock is wrong (301 s ahead of the Date of DPS's answer)");
  assert_true(iotc__clock_judge_skew(1000000, 1003600, out, sizeof out));
  assert_string_equal(out, "the system clock is wrong (3600 s behind the Date of DPS's answer)");
}

static void a_server_date_an_hour_off_leaves_a_note_until_a_good_one(void **s) {
  (void)s;
  char note[200];
  assert_true(iotc__clock_check_server((int64_t)time(NULL) - 3600));
  iotc__clock_note(note, sizeof note);
  assert_non_null(strstr(note, "s ahead of the Date"));
  char hint[256];
  iotc__auth_refusal_hint(NULL, hint, sizeof hint);
  assert_non_null(strstr(hint, "likely an expired token or clock skew: the system clock is wrong"));
  assert_false(iotc__clock_check_server((int64_t)time(NULL)));
  iotc__clock_note(note, sizeof note);
  assert_string_equal(note, "");
}

static void a_refusal_says_expired_token_bad_credential_or_clock(void **s) {
  (void)s;
  char out[256];
  const char *clock = "the system clock is wrong (3600 s behind the Date of DPS's answer)";
  iotc__auth_hint(clock, "token expired", out, sizeof out);
  assert_string_equal(out, "; the token expired: the system clock is wrong (3600 s behind the "
                           "Date of DPS's answer)");
  iotc__auth_hint("", "SAS token has EXPIRED", out, sizeof out);
  assert_string_equal(out, "; the token expired");
  iotc__auth_hint(clock, NULL, out, sizeof out); /* a bare CONNACK 5 */
  assert_non_null(strstr(out, "; likely an expired token or clock skew: the system clock"));
  iotc__auth_hint(clock, "signature does not match", out, sizeof out);
  assert_non_null(strstr(out, "likely an expired token or clock skew"));
  iotc__auth_hint("", "signature does not match", out, sizeof out);
  assert_string_equal(out, "; the credential was refused (check the key, ID scope and device ID)");
  iotc__auth_hint(NULL, NULL, out, sizeof out);
  assert_string_equal(out, "");
}

/* A self-signed CA valid for `days` days, written to a temporary file (path in out). */
static void make_ca(int days, const char *cn, char *out, size_t size) {
  char dir[] = "/tmp/iotc-ca-XXXXXX";
  assert_non_null(mkdtemp(dir));
  snprintf(out, size, "%s/ca.pem", dir);
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
           "-keyout %s/ca.key -out %s -days %d -subj '/CN=%s' 2>/dev/null",
           dir, out, days, cn);
  assert_int_equal(system(cmd), 0);
}

static void remove_ca(const char *path) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf \"$(dirname '%s')\"", path);
  assert_int_equal(system(cmd), 0);
}

static void a_root_expiring_within_ninety_days_is_found(void **s) {
  (void)s;
  char short_ca[300], long_ca[300], what[256];
  make_ca(30, "Short-Lived Test Root", short_ca, sizeof short_ca);
  make_ca(3650, "Long-Lived Test Root", long_ca, sizeof long_ca);
  int64_t now = (int64_t)time(NULL);
  assert_int_equal(iotc__ca_expiring(short_ca, now, 90, what, sizeof what), 1);
  assert_non_null(strstr(what, "root \"Short-Lived Test Root\" expires on "));
  assert_int_equal(iotc__ca_warn_expiring(short_ca), 1);
  /* Thirty-one days on, it has expired. */
  assert_int_equal(iotc__ca_expiring(short_ca, now + 31 * 86400, 90, what, sizeof what), 1);
  assert_non_null(strstr(what, "expired on"));
  assert_int_equal(iotc__ca_expiring(long_ca, now, 90, what, sizeof what), 0);
  assert_string_equal(what, "");
  assert_int_equal(iotc__ca_warn_expiring(long_ca), 0);
  remove_ca(short_ca);
  remove_ca(long_ca);
  assert_int_equal(iotc__ca_expiring("/nonexistent/ca.pem", now, 90, what, sizeof what), -1);
}

static void the_shipped_azure_roots_warn_ninety_days_before_2038(void **s) {
  (void)s;
  char path[1024], what[256];
  snprintf(path, sizeof path, "%s", __FILE__);
  char *cut = strstr(path, "tests/unit/");
  assert_non_null(cut);
  snprintf(cut, sizeof path - (size_t)(cut - path), "cmake/azure-roots.pem");
  assert_int_equal(iotc__ca_expiring(path, (int64_t)time(NULL), 90, what, sizeof what), 0);
  /* DigiCert Global Root G2 and G3 end on 2038-01-15; Microsoft's 2017 root lasts to 2042. */
  int64_t late_2037 = iotc__utc_seconds(2037, 11, 1, 0, 0, 0);
  assert_int_equal(iotc__ca_expiring(path, late_2037, 90, what, sizeof what), 2);
  assert_non_null(strstr(what, "DigiCert Global Root G"));
  assert_non_null(strstr(what, "expires on 2038-01-15"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_openssl_error_line_is_shortened_to_its_reason),
      cmocka_unit_test(a_tls_note_keeps_the_first_reason_only),
      cmocka_unit_test(an_http_date_is_parsed_and_anything_else_refused),
      cmocka_unit_test(a_clock_before_the_build_date_is_called_wrong),
      cmocka_unit_test(a_skew_over_five_minutes_is_reported_either_way),
      cmocka_unit_test(a_server_date_an_hour_off_leaves_a_note_until_a_good_one),
      cmocka_unit_test(a_refusal_says_expired_token_bad_credential_or_clock),
      cmocka_unit_test(a_root_expiring_within_ninety_days_is_found),
      cmocka_unit_test(the_shipped_azure_roots_warn_ninety_days_before_2038),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
