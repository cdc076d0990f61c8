/* SPDX-License-Identifier: MIT */
/* A provisioning error: the one helper every DPS file fills an iotc_error with. Its own file so
 * that the handle and the JSON code, which both use it, do not call each other. */
#include <stdarg.h>
#include <stdio.h>

#include "common/text.h"
#include "dps/dps_internal.h"

iotc_result iotc__dps_fail(iotc_error *err, iotc_result result, int status, const char *fmt, ...) {
  if (err != NULL) {
    iotc_error_clear(err);
    err->result = result;
    err->status = status;
    /* Messages quote DPS's own words: keep them on one line whatever DPS sent. */
    char raw[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    iotc__escape_text(err->message, sizeof err->message, raw);
  }
  return result;
}
