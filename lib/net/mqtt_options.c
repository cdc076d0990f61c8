/* SPDX-License-Identifier: MIT */
#include "net/mqtt_options.h"

void iotc__mqtt_connect_options(const iotc__mqtt_endpoint *ep, MQTTAsync_SSLOptions *ssl,
                                MQTTAsync_connectOptions *o) {
  MQTTAsync_SSLOptions s = MQTTAsync_SSLOptions_initializer;
  s.trustStore = ep->ca_file;
  s.keyStore = ep->cert_file;
  s.privateKey = ep->key_file;
  s.enableServerCertAuth = 1;
  s.verify = 1; /* the host-name check */
  s.ssl_error_cb = iotc__tls_note_cb;
  s.ssl_error_context = ep->tls;
  *ssl = s;

  MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer;
  c.MQTTVersion = MQTTVERSION_3_1_1;
  c.cleansession = 1;
  c.keepAliveInterval = ep->keepalive_s;
  c.connectTimeout = ep->connect_timeout_s;
  c.retryInterval = 0;
  c.automaticReconnect = 0;
  c.username = ep->username;
  c.password = ep->password;
  c.ssl = ssl;
  c.httpsProxy = ep->proxy && ep->proxy[0] ? ep->proxy : NULL; /* overrides Paho's env reading */
  *o = c;
}
