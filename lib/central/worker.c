/* SPDX-License-Identifier: MIT */
/* The client's worker thread: connection life cycle, sending, and every user callback. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/ca_expiry.h"
#include "common/clock_check.h"
#include "central/backoff.h"
#include "central/cache.h"
#include "central/client_internal.h"
#include "central/json.h"
#include "central/model_client.h"
#include "central/stack_check.h"
#include "central/twin.h"
#include "common/log.h"
#include "common/net_diag.h"
#include "common/secret.h"
#include "iotc/hub_topic.h"
#include "iotc/sas.h"
#include "iotc/version.h"
#include "common/text.h"

#define NO_TIMER UINT64_MAX
#define TWIN_TRIES 3
#define REPORTED_RETRIES 5
#define REPORTED_ATTEMPTS 3 /* publishes of one reported PATCH left unanswered before it fails */
#define PENDING_CMD_MAX_AGE_MS (5u * 60u * 1000u)
#define RENEW_DRAIN_MS 5000u

/* ---- events ----------------------------------------------------------------------------- */

iotc__event *iotc__event_new(int type, const char *topic, size_t topic_len, const void *payload,
                             size_t payload_len) {
  iotc__event *ev = malloc(sizeof *ev + topic_len + 1 + payload_len + 1);
  if (ev == NULL) return NULL;
  memset(ev, 0, sizeof *ev);
  ev->type = type;
  ev->topic = ev->data;
  memcpy(ev->topic, topic, topic_len);
  ev->topic[topic_len] = '\0';
  ev->topic_len = topic_len;
  ev->payload = ev->data + topic_len + 1;
  if (payload_len) memcpy(ev->payload, payload, payload_len);
  ev->payload[payload_len] = '\0';
  ev->payload_len = payload_len;
  return ev;
}

void iotc__free_event(iotc__event *ev) { free(ev); }

void iotc__post_event(iotc_client *c, iotc__event *ev) {
  pthread_mutex_lock(&c->mu);
  if (c->ev_tail) {
    c->ev_tail->next = ev;
  } else {
    c->ev_head = ev;
  }
  c->ev_tail = ev;
  iotc__wake_locked(c);
  pthread_mutex_unlock(&c->mu);
}

/* ---- Paho sink: runs on Paho threads, only records and wakes ---------------------------- */

static void raise_flag(iotc_client *c, uint32_t gen, unsigned flag) {
  pthread_mutex_lock(&c->mu);
  if (gen == c->session_gen) {
    c->sflags |= flag;
    iotc__wake_locked(c);
  }
  pthread_mutex_unlock(&c->mu);
}

static void sink_connected(void *ctx, uint32_t gen) {
  iotc_client *c = ctx;
  pthread_mutex_lock(&c->mu);
  if (gen == c->session_gen) {
    atomic_store(&c->connack_seen, true); /* messages after the CONNACK are not early */
    c->sflags |= IOTC__SF_CONNECTED;
    iotc__wake_locked(c);
  }
  pthread_mutex_unlock(&c->mu);
}

static void sink_connect_failed(void *ctx, uint32_t gen, int code, const char *text) {
  iotc_client *c = ctx;
  pthread_mutex_lock(&c->mu);
  if (gen == c->session_gen) {
    c->fail_code = code;
    iotc__copy_text(c->fail_text, sizeof c->fail_text, text ? text : "");
    c->sflags |= IOTC__SF_CONNECT_FAILED;
    iotc__wake_locked(c);
  }
  pthread_mutex_unlock(&c->mu);
}

static void sink_subscribed(void *ctx, uint32_t gen, int result) {
  raise_flag(ctx, gen, result == IOTC__SUB_OK ? IOTC__SF_SUBSCRIBED :
                       result == IOTC__SUB_REFUSED ? IOTC__SF_SUB_FAILED : IOTC__SF_SUB_MALFORMED);
}

static void sink_lost(void *ctx, uint32_t gen) { raise_flag(ctx, gen, IOTC__SF_LOST); }

static void sink_disconnected(void *ctx, uint32_t gen) {
  raise_flag(ctx, gen, IOTC__SF_DISCONNECTED);
}

static size_t incoming_max(const char *topic, size_t topic_len) {
  if (topic_len >= 21 && memcmp(topic, "$iothub/methods/POST/", 21) == 0) return IOTC__IN_METHOD_MAX;
  if (topic_len >= 13 && memcmp(topic, "$iothub/twin/", 13) == 0) return IOTC__IN_TWIN_MAX;
  return IOTC__IN_C2D_MAX;
}

static void sink_message(void *ctx, uint32_t gen, const char *topic, size_t topic_len,
                         const void *payload, size_t payload_len) {
  /* Too large: keep only the topic; the worker refuses it (no logging on a Paho thread). */
  size_t oversize = payload_len > incoming_max(topic, topic_len) ? payload_len : 0;
  iotc__event *ev = iotc__event_new(IOTC__EV_MESSAGE, topic, topic_len, payload,
                                    oversize ? 0 : payload_len);
  if (ev == NULL) { /* counted here, logged by the worker (no logging on a Paho thread) */
    iotc_client *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->stats.dropped_no_memory++;
    c->inbound_dropped++;
    iotc__wake_locked(c);
    pthread_mutex_unlock(&c->mu);
    return;
  }
  ev->gen = gen;
  ev->oversize = oversize;
  ev->early = !atomic_load(&((iotc_client *)ctx)->connack_seen);
  iotc__post_event(ctx, ev);
}

/* ---- helpers ---------------------------------------------------------------------------- */

void iotc__count_dropped(iotc_client *c, uint64_t n) {
  pthread_mutex_lock(&c->mu);
  c->stats.dropped_no_memory += n;
  pthread_mutex_unlock(&c->mu);
}

void iotc__op_finish(iotc_client *c, iotc__op *op, iotc_result result) {
  if (result != IOTC_OK && op->kind == IOTC__OP_TELEMETRY) {
    pthread_mutex_lock(&c->mu);
    c->stats.telemetry_failed++;
    pthread_mutex_unlock(&c->mu);
  }
  if (op->on_done) op->on_done(c, result, op->user_context);
  free(op);
}

static void emit_status(iotc_client *c, iotc_connection_status status, iotc_result reason,
                        const char *message, uint32_t retry_in_ms) {
  pthread_mutex_lock(&c->mu);
  iotc_status_fn fn = c->status_fn;
  void *ctx = c->status_ctx;
  char hub[sizeof c->hub];
  memcpy(hub, c->hub, sizeof hub);
  pthread_mutex_unlock(&c->mu);
  IOTC_LOGI("status %s (%s): %s", iotc_status_str(status), iotc_strerror(reason), message);
  if (fn == NULL) return;
  iotc_status_info info = {status, reason, message, hub, c->attempt, retry_in_ms};
  atomic_store(&c->in_handler, true);
  fn(c, &info, ctx);
  atomic_store(&c->in_handler, false);
}

static void set_connected(iotc_client *c, bool connected) {
  pthread_mutex_lock(&c->mu);
  c->connected = connected;
  if (connected) c->stats.connects++;
  pthread_cond_broadcast(&c->state_cv);
  pthread_mutex_unlock(&c->mu);
}

static void next_rid(iotc_client *c, char prefix, char out[16]) {
  snprintf(out, 16, "%c%u", prefix, ++c->rid_counter);
}

static uint64_t liveness_tick(const iotc_client *c) {
  return c->liveness_ms >= 4 ? c->liveness_ms / 4 : 1;
}

static void publish_control(iotc_client *c, const char *topic, const char *payload, size_t len) {
  if (c->session == NULL) return;
  if (iotc__session_publish(c->session, topic, payload, len, 0, NULL) != IOTC_OK) {
    IOTC_LOGW("could not publish to %.80s: not connected", topic);
  }
}

/* ---- connection life cycle -------------------------------------------------------------- */

static void drop_deferred(iotc_client *c) {
  while (c->deferred) {
    iotc__event *ev = c->deferred;
    c->deferred = ev->next;
    iotc__free_event(ev);
  }
  c->deferred_tail = NULL;
}

static void handle_done(iotc_client *c, iotc__op *done);

