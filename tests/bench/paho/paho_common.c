/* SPDX-License-Identifier: MIT */
#include "paho_common.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

void paho_url_encode(const char *in, char *out, size_t size) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)in; *p && n + 4 < size; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '_' || *p == '.' || *p == '~') {
      out[n++] = (char)*p;
    } else {
      out[n++] = '%';
      out[n++] = hex[*p >> 4];
      out[n++] = hex[*p & 15];
    }
  }
  out[n] = '\0';
}

void paho_sas_token(const char *key_b64, const char *resource, const char *skn, long ttl_s,
                    char *out, size_t size) {
  unsigned char key[128];
  size_t key_b64_len = strlen(key_b64);
  if (key_b64_len == 0 || key_b64_len % 4 || key_b64_len / 4 * 3 > sizeof key)
    bench_fail("device key is not base64");
  int key_len = EVP_DecodeBlock(key, (const unsigned char *)key_b64, (int)key_b64_len);
  if (key_len < 0) bench_fail("device key is not base64");
  for (size_t i = key_b64_len; i > 0 && key_b64[i - 1] == '='; i--) key_len--;

  char sr[512], to_sign[600];
  paho_url_encode(resource, sr, sizeof sr);
  long se = (long)time(NULL) + ttl_s;
  int sign_len = snprintf(to_sign, sizeof to_sign, "%s\n%ld", sr, se);

  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!HMAC(EVP_sha256(), key, key_len, (const unsigned char *)to_sign, (size_t)sign_len, mac,
            &mac_len))
    bench_fail("HMAC failed");
  char sig_b64[64], sig[128];
  EVP_EncodeBlock((unsigned char *)sig_b64, mac, (int)mac_len);
  paho_url_encode(sig_b64, sig, sizeof sig);
  OPENSSL_cleanse(key, sizeof key);
  if (skn)
    snprintf(out, size, "SharedAccessSignature sr=%s&sig=%s&se=%ld&skn=%s", sr, sig, se, skn);
  else
    snprintf(out, size, "SharedAccessSignature sr=%s&sig=%s&se=%ld", sr, sig, se);
}

static void paho_on_connect_ok(void *ctx, MQTTAsync_successData *data) {
  (void)data;
  paho_conn *c = ctx;
  pthread_mutex_lock(&c->lock);
  c->done = 1;
  c->rc = 0;
  pthread_cond_signal(&c->cond);
  pthread_mutex_unlock(&c->lock);
}

static void paho_on_connect_fail(void *ctx, MQTTAsync_failureData *data) {
  paho_conn *c = ctx;
  pthread_mutex_lock(&c->lock);
  c->done = 1;
  c->rc = data && data->code ? data->code : -1;
  pthread_cond_signal(&c->cond);
  pthread_mutex_unlock(&c->lock);
}

void paho_conn_create(paho_conn *c, const char *host_port, const char *client_id) {
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->cond, NULL);
  char uri[300];
  snprintf(uri, sizeof uri, "ssl://%s", host_port);
  MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
  co.MQTTVersion = MQTTVERSION_3_1_1;
  int rc = MQTTAsync_createWithOptions(&c->handle, uri, client_id, MQTTCLIENT_PERSISTENCE_NONE,
                                       NULL, &co);
  if (rc != MQTTASYNC_SUCCESS) bench_fail("MQTTAsync_create: %d", rc);
}

void paho_connect_options(MQTTAsync_connectOptions *o, MQTTAsync_SSLOptions *ssl, const char *user,
                          const char *password, const char *ca_file, int max_inflight) {
  MQTTAsync_SSLOptions s = MQTTAsync_SSLOptions_initializer;
  s.trustStore = ca_file;
  s.enableServerCertAuth = 1;
  s.verify = 1; /* host name check: the initializer leaves it off */
  *ssl = s;
  MQTTAsync_connectOptions c = MQTTAsync_connectOptions_initializer;
  c.MQTTVersion = MQTTVERSION_3_1_1;
  c.cleansession = 1;
  c.keepAliveInterval = 60;
  c.connectTimeout = 30;
  c.maxInflight = max_inflight;
  c.username = user;
  c.password = password;
  c.ssl = ssl;
  *o = c;
}

void paho_telemetry_topic(const char *device_id, char *out, size_t size) {
  snprintf(out, size, "devices/%s/messages/events/%%24.ct=application%%2Fjson&%%24.ce=utf-8",
           device_id);
}

int paho_send_telemetry(MQTTAsync handle, const char *topic, unsigned seq,
                        MQTTAsync_onSuccess *on_success, MQTTAsync_onFailure *on_failure,
                        void *context) {
  char payload[BENCH_PAYLOAD_SIZE + 1];
  bench_payload(payload, seq);
  MQTTAsync_message m = MQTTAsync_message_initializer;
  m.payload = payload;
  m.payloadlen = BENCH_PAYLOAD_SIZE;
  m.qos = 1;
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  ro.onSuccess = on_success;
  ro.onFailure = on_failure;
  ro.context = context;
  return MQTTAsync_sendMessage(handle, topic, &m, &ro);
}

int paho_conn_connect(paho_conn *c, const char *user, const char *password, const char *ca_file,
                      int max_inflight) {
  MQTTAsync_SSLOptions ssl;
  MQTTAsync_connectOptions o;
  paho_connect_options(&o, &ssl, user, password, ca_file, max_inflight);
  o.onSuccess = paho_on_connect_ok;
  o.onFailure = paho_on_connect_fail;
  o.context = c;
  c->done = 0;
  int rc = MQTTAsync_connect(c->handle, &o);
  if (rc != MQTTASYNC_SUCCESS) return rc;
  pthread_mutex_lock(&c->lock);
  while (!c->done) pthread_cond_wait(&c->cond, &c->lock);
  rc = c->rc;
  pthread_mutex_unlock(&c->lock);
  return rc;
}

void paho_conn_close(paho_conn *c) {
  if (!c->handle) return;
  MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
  d.timeout = 1000;
  if (MQTTAsync_disconnect(c->handle, &d) == MQTTASYNC_SUCCESS) {
    /* Paho has no completion wait for disconnect without callbacks; give it the time it needs. */
    for (int i = 0; i < 100 && MQTTAsync_isConnected(c->handle); i++) bench_sleep(0.01);
  }
  MQTTAsync_destroy(&c->handle);
  pthread_cond_destroy(&c->cond);
  pthread_mutex_destroy(&c->lock);
}
