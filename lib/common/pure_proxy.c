/* SPDX-License-Identifier: MIT */
/* The MQTT proxy decision (see proxy.h): pure, no allocation, no I/O. */
#include <string.h>

#include "common/proxy.h"

#define DEFAULT_PROXY_PORT "1080" /* libcurl's default for http:// proxies */

typedef struct span {
  const char *p;
  size_t n;
} span;

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static bool same_ci(span a, span b) {
  if (a.n != b.n) return false;
  for (size_t i = 0; i < a.n; i++) {
    if (lower(a.p[i]) != lower(b.p[i])) return false;
  }
  return true;
}

static bool starts_ci(const char *s, const char *prefix) {
  for (; *prefix; s++, prefix++) {
    if (lower(*s) != *prefix) return false;
  }
  return true;
}

/* The host part of `host`, `host:port`, `[v6]` or `[v6]:port`; a bare IPv6 address (several
 * colons, no brackets) stays whole. */
static span host_only(span h) {
  if (h.n > 0 && h.p[0] == '[') {
    const char *end = memchr(h.p, ']', h.n);
    return end ? (span){h.p + 1, (size_t)(end - h.p - 1)} : h;
  }
  const char *colon = memchr(h.p, ':', h.n);
  if (colon && memchr(colon + 1, ':', h.n - (size_t)(colon + 1 - h.p)) == NULL) {
    return (span){h.p, (size_t)(colon - h.p)};
  }
  return h;
}

static bool is_space(char c) { return c == ' ' || c == '\t'; }

bool iotc__no_proxy_match(const char *host, const char *list) {
  if (host == NULL || list == NULL) return false;
  span h = host_only((span){host, strlen(host)});
  while (h.n > 0 && h.p[h.n - 1] == '.') h.n--; /* "example.com." is example.com */
  if (h.n == 0) return false;
  const char *p = list;
  while (*p) {
    const char *end = strchr(p, ',');
    span e = {p, end ? (size_t)(end - p) : strlen(p)};
    p = end ? end + 1 : p + e.n;
    while (e.n && is_space(e.p[0])) e.p++, e.n--;
    while (e.n && is_space(e.p[e.n - 1])) e.n--;
    if (e.n == 1 && e.p[0] == '*') return true;
    e = host_only(e);
    while (e.n && e.p[0] == '.') e.p++, e.n--; /* ".example.com" means example.com and below */
    while (e.n && e.p[e.n - 1] == '.') e.n--;
    if (e.n == 0) continue;
    if (same_ci(h, e)) return true;
    if (h.n > e.n && h.p[h.n - e.n - 1] == '.' && same_ci((span){h.p + h.n - e.n, e.n}, e)) {
      return true;
    }
  }
  return false;
}

static bool set(const char *s) { return s != NULL && *s != '\0'; }

static bool valid_port(span port) {
  if (port.n == 0 || port.n > 5) return false;
  unsigned v = 0;
  for (size_t i = 0; i < port.n; i++) {
    if (port.p[i] < '0' || port.p[i] > '9') return false;
    v = v * 10u + (unsigned)(port.p[i] - '0');
  }
  return v >= 1 && v <= 65535;
}

/* Appends @p s to the output when it fits; counts the length either way. */
typedef struct out {
  char *buf;
  size_t size, len;
} out;

static void put(out *o, span s) {
  if (o->len + s.n < o->size) memcpy(o->buf + o->len, s.p, s.n);
  o->len += s.n;
}

static void put_str(out *o, const char *s) { put(o, (span){s, strlen(s)}); }