static iotc__op *take_done(iotc_client *c) {
  pthread_mutex_lock(&c->mu);
  iotc__op *done = iotc__window_take_done_locked(c);
  pthread_mutex_unlock(&c->mu);
  return done;
}

void iotc__teardown_session(iotc_client *c) {
  iotc__window_close(c); /* before the session goes: no publish through it from now on */
  if (c->session) {
    iotc__session_destroy(c->session); /* abandoned publishes complete during this call */
    c->session = NULL;
  }
  handle_done(c, take_done(c));
  iotc__resp_completions(c); /* responses the drop interrupted go back in the queue */
  iotc__window_requeue(c);
  pthread_mutex_lock(&c->mu);
  c->session_gen++; /* late flags of the old session are ignored */
  c->sflags = 0;
  if (c->rep_inflight) {
    iotc__list_push_front(&c->rep_pending, c->rep_inflight);
    c->rep_inflight = NULL;
  }
  c->connected = false;
  pthread_cond_broadcast(&c->state_cv);
  pthread_mutex_unlock(&c->mu);
  c->twin_ready = false;
  c->twin_asked_ms = 0;
  c->twin_rid[0] = c->rep_rid[0] = '\0';
  c->t_twin = c->t_live = c->t_sas = c->t_connect = NO_TIMER;
  drop_deferred(c);
}

static void gave_up(iotc_client *c, iotc_result reason, const char *message) {
  iotc__teardown_session(c);
  pthread_mutex_lock(&c->mu);
  c->gave_up = true;
  c->last_error.result = reason;
  iotc__copy_text(c->last_error.message, sizeof c->last_error.message, message);
  pthread_cond_broadcast(&c->state_cv);
  pthread_mutex_unlock(&c->mu);
  c->wstate = IOTC__W_GAVE_UP;
  IOTC_LOGE("gave up: %s", message);
  emit_status(c, IOTC_STATUS_GAVE_UP, reason, message, 0);
}

static void record_error(iotc_client *c, iotc_result r, const char *message, const iotc_error *e) {
  pthread_mutex_lock(&c->mu);
  if (e) {
    c->last_error = *e;
  } else {
    iotc_error_clear(&c->last_error);
  }
  c->last_error.result = r;
  if (message) iotc__copy_text(c->last_error.message, sizeof c->last_error.message, message);
  pthread_mutex_unlock(&c->mu);
}

/* A failed provisioning or connect attempt: retry later, re-provision, or give up. */
static void attempt_failed(iotc_client *c, iotc_result r, bool permanent, bool hub_refused,
                           const char *message) {
  iotc__teardown_session(c);
  c->attempt++;
  if (hub_refused) {
    if (c->use_dps && !c->fresh_provision) {
      c->need_provision = true; /* the device may have moved to another hub */
      if (c->cache_file) iotc__cache_remove(c->cache_file);
    } else {
      permanent = true;
    }
  }
  if (!permanent && c->use_dps && c->reprovision_after &&
      c->attempt % c->reprovision_after == 0) {
    c->need_provision = true;
  }
  if (permanent || (c->give_up_after && c->attempt >= c->give_up_after)) {
    gave_up(c, r, message);
    return;
  }
  bool throttled = r == IOTC_ERR_THROTTLED;
  uint32_t delay = hub_refused ? 0 :
      iotc__backoff_ms(c->attempt - 1, c->reconnect_min_ms, c->reconnect_max_ms, throttled,
                       iotc__backoff_random());
  c->wstate = IOTC__W_WAIT_RETRY;
  c->t_retry = iotc__now_ms() + delay;
  emit_status(c, IOTC_STATUS_RECONNECTING, r, message, delay);
}

static bool dps_permanent(iotc_result r) {
  switch (r) {
    case IOTC_ERR_UNAUTHORIZED: case IOTC_ERR_NOT_FOUND: case IOTC_ERR_PROVISIONING_FAILED:
    case IOTC_ERR_PROVISIONING_DISABLED: case IOTC_ERR_INVALID_ARG: case IOTC_ERR_BAD_ENCODING:
    case IOTC_ERR_IO: case IOTC_ERR_NOT_SUPPORTED: case IOTC_ERR_TLS:
      return true;
    default:
      return false;
  }
}

static bool provision(iotc_client *c) {
  bool again = c->hub[0] != '\0';
  emit_status(c, again ? IOTC_STATUS_REPROVISIONING : IOTC_STATUS_PROVISIONING, IOTC_OK,
              again ? "asking DPS for the device's hub again" : "registering with DPS", 0);
  iotc_dps_config d;
  iotc__client_dps_config(c, &d);
  iotc_error err;
  iotc_error_clear(&err);
  iotc_dps *dps = NULL;
  iotc_result r = iotc_dps_create(&d, &dps, &err);
  if (r == IOTC_OK) {
    pthread_mutex_lock(&c->mu);
    /* A disconnect with messages queued keeps provisioning until its deadline (it cancels then). */
    bool stop = c->quit || (c->req_stop && (c->pending.count + c->rep_pending.count == 0 ||
                                            iotc__now_ms() >= c->stop_deadline));
    c->dps = dps;
    pthread_mutex_unlock(&c->mu);
    iotc_dps_registration reg;
    memset(&reg, 0, sizeof reg);
    r = stop ? IOTC_ERR_CANCELLED : iotc_dps_run(dps, &reg, &err);
    pthread_mutex_lock(&c->mu);
    c->dps = NULL;
    if (r == IOTC_OK) {
      iotc__copy_text(c->hub, sizeof c->hub, reg.assigned_hub);
      iotc__copy_text(c->device_id, sizeof c->device_id, reg.device_id);
      c->stats.provisionings++;
    }
    pthread_mutex_unlock(&c->mu);
    iotc_dps_registration_clear(&reg);
  }
  iotc_dps_destroy(dps);
  if (r == IOTC_OK) {
    IOTC_LOGI("provisioned: device %s on hub %s", c->device_id, c->hub);
    c->need_provision = false;
    c->fresh_provision = true;
    if (c->cache_file &&
        iotc__cache_write(c->cache_file, c->id_scope, c->registration_id, c->hub, c->device_id) !=
            IOTC_OK) {
      IOTC_LOGW("could not write the cache file %s", c->cache_file);
    }
    return true;
  }
  if (r == IOTC_ERR_CANCELLED) {
    c->wstate = IOTC__W_IDLE;
    return false;
  }
  char msg[IOTC_ERROR_MESSAGE_SIZE + 32];
  snprintf(msg, sizeof msg, "provisioning failed: %s", err.message[0] ? err.message
                                                                       : iotc_strerror(r));
  record_error(c, r, msg, &err);
  attempt_failed(c, r, dps_permanent(r), false, msg);
  return false;
}

static bool load_cache(iotc_client *c) {
  char hub[IOTC_DPS_HUB_SIZE], dev[IOTC_DPS_ID_SIZE];
  iotc_result r = iotc__cache_read(c->cache_file, c->id_scope, c->registration_id, hub, sizeof hub,
                                   dev, sizeof dev);
  if (r != IOTC_OK) {
    if (r == IOTC_ERR_MALFORMED) IOTC_LOGW("ignoring the unreadable cache file %s", c->cache_file);
    return false;
  }
  pthread_mutex_lock(&c->mu);
  memcpy(c->hub, hub, sizeof hub);
  memcpy(c->device_id, dev, sizeof dev);
  pthread_mutex_unlock(&c->mu);
  IOTC_LOGI("using the cached hub %s for device %s", hub, dev);
  return true;
}

