/* SPDX-License-Identifier: MIT */
/* The transport helpers: MQTT server URIs over TLS and WebSockets, the HTTP status line the
 * diagnostic probes read, and the transport remembered in the cache file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "central/cache.h"
#include "iotc/client.h"
#include "net/http_line.h"
#include "net/mqtt_uri.h"

static void uris_for_each_transport(void **s) {
  (void)s;
  char uri[128];
  assert_int_equal(iotc__mqtt_uri("hub.example.net", 8883, false, true, uri, sizeof uri), IOTC_OK);
  assert_string_equal(uri, "ssl://hub.example.net:8883");
  assert_int_equal(iotc__mqtt_uri("hub.example.net", 443, true, true, uri, sizeof uri), IOTC_OK);
  assert_string_equal(uri, "wss://hub.example.net:443/$iothub/websocket?iothub-no-client-cert=true");
  assert_int_equal(iotc__mqtt_uri("hub.example.net", 443, true, false, uri, sizeof uri), IOTC_OK);
  assert_string_equal(uri, "wss://hub.example.net:443/$iothub/websocket");
  assert_int_equal(iotc__mqtt_uri("::1", 8443, true, false, uri, sizeof uri), IOTC_OK);
  assert_string_equal(uri, "wss://[::1]:8443/$iothub/websocket");
  assert_int_equal(iotc__mqtt_uri("h", 0, false, false, uri, sizeof uri), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__mqtt_uri("h", 65536, false, false, uri, sizeof uri), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc__mqtt_uri("hub.example.net", 443, true, true, uri, 20),
                   IOTC_ERR_BUFFER_TOO_SMALL);
}

static void status_lines(void **s) {
  (void)s;
  char text[100];
  const char *ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
  assert_int_equal(iotc__http_status_line(ok, strlen(ok), text, sizeof text), 101);
  assert_string_equal(text, "HTTP/1.1 101 Switching Protocols");
  const char *refused = "HTTP/1.0 407 Proxy Authentication Required\r\n";
  assert_int_equal(iotc__http_status_line(refused, strlen(refused), text, sizeof text), 407);
  const char *mqtt = "\x20\x02\x00\x00"; /* a CONNACK: not HTTP */
  assert_int_equal(iotc__http_status_line(mqtt, 4, text, sizeof text), 0);
  assert_string_equal(text, " ...");
  assert_int_equal(iotc__http_status_line("HTTP/1.1 9x9 no", 15, text, sizeof text), 0);
  assert_int_equal(iotc__http_status_line("HTTP/1.1 200", 10, text, sizeof text), 0); /* short */
  char small[4];
  assert_int_equal(iotc__http_status_line(ok, strlen(ok), small, sizeof small), 101);
  assert_string_equal(small, "HTT");
}

static void the_cache_file_remembers_the_transport(void **s) {
  (void)s;
  char path[] = "/tmp/iotc-cache-transport-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  char hub[64], dev[64];
  int t = 0;
  assert_int_equal(iotc__cache_write(path, "scope", "dev", "hub.example.net", "dev",
                                     IOTC_TRANSPORT_MQTT_WS), IOTC_OK);
  assert_int_equal(iotc__cache_read(path, "scope", "dev", hub, sizeof hub, dev, sizeof dev, &t),
                   IOTC_OK);
  assert_int_equal(t, IOTC_TRANSPORT_MQTT_WS);
  assert_int_equal(iotc__cache_write(path, "scope", "dev", "hub.example.net", "dev", -1), IOTC_OK);
  assert_int_equal(iotc__cache_read(path, "scope", "dev", hub, sizeof hub, dev, sizeof dev, &t),
                   IOTC_OK);
  assert_int_equal(t, -1);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("{\"idScope\":\"scope\",\"registrationId\":\"dev\",\"hub\":\"h\",\"deviceId\":\"dev\","
        "\"transport\":\"carrier-pigeon\"}", f);
  fclose(f);
  assert_int_equal(iotc__cache_read(path, "scope", "dev", hub, sizeof hub, dev, sizeof dev, &t),
                   IOTC_OK);
  assert_int_equal(t, -1); /* unknown: ignored, the configured order applies */
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(uris_for_each_transport),
      cmocka_unit_test(status_lines),
      cmocka_unit_test(the_cache_file_remembers_the_transport),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
