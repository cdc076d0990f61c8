/* SPDX-License-Identifier: MIT */
/* The client's one-pass JSON checker, and the reported-property builders fed what it accepts.
 * On printable ASCII without \u escapes (where the checker deliberately does less: UTF-8 and
 * surrogate validation) it must agree with jansson. */
#include <jansson.h>
#include <stdbool.h>

#include "central/payloads.h"
#include "common/json.h"
#include "fuzz.h"

static bool plain_ascii(const uint8_t *d, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if ((d[i] < 0x20 && d[i] != ' ' && d[i] != '\t' && d[i] != '\n' && d[i] != '\r') ||
        d[i] > 0x7E || (d[i] == '\\' && i + 1 < n && d[i + 1] == 'u')) {
      return false;
    }
  }
  return true;
}

static void compare_with_jansson(const uint8_t *data, size_t size, const char *why) {
  json_error_t jerr;
  json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
  if (j == NULL && (strstr(jerr.text, "too big") || strstr(jerr.text, "overflow") ||
                    strstr(jerr.text, "too deep"))) {
    return; /* limits of jansson's, not JSON's */
  }
  FUZZ_ASSERT((why == NULL) == (j != NULL));
  json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char kind = 0;
  const char *why = iotc__json_check((const char *)data, size, &kind);
  if (plain_ascii(data, size) && (why == NULL || strcmp(why, "nested too deeply") != 0)) {
    compare_with_jansson(data, size, why);
  }
  if (why != NULL || memchr(data, '\0', size) != NULL) return 0;
  /* Accepted: whatever the builders make of it must pass the checker again. */
  char *text = fuzz_strdup(data, size);
  size_t n = 0;
  char *out = kind == '{' ? iotc__json_reported_many("comp", text, &n)
                          : iotc__json_reported_one("comp", "name", text, &n);
  FUZZ_ASSERT(out != NULL && strlen(out) == n);
  FUZZ_ASSERT(iotc__json_check(out, n, NULL) == NULL);
  free(out);
  out = iotc__json_ack(NULL, "name", text, 200, 7, "done", &n);
  FUZZ_ASSERT(out != NULL && iotc__json_check(out, n, NULL) == NULL);
  free(out);
  free(text);
  return 0;
}