static void begin_attempt(iotc_client *c) {
  if (!c->ca_checked) {
    c->ca_checked = true;
    iotc__ca_warn_expiring(c->ca_file);
  }
  if (c->use_dps && (c->hub[0] == '\0' || c->need_provision)) {
    if (!c->need_provision && c->cache_file && load_cache(c)) {
      c->fresh_provision = false;
    } else if (!provision(c)) {
      return;
    }
  }
  char username[1024];
  const char *why = "could not build the MQTT user name";
  iotc_result r = iotc_hub_topic_username(c->hub, c->device_id, "iotc/" IOTC_VERSION_STRING,
                                          c->model_id, username, sizeof username, NULL);
  if (r == IOTC_OK) {
    size_t n = 0;
    r = iotc_hub_topic_telemetry(c->device_id, NULL, c->topic_prefix, sizeof c->topic_prefix, &n);
    c->prefix_len = n;
  }
  if (r != IOTC_OK) {
    record_error(c, IOTC_ERR_INVALID_ARG, why, NULL);
    gave_up(c, IOTC_ERR_INVALID_ARG, why);
    return;
  }
  char password[1024];
  password[0] = '\0';
  if (!c->x509) {
    iotc__clock_check_system(); /* a wrong clock mints tokens the hub refuses: say so up front */
    uint64_t expiry = (uint64_t)time(NULL) + c->sas_ttl_s;
    r = iotc_sas_hub_token(c->hub, c->device_id, c->device_key, expiry, password,
                           sizeof password, NULL);
    if (r != IOTC_OK) {
      iotc__wipe(password, sizeof password);
      record_error(c, r, "could not compute the SAS token", NULL);
      gave_up(c, r, "could not compute the SAS token");
      return;
    }
  }
  pthread_mutex_lock(&c->mu);
  uint32_t gen = ++c->session_gen;
  c->sflags = 0;
  atomic_store(&c->connack_seen, false);
  pthread_mutex_unlock(&c->mu);
  iotc__session_config sc = {c->hub, c->device_id, username, c->ca_file, c->cert_file,
                             c->key_file, c->keepalive_s, c->connect_timeout_ms,
                             c->max_inflight, gen};
  iotc__session_sink sink = {c, sink_connected, sink_connect_failed, sink_subscribed,
                             sink_lost, sink_disconnected, sink_message};
  emit_status(c, IOTC_STATUS_CONNECTING, IOTC_OK, "connecting to the hub", 0);
  r = iotc__session_create(&sc, &sink, &c->session, &why);
  if (r == IOTC_ERR_NOT_SUPPORTED || r == IOTC_ERR_INVALID_ARG) { /* the proxy variables */
    iotc__wipe(password, sizeof password);
    record_error(c, r, why, NULL);
    gave_up(c, r, why);
    return;
  }
  if (r == IOTC_OK) {
    r = iotc__session_connect(c->session, c->x509 ? NULL : password);
    why = "the MQTT connect could not start";
  }
  iotc__wipe(password, sizeof password);
  if (r != IOTC_OK) {
    record_error(c, r, why, NULL);
    attempt_failed(c, r, false, false, why);
    return;
  }
  c->wstate = IOTC__W_CONNECTING;
  /* Paho checks its connect timeout every few seconds: this is only a backstop. */
  c->t_connect = iotc__now_ms() + c->connect_timeout_ms + 5000;
}

static void connack_refused(iotc_client *c, int code, const char *text) {
  char msg[IOTC_ERROR_MESSAGE_SIZE + IOTC_DPS_HUB_SIZE];
  iotc_result r;
  bool refused = false, permanent = false;
  switch (code) {
    case 1: r = IOTC_ERR_PROTOCOL; permanent = true; break;
    case 2: r = IOTC_ERR_NOT_FOUND; refused = true; break;
    case 3: r = IOTC_ERR_THROTTLED; break;
    case 4: case 5: r = IOTC_ERR_UNAUTHORIZED; refused = true; break;
    default: r = code > 0 ? IOTC_ERR_PROTOCOL : IOTC_ERR_CONNECT; break;
  }
  char tls[IOTC_ERROR_MESSAGE_SIZE];
  tls[0] = '\0';
  char cause[IOTC__NET_CAUSE_SIZE]; /* Paho's -1 does not say why TCP failed */
  cause[0] = '\0';
  if (code <= 0 && c->session && !iotc__session_connect_cause(c->session, cause, sizeof cause)) {
    cause[0] = '\0';
    if (iotc__session_tls_failure(c->session, tls, sizeof tls)) r = IOTC_ERR_TLS;
  }
  if (code == 4 || code == 5) {
    char hint[IOTC_ERROR_MESSAGE_SIZE];
    iotc__auth_refusal_hint(NULL, hint, sizeof hint);
    snprintf(msg, sizeof msg, "the hub %s refused the connection (CONNACK %d)%.200s", c->hub, code,
             hint);
  } else if (code > 0) {
    snprintf(msg, sizeof msg, "the hub %s refused the connection (CONNACK %d)", c->hub, code);
  } else if (tls[0]) {
    snprintf(msg, sizeof msg, "TLS with %s failed: %.200s", c->hub, tls);
  } else {
    snprintf(msg, sizeof msg, "could not connect to %s: %s", c->hub,
             cause[0] ? cause : text[0] ? text : "the connection closed during TLS or MQTT");
  }
  iotc_error e;
  iotc_error_clear(&e);
  e.service_code = code > 0 ? code : 0;
  if (tls[0]) {
    snprintf(e.transport, sizeof e.transport, "paho %d: %.60s; %.160s", code, text, tls);
  } else if (code <= 0) {
    snprintf(e.transport, sizeof e.transport, "paho %d: %.100s", code,
             text[0] ? text : "connect failed");
  } else {
    iotc__copy_text(e.transport, sizeof e.transport, text);
  }
  record_error(c, r, msg, &e);
  attempt_failed(c, r, permanent, refused, msg);
}

static void send_twin_get(iotc_client *c) {
  char topic[64];
  next_rid(c, 'g', c->twin_rid);
  if (iotc_hub_topic_twin_get(c->twin_rid, topic, sizeof topic, NULL) == IOTC_OK) {
    publish_control(c, topic, "", 0);
  }
  c->twin_tries++;
  c->t_twin = iotc__now_ms() + c->connect_timeout_ms;
  if (c->twin_asked_ms == 0) c->twin_asked_ms = iotc__now_ms(); /* liveness: first unanswered GET */
}

static void on_subscribed(iotc_client *c) {
  c->wstate = IOTC__W_CONNECTED;
  c->attempt = 0;
  c->fresh_provision = false;
  c->t_connect = NO_TIMER;
  c->twin_tries = 0;
  c->twin_ready = false;
  send_twin_get(c);
  if (!c->x509) c->t_sas = iotc__now_ms() + (uint64_t)c->sas_ttl_s * 800u;
  c->t_live = iotc__now_ms() + liveness_tick(c);
  c->t_rep_retry = 0;
  iotc__window_open(c, c->session);
  set_connected(c, true);
  emit_status(c, IOTC_STATUS_CONNECTED, IOTC_OK, "connected", 0);
}

static void connection_lost(iotc_client *c, iotc_result reason, const char *why) {
  iotc__teardown_session(c);
  record_error(c, reason, why, NULL);
  emit_status(c, IOTC_STATUS_DISCONNECTED, reason, why, 0);
  c->attempt = 0;
  uint32_t delay = iotc__backoff_ms(0, c->reconnect_min_ms, c->reconnect_max_ms, false,
                                    iotc__backoff_random());
  c->wstate = IOTC__W_WAIT_RETRY;
  c->t_retry = iotc__now_ms() + delay;
  emit_status(c, IOTC_STATUS_RECONNECTING, reason, why, delay);
}

static void stopped(iotc_client *c) {
  iotc__teardown_session(c);
  c->wstate = IOTC__W_IDLE;
  c->t_retry = NO_TIMER;
  pthread_mutex_lock(&c->mu);
  c->stopped = true;
  c->started = false;
  c->req_stop = false;
  pthread_cond_broadcast(&c->state_cv);
  pthread_mutex_unlock(&c->mu);
  emit_status(c, IOTC_STATUS_DISCONNECTED, IOTC_OK, "disconnected by the application", 0);
}

