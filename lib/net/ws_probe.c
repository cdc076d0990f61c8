/* SPDX-License-Identifier: MIT */
#include "net/ws_probe.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "net/tls_diag.h"
#include "net/http_line.h"

typedef struct upgrade_req {
  const char *host, *path;
  bool asked; /* TLS worked and the upgrade was sent */
} upgrade_req;

static bool upgrade(SSL *ssl, void *ctx, char *out, size_t size) {
  upgrade_req *r = ctx;
  r->asked = true;
  char req[1024];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: aW90Yy13cy1wcm9iZS0wMQ==\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Protocol: mqtt\r\n\r\n",
                   r->path, r->host);
  if (n < 0 || (size_t)n >= sizeof req || SSL_write(ssl, req, n) != n) return false;
  char resp[160];
  size_t got = 0;
  while (got < sizeof resp - 1 && memchr(resp, '\n', got) == NULL) {
    int k = SSL_read(ssl, resp + got, (int)(sizeof resp - 1 - got));
    if (k <= 0) break;
    got += (size_t)k;
  }
  char text[100];
  int code = iotc__http_status_line(resp, got, text, sizeof text);
  if (got == 0) {
    snprintf(out, size, "the server accepted TLS but did not answer the WebSocket upgrade");
  } else if (code == 0) {
    snprintf(out, size, "the server does not speak HTTP on this port (it answered \"%s\"): "
             "MQTT over WebSockets needs the service's port 443", text);
  } else if (code == 101) {
    return false; /* the upgrade works: not the problem */
  } else {
    snprintf(out, size, "the WebSocket upgrade was refused: %s", text);
  }
  return true;
}

bool iotc__ws_probe(const char *host, int port, const char *path, const char *ca_file,
                    const char *cert_file, const char *key_file, uint32_t timeout_ms, char *out,
                    size_t size) {
  upgrade_req r = {host, path, false};
  bool failed = iotc__tls_probe_then(host, port, ca_file, cert_file, key_file, timeout_ms, out,
                                     size, upgrade, &r);
  if (failed && !r.asked) out[0] = '\0'; /* TLS itself: iotc__tls_probe() says so */
  return failed && r.asked;
}
