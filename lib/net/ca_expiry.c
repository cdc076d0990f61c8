/* SPDX-License-Identifier: MIT */
/* Expiry of the configured trust anchors. */
#include "net/ca_expiry.h"

#include <stdio.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "net/clock_check.h"

/* "CN=..., expires 2025-05-12" (or "expired ...") for one certificate. */
static void describe(X509 *cert, const struct tm *end, int64_t now, int64_t end_s, char *out,
                     size_t size) {
  char cn[128] = "";
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) < 0) {
    X509_NAME_oneline(X509_get_subject_name(cert), cn, sizeof cn);
  }
  char day[16];
  strftime(day, sizeof day, "%Y-%m-%d", end);
  snprintf(out, size, "root \"%s\" %s %s", cn, end_s <= now ? "expired on" : "expires on", day);
}

int iotc__ca_expiring(const char *path, int64_t now, int days, char *out, size_t size) {
  if (size > 0) out[0] = '\0';
  FILE *f = path ? fopen(path, "r") : NULL;
  if (f == NULL) return -1;
  int count = 0;
  int64_t first = INT64_MAX;
  int64_t limit = now + (int64_t)days * 86400;
  X509 *cert;
  while ((cert = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
    struct tm end;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &end) == 1) {
      int64_t end_s = iotc__utc_seconds(end.tm_year + 1900, end.tm_mon + 1, end.tm_mday,
                                        end.tm_hour, end.tm_min, end.tm_sec);
      if (end_s < limit) {
        ++count;
        if (end_s < first) {
          first = end_s;
          describe(cert, &end, now, end_s, out, size);
        }
      }
    }
    X509_free(cert);
  }
  ERR_clear_error(); /* the end of the file leaves a "no start line" error behind */
  fclose(f);
  return count;
}

int iotc__ca_warn_expiring(const char *path) {
  char what[256];
  int n = iotc__ca_expiring(path, (int64_t)time(NULL), IOTC__CA_EXPIRY_WARN_DAYS, what, sizeof what);
  if (n > 0) {
    IOTC_LOGW("the CA file %s has %d root(s) expiring within %d days, first %s: replace the "
              "trust bundle before connections fail",
              path, n, IOTC__CA_EXPIRY_WARN_DAYS, what);
  }
  return n;
}
