/* SPDX-License-Identifier: MIT */
/* The connection state machine (see conn.h): one dispatch function over (state, event), driven
 * by the worker. The table below is the whole life cycle; every state change goes through
 * enter(). Provisioning and the hub connection go through the I/O seam (io.h).
 * Locking: worker only; fields the API reads are written under mu. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "central/backoff.h"
#include "central/cache.h"
#include "central/client_internal.h"
#include "central/conn.h"
#include "central/feature.h"
#include "net/clock_check.h"
#include "common/log.h"
#include "net/net_diag.h"
#include "common/secret.h"
#include "common/text.h"
#include "iotc/hub_topic.h"
#include "iotc/sas.h"
#include "iotc/version.h"

#define NO_DEADLINE UINT64_MAX
#define RENEW_DRAIN_MS 5000u
#define CLOSE_BACKSTOP_MS 10000u
#define CONNECT_BACKSTOP_EXTRA_MS 5000u /* Paho checks its connect timeout every few seconds */

/* ---- states and transitions ------------------------------------------------------------- */

enum {
  IDLE,          /* not started, or stopped */
  PROVISIONING,  /* asking DPS for the hub, on dps_thread */
  CONNECTING,    /* CONNECT sent */
  SUBSCRIBING,   /* CONNACK received, SUBSCRIBE sent */
  CONNECTED,
  RENEWING,      /* SAS renewal: waiting for in-flight answers before a planned reconnect */
  CLOSING_RENEW, /* disconnect sent for a planned reconnect */
  WAIT_RETRY,    /* back-off after a failure or a drop */
  DRAINING,      /* iotc_client_disconnect(): sending what is queued */
  CLOSING_STOP,  /* disconnect sent to stop */
  GAVE_UP,       /* give_up_after reached, or a permanent refusal */
  STATE_COUNT
};

static const char *const state_names[STATE_COUNT] = {
    "idle", "provisioning", "connecting", "subscribing", "connected", "renewing", "closing to renew",
    "waiting to retry", "draining", "closing to stop", "gave up"};

#define S(x) (1u << (x))
#define ANY_STATE (S(STATE_COUNT) - 1u)

typedef struct iotc_client client;
typedef void (*action_fn)(client *c, const iotc__conn_event *ev);

static void start(client *c, const iotc__conn_event *ev);
static void connection_lost(client *c, iotc_result reason, const char *why);
static void subscribe(client *c, const iotc__conn_event *ev);
static void refused(client *c, const iotc__conn_event *ev);
static void subscribed(client *c, const iotc__conn_event *ev);
static void sub_refused(client *c, const iotc__conn_event *ev);
static void connect_dropped(client *c, const iotc__conn_event *ev);
static void connect_timed_out(client *c, const iotc__conn_event *ev);
static void lost(client *c, const iotc__conn_event *ev);
static void unresponsive(client *c, const iotc__conn_event *ev);
static void retry(client *c, const iotc__conn_event *ev);
static void renew(client *c, const iotc__conn_event *ev);
static void close_to_renew(client *c, const iotc__conn_event *ev);
static void reconnect(client *c, const iotc__conn_event *ev);
static void stop_now(client *c, const iotc__conn_event *ev);
static void stopped(client *c);
static void stop_after_connect(client *c, const iotc__conn_event *ev);
static void drain(client *c, const iotc__conn_event *ev);
static void join_provisioning(client *c);
static void release_dps(client *c);
static void provisioned(client *c, const iotc__conn_event *ev);
static void stop_while_provisioning(client *c, const iotc__conn_event *ev);