static void handle_flags(iotc_client *c, unsigned f, int code, const char *text) {
  if ((f & IOTC__SF_CONNECT_FAILED) && c->wstate == IOTC__W_CONNECTING) {
    connack_refused(c, code, text);
    return;
  }
  if ((f & IOTC__SF_CONNECTED) && c->wstate == IOTC__W_CONNECTING) {
    if (iotc__session_subscribe(c->session, c->device_id) != IOTC_OK) {
      connection_lost(c, IOTC_ERR_CONNECT, "could not subscribe");
      return;
    }
    c->wstate = IOTC__W_SUBSCRIBING;
  }
  if ((f & (IOTC__SF_SUB_FAILED | IOTC__SF_SUB_MALFORMED)) && c->wstate == IOTC__W_SUBSCRIBING) {
    const char *why = (f & IOTC__SF_SUB_MALFORMED)
                          ? "protocol error: the hub's SUBACK does not answer the SUBSCRIBE"
                          : "the hub refused a subscription";
    record_error(c, IOTC_ERR_PROTOCOL, why, NULL);
    attempt_failed(c, IOTC_ERR_PROTOCOL, false, false, why);
    return;
  }
  if ((f & IOTC__SF_SUBSCRIBED) && c->wstate == IOTC__W_SUBSCRIBING) on_subscribed(c);
  if (f & IOTC__SF_DISCONNECTED) {
    if (c->wstate == IOTC__W_CLOSING_RENEW) {
      iotc__teardown_session(c);
      begin_attempt(c);
      return;
    }
    if (c->wstate == IOTC__W_CLOSING_STOP) {
      stopped(c);
      return;
    }
  }
  if (f & IOTC__SF_LOST) {
    if (c->wstate == IOTC__W_CLOSING_STOP) {
      stopped(c);
    } else if (c->wstate == IOTC__W_CLOSING_RENEW) {
      iotc__teardown_session(c);
      begin_attempt(c);
    } else if (c->wstate == IOTC__W_SUBSCRIBING || c->wstate == IOTC__W_CONNECTING) {
      record_error(c, IOTC_ERR_CONNECT, "the connection dropped while connecting", NULL);
      attempt_failed(c, IOTC_ERR_CONNECT, false, false, "the connection dropped while connecting");
    } else if (c->session) {
      connection_lost(c, IOTC_ERR_CONNECTION_LOST, "the connection to the hub was lost");
    }
  }
}

/* ---- completions -------------------------------------------------------------------------- */

static void handle_done(iotc_client *c, iotc__op *done) {
  iotc__window_release(c, done);
  /* The list is newest first: reverse it so callbacks run in completion order. */
  iotc__op *fifo = NULL;
  while (done) {
    iotc__op *n = done->done_next;
    done->done_next = fifo;
    fifo = done;
    done = n;
  }
  /* Counted before any callback runs: an on_done that reads the stats sees its own message. */
  uint64_t sent = 0;
  for (iotc__op *op = fifo; op; op = op->done_next) sent += op->done_rc == 0;
  if (sent) {
    pthread_mutex_lock(&c->mu);
    c->stats.telemetry_sent += sent;
    pthread_mutex_unlock(&c->mu);
  }
  while (fifo) {
    iotc__op *op = fifo;
    fifo = op->done_next;
    if (op->done_rc == IOTC__RC_NO_MEMORY) {
      iotc__count_dropped(c, 1);
      IOTC_LOGE("a telemetry message dropped: out of memory (its callback gets IOTC_ERR_NO_MEMORY)");
      iotc__op_finish(c, op, IOTC_ERR_NO_MEMORY);
      continue;
    }
    if (op->done_rc != 0) {
      /* Paho fails publishes only around a connection drop (-11 abandoned, -3 disconnected,
       * -1 write failed): keep it in flight; the teardown that follows sends it again. */
      continue;
    }
    iotc__op_finish(c, op, IOTC_OK);
  }
}

/* ---- writable properties ---------------------------------------------------------------- */

static bool is_component_cb(void *ctx, const char *name) {
  iotc_client *c = ctx;
  if (c->model && iotc__model_has_component(c->model, name)) return true;
  bool found = false;
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < c->prop_handlers.count && !found; i++) {
    const char *comp = c->prop_handlers.items[i].component;
    found = comp && strcmp(comp, name) == 0;
  }
  for (size_t i = 0; i < c->default_count && !found; i++) {
    found = c->defaults[i].component && strcmp(c->defaults[i].component, name) == 0;
  }
  pthread_mutex_unlock(&c->mu);
  return found;
}

typedef struct visit_ctx {
  iotc_client *c;
  bool at_startup;
} visit_ctx;

static void dispatch_property(void *ctx, const iotc__twin_update *u) {
  visit_ctx *v = ctx;
  iotc_client *c = v->c;
  if (u->value_json == NULL) {
    iotc__count_dropped(c, 1);
    IOTC_LOGE("the desired property '%.64s' dropped: out of memory", u->name);
    return;
  }
  if (iotc_hub_name_check(IOTC_HUB_NAME_PROPERTY, u->name, NULL, NULL) != IOTC_OK ||
      (u->component && iotc_hub_name_check(IOTC_HUB_NAME_COMPONENT, u->component, NULL, NULL))) {
    IOTC_LOGW("ignoring a desired property with an invalid name '%.64s'", u->name);
    return;
  }
  iotc_property_fn fn = NULL;
  void *fctx = NULL;
  pthread_mutex_lock(&c->mu);
  c->stats.properties_received++;
  const iotc__handler *h = iotc__handler_find(&c->prop_handlers, u->component, u->name);
  if (h) {
    fn = (iotc_property_fn)h->fn;
    fctx = h->ctx;
  } else {
    fn = c->any_prop;
    fctx = c->any_prop_ctx;
  }
  pthread_mutex_unlock(&c->mu);
  IOTC_LOGD("writable property %s%s%s version %lld", u->component ? u->component : "",
            u->component ? "." : "", u->name, (long long)u->version);
  iotc__desired_seen(c, u->version);
  char why[IOTC__MODEL_WHY_SIZE];
  if (c->model && iotc__model_check_text(c->model, u->component, IOTC__MODEL_WRITABLE, u->name,
                                         u->value_json, strlen(u->value_json), why) != IOTC_OK) {
    IOTC_LOGW("writable property '%s': %s: refusing it with ac=400", u->name, why);
    if (iotc__refuse_property(c, u->component, u->name, u->value_json, 400,
                              u->version < 0 ? 0 : u->version, why) != IOTC_OK) {
      IOTC_LOGE("could not queue the refusal of property '%s'", u->name);
    }
    return;
  }
  if (fn) {
    iotc_property_update pu = {u->component, u->name, u->value_json, u->version, v->at_startup};
    atomic_store(&c->in_handler, true);
    fn(c, &pu, fctx);
    atomic_store(&c->in_handler, false);
    return;
  }
  char desc[128];
  snprintf(desc, sizeof desc, "the device has no handler for property '%s'", u->name);
  IOTC_LOGW("%s: refusing it with ac=404", desc);
  if (iotc__refuse_property(c, u->component, u->name, u->value_json, 404,
                            u->version < 0 ? 0 : u->version, desc) != IOTC_OK) {
    IOTC_LOGE("could not queue the refusal of property '%s'", u->name);
  }
}

/* The version rule: the body's `$version` is the service's, the topic's stands in when the body
 * has none. A patch that arrived while the twin was fetched (@p deferred) is applied only when
 * newer than that twin; later patches in arrival order whatever version they carry, so a wrong
 * version cannot hold back the patches after it. */
static void process_patch(iotc_client *c, iotc__event *ev, bool deferred) {
  iotc_hub_twin_desired d;
  int64_t topic_version = -1;
  if (iotc_hub_topic_twin_desired_parse(ev->topic, ev->topic_len, &d) == IOTC_OK &&
      d.version <= (uint64_t)INT64_MAX) {
    topic_version = (int64_t)d.version;
  }
  visit_ctx v = {c, false};
  int64_t version = -1;
  const char *why = "";
  iotc_result r = iotc__twin_patch(ev->payload, ev->payload_len, is_component_cb, c,
                                   dispatch_property, &v, topic_version,
                                   deferred ? c->twin_version : INT64_MIN, &version, &why);
  if (r == IOTC_ERR_NO_MATCH) {
    IOTC_LOGD("ignoring desired patch version %lld (twin is at %lld)", (long long)version,
              (long long)c->twin_version);
  } else if (r == IOTC_ERR_NO_MEMORY) {
    iotc__count_dropped(c, 1);
    IOTC_LOGE("a desired patch dropped: out of memory");
  } else if (r != IOTC_OK) {
    IOTC_LOGE("ignoring a desired patch: %s", why);
  }
}

