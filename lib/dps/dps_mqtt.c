/* SPDX-License-Identifier: MIT */
/* DPS over MQTT (Paho MQTTAsync). Paho's callbacks run on Paho's threads under its global lock:
 * they only copy what arrived into this state and signal the handle's condition variable. All
 * decisions, logging and Paho API calls happen on the thread running iotc_dps_run(), never while
 * holding the handle's lock. */
#include <MQTTAsync.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/secret.h"
#include "dps/dps_internal.h"
#include "iotc/dps_topic.h"
#include "net/clock_check.h"
#include "net/mqtt_options.h"
#include "net/net_diag.h"
#include "net/proxy_env.h"
#include "net/tls_diag.h"
#include "net/mqtt_uri.h"
#include "net/proxy_probe.h"
#include "net/ws_probe.h"

#define MAX_QUEUED 16
#define DISCONNECT_WAIT_MS 2000u
#define KEEPALIVE_S 60

typedef struct queued_msg {
  struct queued_msg *next;
  char *topic;
  size_t topic_len;
  char *payload; /* NUL-terminated copy; NULL when oversized */
  size_t payload_len;
} queued_msg;

enum { PENDING = 0, DONE_OK = 1, DONE_FAILED = -1 };

typedef struct mqtt_state {
  iotc_dps *dps;
  MQTTAsync client;
  bool created;
  /* Everything below is guarded by dps->lock. */
  int connect;
  int connect_code;
  char connect_text[128];
  int subscribe;
  int granted_qos;
  int unsubscribe;
  int disconnect;
  int publish_failed_code; /* 0: none */
  int lost;
  bool overflow;
  queued_msg *head;
  queued_msg *tail;
  int queued;
  char proxy[IOTC__PROXY_URL_SIZE]; /* explicit httpsProxy; "" connects directly */
  iotc__tls_note tls;               /* OpenSSL's reason (Paho's ssl_error_cb); own lock */
} mqtt_state;

/* ---- Paho callbacks: copy and signal, nothing else ------------------------------------------ */

static void signal_locked(mqtt_state *st) { pthread_cond_broadcast(&st->dps->cond); }

/* Set one state field and wake the waiting thread. */
static void finish(mqtt_state *st, int *field, int value) {
  pthread_mutex_lock(&st->dps->lock);
  *field = value;
  signal_locked(st);
  pthread_mutex_unlock(&st->dps->lock);
}

static void on_connect_ok(void *ctx, MQTTAsync_successData *data) {
  (void)data;
  mqtt_state *st = ctx;
  finish(st, &st->connect, DONE_OK);
}

static void on_connect_failed(void *ctx, MQTTAsync_failureData *data) {
  mqtt_state *st = ctx;
  pthread_mutex_lock(&st->dps->lock);
  st->connect = DONE_FAILED;
  st->connect_code = data ? data->code : MQTTASYNC_FAILURE;
  snprintf(st->connect_text, sizeof st->connect_text, "%s",
           data && data->message ? data->message : "");
  signal_locked(st);
  pthread_mutex_unlock(&st->dps->lock);
}

static void on_subscribe_ok(void *ctx, MQTTAsync_successData *data) {
  mqtt_state *st = ctx;
  pthread_mutex_lock(&st->dps->lock);
  st->granted_qos = data ? data->alt.qos : 0;
  st->subscribe = DONE_OK;
  signal_locked(st);
  pthread_mutex_unlock(&st->dps->lock);
}

static void on_subscribe_failed(void *ctx, MQTTAsync_failureData *data) {
  (void)data;
  mqtt_state *st = ctx;
  finish(st, &st->subscribe, DONE_FAILED);
}

static void on_publish_failed(void *ctx, MQTTAsync_failureData *data) {
  mqtt_state *st = ctx;
  pthread_mutex_lock(&st->dps->lock);
  st->publish_failed_code = data && data->code != 0 ? data->code : MQTTASYNC_FAILURE;
  signal_locked(st);
  pthread_mutex_unlock(&st->dps->lock);
}

static void on_unsubscribe_done(void *ctx, MQTTAsync_successData *data) {
  (void)data;
  mqtt_state *st = ctx;
  finish(st, &st->unsubscribe, DONE_OK);
}

static void on_unsubscribe_failed(void *ctx, MQTTAsync_failureData *data) {
  (void)data;
  mqtt_state *st = ctx;
  finish(st, &st->unsubscribe, DONE_FAILED);
}

