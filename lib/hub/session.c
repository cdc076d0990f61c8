/* SPDX-License-Identifier: MIT */
/* IoT Hub MQTT connection over Paho MQTTAsync. */
#include "hub/session.h"

#include <MQTTAsync.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iotc/hub_topic.h"
#include "net/mqtt_options.h"
#include "net/net_diag.h"
#include "net/proxy_env.h"
#include "net/tls_diag.h"

#define SUB_TOPICS 4

/* One SUBSCRIBE (one topic): the context of its answer. */
typedef struct sub_req {
  struct iotc__session *s;
  int qos;
} sub_req;

struct iotc__session {
  MQTTAsync mqtt;
  sub_req subs[SUB_TOPICS];
  atomic_int subs_left;      /* SUBSCRIBEs not answered yet */
  atomic_bool subs_reported; /* sink->subscribed was called */
  iotc__session_sink sink;
  uint32_t gen;
  char *username;
  char *ca_file;
  char *cert_file;
  char *key_file;
  uint16_t keepalive_s;
  uint32_t connect_timeout_ms;
  uint16_t max_inflight;
  char proxy[IOTC__PROXY_URL_SIZE]; /* explicit httpsProxy for Paho; "" connects directly */
  char host[IOTC__SESSION_HOST_SIZE];
  int port;
  iotc__tls_note tls; /* OpenSSL's reason for a failed connect (Paho's ssl_error_cb) */
};

static char *dup_or_null(const char *s, bool *failed) {
  if (s == NULL) return NULL;
  char *p = strdup(s);
  if (p == NULL) *failed = true;
  return p;
}

/* ---- Paho callbacks: hand off only ---------------------------------------------------- */

static void on_connect_ok(void *ctx, MQTTAsync_successData *d) {
  (void)d;
  iotc__session *s = ctx;
  s->sink.connected(s->sink.ctx, s->gen);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *d) {
  iotc__session *s = ctx;
  s->sink.connect_failed(s->sink.ctx, s->gen, d ? d->code : -1,
                         d && d->message ? d->message : "connect failed");
}

static void sub_answered(iotc__session *s, int result) {
  if (result == IOTC__SUB_OK && atomic_fetch_sub(&s->subs_left, 1) != 1) return;
  if (atomic_exchange(&s->subs_reported, true)) return; /* the first failure was reported */
  s->sink.subscribed(s->sink.ctx, s->gen, result);
}

static void on_sub_ok(void *ctx, MQTTAsync_successData *d) {
  sub_req *r = ctx;
  /* Each SUBSCRIBE carries one topic because Paho gives no code count with MQTT 3.1.1: a SUBACK
   * with exactly one code puts it in alt.qos, one with more puts a pointer in the same union
   * (alt.qosList), whose low bits are never a QoS from 0 to the one asked for on the
   * little-endian targets iotc runs on. A SUBACK without codes never gets here: Paho drops the
   * connection. Any other answer does not match the request: a protocol error. */
  int granted = d ? d->alt.qos : -1;
  sub_answered(r->s, granted >= 0 && granted <= r->qos ? IOTC__SUB_OK : IOTC__SUB_MALFORMED);
}

static void on_sub_fail(void *ctx, MQTTAsync_failureData *d) {
  (void)d;
  sub_req *r = ctx;
  sub_answered(r->s, IOTC__SUB_REFUSED);
}

static void on_lost(void *ctx, char *cause) {
  (void)cause;
  iotc__session *s = ctx;
  s->sink.lost(s->sink.ctx, s->gen);
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m) {
  iotc__session *s = ctx;
  size_t len = topic_len > 0 ? (size_t)topic_len : strlen(topic); /* Paho's topicLen quirk */
  s->sink.message(s->sink.ctx, s->gen, topic, len, m->payload, (size_t)m->payloadlen);
  MQTTAsync_freeMessage(&m);
  MQTTAsync_free(topic);
  return 1;
}

static void on_disc_ok(void *ctx, MQTTAsync_successData *d) {
  (void)d;
  iotc__session *s = ctx;
  s->sink.disconnected(s->sink.ctx, s->gen);
}

static void on_disc_fail(void *ctx, MQTTAsync_failureData *d) {
  (void)d;
  iotc__session *s = ctx;
  s->sink.disconnected(s->sink.ctx, s->gen);
}