static void report_defaults(iotc_client *c, const iotc__twin *t) {
  pthread_mutex_lock(&c->mu);
  size_t n = c->default_count;
  iotc__default *copy = n ? calloc(n, sizeof *copy) : NULL;
  size_t skipped = copy ? 0 : n;
  for (size_t i = 0; copy && i < n; i++) {
    copy[i].component = c->defaults[i].component ? strdup(c->defaults[i].component) : NULL;
    copy[i].name = strdup(c->defaults[i].name);
    copy[i].value_json = strdup(c->defaults[i].value_json);
    if (c->defaults[i].component && copy[i].component == NULL) {
      free(copy[i].name); /* not reported rather than reported outside its component */
      copy[i].name = NULL;
    }
    if (copy[i].name == NULL || copy[i].value_json == NULL) skipped++;
  }
  pthread_mutex_unlock(&c->mu);
  if (skipped) {
    iotc__count_dropped(c, skipped);
    IOTC_LOGE("%zu property default(s) not reported: out of memory", skipped);
  }
  for (size_t i = 0; copy && i < n; i++) {
    iotc__default *d = &copy[i];
    if (d->name && d->value_json && !iotc__twin_has_desired(t, d->component, d->name) &&
        !iotc__twin_has_reported(t, d->component, d->name)) {
      if (iotc_client_ack_property(c, d->component, d->name, d->value_json, 203, 0, "default",
                                   NULL, NULL) != IOTC_OK) {
        IOTC_LOGE("could not queue the default of property '%s'", d->name);
      }
    }
    free(d->component);
    free(d->name);
    free(d->value_json);
  }
  free(copy);
}

static void process_twin(iotc_client *c, int status, const char *body, size_t len) {
  c->twin_asked_ms = 0;
  if (status == 429 || status >= 500) {
    IOTC_LOGW("twin GET answered %d: retrying", status);
    c->t_twin = iotc__now_ms() + iotc__backoff_ms(c->twin_tries, c->reconnect_min_ms,
                                                  c->reconnect_max_ms, status == 429,
                                                  iotc__backoff_random());
    c->twin_rid[0] = '\0';
    c->twin_tries = 0;
    return;
  }
  c->twin_rid[0] = '\0';
  iotc__twin *t = NULL;
  const char *why = "";
  bool usable = status == 200 && iotc__twin_parse(body, len, &t, &c->twin_version, &why) == IOTC_OK;
  if (!usable && status == 200 && c->twin_tries < TWIN_TRIES) {
    /* An unreadable twin is asked for again: what changed while offline is in it. */
    IOTC_LOGW("the twin could not be read (%s): asking again", why);
    c->twin_version = -1;
    c->t_twin = iotc__now_ms() + iotc__backoff_ms(c->twin_tries, c->reconnect_min_ms,
                                                  c->reconnect_max_ms, false,
                                                  iotc__backoff_random());
    return;
  }
  c->t_twin = NO_TIMER;
  if (!usable) {
    IOTC_LOGE("the twin could not be used (status %d): %s", status, status == 200 ? why : "");
    c->twin_version = -1;
  } else {
    visit_ctx v = {c, true};
    iotc__twin_pending(t, is_component_cb, c, dispatch_property, &v);
    report_defaults(c, t);
    iotc__twin_free(t);
  }
  c->twin_ready = true;
  iotc__event *ev = c->deferred;
  c->deferred = c->deferred_tail = NULL;
  while (ev) {
    iotc__event *n = ev->next;
    process_patch(c, ev, true);
    iotc__free_event(ev);
    ev = n;
  }
}

/* ---- reported properties ---------------------------------------------------------------- */

static void process_reported_response(iotc_client *c, int status) {
  iotc__op *op = c->rep_inflight;
  c->rep_inflight = NULL;
  c->rep_rid[0] = '\0';
  if (status >= 200 && status < 300) {
    c->rep_retries = 0;
    pthread_mutex_lock(&c->mu);
    c->stats.reported_sent++;
    pthread_mutex_unlock(&c->mu);
    iotc__op_finish(c, op, IOTC_OK);
    return;
  }
  if ((status == 429 || status >= 500) && c->rep_retries < REPORTED_RETRIES) {
    IOTC_LOGW("reported PATCH answered %d: retrying", status);
    c->t_rep_retry = iotc__now_ms() + iotc__backoff_ms(c->rep_retries++, c->reconnect_min_ms,
                                                       c->reconnect_max_ms, status == 429,
                                                       iotc__backoff_random());
    pthread_mutex_lock(&c->mu);
    iotc__list_push_front(&c->rep_pending, op);
    pthread_mutex_unlock(&c->mu);
    return;
  }
  c->rep_retries = 0;
  IOTC_LOGE("reported PATCH refused with status %d", status);
  iotc__op_finish(c, op, status == 429 ? IOTC_ERR_THROTTLED :
                         status >= 500 ? IOTC_ERR_SERVICE : status == 413 ? IOTC_ERR_TOO_LARGE :
                         IOTC_ERR_INVALID_ARG);
}

static void process_twin_response(iotc_client *c, iotc__event *ev) {
  iotc_hub_twin_response res;
  if (iotc_hub_topic_twin_response_parse(ev->topic, ev->topic_len, &res) != IOTC_OK) {
    IOTC_LOGW("ignoring a malformed twin response topic");
    return;
  }
  if (c->twin_rid[0] && res.request_id.len == strlen(c->twin_rid) &&
      memcmp(res.request_id.ptr, c->twin_rid, res.request_id.len) == 0) {
    process_twin(c, res.status, ev->payload, ev->payload_len);
  } else if (c->rep_inflight && res.request_id.len == strlen(c->rep_rid) &&
             memcmp(res.request_id.ptr, c->rep_rid, res.request_id.len) == 0) {
    process_reported_response(c, res.status);
  } else {
    IOTC_LOGD("ignoring a twin response for an unknown request");
  }
}

/* ---- commands --------------------------------------------------------------------------- */

static bool can_send(const iotc_client *c);

static void send_method_response(iotc_client *c, const char *rid, int status, const char *payload) {
  iotc__resp_queue(c, rid, status, payload);
  if (can_send(c)) iotc__resp_pump(c, c->session);
}

static void respond_error(iotc_client *c, const char *rid, int status, const char *message) {
  iotc__sbuf b = {0};
  iotc__sbuf_adds(&b, "{\"message\":");
  iotc__sbuf_add_json_string(&b, message);
  iotc__sbuf_adds(&b, "}");
  char *p = iotc__sbuf_take(&b, NULL);
  send_method_response(c, rid, status, p ? p : "{}");
  free(p);
}

static iotc_command_fn find_command(iotc_client *c, const char *comp, const char *name,
                                    void **out_ctx) {
  iotc_command_fn fn = NULL;
  pthread_mutex_lock(&c->mu);
  c->stats.commands_received++;
  const iotc__handler *h = iotc__handler_find(&c->cmd_handlers, comp, name);
  if (h) {
    fn = (iotc_command_fn)h->fn;
    *out_ctx = h->ctx;
  } else {
    fn = c->any_cmd;
    *out_ctx = c->any_cmd_ctx;
  }
  pthread_mutex_unlock(&c->mu);
  return fn;
}

/* False when out of memory: without its record the response would never be sent. */
static bool add_pending_cmd(iotc_client *c, const char *rid) {
  size_t n = strlen(rid);
  iotc__pending_cmd *p = malloc(sizeof *p + n + 1);
  if (p == NULL) return false;
  memcpy(p->rid, rid, n + 1);
  p->created_ms = iotc__now_ms();
  pthread_mutex_lock(&c->mu);
  /* forget requests the service has long given up on */
  for (iotc__pending_cmd **pp = &c->pending_cmds; *pp;) {
    if (p->created_ms - (*pp)->created_ms > PENDING_CMD_MAX_AGE_MS) {
      iotc__pending_cmd *old = *pp;
      *pp = old->next;
      free(old);
    } else {
      pp = &(*pp)->next;
    }
  }
  p->next = c->pending_cmds;
  c->pending_cmds = p;
  pthread_mutex_unlock(&c->mu);
  return true;
}

static char *view_dup(iotc_hub_view v) {
  if (v.ptr == NULL) return NULL;
  char *s = malloc(v.len + 1);
  if (s) {
    memcpy(s, v.ptr, v.len);
    s[v.len] = '\0';
  }
  return s;
}