/* `[scheme://][user:pass@]host[:port][/]` -> `https://[user:pass@]host:port`. */
static iotc_result rewrite(const char *value, char *url, size_t url_size, const char **why) {
  const char *p = value;
  if (starts_ci(p, "http://")) {
    p += 7;
  } else if (starts_ci(p, "https://")) {
    p += 8;
  } else if (strstr(p, "://") != NULL) {
    *why = "the https_proxy scheme is not supported for MQTT: only an HTTP CONNECT proxy "
           "(http:// or https://) can carry it";
    return IOTC_ERR_NOT_SUPPORTED;
  }
  size_t n = strcspn(p, "/?#");
  span auth = {p, n};
  if (p[n] != '\0' && !(p[n] == '/' && p[n + 1] == '\0')) {
    *why = "the https_proxy value has a path or query: give scheme://host:port";
    return IOTC_ERR_INVALID_ARG;
  }
  const char *at = NULL;
  for (size_t i = 0; i < auth.n; i++) {
    if (auth.p[i] == '@') {
      if (at) {
        *why = "the https_proxy user name or password holds '@': write it as %40";
        return IOTC_ERR_INVALID_ARG;
      }
      at = auth.p + i;
    }
  }
  span user = {auth.p, at ? (size_t)(at - auth.p) : 0};
  span hp = at ? (span){at + 1, auth.n - user.n - 1} : auth;
  span host = host_only(hp);
  span port = {NULL, 0};
  const char *host_end = host.p + host.n + (host.p != hp.p ? 1 : 0); /* past ']' */
  if (host_end < hp.p + hp.n) {
    if (*host_end != ':') {
      *why = "the https_proxy host is not host:port";
      return IOTC_ERR_INVALID_ARG;
    }
    port = (span){host_end + 1, (size_t)(hp.p + hp.n - host_end - 1)};
    if (!valid_port(port)) {
      *why = "the https_proxy port is not a number from 1 to 65535";
      return IOTC_ERR_INVALID_ARG;
    }
  }
  bool bracketed = host.p != hp.p; /* host_only() found [v6] */
  if (host.n == 0 || memchr(host.p, ' ', host.n) != NULL || (at && user.n == 0) ||
      (!bracketed && strcspn(host.p, ":[]") < host.n)) {
    *why = "the https_proxy value has no usable host (an IPv6 address goes in brackets)";
    return IOTC_ERR_INVALID_ARG;
  }
  out o = {url, url_size, 0};
  put_str(&o, "https://");
  if (at) {
    put(&o, user);
    put_str(&o, "@");
  }
  put(&o, (span){hp.p, (size_t)(host_end - hp.p)});
  put_str(&o, ":");
  if (port.n) {
    put(&o, port);
  } else {
    put_str(&o, DEFAULT_PROXY_PORT);
  }
  if (o.len >= url_size) {
    *why = "the https_proxy value is too long";
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  url[o.len] = '\0';
  return IOTC_OK;
}

iotc_result iotc__mqtt_proxy(const char *host, const iotc__proxy_env *env, char *url,
                             size_t url_size, const char **why) {
  static const char *unused;
  if (why == NULL) why = &unused;
  *why = "";
  if (host == NULL || env == NULL || url == NULL || url_size == 0) {
    *why = "missing argument";
    return IOTC_ERR_INVALID_ARG;
  }
  url[0] = '\0';
  bool paho_reads = env->https_proxy != NULL; /* Paho uses it unless we pass our own */
  const char *value = set(env->https_proxy) ? env->https_proxy : env->https_proxy_upper;
  const char *no_proxy = env->no_proxy ? env->no_proxy : env->no_proxy_upper;
  if (!set(value)) {
    if (!paho_reads) return IOTC_OK;
    *why = "https_proxy is set but empty: the MQTT library (Paho 1.3.12) would use it as an "
           "empty proxy address; unset it for this process";
    return IOTC_ERR_NOT_SUPPORTED;
  }
  if (iotc__no_proxy_match(host, no_proxy)) {
    if (!paho_reads) return IOTC_OK; /* only HTTPS_PROXY, which Paho ignores: direct */
    *why = "no_proxy excludes this host, but the MQTT library (Paho 1.3.12) reads https_proxy "
           "itself and cannot be told to connect directly; unset https_proxy for this process "
           "(HTTPS_PROXY with no_proxy works) or take the host out of no_proxy";
    return IOTC_ERR_NOT_SUPPORTED;
  }
  return rewrite(value, url, url_size, why);
}