/* First matching row wins; a (state, event) pair with no row is ignored. */
static const struct {
  unsigned states;
  iotc__conn_event_type event;
  action_fn action;
} table[] = {
    {S(IDLE) | S(GAVE_UP), IOTC__CONN_START, start},                 /* -> PROVISIONING|CONNECTING */
    {S(PROVISIONING), IOTC__CONN_PROVISIONED, provisioned},             /* -> CONNECTING|IDLE|... */
    {S(PROVISIONING), IOTC__CONN_STOP, stop_while_provisioning},        /* cancels at its time */
    {S(CONNECTING), IOTC__CONN_REFUSED, refused},                       /* -> WAIT_RETRY|GAVE_UP */
    {S(CONNECTING), IOTC__CONN_CONNACK, subscribe},                     /* -> SUBSCRIBING */
    {S(SUBSCRIBING), IOTC__CONN_SUBACK_REFUSED, sub_refused},           /* -> WAIT_RETRY|GAVE_UP */
    {S(SUBSCRIBING), IOTC__CONN_SUBACK_MALFORMED, sub_refused},         /* -> WAIT_RETRY|GAVE_UP */
    {S(SUBSCRIBING), IOTC__CONN_SUBACK, subscribed},                    /* -> CONNECTED */
    {S(CONNECTING) | S(SUBSCRIBING), IOTC__CONN_LOST, connect_dropped}, /* -> WAIT_RETRY|GAVE_UP */
    {S(CONNECTING) | S(SUBSCRIBING), IOTC__CONN_BACKSTOP, connect_timed_out},
    {S(CONNECTED) | S(RENEWING) | S(DRAINING), IOTC__CONN_LOST, lost},  /* -> WAIT_RETRY */
    {S(CONNECTED) | S(RENEWING) | S(DRAINING), IOTC__CONN_UNRESPONSIVE, unresponsive},
    {S(WAIT_RETRY), IOTC__CONN_RETRY_DUE, retry},                       /* -> CONNECTING */
    {S(CONNECTED), IOTC__CONN_RENEW_DUE, renew},                        /* -> RENEWING */
    {S(RENEWING), IOTC__CONN_DRAINED, close_to_renew},                  /* -> CLOSING_RENEW */
    {S(RENEWING), IOTC__CONN_DRAIN_TIMEOUT, close_to_renew},            /* -> CLOSING_RENEW */
    {S(CLOSING_RENEW), IOTC__CONN_CLOSED, reconnect},                   /* -> CONNECTING */
    {S(CLOSING_RENEW), IOTC__CONN_LOST, reconnect},
    {S(CLOSING_RENEW), IOTC__CONN_BACKSTOP, reconnect},
    {S(CLOSING_STOP), IOTC__CONN_CLOSED, stop_now},                     /* -> IDLE */
    {S(CLOSING_STOP), IOTC__CONN_LOST, stop_now},
    {S(CLOSING_STOP), IOTC__CONN_BACKSTOP, stop_now},
    {S(CONNECTED) | S(RENEWING) | S(DRAINING), IOTC__CONN_STOP, drain}, /* -> DRAINING|CLOSING_STOP */
    {S(WAIT_RETRY) | S(CONNECTING) | S(SUBSCRIBING), IOTC__CONN_STOP, stop_after_connect},
    {ANY_STATE & ~S(CLOSING_STOP), IOTC__CONN_STOP, stop_now},          /* -> IDLE */
};

static void enter(client *c, int state) {
  c->conn.state = state;
  c->conn.up = state == CONNECTED;
  c->conn.can_send = state == CONNECTED || state == DRAINING;
}

void iotc__conn_dispatch(client *c, const iotc__conn_event *ev) {
  unsigned bit = S(c->conn.state);
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if ((table[i].states & bit) && table[i].event == ev->type) {
      table[i].action(c, ev);
      return;
    }
  }
}

static void fire(client *c, iotc__conn_event_type type) {
  iotc__conn_event ev = {type, 0, NULL, 0, 0};
  iotc__conn_dispatch(c, &ev);
}

/* ---- queries ---------------------------------------------------------------------------- */

void iotc__conn_init(client *c) {
  memset(&c->conn, 0, sizeof c->conn);
  enter(c, IDLE);
  c->conn.retry_at = c->conn.renew_at = c->conn.backstop_at = NO_DEADLINE;
  c->conn.drain_until = c->conn.liveness_at = NO_DEADLINE;
}

uint64_t iotc__conn_deadline(const client *c) {
  const uint64_t all[] = {c->conn.retry_at, c->conn.renew_at, c->conn.backstop_at,
                          c->conn.drain_until, c->conn.liveness_at};
  uint64_t t = NO_DEADLINE;
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    if (all[i] < t) t = all[i];
  }
  return t;
}

bool iotc__conn_closing_to_stop(const client *c) { return c->conn.state == CLOSING_STOP; }

bool iotc__conn_stop_needs_round(const client *c) {
  return c->conn.state != CLOSING_STOP && c->conn.state != PROVISIONING && c->conn.state != DRAINING && !c->conn.stop_connecting;
}

const char *iotc__conn_state_name(const client *c) { return state_names[c->conn.state]; }

/* ---- status, errors --------------------------------------------------------------------- */

const char *iotc_status_str(iotc_connection_status status) {
  switch (status) {
    case IOTC_STATUS_PROVISIONING: return "provisioning";
    case IOTC_STATUS_CONNECTING: return "connecting";
    case IOTC_STATUS_CONNECTED: return "connected";
    case IOTC_STATUS_DISCONNECTED: return "disconnected";
    case IOTC_STATUS_RECONNECTING: return "reconnecting";
    case IOTC_STATUS_REPROVISIONING: return "reprovisioning";
    case IOTC_STATUS_GAVE_UP: return "gave up";
  }
  return "unknown status";
}