static void on_pub_ok(void *ctx, MQTTAsync_successData *d) {
  (void)d;
  iotc__session_op *op = ctx;
  op->done(op, 0);
}

static void on_pub_fail(void *ctx, MQTTAsync_failureData *d) {
  iotc__session_op *op = ctx;
  op->done(op, d && d->code ? d->code : IOTC__SESSION_RC_INCOMPLETE);
}

/* ---- API ------------------------------------------------------------------------------- */

iotc_result iotc__session_create(const iotc__session_config *cfg, const iotc__session_sink *sink,
                                 iotc__session **out, const char **why) {
  *out = NULL;
  iotc__session *s = calloc(1, sizeof *s);
  if (s == NULL) {
    *why = "out of memory";
    return IOTC_ERR_NO_MEMORY;
  }
  bool failed = false;
  s->sink = *sink;
  s->gen = cfg->gen;
  iotc__tls_note_init(&s->tls);
  s->username = dup_or_null(cfg->username, &failed);
  s->ca_file = dup_or_null(cfg->ca_file, &failed);
  s->cert_file = dup_or_null(cfg->cert_file, &failed);
  s->key_file = dup_or_null(cfg->key_file, &failed);
  s->keepalive_s = cfg->keepalive_s;
  s->connect_timeout_ms = cfg->connect_timeout_ms;
  s->max_inflight = cfg->max_inflight;
  char uri[300];
  int n = strchr(cfg->hub, ':') ? snprintf(uri, sizeof uri, "ssl://%s", cfg->hub)
                                 : snprintf(uri, sizeof uri, "ssl://%s:8883", cfg->hub);
  const char *colon = strchr(cfg->hub, ':');
  size_t host_len = colon ? (size_t)(colon - cfg->hub) : strlen(cfg->hub);
  s->port = colon ? atoi(colon + 1) : 8883;
  if (host_len < sizeof s->host) snprintf(s->host, sizeof s->host, "%.*s", (int)host_len, cfg->hub);
  if (failed || n < 0 || (size_t)n >= sizeof uri || host_len >= sizeof s->host) {
    *why = failed ? "out of memory" : "hub name too long";
    iotc__session_destroy(s);
    return failed ? IOTC_ERR_NO_MEMORY : IOTC_ERR_INVALID_ARG;
  }
  iotc__proxy_env env = iotc__proxy_env_get();
  iotc_result pr = iotc__mqtt_proxy(cfg->hub, &env, s->proxy, sizeof s->proxy, why);
  if (pr != IOTC_OK) {
    iotc__session_destroy(s);
    return pr == IOTC_ERR_BUFFER_TOO_SMALL ? IOTC_ERR_INVALID_ARG : pr;
  }
  MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
  co.MQTTVersion = MQTTVERSION_3_1_1;
  co.sendWhileDisconnected = 0;
  co.maxBufferedMessages = (int)cfg->max_inflight + 64;
  int rc = MQTTAsync_createWithOptions(&s->mqtt, uri, cfg->device_id, MQTTCLIENT_PERSISTENCE_NONE,
                                       NULL, &co);
  if (rc != MQTTASYNC_SUCCESS) {
    s->mqtt = NULL;
    *why = "the MQTT client could not be created";
    iotc__session_destroy(s);
    return IOTC_ERR_TRANSPORT;
  }
  if (MQTTAsync_setCallbacks(s->mqtt, s, on_lost, on_message, NULL) != MQTTASYNC_SUCCESS) {
    *why = "the MQTT callbacks could not be set";
    iotc__session_destroy(s);
    return IOTC_ERR_TRANSPORT;
  }
  *out = s;
  return IOTC_OK;
}

iotc_result iotc__session_connect(iotc__session *s, const char *password) {
  iotc__tls_note_clear(&s->tls);
  iotc__mqtt_endpoint ep = {s->username, password, s->ca_file, s->cert_file, s->key_file,
                            s->proxy, &s->tls, s->keepalive_s,
                            (int)((s->connect_timeout_ms + 999) / 1000)};
  MQTTAsync_SSLOptions ssl;
  MQTTAsync_connectOptions o;
  iotc__mqtt_connect_options(&ep, &ssl, &o);
  o.maxInflight = s->max_inflight + 8; /* room for twin and method traffic */
  o.onSuccess = on_connect_ok;
  o.onFailure = on_connect_fail;
  o.context = s;
  int rc = MQTTAsync_connect(s->mqtt, &o);
  return rc == MQTTASYNC_SUCCESS ? IOTC_OK : IOTC_ERR_TRANSPORT;
}