/* Send what the handler put in @p resp; @p dangling: its payload points into a returned frame. */
static void answer_command(iotc_client *c, const char *rid, const char *name,
                           const iotc_command_response *resp, bool dangling) {
  const char *out = resp->payload_json ? resp->payload_json : "{}";
  if (dangling) {
    IOTC_LOGE("command '%s': the handler's payload_json points into its own stack frame, which "
              "is gone when iotc reads it; use iotc_command_response_set_payload(), which copies "
              "it; answering 500", name);
    respond_error(c, rid, 500, "the device produced an invalid response");
    return;
  }
  if (iotc__json_check(out, strlen(out), NULL) != NULL) {
    IOTC_LOGE("command '%s': the handler's response is not valid JSON; answering 500", name);
    respond_error(c, rid, 500, "the device produced an invalid response");
    return;
  }
  int status = resp->status;
  if (status < 100 || status > 999) {
    IOTC_LOGE("command '%s': the handler's status %d is not HTTP-like; answering 500", name,
              status);
    respond_error(c, rid, 500, "the device produced an invalid status");
    return;
  }
  send_method_response(c, rid, status, out);
}

/* Run the handler for one command; @p rid NULL for a queued (C2D) command. */
static void run_command(iotc_client *c, const char *comp, const char *name, const char *payload,
                        size_t payload_len, const char *rid) {
  char why[IOTC__MODEL_WHY_SIZE];
  int refusal = iotc__client_model_command(c, comp, name, payload, payload_len, why);
  if (refusal) {
    IOTC_LOGW("command '%s%s%s': %s: answering %d", comp ? comp : "", comp ? "*" : "", name, why,
              refusal);
    if (rid) respond_error(c, rid, refusal, why);
    return;
  }
  void *fctx = NULL;
  iotc_command_fn fn = find_command(c, comp, name, &fctx);
  if (fn == NULL) {
    char msg[200];
    snprintf(msg, sizeof msg, "unknown command '%s%s%s': the device has no handler for it",
             comp ? comp : "", comp ? "*" : "", name);
    IOTC_LOGW("%s", msg);
    if (rid) respond_error(c, rid, 404, msg);
    return;
  }
  if (rid && !add_pending_cmd(c, rid)) {
    iotc__count_dropped(c, 1);
    IOTC_LOGE("command '%s' dropped: out of memory (answering 503; its handler is not run)", name);
    respond_error(c, rid, 503, "the device is out of memory");
    return;
  }
  iotc_command_request req = {comp, name, payload, payload_len, rid, rid == NULL};
  iotc_command_response resp = {200, NULL, false, NULL};
  atomic_store(&c->in_handler, true);
  fn(c, &req, &resp, fctx);
  atomic_store(&c->in_handler, false);
  /* Checked before anything else runs: a later call could reuse the handler's frame. */
  bool dangling = resp.payload_json != NULL && resp.payload_json != resp.payload_copy &&
                  iotc__points_into_dead_frame(resp.payload_json, c->stack_lo, c->stack_hi,
                                               __builtin_frame_address(0));
  if (rid != NULL && !resp.later && iotc__pending_cmd_take(c, rid)) { /* else answered already */
    answer_command(c, rid, name, &resp, dangling);
  }
  free(resp.payload_copy);
}

static void process_method(iotc_client *c, iotc__event *ev) {
  iotc_hub_method_request m;
  iotc_result pr = iotc_hub_topic_method_parse(ev->topic, ev->topic_len, &m);
  char *rid = pr == IOTC_OK || pr == IOTC_ERR_MALFORMED ? view_dup(m.request_id) : NULL;
  char *comp = NULL, *name = NULL;
  char probe[IOTC_HUB_REQUEST_ID_MAX + 48];
  if (rid && iotc_hub_topic_method_response(200, rid, probe, sizeof probe, NULL) != IOTC_OK) {
    /* No response could carry this id: running the handler would do work nobody hears of. */
    IOTC_LOGW("refusing a command whose $rid cannot be answered (empty, over %d characters, or "
              "not printable ASCII): its handler is not run", IOTC_HUB_REQUEST_ID_MAX);
    free(rid);
    return;
  }
  if ((pr == IOTC_OK || pr == IOTC_ERR_MALFORMED) && m.request_id.ptr != NULL && rid == NULL) {
    iotc__count_dropped(c, 1);
    IOTC_LOGE("a command dropped: out of memory (no copy of its request id to answer it)");
    return;
  }
  if (rid == NULL) { /* nothing to answer to: the service times the request out */
    IOTC_LOGW("ignoring a method request topic without a usable $rid");
    return;
  }
  /* A request the service is waiting for is always answered, even when it makes no sense. */
  if (pr != IOTC_OK || m.command.ptr == NULL) {
    IOTC_LOGW("a method request with a malformed name: answering 400");
    respond_error(c, rid, 400, "malformed command name: expected 'command' or 'component*command'");
    goto out;
  }
  comp = view_dup(m.component);
  name = view_dup(m.command);
  if (name == NULL || (m.component.ptr && comp == NULL)) {
    iotc__count_dropped(c, 1);
    IOTC_LOGE("a command dropped: out of memory (answering 503)");
    respond_error(c, rid, 503, "the device is out of memory");
    goto out;
  }
  const char *payload = ev->payload;
  size_t plen = ev->payload_len;
  if (plen == 0) {
    payload = "null";
    plen = 4;
  } else if (iotc__json_check(payload, plen, NULL) != NULL) {
    IOTC_LOGW("command '%s': the request payload is not valid JSON; answering 400", name);
    respond_error(c, rid, 400, "the command payload is not valid JSON");
    goto out;
  }
  run_command(c, comp, name, payload, plen, rid);
out:
  free(rid);
  free(comp);
  free(name);
}

/* Payload of a queued command as JSON: raw JSON stays, `@` (no parameter) becomes null,
 * anything else becomes a JSON string. */
static char *queued_payload(const char *p, size_t n) {
  if (n == 0 || (n == 1 && p[0] == '@')) return strdup("null");
  if (memchr(p, '\0', n) == NULL && iotc__json_check(p, n, NULL) == NULL) return strdup(p);
  char *raw = malloc(n + 1);
  if (raw == NULL) return NULL;
  memcpy(raw, p, n);
  raw[n] = '\0';
  iotc__sbuf b = {0};
  iotc__sbuf_add_json_string(&b, raw);
  free(raw);
  return iotc__sbuf_take(&b, NULL);
}

static void process_c2d(iotc_client *c, iotc__event *ev, const iotc_hub_c2d_message *m) {
  if (m->method_name.ptr) {
    char name[256];
    size_t n = 0;
    iotc_hub_view comp = {0}, cmd = {0};
    if (iotc_hub_property_decode(m->method_name, name, sizeof name, &n) != IOTC_OK ||
        iotc_hub_command_name_split((iotc_hub_view){name, n}, &comp, &cmd) != IOTC_OK) {
      IOTC_LOGW("ignoring a queued command with a malformed method-name");
      return;
    }
    char *comp_s = view_dup(comp), *cmd_s = view_dup(cmd);
    char *payload = queued_payload(ev->payload, ev->payload_len);
    if (cmd_s && payload && (comp.ptr == NULL || comp_s)) {
      run_command(c, comp_s, cmd_s, payload, strlen(payload), NULL);
    } else {
      iotc__count_dropped(c, 1);
      IOTC_LOGE("a queued command '%.*s' dropped: out of memory", (int)n, name);
    }
    free(comp_s);
    free(cmd_s);
    free(payload);
    return;
  }
  pthread_mutex_lock(&c->mu);
  iotc_c2d_fn fn = c->c2d_fn;
  void *fctx = c->c2d_ctx;
  pthread_mutex_unlock(&c->mu);
  if (fn == NULL) {
    IOTC_LOGI("a cloud-to-device message arrived and no C2D handler is set: discarded");
    return;
  }
  /* decode the property bag into name/value strings */
  size_t count = 0;
  iotc_hub_property_iter it;
  iotc_hub_property_view pv;
  if (iotc_hub_property_iter_init(&it, m->properties) == IOTC_OK) {
    iotc_result r;
    while ((r = iotc_hub_property_next(&it, &pv)) != IOTC_ERR_NO_MATCH && r != IOTC_ERR_INVALID_ARG) {
      if (r == IOTC_OK) count++;
    }
  }
  iotc_property *props = count ? calloc(count, sizeof *props) : NULL;
  char *text = malloc(m->properties.len * 2 + 2); /* decoded keys and values never grow */
  size_t used = 0, i = 0;
  if ((count && props == NULL) || text == NULL) {
    free(props);
    free(text);
    iotc__count_dropped(c, 1);
    IOTC_LOGE("a cloud-to-device message dropped: out of memory");
    return;
  }
  if (count && iotc_hub_property_iter_init(&it, m->properties) == IOTC_OK) {
    iotc_result r;
    while (i < count &&
           (r = iotc_hub_property_next(&it, &pv)) != IOTC_ERR_NO_MATCH && r != IOTC_ERR_INVALID_ARG) {
      if (r != IOTC_OK) continue;
      size_t kn = 0, vn = 0;
      char *k = text + used;
      if (iotc_hub_property_decode(pv.key, k, pv.key.len + 1, &kn) != IOTC_OK) continue;
      char *v = k + kn + 1;
      if (iotc_hub_property_decode(pv.value, v, pv.value.len + 1, &vn) != IOTC_OK) continue;
      used += kn + 1 + vn + 1;
      props[i].name = k;
      props[i].value = v;
      i++;
    }
  }
  iotc_c2d_message msg = {ev->payload, ev->payload_len, props, i};
  atomic_store(&c->in_handler, true);
  fn(c, &msg, fctx);
  atomic_store(&c->in_handler, false);
  free(props);
  free(text);
}