static void emit_status(client *c, iotc_connection_status status, iotc_result reason,
                        const char *message, uint32_t retry_in_ms) {
  pthread_mutex_lock(&c->mu);
  iotc_status_fn fn = c->status_fn;
  void *ctx = c->status_ctx;
  char hub[sizeof c->hub];
  memcpy(hub, c->hub, sizeof hub);
  pthread_mutex_unlock(&c->mu);
  char told[320];
  if (iotc__persist_tell_recovered(c)) { /* the first status says what a restart brought back */
    snprintf(told, sizeof told, "%s (%" PRIu64 " messages recovered from persist_dir, sent first)",
             message, iotc__persist_recovered(c));
    message = told;
  }
  IOTC_LOGI("status %s (%s): %s", iotc_status_str(status), iotc_strerror(reason), message);
  if (fn == NULL) return;
  iotc_status_info info = {status, reason, message, hub, c->conn.attempt, retry_in_ms,
                           iotc__persist_recovered(c), iotc__transport_now(c)};
  atomic_store(&c->in_handler, true);
  fn(c, &info, ctx);
  atomic_store(&c->in_handler, false);
}

static void set_connected(client *c) {
  pthread_mutex_lock(&c->mu);
  c->connected = true;
  c->stats.connects++;
  pthread_cond_broadcast(&c->state_cv);
  pthread_mutex_unlock(&c->mu);
}