static void on_disconnect_ok(void *ctx, MQTTAsync_successData *data) {
  (void)data;
  mqtt_state *st = ctx;
  finish(st, &st->disconnect, DONE_OK);
}

static void on_disconnect_failed(void *ctx, MQTTAsync_failureData *data) {
  (void)data;
  mqtt_state *st = ctx;
  finish(st, &st->disconnect, DONE_FAILED);
}

static void on_lost(void *ctx, char *cause) {
  (void)cause;
  mqtt_state *st = ctx;
  finish(st, &st->lost, 1);
}

static void free_msg(queued_msg *m) {
  if (m != NULL) {
    free(m->topic);
    free(m->payload);
    free(m);
  }
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m) {
  mqtt_state *st = ctx;
  /* Paho gives topicLen 0 when the topic is NUL-terminated without embedded NULs. */
  size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
  size_t plen = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;
  queued_msg *q = calloc(1, sizeof *q);
  if (q != NULL) {
    q->topic = malloc(tlen + 1);
    if (plen <= IOTC__DPS_MAX_RESPONSE) {
      q->payload = malloc(plen + 1);
    }
    if (q->topic == NULL || (plen <= IOTC__DPS_MAX_RESPONSE && q->payload == NULL)) {
      free_msg(q);
      q = NULL;
    } else {
      memcpy(q->topic, topic, tlen);
      q->topic[tlen] = '\0';
      q->topic_len = tlen;
      if (q->payload != NULL) {
        if (plen > 0) {
          memcpy(q->payload, m->payload, plen);
        }
        q->payload[plen] = '\0';
      }
      q->payload_len = plen;
    }
  }
  pthread_mutex_lock(&st->dps->lock);
  if (q == NULL || st->queued >= MAX_QUEUED) {
    st->overflow = true; /* reported to the waiting thread rather than dropped silently */
    free_msg(q);
  } else {
    if (st->tail) {
      st->tail->next = q;
    } else {
      st->head = q;
    }
    st->tail = q;
    ++st->queued;
  }
  signal_locked(st);
  pthread_mutex_unlock(&st->dps->lock);
  MQTTAsync_freeMessage(&m);
  MQTTAsync_free(topic);
  return 1;
}

/* ---- the application thread --------------------------------------------------------------- */

/* Wait until *field leaves PENDING, the deadline passes or the handle is cancelled. */
static iotc_result wait_field(mqtt_state *st, const int *field, uint64_t until) {
  iotc_dps *dps = st->dps;
  struct timespec abs = iotc__dps_abstime(until);
  iotc_result r = IOTC_OK;
  pthread_mutex_lock(&dps->lock);
  while (*field == PENDING && !dps->cancelled && iotc__dps_now_ms() < until) {
    pthread_cond_timedwait(&dps->cond, &dps->lock, &abs);
  }
  if (*field == PENDING) {
    r = dps->cancelled ? IOTC_ERR_CANCELLED : IOTC_ERR_TIMEOUT;
  }
  pthread_mutex_unlock(&dps->lock);
  return r;
}

static uint64_t request_deadline(const iotc_dps *dps, uint64_t deadline) {
  uint64_t t = iotc__dps_now_ms() + dps->request_timeout_ms;
  return t < deadline ? t : deadline;
}

static iotc_result waited_out(iotc_result r, const char *what, iotc_error *err) {
  if (r == IOTC_ERR_CANCELLED) {
    return iotc__dps_fail(err, r, 0, "provisioning was cancelled");
  }
  return iotc__dps_fail(err, r, 0, "DPS did not answer the %s in time", what);
}