/* A message over its size limit: a command is answered 413, anything else is dropped; both
 * with a log line. */
static void refuse_oversized(iotc_client *c, const iotc__event *ev) {
  size_t max = incoming_max(ev->topic, ev->topic_len);
  iotc_hub_method_request m;
  if (iotc_hub_topic_method_parse(ev->topic, ev->topic_len, &m) == IOTC_OK) {
    char *rid = view_dup(m.request_id);
    char msg[160];
    snprintf(msg, sizeof msg, "the command payload (%zu bytes) is larger than the %zu bytes the "
             "device accepts", ev->oversize, max);
    IOTC_LOGW("%s: answering 413", msg);
    if (rid) respond_error(c, rid, 413, msg);
    if (rid == NULL && m.request_id.ptr != NULL) {
      iotc__count_dropped(c, 1);
      IOTC_LOGE("the 413 answer to an oversized command dropped: out of memory");
    }
    free(rid);
    return;
  }
  IOTC_LOGW("ignoring a %s of %zu bytes: larger than the %zu bytes accepted",
            max == IOTC__IN_TWIN_MAX ? "twin message" : "cloud-to-device message", ev->oversize,
            max);
}

static void process_message(iotc_client *c, iotc__event *ev) {
  if (ev->gen != c->session_gen) { /* from a connection that is gone */
    iotc__free_event(ev);
    return;
  }
  if (ev->early) { /* MQTT forbids it; a handler run now could not even be answered */
    IOTC_LOGW("ignoring a message the hub sent before accepting the connection");
    iotc__free_event(ev);
    return;
  }
  if (ev->oversize) {
    refuse_oversized(c, ev);
    iotc__free_event(ev);
    return;
  }
  if (strncmp(ev->topic, "$iothub/twin/res/", 17) == 0) {
    process_twin_response(c, ev);
  } else if (strncmp(ev->topic, "$iothub/twin/PATCH/properties/desired/", 38) == 0) {
    if (!c->twin_ready) { /* wait for the full twin: it decides which patches are news */
      ev->next = NULL;
      if (c->deferred_tail) {
        c->deferred_tail->next = ev;
      } else {
        c->deferred = ev;
      }
      c->deferred_tail = ev;
      return;
    }
    process_patch(c, ev, false);
  } else if (strncmp(ev->topic, "$iothub/methods/POST/", 21) == 0) {
    process_method(c, ev);
  } else {
    iotc_hub_c2d_message m;
    if (iotc_hub_topic_c2d_parse(ev->topic, ev->topic_len, &m) == IOTC_OK) {
      process_c2d(c, ev, &m);
    } else {
      IOTC_LOGW("ignoring a message on an unexpected topic");
    }
  }
  iotc__free_event(ev);
}

static void handle_events(iotc_client *c, iotc__event *ev) {
  while (ev) {
    iotc__event *n = ev->next;
    if (ev->type == IOTC__EV_RESPOND) {
      send_method_response(c, ev->topic, ev->status, ev->payload);
      iotc__free_event(ev);
    } else {
      process_message(c, ev); /* frees or keeps ev */
    }
    ev = n;
  }
}

/* ---- sending ---------------------------------------------------------------------------- */

static bool can_send(const iotc_client *c) {
  return c->wstate == IOTC__W_CONNECTED || c->wstate == IOTC__W_DRAINING;
}

static void pump_reported(iotc_client *c, uint64_t now) {
  if (c->rep_inflight || now < c->t_rep_retry) return;
  pthread_mutex_lock(&c->mu);
  iotc__op *op = iotc__list_pop_front(&c->rep_pending);
  pthread_mutex_unlock(&c->mu);
  if (op == NULL) return;
  char topic[80];
  next_rid(c, 'r', c->rep_rid);
  if (iotc_hub_topic_twin_patch_reported(c->rep_rid, topic, sizeof topic, NULL) != IOTC_OK ||
      iotc__session_publish(c->session, topic, op->payload, op->payload_len, 0, NULL) != IOTC_OK) {
    pthread_mutex_lock(&c->mu);
    iotc__list_push_front(&c->rep_pending, op);
    pthread_mutex_unlock(&c->mu);
    c->rep_rid[0] = '\0';
    return;
  }
  c->rep_inflight = op;
  op->sent_ms = now;
  op->attempts++;
}

/* ---- timers ----------------------------------------------------------------------------- */

static uint64_t next_timer(const iotc_client *c) {
  uint64_t t = NO_TIMER;
  const uint64_t all[] = {c->t_retry, c->t_sas, c->t_twin, c->t_live, c->t_connect,
                          c->t_renew_limit};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    if (all[i] < t) t = all[i];
  }
  if (c->wstate == IOTC__W_CONNECTED && c->t_rep_retry > 0 && c->rep_inflight == NULL &&
      c->rep_pending.count && c->t_rep_retry < t) {
    t = c->t_rep_retry;
  }
  return t;
}

static void start_close(iotc_client *c, int closing_state, uint32_t paho_ms) {
  iotc__window_close(c);
  c->wstate = closing_state;
  c->t_sas = c->t_renew_limit = NO_TIMER;
  if (c->session == NULL || iotc__session_disconnect(c->session, paho_ms) != IOTC_OK) {
    handle_flags(c, IOTC__SF_DISCONNECTED, 0, "");
  } else {
    c->t_connect = iotc__now_ms() + 10000; /* backstop for a disconnect that never completes */
  }
}

/* Our own liveness: MQTT's keep-alive counts any incoming byte, so a hub that trickles bytes or
 * never acknowledges keeps a connection "alive" for ever. An answer missing past the limit
 * means the link is dead: reconnect, and say which answer was missing. */
static void check_liveness(iotc_client *c, uint64_t now) {
  if (c->wstate != IOTC__W_CONNECTED && c->wstate != IOTC__W_DRAINING &&
      c->wstate != IOTC__W_RENEWING) {
    return;
  }
  char why[160];
  why[0] = '\0';
  uint64_t oldest = iotc__window_oldest_ms(c);
  if (oldest != UINT64_MAX && now - oldest >= c->liveness_ms) {
    snprintf(why, sizeof why, "no acknowledgement (PUBACK) from the hub for %u ms: reconnecting",
             (unsigned)c->liveness_ms);
  } else if (c->twin_asked_ms && now - c->twin_asked_ms >= c->liveness_ms) {
    snprintf(why, sizeof why, "no answer from the hub to the twin GET for %u ms: reconnecting",
             (unsigned)c->liveness_ms);
  } else if (c->rep_inflight && now - c->rep_inflight->sent_ms >= c->liveness_ms) {
    snprintf(why, sizeof why, "no answer from the hub to a reported PATCH for %u ms: reconnecting",
             (unsigned)c->liveness_ms);
    iotc__op *op = c->rep_inflight;
    if (op->attempts >= REPORTED_ATTEMPTS) {
      c->rep_inflight = NULL;
      c->rep_rid[0] = '\0';
      IOTC_LOGE("a reported PATCH went unanswered %d times: failing it", REPORTED_ATTEMPTS);
      iotc__op_finish(c, op, IOTC_ERR_TIMEOUT);
    }
  }
  if (why[0] == '\0') {
    c->t_live = now + liveness_tick(c);
    return;
  }
  IOTC_LOGW("%s", why);
  connection_lost(c, IOTC_ERR_TIMEOUT, why);
}

