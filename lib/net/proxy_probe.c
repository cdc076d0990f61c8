/* SPDX-License-Identifier: MIT */
#include "net/proxy_probe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "net/net_diag.h"
#include "common/secret.h"
#include "net/http_line.h"

static uint64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int hex(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                        : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* user:pass with its %XX escapes decoded, as Paho and libcurl send it; false when too long. */
static bool decode_userinfo(const char *p, size_t n, char *out, size_t size, size_t *len) {
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (j + 1 >= size) return false;
    if (p[i] == '%' && i + 2 < n && hex(p[i + 1]) >= 0 && hex(p[i + 2]) >= 0) {
      out[j++] = (char)(hex(p[i + 1]) * 16 + hex(p[i + 2]));
      i += 2;
    } else {
      out[j++] = p[i];
    }
  }
  *len = j;
  return true;
}

/* The parts of `https://[user:pass@]host:port`: host and port into @p host / @p port, the
 * Basic credentials (base64 of user:pass) into @p auth ("" without). */
static bool split(const char *url, char *host, size_t host_size, int *port, char *auth,
                  size_t auth_size) {
  const char *p = strstr(url, "://");
  p = p ? p + 3 : url;
  const char *at = strrchr(p, '@');
  auth[0] = '\0';
  if (at) {
    char userinfo[512];
    size_t len = 0;
    bool ok = decode_userinfo(p, (size_t)(at - p), userinfo, sizeof userinfo, &len) &&
              iotc__base64_encode((const unsigned char *)userinfo, len, auth, auth_size, NULL) ==
                  IOTC_OK;
    iotc__wipe(userinfo, sizeof userinfo);
    if (!ok) return false;
    p = at + 1;
  }
  const char *colon = strrchr(p, ':');
  if (colon == NULL || (size_t)(colon - p) >= host_size) return false;
  size_t n = (size_t)(colon - p);
  if (n >= 2 && p[0] == '[' && p[n - 1] == ']') { /* [v6] */
    memcpy(host, p + 1, n - 2);
    host[n - 2] = '\0';
  } else {
    memcpy(host, p, n);
    host[n] = '\0';
  }
  *port = atoi(colon + 1);
  return *port > 0 && *port <= 65535;
}

bool iotc__proxy_probe(const char *proxy_url, const char *host, int port, uint32_t timeout_ms,
                       char *out, size_t size) {
  if (proxy_url == NULL || proxy_url[0] == '\0' || out == NULL || size == 0) return false;
  out[0] = '\0';
  char phost[256], auth[700], req[1200];
  int pport = 0;
  bool failed = false;
  if (!split(proxy_url, phost, sizeof phost, &pport, auth, sizeof auth)) goto done;
  uint64_t until = mono_ms() + timeout_ms;
  char why[IOTC__NET_CAUSE_SIZE];
  int fd = iotc__tcp_connect(phost, pport, until, why, sizeof why);
  if (fd < 0) {
    snprintf(out, size, "the proxy %s:%d cannot be reached: %s", phost, pport, why);
    failed = true;
    goto done;
  }
  struct timeval tv = {(time_t)(timeout_ms / 1000u), (suseconds_t)(timeout_ms % 1000u) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  bool v6 = strchr(host, ':') != NULL;
  int n = snprintf(req, sizeof req, "CONNECT %s%s%s:%d HTTP/1.1\r\nHost: %s%s%s:%d\r\n%s%s%s\r\n",
                   v6 ? "[" : "", host, v6 ? "]" : "", port, v6 ? "[" : "", host, v6 ? "]" : "",
                   port, auth[0] ? "Proxy-Authorization: Basic " : "", auth, auth[0] ? "\r\n" : "");
  char resp[200];
  size_t got = 0;
  if (n > 0 && (size_t)n < sizeof req && send(fd, req, (size_t)n, MSG_NOSIGNAL) == n) {
    while (got < sizeof resp - 1 && memchr(resp, '\n', got) == NULL) {
      ssize_t k = recv(fd, resp + got, sizeof resp - 1 - got, 0);
      if (k <= 0) break;
      got += (size_t)k;
    }
  }
  close(fd);
  char text[100];
  int code = iotc__http_status_line(resp, got, text, sizeof text);
  if (got == 0) {
    snprintf(out, size, "the proxy %s:%d closed the connection without answering the CONNECT "
             "to %s:%d", phost, pport, host, port);
    failed = true;
  } else if (code / 100 == 2) {
    failed = false; /* the tunnel opens: the proxy is not the problem */
  } else {
    snprintf(out, size, "the proxy %s:%d refused the tunnel to %s:%d: %s%s", phost, pport, host,
             port, text,
             code == 407 ? " (check the user name and password in https_proxy)" : "");
    failed = true;
  }
done:
  iotc__wipe(auth, sizeof auth);
  iotc__wipe(req, sizeof req);
  return failed;
}