static iotc_result connect_failure(mqtt_state *st, iotc_error *err) {
  pthread_mutex_lock(&st->dps->lock);
  int code = st->connect_code;
  char text[sizeof st->connect_text];
  memcpy(text, st->connect_text, sizeof text);
  pthread_mutex_unlock(&st->dps->lock);
  const iotc_dps *dps = st->dps;
  char tls[IOTC_ERROR_MESSAGE_SIZE];
  tls[0] = '\0';
  /* Paho says -1 whether the name did not resolve, the port was refused or TLS failed: find out
   * which (directly only: through a proxy, the proxy is what answered). */
  char cause[IOTC__NET_CAUSE_SIZE];
  cause[0] = '\0';
  if ((code < 1 || code > 5) && st->proxy[0] != '\0' &&
      iotc__proxy_probe(st->proxy, dps->host, dps->port, dps->request_timeout_ms, cause,
                        sizeof cause)) {
    /* the proxy refused the tunnel: cause says how */
  } else if ((code < 1 || code > 5) && st->proxy[0] == '\0' &&
      !iotc__connect_cause(dps->host, dps->port, dps->request_timeout_ms, cause, sizeof cause) &&
      (dps->transport != IOTC_DPS_TRANSPORT_MQTT_WS ||
       !iotc__ws_probe(dps->host, dps->port, IOTC__WS_PATH, dps->ca_file, dps->cert_file,
                       dps->key_file, dps->request_timeout_ms, cause, sizeof cause))) {
    cause[0] = '\0';
  }
  if ((code < 1 || code > 5) && cause[0] == '\0') {
    char note[IOTC__TLS_NOTE_SIZE];
    char probe[IOTC__TLS_NOTE_SIZE + 96];
    iotc__tls_note_get(&st->tls, note, sizeof note);
    /* Through a proxy the diagnostic handshake cannot reach DPS the same way: note only. */
    bool probed = st->proxy[0] == '\0' &&
                  iotc__tls_probe(dps->host, dps->port, dps->ca_file, dps->cert_file,
                                  dps->key_file, dps->request_timeout_ms, probe, sizeof probe);
    snprintf(tls, sizeof tls, "%.150s%s%.90s", probed ? probe : "", probed && note[0] ? "; OpenSSL: " : "",
             note);
  }
  iotc_result r;
  if (code == 4 || code == 5) {
    /* A bare CONNACK cannot say which part of the identity DPS refused: name what to check,
     * and that HTTPS provisioning answers precisely. */
    char hint[IOTC_ERROR_MESSAGE_SIZE];
    iotc__auth_refusal_hint(NULL, hint, sizeof hint);
    const char *credential = dps->credential == IOTC_DPS_CREDENTIAL_X509
                                 ? "the certificate (CN = device ID, enrolled CA)"
                             : dps->credential == IOTC_DPS_CREDENTIAL_GROUP_KEY ? "the group key"
                                                                                 : "the key";
    r = iotc__dps_fail(err, IOTC_ERR_UNAUTHORIZED, 401,
                       "DPS refused the device over MQTT (not authorized)%.100s: check the ID "
                       "scope, the device ID and %s; MQTT does not say which is wrong, "
                       "provisioning over HTTPS does",
                       hint, credential);
  } else if (code >= 1 && code <= 3) {
    static const char *const why[] = {"", "protocol version not accepted",
                                      "client identifier rejected", "service unavailable"};
    r = iotc__dps_fail(err, IOTC_ERR_SERVICE, 0, "DPS refused the MQTT connection: %s",
                       why[code]);
  } else if (tls[0] != '\0') {
    r = iotc__dps_fail(err, IOTC_ERR_TLS, 0, "TLS with %s:%d failed: %.180s", dps->host, dps->port,
                       tls);
  } else {
    const char *why = cause[0]       ? cause
                      : st->proxy[0] ? "the proxy did not connect"
                                     : "the connection closed during the TLS or MQTT handshake";
    r = iotc__dps_fail(err, IOTC_ERR_CONNECT, 0, "cannot connect to %s:%d over %s: %s",
                       dps->host, dps->port,
                       dps->transport == IOTC_DPS_TRANSPORT_MQTT_WS ? "MQTT over WebSockets"
                                                                     : "MQTT/TLS",
                       why);
  }
  if (err != NULL) {
    if (code >= 1 && code <= 5) {
      err->service_code = code;
    }
    if (code >= 1 && code <= 5) {
      snprintf(err->transport, sizeof err->transport, "MQTT CONNACK return code %d", code);
    } else {
      snprintf(err->transport, sizeof err->transport, "paho %d: %.60s%s%.180s", code,
               text[0] ? text : "connect failed", tls[0] ? "; " : "", tls);
    }
  }
  return r;
}

