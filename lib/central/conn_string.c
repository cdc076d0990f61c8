/* SPDX-License-Identifier: MIT */
/* Device connection string parsing. */
#include "central/conn_string.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/secret.h"

static char *dup_n(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

static bool key_is(const char *k, size_t kn, const char *name) {
  return strlen(name) == kn && memcmp(k, name, kn) == 0;
}

/* "host" or "host:port": labels of letters, digits and '-', a port of 1-65535. The host goes
 * into the MQTT user name, the SAS resource and the TLS name check, so nothing else may pass. */
static bool host_port_ok(const char *s) {
  size_t n = strcspn(s, ":");
  if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-' || s[n - 1] == '.') return false;
  size_t label = 0;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (ch == '.') {
      if (label == 0) return false;
      label = 0;
    } else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == '-') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  if (s[n] == '\0') return true;
  const char *p = s + n + 1;
  size_t digits = strspn(p, "0123456789");
  if (digits == 0 || digits > 5 || p[digits] != '\0') return false;
  long port = strtol(p, NULL, 10);
  return port >= 1 && port <= 65535;
}

iotc_result iotc__conn_string_parse(const char *text, iotc__conn_string *out, const char **why) {
  memset(out, 0, sizeof *out);
  if (text == NULL || *text == '\0') {
    *why = "the connection string is empty";
    return IOTC_ERR_INVALID_ARG;
  }
  const char *p = text;
  iotc_result r = IOTC_OK;
  while (*p && r == IOTC_OK) {
    const char *end = strchr(p, ';');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', n);
    if (n == 0) {
      p += end ? 1 : 0;
      continue;
    }
    if (eq == NULL || eq == p) {
      *why = "the connection string has a part without 'name='";
      r = IOTC_ERR_INVALID_ARG;
      break;
    }
    size_t kn = (size_t)(eq - p);
    const char *v = eq + 1;
    size_t vn = n - kn - 1;
    char **slot = NULL;
    if (key_is(p, kn, "HostName")) {
      slot = &out->host;
    } else if (key_is(p, kn, "DeviceId")) {
      slot = &out->device_id;
    } else if (key_is(p, kn, "SharedAccessKey")) {
      slot = &out->key;
    } else if (key_is(p, kn, "ModuleId")) {
      *why = "module connection strings are not supported";
      r = IOTC_ERR_INVALID_ARG;
    } else if (key_is(p, kn, "x509") || key_is(p, kn, "SharedAccessSignature")) {
      *why = "only SharedAccessKey connection strings are supported";
      r = IOTC_ERR_INVALID_ARG;
    }
    if (slot) {
      if (*slot != NULL || vn == 0) {
        *why = vn == 0 ? "the connection string has an empty value" :
                         "the connection string repeats a part";
        r = IOTC_ERR_INVALID_ARG;
      } else if ((*slot = dup_n(v, vn)) == NULL) {
        *why = "out of memory";
        r = IOTC_ERR_NO_MEMORY;
      }
    }
    p += n + (end ? 1 : 0);
  }
  if (r == IOTC_OK && (!out->host || !out->device_id || !out->key)) {
    *why = "the connection string needs HostName, DeviceId and SharedAccessKey";
    r = IOTC_ERR_INVALID_ARG;
  }
  if (r == IOTC_OK && !host_port_ok(out->host)) {
    *why = "HostName must be a host name (letters, digits, '-' and '.') with an optional "
           ":port (1-65535)";
    r = IOTC_ERR_INVALID_ARG;
  }
  if (r != IOTC_OK) iotc__conn_string_clear(out);
  return r;
}

void iotc__conn_string_clear(iotc__conn_string *cs) {
  free(cs->host);
  free(cs->device_id);
  iotc__secret_free(cs->key);
  memset(cs, 0, sizeof *cs);
}