iotc_result iotc__session_subscribe(iotc__session *s, const char *device_id) {
  char c2d[IOTC_HUB_DEVICE_ID_MAX + 64];
  if (iotc_hub_topic_c2d_subscribe(device_id, c2d, sizeof c2d, NULL) != IOTC_OK) {
    return IOTC_ERR_INVALID_ARG;
  }
  const char *topics[SUB_TOPICS] = {IOTC_HUB_TOPIC_METHODS_SUBSCRIBE,
                                    IOTC_HUB_TOPIC_TWIN_RESPONSE_SUBSCRIBE,
                                    IOTC_HUB_TOPIC_TWIN_DESIRED_SUBSCRIBE, c2d};
  const int qos[SUB_TOPICS] = {0, 0, 0, 1};
  atomic_store(&s->subs_left, SUB_TOPICS);
  atomic_store(&s->subs_reported, false);
  for (int i = 0; i < SUB_TOPICS; i++) {
    s->subs[i] = (sub_req){s, qos[i]};
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.onSuccess = on_sub_ok;
    ro.onFailure = on_sub_fail;
    ro.context = &s->subs[i];
    if (MQTTAsync_subscribe(s->mqtt, topics[i], qos[i], &ro) != MQTTASYNC_SUCCESS) {
      return IOTC_ERR_NOT_CONNECTED;
    }
  }
  return IOTC_OK;
}

iotc_result iotc__session_publish(iotc__session *s, const char *topic, const void *payload,
                                  size_t payload_len, int qos, iotc__session_op *op) {
  MQTTAsync_message m = MQTTAsync_message_initializer;
  m.payload = (void *)payload;
  m.payloadlen = (int)payload_len;
  m.qos = qos;
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  if (op) {
    ro.onSuccess = on_pub_ok;
    ro.onFailure = on_pub_fail;
    ro.context = op;
  }
  int rc = MQTTAsync_sendMessage(s->mqtt, topic, &m, &ro);
  if (rc != MQTTASYNC_SUCCESS) {
    return rc == MQTTASYNC_DISCONNECTED ? IOTC_ERR_NOT_CONNECTED : IOTC_ERR_TRANSPORT;
  }
  return IOTC_OK;
}

iotc_result iotc__session_disconnect(iotc__session *s, uint32_t timeout_ms) {
  MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
  d.timeout = (int)timeout_ms;
  d.onSuccess = on_disc_ok;
  d.onFailure = on_disc_fail;
  d.context = s;
  return MQTTAsync_disconnect(s->mqtt, &d) == MQTTASYNC_SUCCESS ? IOTC_OK : IOTC_ERR_NOT_CONNECTED;
}

bool iotc__session_tls_failure(iotc__session *s, char *out, size_t size) {
  char note[IOTC__TLS_NOTE_SIZE];
  iotc__tls_note_get(&s->tls, note, sizeof note);
  char probe[IOTC__TLS_NOTE_SIZE + 96];
  /* Through a proxy the diagnostic handshake cannot reach the hub the same way: note only. */
  bool probed = s->proxy[0] == '\0' &&
                iotc__tls_probe(s->host, s->port, s->ca_file, s->cert_file, s->key_file,
                                s->connect_timeout_ms, probe, sizeof probe);
  if (!probed && note[0] == '\0') return false;
  snprintf(out, size, "%.150s%s%.90s", probed ? probe : "", probed && note[0] ? "; OpenSSL: " : "",
           note);
  return true;
}

bool iotc__session_connect_cause(iotc__session *s, char *out, size_t size) {
  return s->proxy[0] == '\0' &&
         iotc__connect_cause(s->host, s->port, s->connect_timeout_ms, out, size);
}

void iotc__session_destroy(iotc__session *s) {
  if (s == NULL) return;
  if (s->mqtt) MQTTAsync_destroy(&s->mqtt);
  iotc__tls_note_destroy(&s->tls);
  free(s->username);
  free(s->ca_file);
  free(s->cert_file);
  free(s->key_file);
  free(s);
}