static iotc_result mqtt_connect(mqtt_state *st, const char *username, const char *password,
                                uint64_t deadline, iotc_error *err) {
  iotc_dps *dps = st->dps;
  uint64_t until = request_deadline(dps, deadline);
  uint64_t now = iotc__dps_now_ms();
  iotc__mqtt_endpoint ep = {username, password, dps->ca_file, dps->cert_file, dps->key_file,
                            st->proxy, &st->tls, KEEPALIVE_S,
                            (int)((until > now ? until - now : 0) / 1000u) + 1};
  MQTTAsync_SSLOptions ssl;
  MQTTAsync_connectOptions co;
  iotc__mqtt_connect_options(&ep, &ssl, &co);
  co.onSuccess = on_connect_ok;
  co.onFailure = on_connect_failed;
  co.context = st;
  int rc = MQTTAsync_connect(st->client, &co);
  if (rc != MQTTASYNC_SUCCESS) {
    iotc_result r = iotc__dps_fail(err, IOTC_ERR_TRANSPORT, 0, "cannot start the MQTT connect");
    if (err) {
      snprintf(err->transport, sizeof err->transport, "paho %d: %s", rc, MQTTAsync_strerror(rc));
    }
    return r;
  }
  iotc_result r = wait_field(st, &st->connect, until);
  if (r == IOTC_ERR_TIMEOUT) {
    unsigned long waited = (unsigned long)(iotc__dps_now_ms() - now);
    /* Through a proxy, a tunnel that never opened is named by the proxy's answer. */
    char cause[IOTC__NET_CAUSE_SIZE];
    bool proxy_said = st->proxy[0] != '\0' &&
                      iotc__proxy_probe(st->proxy, dps->host, dps->port, dps->request_timeout_ms,
                                        cause, sizeof cause);
    if (!proxy_said) snprintf(cause, sizeof cause, "timed out after %lu ms", waited);
    r = iotc__dps_fail(err, r, 0, "cannot connect to %s:%d over %s: %s", dps->host, dps->port,
                       dps->transport == IOTC_DPS_TRANSPORT_MQTT_WS ? "MQTT over WebSockets"
                                                                     : "MQTT/TLS",
                       cause);
    if (err) {
      snprintf(err->transport, sizeof err->transport,
               "no answer to the TCP, TLS and MQTT connect within %lu ms", waited);
    }
    return r;
  }
  if (r != IOTC_OK) {
    return waited_out(r, "connect", err);
  }
  pthread_mutex_lock(&dps->lock);
  int state = st->connect;
  pthread_mutex_unlock(&dps->lock);
  return state == DONE_OK ? IOTC_OK : connect_failure(st, err);
}

static iotc_result mqtt_subscribe(mqtt_state *st, uint64_t deadline, iotc_error *err) {
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  ro.onSuccess = on_subscribe_ok;
  ro.onFailure = on_subscribe_failed;
  ro.context = st;
  int rc = MQTTAsync_subscribe(st->client, IOTC_DPS_TOPIC_RESPONSE_FILTER, 1, &ro);
  if (rc != MQTTASYNC_SUCCESS) {
    iotc_result r = iotc__dps_fail(err, IOTC_ERR_TRANSPORT, 0, "cannot subscribe");
    if (err) {
      snprintf(err->transport, sizeof err->transport, "paho %d: %s", rc, MQTTAsync_strerror(rc));
    }
    return r;
  }
  iotc_result r = wait_field(st, &st->subscribe, request_deadline(st->dps, deadline));
  if (r != IOTC_OK) {
    return waited_out(r, "subscription", err);
  }
  pthread_mutex_lock(&st->dps->lock);
  bool ok = st->subscribe == DONE_OK && st->granted_qos != 0x80;
  pthread_mutex_unlock(&st->dps->lock);
  return ok ? IOTC_OK
            : iotc__dps_fail(err, IOTC_ERR_PROTOCOL, 0,
                             "DPS refused the subscription to " IOTC_DPS_TOPIC_RESPONSE_FILTER);
}