static void run_timers(iotc_client *c, uint64_t now) {
  if (c->t_connect <= now) {
    c->t_connect = NO_TIMER;
    if (c->wstate == IOTC__W_CONNECTING || c->wstate == IOTC__W_SUBSCRIBING) {
      record_error(c, IOTC_ERR_TIMEOUT, "the hub did not answer in time", NULL);
      attempt_failed(c, IOTC_ERR_TIMEOUT, false, false, "the hub did not answer in time");
    } else if (c->wstate == IOTC__W_CLOSING_RENEW || c->wstate == IOTC__W_CLOSING_STOP) {
      handle_flags(c, IOTC__SF_DISCONNECTED, 0, "");
    }
  }
  if (c->t_retry <= now) {
    c->t_retry = NO_TIMER;
    if (c->wstate == IOTC__W_WAIT_RETRY) begin_attempt(c);
  }
  if (c->t_sas <= now) {
    c->t_sas = NO_TIMER;
    if (c->wstate == IOTC__W_CONNECTED) {
      IOTC_LOGI("renewing the SAS token: planned reconnect");
      iotc__window_close(c); /* what is in flight drains; the rest waits for the new token */
      c->wstate = IOTC__W_RENEWING;
      c->t_renew_limit = now + RENEW_DRAIN_MS;
    }
  }
  if (c->wstate == IOTC__W_RENEWING &&
      ((atomic_load(&c->inflight_n) == 0 && c->rep_inflight == NULL) ||
       c->t_renew_limit <= now)) {
    start_close(c, IOTC__W_CLOSING_RENEW, 1000);
  }
  if (c->t_twin <= now) {
    c->t_twin = NO_TIMER;
    if (c->wstate == IOTC__W_CONNECTED && !c->twin_ready) {
      if (c->twin_tries < TWIN_TRIES) {
        IOTC_LOGW("no answer to the twin GET: asking again");
        send_twin_get(c);
      } else {
        IOTC_LOGE("the twin could not be fetched: live patches are applied without it");
        process_twin(c, 0, "", 0);
      }
    }
  }
  if (c->t_live <= now) {
    c->t_live = NO_TIMER;
    check_liveness(c, now);
  }
}

/* ---- stop ------------------------------------------------------------------------------- */

static void handle_stop(iotc_client *c, uint64_t now, uint64_t deadline) {
  pthread_mutex_lock(&c->mu);
  bool requested = c->req_stop; /* cleared when a close in this round already finished */
  pthread_mutex_unlock(&c->mu);
  if (!requested || c->wstate == IOTC__W_CLOSING_STOP) return;
  if (c->wstate == IOTC__W_RENEWING) iotc__window_open(c, c->session); /* send what is queued */
  if (c->wstate == IOTC__W_CONNECTED || c->wstate == IOTC__W_RENEWING) c->wstate = IOTC__W_DRAINING;
  c->stop_connecting = false;
  if (c->wstate != IOTC__W_DRAINING) {
    /* Between connections (back-off, connecting, subscribing) with something queued: keep
     * connecting until the deadline, then flush as above. */
    pthread_mutex_lock(&c->mu);
    bool queued = c->pending.count + c->rep_pending.count > 0 || c->rep_inflight;
    pthread_mutex_unlock(&c->mu);
    if (queued && now < deadline &&
        (c->wstate == IOTC__W_WAIT_RETRY || c->wstate == IOTC__W_CONNECTING ||
         c->wstate == IOTC__W_SUBSCRIBING)) {
      c->stop_connecting = true;
      return;
    }
    stopped(c);
    return;
  }
  /* Checked and closed in one step: nothing can slip into the window between the two. */
  bool answered = c->resp_head == NULL && c->resp_out == 0; /* command responses written */
  if ((answered && c->rep_inflight == NULL && iotc__window_close_if_idle(c)) || now >= deadline) {
    /* Paho's own grace for in-flight messages, within what is left of the caller's timeout. */
    start_close(c, IOTC__W_CLOSING_STOP,
                now >= deadline ? 0 : (uint32_t)(deadline - now < 1000 ? deadline - now : 1000));
  }
}

/* ---- main loop -------------------------------------------------------------------------- */

void *iotc__worker_main(void *arg) {
  iotc_client *c = arg;
  c->wstate = IOTC__W_IDLE;
  c->t_retry = c->t_sas = c->t_twin = c->t_live = c->t_connect = c->t_renew_limit = NO_TIMER;
  c->twin_version = -1;
  iotc__stack_bounds(&c->stack_lo, &c->stack_hi);
  pthread_mutex_lock(&c->mu);
  while (!c->quit) {
    /* Announced before the completions are looked at: a completion pushed after the look sees
     * it and signals (see op_done in window.c). */
    atomic_store(&c->worker_waiting, true);
    unsigned flags = c->sflags;
    c->sflags = 0;
    int code = c->fail_code;
    char text[sizeof c->fail_text];
    memcpy(text, c->fail_text, sizeof text);
    iotc__event *evs = c->ev_head;
    c->ev_head = c->ev_tail = NULL;
    uint64_t lost_in = c->inbound_dropped;
    c->inbound_dropped = 0;
    iotc__op *done = iotc__window_take_done_locked(c);
    bool start = c->req_start;
    c->req_start = false;
    bool stop = c->req_stop;
    uint64_t stop_deadline = c->stop_deadline;
    uint64_t now = iotc__now_ms();
    bool responses = atomic_load(&c->resp_done) != NULL;
    bool sendable = can_send(c) &&
                    (iotc__resp_sendable(c) ||
                     (c->pending.count && atomic_load(&c->inflight_n) < c->max_inflight) ||
                     (c->rep_pending.count && c->rep_inflight == NULL && now >= c->t_rep_retry));
    bool draining = stop && c->wstate != IOTC__W_CLOSING_STOP;
    uint64_t t = next_timer(c);
    if (draining && stop_deadline < t) t = stop_deadline;
    uint64_t job_due = iotc__jobs_next_due_locked(c);
    if (job_due < t) t = job_due;
    if (!flags && !evs && !lost_in && !done && !responses && !start && !sendable && t > now &&
        !(draining && c->wstate != IOTC__W_DRAINING && !c->stop_connecting)) {
      if (t == NO_TIMER) {
        pthread_cond_wait(&c->wake, &c->mu);
      } else {
        struct timespec ts = {(time_t)(t / 1000), (long)(t % 1000) * 1000000L};
        pthread_cond_timedwait(&c->wake, &c->mu, &ts);
      }
      continue;
    }
    atomic_store(&c->worker_waiting, false);
    pthread_mutex_unlock(&c->mu);

    if (start && (c->wstate == IOTC__W_IDLE || c->wstate == IOTC__W_GAVE_UP)) {
      c->attempt = 0;
      begin_attempt(c);
    }
    if (lost_in) {
      IOTC_LOGE("%llu inbound message(s) dropped: out of memory", (unsigned long long)lost_in);
    }
    handle_done(c, done); /* completions come before the loss that follows them */
    if (flags) handle_flags(c, flags, code, text);
    handle_events(c, evs);
    now = iotc__now_ms();
    run_timers(c, now);
    if (job_due <= now) iotc__jobs_run_due(c);
    if (stop) handle_stop(c, now, stop_deadline);
    iotc__resp_completions(c);
    if (can_send(c)) {
      iotc__resp_pump(c, c->session);
      iotc__window_pump(c);
      pump_reported(c, now);
    }
    pthread_mutex_lock(&c->mu);
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}
