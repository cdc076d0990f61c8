/* SPDX-License-Identifier: MIT */
/* The MQTT connect settings shared by the IoT Hub and DPS transports: TLS always verifies the
 * server certificate and its host name (Paho's initializer does not), MQTT 3.1.1 only, clean
 * session, iotc's own reconnects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/mqtt_options.h"

static iotc__tls_note note;

static void test_tls_verifies_certificate_and_host_name(void **state) {
  (void)state;
  iotc__mqtt_endpoint ep = {"u", "p", "/ca.pem", NULL, NULL, "", &note, 60, 30};
  MQTTAsync_SSLOptions ssl;
  MQTTAsync_connectOptions o;
  iotc__mqtt_connect_options(&ep, &ssl, &o);
  assert_ptr_equal(o.ssl, &ssl);
  assert_int_equal(ssl.enableServerCertAuth, 1);
  assert_int_equal(ssl.verify, 1);
  assert_string_equal(ssl.trustStore, "/ca.pem");
  assert_null(ssl.keyStore);
  assert_ptr_equal(ssl.ssl_error_context, &note);
  assert_non_null(ssl.ssl_error_cb);
  /* The initializer alone would leave the host-name check off: the reason this helper exists. */
  MQTTAsync_SSLOptions plain = MQTTAsync_SSLOptions_initializer;
  assert_int_equal(plain.verify, 0);
}

static void test_connect_is_mqtt_311_clean_session_without_paho_reconnects(void **state) {
  (void)state;
  iotc__mqtt_endpoint ep = {"scope/registrations/d/api-version=2019-03-31", NULL, "/ca.pem",
                            "/c.pem", "/k.pem", "", &note, 240, 7};
  MQTTAsync_SSLOptions ssl;
  MQTTAsync_connectOptions o;
  iotc__mqtt_connect_options(&ep, &ssl, &o);
  assert_int_equal(o.MQTTVersion, MQTTVERSION_3_1_1);
  assert_int_equal(o.cleansession, 1);
  assert_int_equal(o.automaticReconnect, 0);
  assert_int_equal(o.retryInterval, 0);
  assert_int_equal(o.keepAliveInterval, 240);
  assert_int_equal(o.connectTimeout, 7);
  assert_null(o.password); /* X.509: no password */
  assert_string_equal(ssl.keyStore, "/c.pem");
  assert_string_equal(ssl.privateKey, "/k.pem");
}

static void test_proxy_is_explicit_or_absent(void **state) {
  (void)state;
  iotc__mqtt_endpoint ep = {"u", "p", "/ca.pem", NULL, NULL, "", &note, 60, 30};
  MQTTAsync_SSLOptions ssl;
  MQTTAsync_connectOptions o;
  iotc__mqtt_connect_options(&ep, &ssl, &o);
  assert_null(o.httpsProxy);
  ep.proxy = "https://proxy.example:3128";
  iotc__mqtt_connect_options(&ep, &ssl, &o);
  assert_string_equal(o.httpsProxy, "https://proxy.example:3128");
}

int main(void) {
  iotc__tls_note_init(&note);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tls_verifies_certificate_and_host_name),
      cmocka_unit_test(test_connect_is_mqtt_311_clean_session_without_paho_reconnects),
      cmocka_unit_test(test_proxy_is_explicit_or_absent),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  iotc__tls_note_destroy(&note);
  return rc;
}