static iotc_result mqtt_open(iotc_dps *dps, void **state, uint64_t deadline, iotc_error *err) {
  char proxy[IOTC__PROXY_URL_SIZE];
  const char *why = "";
  iotc__proxy_env env = iotc__proxy_env_get();
  iotc_result pr = iotc__mqtt_proxy(dps->host, &env, proxy, sizeof proxy, &why);
  if (pr != IOTC_OK) {
    return iotc__dps_fail(err, pr == IOTC_ERR_BUFFER_TOO_SMALL ? IOTC_ERR_INVALID_ARG : pr, 0,
                          "%s", why);
  }
  mqtt_state *st = calloc(1, sizeof *st);
  if (st == NULL) {
    return iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "out of memory");
  }
  st->dps = dps;
  iotc__tls_note_init(&st->tls);
  memcpy(st->proxy, proxy, sizeof proxy);
  iotc__wipe(proxy, sizeof proxy); /* may hold the proxy's user:password */
  *state = st;

  char username[256];
  iotc_result r = iotc_dps_topic_username(dps->id_scope, dps->registration_id, username,
                                          sizeof username, NULL);
  if (r != IOTC_OK) {
    return iotc__dps_fail(err, r, 0, "cannot build the MQTT user name");
  }
  char uri[IOTC_DPS_HUB_SIZE + 64];
  if (iotc__mqtt_uri(dps->host, dps->port, dps->transport == IOTC_DPS_TRANSPORT_MQTT_WS, false, uri,
                     sizeof uri) != IOTC_OK) {
    return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0, "the DPS host name is too long");
  }
  MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
  cro.MQTTVersion = MQTTVERSION_3_1_1;
  int rc = MQTTAsync_createWithOptions(&st->client, uri, dps->registration_id,
                                       MQTTCLIENT_PERSISTENCE_NONE, NULL, &cro);
  if (rc == MQTTASYNC_SUCCESS) {
    st->created = true;
    rc = MQTTAsync_setCallbacks(st->client, st, on_lost, on_message, NULL);
  }
  if (rc != MQTTASYNC_SUCCESS) {
    r = iotc__dps_fail(err, IOTC_ERR_TRANSPORT, 0, "cannot create the MQTT client");
    if (err) {
      snprintf(err->transport, sizeof err->transport, "paho %d: %s", rc, MQTTAsync_strerror(rc));
    }
    return r;
  }
  char *password = NULL;
  if (dps->credential != IOTC_DPS_CREDENTIAL_X509) {
    r = iotc__dps_sas(dps, &password, err);
    if (r != IOTC_OK) {
      return r;
    }
  }
  r = mqtt_connect(st, username, password, deadline, err);
  iotc__secret_free(password);
  if (r == IOTC_OK) {
    r = mqtt_subscribe(st, deadline, err);
  }
  return r;
}

/* Take the next message off the queue (or NULL); reports loss and overflow through *why. */
static queued_msg *next_message(mqtt_state *st, const char **why) {
  queued_msg *m = st->head;
  if (m != NULL) {
    st->head = m->next;
    if (st->head == NULL) {
      st->tail = NULL;
    }
    --st->queued;
  } else if (st->overflow) {
    *why = "too many unexpected messages from DPS";
  } else if (st->publish_failed_code != 0) {
    *why = "the request could not be sent";
  } else if (st->lost) {
    *why = "DPS closed the connection";
  }
  return m;
}

/* A response for our rid: fill the reply. IOTC_ERR_NO_MATCH means "not ours, keep waiting". */
static iotc_result take_response(queued_msg *m, const char *rid, iotc__dps_reply *reply,
                                 iotc_error *err) {
  iotc_dps_topic_response resp;
  iotc_result r = iotc_dps_topic_parse_response(m->topic, m->topic_len, &resp);
  if (r == IOTC_ERR_NO_MATCH) {
    return r;
  }
  if (r != IOTC_OK) {
    return iotc__dps_fail(err, IOTC_ERR_PROTOCOL, 0, "DPS sent a malformed response topic");
  }
  if (resp.rid_len != strlen(rid) || memcmp(resp.rid, rid, resp.rid_len) != 0) {
    return IOTC_ERR_NO_MATCH; /* an answer to an earlier request */
  }
  if (m->payload == NULL) {
    return iotc__dps_fail(err, IOTC_ERR_PROTOCOL, resp.status,
                          "DPS sent a response larger than %d bytes", IOTC__DPS_MAX_RESPONSE);
  }
  reply->status = resp.status;
  reply->has_retry_after = resp.has_retry_after;
  reply->retry_after_s = resp.retry_after_s;
  reply->body = m->payload;
  reply->body_len = m->payload_len;
  m->payload = NULL;
  return IOTC_OK;
}