static void record_error(client *c, iotc_result r, const char *message, const iotc_error *e) {
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

/* ---- teardown --------------------------------------------------------------------------- */

void iotc__conn_teardown(client *c) {
  join_provisioning(c); /* destroy: cancelled through c->dps, or it saw quit */
  release_dps(c);
  iotc__window_close(c); /* before the session goes: no publish through it from now on */
  if (c->conn.session) {
    c->io->session_destroy(c->conn.session); /* abandoned publishes complete during this call */
    c->conn.session = NULL;
  }
  iotc__features_on_teardown(c);
  iotc__inbox_end_session(c);
  pthread_mutex_lock(&c->mu);
  c->connected = false;
  pthread_cond_broadcast(&c->state_cv);
  pthread_mutex_unlock(&c->mu);
  c->conn.liveness_at = c->conn.renew_at = c->conn.backstop_at = NO_DEADLINE;
  c->conn.drain_until = NO_DEADLINE; /* a drop while renewing must not leave it in the past */
}

static void gave_up(client *c, iotc_result reason, const char *message) {
  iotc__conn_teardown(c);
  pthread_mutex_lock(&c->mu);
  c->gave_up = true;
  c->last_error.result = reason;
  iotc__copy_text(c->last_error.message, sizeof c->last_error.message, message);
  pthread_cond_broadcast(&c->state_cv);
  pthread_mutex_unlock(&c->mu);
  enter(c, GAVE_UP);
  IOTC_LOGE("gave up: %s", message);
  emit_status(c, IOTC_STATUS_GAVE_UP, reason, message, 0);
}

static void fail_for_good(client *c, iotc_result r, const char *why) {
  record_error(c, r, why, NULL);
  gave_up(c, r, why);
}

/* A failed provisioning or connect attempt: retry later, re-provision, or give up. */
static void attempt_failed(client *c, iotc_result r, bool permanent, bool hub_refused,
                           const char *message) {
  iotc__conn_teardown(c);
  c->conn.attempt++;
  if (hub_refused) {
    if (c->use_dps && !c->conn.fresh_provision) {
      c->conn.need_provision = true; /* the device may have moved to another hub */
      if (c->cache_file) iotc__cache_remove(c->cache_file);
    } else {
      permanent = true;
    }
  }
  if (!permanent && c->use_dps && c->reprovision_after &&
      c->conn.attempt % c->reprovision_after == 0) {
    c->conn.need_provision = true;
  }
  if (permanent || (c->give_up_after && c->conn.attempt >= c->give_up_after)) {
    gave_up(c, r, message);
    return;
  }
  uint32_t delay = hub_refused ? 0 :
      iotc__backoff_ms(c->conn.attempt - 1, c->reconnect_min_ms, c->reconnect_max_ms,
                       r == IOTC_ERR_THROTTLED, c->io->random(c->io->ctx));
  enter(c, WAIT_RETRY);
  c->conn.retry_at = iotc__client_now(c) + delay;
  emit_status(c, IOTC_STATUS_RECONNECTING, r, message, delay);
}

/* IOTC_TRANSPORT_AUTO: 8883 did not connect, so try 443 at once (transport.h). */
static bool fell_back(client *c, const char *why) {
  char msg[IOTC_ERROR_MESSAGE_SIZE];
  if (!iotc__transport_fall_back(c, why, msg, sizeof msg)) return false;
  iotc__conn_teardown(c);
  enter(c, WAIT_RETRY);
  c->conn.retry_at = iotc__client_now(c);
  emit_status(c, IOTC_STATUS_RECONNECTING, IOTC_ERR_CONNECT, msg, 0);
  return true;
}

static void failed_attempt(client *c, iotc_result r, const char *why) {
  record_error(c, r, why, NULL);
  attempt_failed(c, r, false, false, why);
}

/* ---- provisioning ----------------------------------------------------------------------- */

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

void iotc__client_dps_config(const iotc_client *c, iotc_dps_config *d) {
  iotc_dps_config_init(d);
  d->id_scope = c->id_scope;
  d->registration_id = c->registration_id;
  d->transport = c->dps_https ? IOTC_DPS_TRANSPORT_HTTPS
                 : iotc__transport_now(c) == IOTC_TRANSPORT_MQTT_WS ? IOTC_DPS_TRANSPORT_MQTT_WS
                                                                    : IOTC_DPS_TRANSPORT_MQTT;
  d->endpoint = c->dps_endpoint;
  d->credential = c->x509 ? IOTC_DPS_CREDENTIAL_X509 : IOTC_DPS_CREDENTIAL_DEVICE_KEY;
  d->key = c->device_key;
  d->cert_file = c->cert_file;
  d->key_file = c->key_file;
  d->ca_file = c->ca_file;
  d->model_id = c->model_id;
  d->timeout_ms = c->connect_timeout_ms;
  d->request_timeout_ms = c->connect_timeout_ms;
}

/* Register with DPS through the seam; cancellable by disconnect and destroy (through c->dps). */
static iotc_result run_dps(client *c, iotc_error *err) {
  iotc_dps_config d;
  iotc__client_dps_config(c, &d);
  if (!c->dps_https) d.timeout_ms = d.request_timeout_ms = iotc__transport_begin(c, d.timeout_ms);
  iotc_dps *dps = NULL;
  iotc_result r = c->io->dps_create(&d, &dps, err);
  if (r == IOTC_OK) {
    pthread_mutex_lock(&c->mu);
    /* A disconnect with messages queued keeps provisioning until its deadline (it cancels then). */
    bool stop = c->quit || (c->req_stop && (iotc__client_queued_locked(c) == 0 ||
                                            iotc__client_now(c) >= c->stop_deadline));
    c->dps = dps;
    pthread_mutex_unlock(&c->mu);
    iotc_dps_registration reg;
    memset(&reg, 0, sizeof reg);
    r = stop ? IOTC_ERR_CANCELLED : c->io->dps_run(dps, &reg, err);
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
  if (r == IOTC_OK) {
    c->conn.dps_kept = dps; /* read by the worker after the join */
  } else {
    c->io->dps_destroy(dps);
  }
  return r;
}

/* DPS's connection is closed once the hub's has started: see dps/dps_keep_open.h. */
static void release_dps(client *c) {
  if (c->conn.dps_kept == NULL) return;
  c->io->dps_destroy(c->conn.dps_kept);
  c->conn.dps_kept = NULL;
}

static void *provisioning_thread(void *arg) {
  client *c = arg;
  iotc_error_clear(&c->conn.dps_error);
  c->conn.dps_result = run_dps(c, &c->conn.dps_error);
  pthread_mutex_lock(&c->mu);
  c->provisioned = true;
  iotc__wake_locked(c);
  pthread_mutex_unlock(&c->mu);
  return NULL;
}

static void join_provisioning(client *c) {
  if (!c->conn.dps_running) return;
  pthread_join(c->conn.dps_thread, NULL);
  c->conn.dps_running = false;
}

/* Ask DPS on a thread of its own: the worker goes on running callbacks meanwhile. */
static void provision(client *c) {
  bool again = c->hub[0] != '\0';
  emit_status(c, again ? IOTC_STATUS_REPROVISIONING : IOTC_STATUS_PROVISIONING, IOTC_OK,
              again ? "asking DPS for the device's hub again" : "registering with DPS", 0);
  enter(c, PROVISIONING);
  if (pthread_create(&c->conn.dps_thread, NULL, provisioning_thread, c) != 0) {
    failed_attempt(c, IOTC_ERR_NO_MEMORY, "could not start a thread for provisioning");
    return;
  }
  c->conn.dps_running = true;
}

/* A disconnect while provisioning: cancelled now when nothing waits to be sent, else at the
 * disconnect's deadline; the stop completes when the thread reports. */
static void stop_while_provisioning(client *c, const iotc__conn_event *ev) {
  pthread_mutex_lock(&c->mu);
  bool queued = iotc__client_queued_locked(c) > 0;
  if ((!queued || ev->now >= ev->deadline) && c->dps) c->io->dps_cancel(c->dps);
  pthread_mutex_unlock(&c->mu);
}

/* The hub is known (provisioned now); true to go on connecting. */
static bool provisioning_done(client *c) {
  join_provisioning(c);
  iotc_result r = c->conn.dps_result;
  const iotc_error *err = &c->conn.dps_error;
  if (r == IOTC_OK) {
    IOTC_LOGI("provisioned: device %s on hub %s", c->device_id, c->hub);
    c->conn.need_provision = false;
    c->conn.fresh_provision = true;
    if (c->cache_file &&
        iotc__cache_write(c->cache_file, c->id_scope, c->registration_id, c->hub, c->device_id,
                          c->tr.cached) != IOTC_OK) {
      IOTC_LOGW("could not write the cache file %s", c->cache_file);
    }
    return true;
  }
  if (r == IOTC_ERR_CANCELLED) {
    enter(c, IDLE);
    return false;
  }
  char msg[IOTC_ERROR_MESSAGE_SIZE + 32];
  snprintf(msg, sizeof msg, "provisioning failed: %s", err->message[0] ? err->message
                                                                         : iotc_strerror(r));
  bool unreached = r == IOTC_ERR_CONNECT || r == IOTC_ERR_TIMEOUT || r == IOTC_ERR_TRANSPORT;
  char fb[IOTC_ERROR_MESSAGE_SIZE];
  if (unreached && !c->dps_https && iotc__transport_fall_back(c, msg, fb, sizeof fb)) {
    emit_status(c, IOTC_STATUS_PROVISIONING, IOTC_ERR_CONNECT, fb, 0);
    provision(c); /* once: the attempt over 443 does not fall back again */
    return false;
  }
  record_error(c, r, msg, err);
  attempt_failed(c, r, dps_permanent(r), false, msg);
  return false;
}

static bool load_cache(client *c) {
  char hub[IOTC_DPS_HUB_SIZE], dev[IOTC_DPS_ID_SIZE];
  int transport;
  iotc_result r = iotc__cache_read(c->cache_file, c->id_scope, c->registration_id, hub, sizeof hub,
                                   dev, sizeof dev, &transport);
  if (r != IOTC_OK) {
    if (r == IOTC_ERR_MALFORMED) IOTC_LOGW("ignoring the unreadable cache file %s", c->cache_file);
    return false;
  }
  pthread_mutex_lock(&c->mu);
  memcpy(c->hub, hub, sizeof hub);
  memcpy(c->device_id, dev, sizeof dev);
  pthread_mutex_unlock(&c->mu);
  IOTC_LOGI("using the cached hub %s for device %s", hub, dev);
  iotc__transport_cached(c, transport);
  return true;
}

/* The hub to connect to is known: from the configuration or the cache; false when DPS must be
 * asked (started here). */
static bool know_hub(client *c) {
  if (!c->use_dps || (c->hub[0] != '\0' && !c->conn.need_provision)) return true;
  if (!c->conn.need_provision && c->cache_file && load_cache(c)) {
    c->conn.fresh_provision = false;
    return true;
  }
  provision(c);
  return false;
}

/* ---- connecting ------------------------------------------------------------------------- */

/* The MQTT user name and the telemetry topic prefix for the current hub and device. */
static bool build_names(client *c, char *username, size_t size) {
  iotc_result r = iotc_hub_topic_username(c->hub, c->device_id, "iotc/" IOTC_VERSION_STRING,
                                          c->model_id, username, size, NULL);
  if (r == IOTC_OK) {
    size_t n = 0;
    r = iotc_hub_topic_telemetry(c->device_id, NULL, c->topic_prefix, sizeof c->topic_prefix, &n);
    c->prefix_len = n;
  }
  return r == IOTC_OK;
}

static iotc_result sas_password(client *c, char *password, size_t size) {
  password[0] = '\0';
  if (c->x509) return IOTC_OK;
  iotc__clock_check_system(); /* a wrong clock mints tokens the hub refuses: say so up front */
  uint64_t expiry = (uint64_t)time(NULL) + c->sas_ttl_s;
  return iotc_sas_hub_token(c->hub, c->device_id, c->device_key, expiry, password, size, NULL);
}

/* Create the session and send CONNECT with @p password (wiped by the caller). */
static void open_session(client *c, const char *username, const char *password) {
  uint32_t timeout_ms = iotc__transport_begin(c, c->connect_timeout_ms);
  iotc__session_config sc = {c->hub, c->device_id, username, c->ca_file, c->cert_file,
                             c->key_file, c->keepalive_s, timeout_ms,
                             c->max_inflight, iotc__inbox_new_session(c),
                             iotc__transport_now(c) == IOTC_TRANSPORT_MQTT_WS};
  iotc__session_sink sink = iotc__inbox_sink(c);
  emit_status(c, IOTC_STATUS_CONNECTING, IOTC_OK, "connecting to the hub", 0);
  const char *why = "could not build the MQTT user name";
  iotc_result r = c->io->session_create(&sc, &sink, &c->conn.session, &why);
  if (r == IOTC_ERR_NOT_SUPPORTED || r == IOTC_ERR_INVALID_ARG) { /* the proxy variables */
    fail_for_good(c, r, why);
    return;
  }
  if (r == IOTC_OK) {
    r = c->io->session_connect(c->conn.session, c->x509 ? NULL : password);
    why = "the MQTT connect could not start";
  }
  if (r != IOTC_OK) {
    failed_attempt(c, r, why);
    return;
  }
  enter(c, CONNECTING);
  c->conn.backstop_at = iotc__client_now(c) + timeout_ms + CONNECT_BACKSTOP_EXTRA_MS;
}

static void connect_to_hub(client *c) {
  char username[1024];
  if (!build_names(c, username, sizeof username)) {
    fail_for_good(c, IOTC_ERR_INVALID_ARG, "could not build the MQTT user name");
    return;
  }
  char password[1024];
  iotc_result r = sas_password(c, password, sizeof password);
  if (r != IOTC_OK) {
    iotc__wipe(password, sizeof password);
    fail_for_good(c, r, "could not compute the SAS token");
    return;
  }
  open_session(c, username, password);
  iotc__wipe(password, sizeof password);
}

static void begin_attempt(client *c) {
  if (!c->conn.ca_checked) {
    c->conn.ca_checked = true;
    c->io->check_ca_file(c->ca_file);
  }
  if (know_hub(c)) connect_to_hub(c);
}

static void provisioned(client *c, const iotc__conn_event *ev) {
  (void)ev;
  if (provisioning_done(c)) connect_to_hub(c);
  release_dps(c);
}

static void start(client *c, const iotc__conn_event *ev) {
  (void)ev;
  c->conn.attempt = 0;
  begin_attempt(c);
}

static void retry(client *c, const iotc__conn_event *ev) {
  (void)ev;
  begin_attempt(c);
}

static void subscribe(client *c, const iotc__conn_event *ev) {
  (void)ev;
  if (c->io->session_subscribe(c->conn.session, c->device_id) != IOTC_OK) {
    connection_lost(c, IOTC_ERR_CONNECT, "could not subscribe");
    return;
  }
  enter(c, SUBSCRIBING);
}

/* Paho's -1 does not say why TCP failed: ask the network, then TLS (both block; see io.h).
 * True when TLS was the cause. */
static bool diagnose(client *c, int code, char *tls, size_t tls_size, char *cause,
                     size_t cause_size) {
  tls[0] = cause[0] = '\0';
  if (code > 0 || c->conn.session == NULL ||
      c->io->session_connect_cause(c->conn.session, cause, cause_size)) {
    return false;
  }
  cause[0] = '\0';
  return c->io->session_tls_failure(c->conn.session, tls, tls_size);
}

static void refusal_message(client *c, int code, const char *text, const char *tls,
                            const char *cause, char *msg, size_t size) {
  if (code == 4 || code == 5) {
    char hint[IOTC_ERROR_MESSAGE_SIZE];
    iotc__auth_refusal_hint(NULL, hint, sizeof hint);
    snprintf(msg, size, "the hub %s refused the connection (CONNACK %d)%.200s", c->hub, code,
             hint);
  } else if (code > 0) {
    snprintf(msg, size, "the hub %s refused the connection (CONNACK %d)", c->hub, code);
  } else if (tls[0]) {
    snprintf(msg, size, "TLS with %s failed: %.200s", c->hub, tls);
  } else {
    snprintf(msg, size, "could not connect to %s: %s", c->hub,
             cause[0] ? cause : text[0] ? text : "the connection closed during TLS or MQTT");
  }
}

static void refusal_error(int code, const char *text, const char *tls, iotc_error *e) {
  iotc_error_clear(e);
  e->service_code = code > 0 ? code : 0;
  if (tls[0]) {
    snprintf(e->transport, sizeof e->transport, "paho %d: %.60s; %.160s", code, text, tls);
  } else if (code <= 0) {
    snprintf(e->transport, sizeof e->transport, "paho %d: %.100s", code,
             text[0] ? text : "connect failed");
  } else {
    iotc__copy_text(e->transport, sizeof e->transport, text);
  }
}

static void refused(client *c, const iotc__conn_event *ev) {
  int code = ev->code;
  const char *text = ev->text ? ev->text : "";
  if (code <= 0 && fell_back(c, text[0] ? text : "the connection failed")) return;
  iotc_result r;
  bool hub_refused = false, permanent = false;
  switch (code) {
    case 1: r = IOTC_ERR_PROTOCOL; permanent = true; break;
    case 2: r = IOTC_ERR_NOT_FOUND; hub_refused = true; break;
    case 3: r = IOTC_ERR_THROTTLED; break;
    case 4: case 5: r = IOTC_ERR_UNAUTHORIZED; hub_refused = true; break;
    default: r = code > 0 ? IOTC_ERR_PROTOCOL : IOTC_ERR_CONNECT; break;
  }
  char tls[IOTC_ERROR_MESSAGE_SIZE], cause[IOTC__NET_CAUSE_SIZE];
  if (diagnose(c, code, tls, sizeof tls, cause, sizeof cause)) r = IOTC_ERR_TLS;
  char msg[IOTC_ERROR_MESSAGE_SIZE + IOTC_DPS_HUB_SIZE];
  refusal_message(c, code, text, tls, cause, msg, sizeof msg);
  iotc_error e;
  refusal_error(code, text, tls, &e);
  record_error(c, r, msg, &e);
  attempt_failed(c, r, permanent, hub_refused, msg);
}

static void sub_refused(client *c, const iotc__conn_event *ev) {
  failed_attempt(c, IOTC_ERR_PROTOCOL,
                 ev->type == IOTC__CONN_SUBACK_MALFORMED
                     ? "protocol error: the hub's SUBACK does not answer the SUBSCRIBE"
                     : "the hub refused a subscription");
}

static void connect_dropped(client *c, const iotc__conn_event *ev) {
  (void)ev;
  if (fell_back(c, "the connection dropped while connecting")) return;
  failed_attempt(c, IOTC_ERR_CONNECT, "the connection dropped while connecting");
}

static void connect_timed_out(client *c, const iotc__conn_event *ev) {
  (void)ev;
  if (fell_back(c, "the hub did not answer in time")) return;
  failed_attempt(c, IOTC_ERR_TIMEOUT, "the hub did not answer in time");
}

static uint64_t liveness_tick(const client *c) {
  return c->liveness_ms >= 4 ? c->liveness_ms / 4 : 1;
}

static void subscribed(client *c, const iotc__conn_event *ev) {
  (void)ev;
  enter(c, CONNECTED);
  c->conn.attempt = 0;
  c->conn.fresh_provision = false;
  c->conn.backstop_at = NO_DEADLINE;
  iotc__features_on_connected(c, c->conn.session);
  uint64_t now = iotc__client_now(c);
  if (!c->x509) c->conn.renew_at = now + (uint64_t)c->sas_ttl_s * 800u; /* 80 % of the TTL */
  c->conn.liveness_at = now + liveness_tick(c);
  set_connected(c);
  iotc__transport_connected(c);
  emit_status(c, IOTC_STATUS_CONNECTED, IOTC_OK,
              iotc__transport_now(c) == IOTC_TRANSPORT_MQTT_WS
                  ? "connected (MQTT over WebSockets)" : "connected", 0);
}

/* ---- connected -------------------------------------------------------------------------- */

static void connection_lost(client *c, iotc_result reason, const char *why) {
  iotc__conn_teardown(c);
  record_error(c, reason, why, NULL);
  emit_status(c, IOTC_STATUS_DISCONNECTED, reason, why, 0);
  c->conn.attempt = 0;
  uint32_t delay = iotc__backoff_ms(0, c->reconnect_min_ms, c->reconnect_max_ms, false,
                                    c->io->random(c->io->ctx));
  enter(c, WAIT_RETRY);
  c->conn.retry_at = iotc__client_now(c) + delay;
  emit_status(c, IOTC_STATUS_RECONNECTING, reason, why, delay);
}

static void lost(client *c, const iotc__conn_event *ev) {
  (void)ev;
  connection_lost(c, IOTC_ERR_CONNECTION_LOST, "the connection to the hub was lost");
}

static void unresponsive(client *c, const iotc__conn_event *ev) {
  IOTC_LOGW("%s", ev->text);
  connection_lost(c, IOTC_ERR_TIMEOUT, ev->text);
}

static void renew(client *c, const iotc__conn_event *ev) {
  (void)ev;
  IOTC_LOGI("renewing the SAS token: planned reconnect");
  iotc__window_close(c); /* what is in flight drains; the rest waits for the new token */
  enter(c, RENEWING);
  c->conn.drain_until = iotc__client_now(c) + RENEW_DRAIN_MS;
}

/* What the state that is closing does once the session is closed. */
static void after_close(client *c) {
  if (c->conn.state == CLOSING_RENEW) {
    iotc__conn_teardown(c);
    begin_attempt(c);
  } else {
    stopped(c);
  }
}

static void start_close(client *c, int closing_state, uint32_t paho_ms) {
  iotc__window_close(c);
  enter(c, closing_state);
  c->conn.renew_at = c->conn.drain_until = NO_DEADLINE;
  if (c->conn.session == NULL ||
      c->io->session_disconnect(c->conn.session, paho_ms) != IOTC_OK) {
    after_close(c); /* nothing to wait for */
  } else {
    c->conn.backstop_at = iotc__client_now(c) + CLOSE_BACKSTOP_MS;
  }
}

static void close_to_renew(client *c, const iotc__conn_event *ev) {
  (void)ev;
  start_close(c, CLOSING_RENEW, 1000);
}

static void reconnect(client *c, const iotc__conn_event *ev) {
  (void)ev;
  iotc__conn_teardown(c);
  begin_attempt(c);
}

/* ---- stop ------------------------------------------------------------------------------- */

static void stopped(client *c) {
  iotc__conn_teardown(c);
  enter(c, IDLE);
  c->conn.retry_at = NO_DEADLINE;
  c->conn.stop_connecting = false;
  pthread_mutex_lock(&c->mu);
  c->stopped = true;
  c->started = false;
  c->req_stop = false;
  pthread_cond_broadcast(&c->state_cv);
  pthread_mutex_unlock(&c->mu);
  emit_status(c, IOTC_STATUS_DISCONNECTED, IOTC_OK, "disconnected by the application", 0);
}

static void stop_now(client *c, const iotc__conn_event *ev) {
  (void)ev;
  stopped(c);
}

/* Between connections (back-off, connecting, subscribing) with something queued: keep
 * connecting until the deadline, then flush as drain() does. */
static void stop_after_connect(client *c, const iotc__conn_event *ev) {
  pthread_mutex_lock(&c->mu);
  bool queued = iotc__client_queued_locked(c) > 0;
  pthread_mutex_unlock(&c->mu);
  queued = queued || !iotc__features_idle(c); /* a reported PATCH awaits its answer */
  c->conn.stop_connecting = queued && ev->now < ev->deadline;
  if (!c->conn.stop_connecting) stopped(c);
}

static void drain(client *c, const iotc__conn_event *ev) {
  if (c->conn.state == RENEWING) iotc__window_open(c, c->conn.session); /* send what is queued */
  enter(c, DRAINING);
  c->conn.stop_connecting = false;
  /* Checked and closed in one step: nothing can slip into the window between the two. */
  uint64_t now = ev->now, deadline = ev->deadline;
  if ((iotc__resp_all_written(c) && iotc__features_idle(c) && iotc__window_close_if_idle(c)) ||
      now >= deadline) {
    /* Paho's own grace for in-flight messages, within what is left of the caller's timeout. */
    start_close(c, CLOSING_STOP,
                now >= deadline ? 0 : (uint32_t)(deadline - now < 1000 ? deadline - now : 1000));
  }
}

/* ---- inputs ----------------------------------------------------------------------------- */

void iotc__conn_session_flags(client *c, unsigned f, int code, const char *text) {
  static const struct {
    unsigned flag;
    iotc__conn_event_type type;
  } order[] = {
      {IOTC__SF_CONNECT_FAILED, IOTC__CONN_REFUSED}, {IOTC__SF_CONNECTED, IOTC__CONN_CONNACK},
      {IOTC__SF_SUB_MALFORMED, IOTC__CONN_SUBACK_MALFORMED},
      {IOTC__SF_SUB_FAILED, IOTC__CONN_SUBACK_REFUSED}, {IOTC__SF_SUBSCRIBED, IOTC__CONN_SUBACK},
      {IOTC__SF_DISCONNECTED, IOTC__CONN_CLOSED}, {IOTC__SF_LOST, IOTC__CONN_LOST}};
  iotc__session *s = c->conn.session;
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    /* The reports belong to this session: once it is gone, the rest are stale. */
    if (!(f & order[i].flag) || c->conn.session != s) continue;
    iotc__conn_event ev = {order[i].type, code, text, 0, 0};
    iotc__conn_dispatch(c, &ev);
  }
}

void iotc__conn_on_timer(client *c, uint64_t now) {
  if (c->conn.backstop_at <= now) {
    c->conn.backstop_at = NO_DEADLINE;
    fire(c, IOTC__CONN_BACKSTOP);
  }
  if (c->conn.retry_at <= now) {
    c->conn.retry_at = NO_DEADLINE;
    fire(c, IOTC__CONN_RETRY_DUE);
  }
  if (c->conn.renew_at <= now) {
    c->conn.renew_at = NO_DEADLINE;
    fire(c, IOTC__CONN_RENEW_DUE);
  }
  if (c->conn.state == RENEWING && c->conn.drain_until <= now) {
    fire(c, IOTC__CONN_DRAIN_TIMEOUT);
  } else if (c->conn.state == RENEWING && iotc__features_idle(c)) {
    fire(c, IOTC__CONN_DRAINED);
  }
}

/* Our own liveness: MQTT's keep-alive counts any incoming byte, so a hub that trickles bytes or
 * never acknowledges keeps a connection "alive" for ever. An answer missing past the limit
 * means the link is dead: reconnect, and say which answer was missing. */
void iotc__conn_check_liveness(client *c, uint64_t now) {
  if (c->conn.liveness_at > now) return;
  c->conn.liveness_at = NO_DEADLINE;
  if (c->conn.state != CONNECTED && c->conn.state != DRAINING && c->conn.state != RENEWING) return;
  char why[160];
  if (!iotc__features_overdue(c, now, why, sizeof why)) {
    c->conn.liveness_at = now + liveness_tick(c);
    return;
  }
  iotc__conn_event ev = {IOTC__CONN_UNRESPONSIVE, 0, why, now, 0};
  iotc__conn_dispatch(c, &ev);
}