static iotc_result mqtt_request(iotc_dps *dps, void *state, const char *operation_id,
                                uint64_t deadline, iotc__dps_reply *reply, iotc_error *err) {
  mqtt_state *st = state;
  char rid[16];
  snprintf(rid, sizeof rid, "%u", ++dps->rid_counter);
  char topic[512];
  iotc_result r = operation_id
                      ? iotc_dps_topic_operation_status(rid, operation_id, topic, sizeof topic, NULL)
                      : iotc_dps_topic_register(rid, topic, sizeof topic, NULL);
  if (r != IOTC_OK) {
    return iotc__dps_fail(err, IOTC_ERR_PROTOCOL, 0, "cannot build the request topic");
  }
  const char *body = operation_id ? "" : dps->request_body;
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  ro.onFailure = on_publish_failed;
  ro.context = st;
  int rc = MQTTAsync_send(st->client, topic, (int)strlen(body), body, 1, 0, &ro);
  if (rc != MQTTASYNC_SUCCESS) {
    r = iotc__dps_fail(err, IOTC_ERR_TRANSPORT, 0, "cannot send the DPS request");
    if (err) {
      snprintf(err->transport, sizeof err->transport, "paho %d: %s", rc, MQTTAsync_strerror(rc));
    }
    return r;
  }
  uint64_t until = request_deadline(dps, deadline);
  struct timespec abs = iotc__dps_abstime(until);
  for (;;) {
    const char *why = NULL;
    pthread_mutex_lock(&dps->lock);
    queued_msg *m = NULL;
    while (!dps->cancelled && (m = next_message(st, &why)) == NULL && why == NULL &&
           iotc__dps_now_ms() < until) {
      pthread_cond_timedwait(&dps->cond, &dps->lock, &abs);
    }
    bool cancelled = dps->cancelled;
    pthread_mutex_unlock(&dps->lock);
    if (m != NULL) {
      r = take_response(m, rid, reply, err);
      free_msg(m);
      if (r == IOTC_ERR_NO_MATCH) {
        continue;
      }
      return r;
    }
    if (cancelled) {
      return iotc__dps_fail(err, IOTC_ERR_CANCELLED, 0, "provisioning was cancelled");
    }
    if (why != NULL) {
      return iotc__dps_fail(err, IOTC_ERR_CONNECT, 0, "%s", why);
    }
    return waited_out(IOTC_ERR_TIMEOUT, operation_id ? "status query" : "registration", err);
  }
}

/* Waits (not cancellable, bounded) until *field leaves PENDING. */
static void wait_closing(mqtt_state *st, int *field) {
  struct timespec abs = iotc__dps_abstime(iotc__dps_now_ms() + DISCONNECT_WAIT_MS);
  pthread_mutex_lock(&st->dps->lock);
  while (*field == PENDING && pthread_cond_timedwait(&st->dps->cond, &st->dps->lock, &abs) == 0) {
  }
  pthread_mutex_unlock(&st->dps->lock);
}

/* A connection kept open for the hub's (dps_keep_open.h): Paho's receive thread waits up to 1 s
 * on this socket alone and closing it does not wake it, so the hub's socket would wait as long.
 * The UNSUBACK wakes it; it then watches the hub's socket too. */
static void wake_receiver(mqtt_state *st) {
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  ro.onSuccess = on_unsubscribe_done;
  ro.onFailure = on_unsubscribe_failed;
  ro.context = st;
  if (MQTTAsync_unsubscribe(st->client, IOTC_DPS_TOPIC_RESPONSE_FILTER, &ro) == MQTTASYNC_SUCCESS) {
    wait_closing(st, &st->unsubscribe);
  }
}

static void mqtt_close(iotc_dps *dps, void *state) {
  mqtt_state *st = state;
  if (st == NULL) {
    return;
  }
  if (st->created) {
    pthread_mutex_lock(&dps->lock);
    bool connected = st->connect == DONE_OK && !st->lost;
    pthread_mutex_unlock(&dps->lock);
    if (connected && dps->keep_open) wake_receiver(st);
    if (connected) {
      MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
      d.timeout = 0;
      d.onSuccess = on_disconnect_ok;
      d.onFailure = on_disconnect_failed;
      d.context = st;
      /* Not cancellable: a bounded wait so the DISCONNECT reaches the server. */
      if (MQTTAsync_disconnect(st->client, &d) == MQTTASYNC_SUCCESS) wait_closing(st, &st->disconnect);
    }
    IOTC_LOGD("dps: MQTT disconnected");
    MQTTAsync_destroy(&st->client);
    IOTC_LOGD("dps: MQTT client destroyed");
  }
  while (st->head != NULL) {
    queued_msg *m = st->head;
    st->head = m->next;
    free_msg(m);
  }
  iotc__tls_note_destroy(&st->tls);
  iotc__wipe(st->proxy, sizeof st->proxy);
  free(st);
}

const iotc__dps_transport *iotc__dps_mqtt_transport(void) {
  static const iotc__dps_transport t = {.open = mqtt_open, .request = mqtt_request, .close = mqtt_close};
  return &t;
}
