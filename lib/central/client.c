/* SPDX-License-Identifier: MIT */
/* The client object: create, connect, disconnect, destroy, status and statistics. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "central/client_internal.h"
#include "central/conn_string.h"
#include "central/model_client.h"
#include "central/upload.h"
#include "common/log.h"
#include "common/secret.h"
#include "iotc/hub_topic.h"
#include "iotc/sas.h"

/* How often a waiting iotc_client_connect() looks for a cancel request. */
#define CANCEL_POLL_MS 20u
/* How long connect() waits for an earlier stop to finish before it calls the client started. */
#define STOP_SETTLE_MS 5000u

void iotc_client_config_init(iotc_client_config *cfg) {
  if (cfg == NULL) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->struct_version = IOTC_CLIENT_CONFIG_VERSION;
  cfg->sas_ttl_s = 3600;
  cfg->keepalive_s = 60;
  cfg->connect_timeout_ms = 30000;
  cfg->reconnect_min_ms = 1000;
  cfg->reconnect_max_ms = 60000;
  cfg->reprovision_after = 5;
  cfg->give_up_after = 0;
  cfg->queue_capacity = 1000;
  cfg->max_inflight = 32;
  cfg->liveness_timeout_ms = 60000;
  cfg->persist_max_bytes = 64u * 1024u * 1024u;
  cfg->persist_durability = IOTC_PERSIST_SYNC_EACH;
  cfg->persist_sync_interval_ms = 1000;
  cfg->persist_full_policy = IOTC_PERSIST_REFUSE_NEW;
  cfg->transport = IOTC_TRANSPORT_MQTT;
  cfg->fallback_after_ms = 10000;
}

static bool set(const char *s) { return s != NULL && *s != '\0'; }

static char *dup_opt(const char *s, bool *oom) {
  if (!set(s)) return NULL;
  char *p = strdup(s);
  if (p == NULL) *oom = true;
  return p;
}

static void free_handlers(iotc__handlers *h) {
  for (size_t i = 0; i < h->count; i++) {
    free(h->items[i].component);
    free(h->items[i].name);
  }
  free(h->items);
  memset(h, 0, sizeof *h);
}

static void free_client(iotc_client *c) {
  free(c->id_scope);
  free(c->registration_id);
  iotc__secret_free(c->device_key);
  free(c->cert_file);
  free(c->key_file);
  free(c->dps_endpoint);
  free(c->model_id);
  free(c->ca_file);
  free(c->cache_file);
  free(c->topic_buf);
  iotc__model_free(c->model);
  free_handlers(&c->prop_handlers);
  free_handlers(&c->cmd_handlers);
  for (size_t i = 0; i < c->default_count; i++) {
    free(c->defaults[i].component);
    free(c->defaults[i].name);
    free(c->defaults[i].value_json);
  }
  free(c->defaults);
  while (c->commands.pending) {
    iotc__pending_cmd *p = c->commands.pending;
    c->commands.pending = p->next;
    free(p);
  }
  free(c);
}

/* A refusal of iotc_client_create(): logged, and handed to the caller through @p err. */
__attribute__((format(printf, 3, 4)))
static iotc_result fail(iotc_error *err, iotc_result r, const char *fmt, ...) {
  char msg[IOTC_ERROR_MESSAGE_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  IOTC_LOGE("iotc_client_create: %s", msg);
  if (err) {
    iotc_error_clear(err);
    err->result = r;
    memcpy(err->message, msg, sizeof msg);
  }
  return r;
}

static iotc_result check_readable(iotc_error *err, const char *field, const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return fail(err, IOTC_ERR_IO, "%s '%.160s' cannot be read: %s", field, path, strerror(errno));
  }
  fclose(f);
  return IOTC_OK;
}

/* Identity: which credential, and the key the hub SAS is signed with. */
static iotc_result take_identity(iotc_client *c, const iotc_client_config *cfg, bool *oom,
                                 iotc_error *err) {
  if (set(cfg->connection_string)) {
    if (set(cfg->id_scope) || set(cfg->device_key) || set(cfg->group_key) || set(cfg->cert_file) ||
        set(cfg->key_file)) {
      return fail(err, IOTC_ERR_INVALID_ARG,
                  "give either a connection string or DPS settings (id_scope, device_key, "
                  "group_key, cert_file, key_file), not both");
    }
    iotc__conn_string cs;
    const char *why = "";
    iotc_result r = iotc__conn_string_parse(cfg->connection_string, &cs, &why);
    if (r != IOTC_OK) return fail(err, r, "connection_string: %s", why);
    if (strlen(cs.host) >= sizeof c->hub) {
      iotc__conn_string_clear(&cs);
      return fail(err, IOTC_ERR_INVALID_ARG, "connection_string: HostName is too long");
    }
    iotc_hub_name_rule rule = IOTC_HUB_NAME_TOO_LONG;
    size_t at = sizeof c->device_id - 1;
    if (strlen(cs.device_id) >= sizeof c->device_id ||
        iotc_hub_name_check(IOTC_HUB_NAME_DEVICE_ID, cs.device_id, &rule, &at) != IOTC_OK) {
      iotc__conn_string_clear(&cs);
      return fail(err, IOTC_ERR_INVALID_ARG, "connection_string: DeviceId is not valid: %s (byte %zu)",
                  iotc_hub_name_rule_text(rule), at);
    }
    char probe[8]; /* size 0 below: only the key is checked, nothing is written */
    iotc_result kr = iotc_sas_hub_token("h", cs.device_id, cs.key, 1, probe, 0, NULL);
    if (kr == IOTC_ERR_BAD_ENCODING || kr == IOTC_ERR_INVALID_ARG) {
      iotc__conn_string_clear(&cs);
      return fail(err, IOTC_ERR_INVALID_ARG,
                  "connection_string: SharedAccessKey is not valid base64");
    }
    strcpy(c->hub, cs.host);
    strcpy(c->device_id, cs.device_id);
    c->device_key = iotc__secret_dup(cs.key);
    if (c->device_key == NULL) *oom = true;
    iotc__conn_string_clear(&cs);
    c->use_dps = false;
    return IOTC_OK;
  }
  if (!set(cfg->id_scope) || !set(cfg->device_id)) {
    return fail(err, IOTC_ERR_INVALID_ARG,
                "%s is missing: give id_scope, device_id and one credential, or a "
                "connection_string", set(cfg->id_scope) ? "device_id" : "id_scope");
  }
  iotc_hub_name_rule rule;
  size_t at = 0;
  if (iotc_hub_name_check(IOTC_HUB_NAME_DEVICE_ID, cfg->device_id, &rule, &at) != IOTC_OK) {
    return fail(err, IOTC_ERR_INVALID_ARG, "device_id '%.64s' is not valid: %s (byte %zu)",
                cfg->device_id, iotc_hub_name_rule_text(rule), at);
  }
  int kinds = set(cfg->device_key) + set(cfg->group_key) + (set(cfg->cert_file) || set(cfg->key_file));
  if (kinds != 1) {
    return fail(err, IOTC_ERR_INVALID_ARG, "%s: give exactly one of device_key, group_key, "
                "cert_file+key_file", kinds == 0 ? "no credential" : "more than one credential");
  }
  c->use_dps = true;
  c->id_scope = dup_opt(cfg->id_scope, oom);
  c->registration_id = dup_opt(cfg->device_id, oom);
  if (set(cfg->device_key)) {
    char probe[8];
    iotc_result r = iotc_sas_hub_token("h", cfg->device_id, cfg->device_key, 1, probe, 0, NULL);
    if (r == IOTC_ERR_BAD_ENCODING || r == IOTC_ERR_INVALID_ARG) {
      return fail(err, IOTC_ERR_INVALID_ARG, "device_key is not valid base64");
    }
    c->device_key = iotc__secret_dup(cfg->device_key);
    if (c->device_key == NULL) *oom = true;
  } else if (set(cfg->group_key)) {
    char derived[IOTC_DERIVED_KEY_SIZE];
    iotc_result r = iotc_derive_device_key(cfg->group_key, cfg->device_id, derived, sizeof derived,
                                           NULL);
    if (r != IOTC_OK) {
      iotc__wipe(derived, sizeof derived);
      return r == IOTC_ERR_NO_MEMORY ? fail(err, r, "out of memory")
                                     : fail(err, IOTC_ERR_INVALID_ARG, "group_key is not valid base64");
    }
    c->device_key = iotc__secret_dup(derived);
    iotc__wipe(derived, sizeof derived);
    if (c->device_key == NULL) *oom = true;
  } else {
    if (!set(cfg->cert_file) || !set(cfg->key_file)) {
      return fail(err, IOTC_ERR_INVALID_ARG, "X.509 needs both cert_file and key_file (%s is "
                  "missing)", set(cfg->cert_file) ? "key_file" : "cert_file");
    }
    iotc_result r = check_readable(err, "cert_file", cfg->cert_file);
    if (r == IOTC_OK) r = check_readable(err, "key_file", cfg->key_file);
    if (r != IOTC_OK) return r;
    c->x509 = true;
    c->cert_file = dup_opt(cfg->cert_file, oom);
    c->key_file = dup_opt(cfg->key_file, oom);
  }
  return IOTC_OK;
}

/* Limits and timers; every refusal names the field. */
static iotc_result check_limits(const iotc_client_config *cfg, iotc_error *err) {
  const char *zero = cfg->max_inflight == 0 ? "max_inflight" :
                     cfg->queue_capacity == 0 ? "queue_capacity" :
                     cfg->connect_timeout_ms == 0 ? "connect_timeout_ms" :
                     cfg->keepalive_s == 0 ? "keepalive_s" : NULL;
  if (zero) return fail(err, IOTC_ERR_INVALID_ARG, "%s must be greater than 0", zero);
  if (cfg->sas_ttl_s < 10) {
    return fail(err, IOTC_ERR_INVALID_ARG, "sas_ttl_s must be at least 10 (seconds)");
  }
  if (cfg->connect_timeout_ms > IOTC__CONNECT_TIMEOUT_MAX_MS) {
    return fail(err, IOTC_ERR_INVALID_ARG, "connect_timeout_ms %u is more than %u (one hour)",
                (unsigned)cfg->connect_timeout_ms, (unsigned)IOTC__CONNECT_TIMEOUT_MAX_MS);
  }
  if (cfg->struct_version >= 3 && cfg->liveness_timeout_ms == 0) {
    return fail(err, IOTC_ERR_INVALID_ARG, "liveness_timeout_ms must be greater than 0");
  }
  if (cfg->struct_version >= 4) {
    if (cfg->transport != IOTC_TRANSPORT_MQTT && cfg->transport != IOTC_TRANSPORT_MQTT_WS &&
        cfg->transport != IOTC_TRANSPORT_AUTO) {
      return fail(err, IOTC_ERR_INVALID_ARG, "transport %d is unknown: use IOTC_TRANSPORT_MQTT, "
                  "IOTC_TRANSPORT_MQTT_WS or IOTC_TRANSPORT_AUTO", (int)cfg->transport);
    }
    if (cfg->fallback_after_ms == 0 || cfg->fallback_after_ms > IOTC__CONNECT_TIMEOUT_MAX_MS) {
      return fail(err, IOTC_ERR_INVALID_ARG, "fallback_after_ms %u is not 1 to %u",
                  (unsigned)cfg->fallback_after_ms, (unsigned)IOTC__CONNECT_TIMEOUT_MAX_MS);
    }
  }
  return IOTC_OK;
}

/* Everything that needs no thread: configuration, identity, model, trust, DPS settings. */
static iotc_result build_client(iotc_client *c, const iotc_client_config *cfg, iotc_error *err) {
  bool oom = false;
  iotc_result r = take_identity(c, cfg, &oom, err);
  if (r != IOTC_OK) return r;
  c->dps_https = cfg->dps_over_https;
  c->dps_endpoint = dup_opt(cfg->dps_endpoint, &oom);
  const char *model_file = cfg->struct_version >= 2 ? cfg->model_file : NULL;
  if (set(model_file) && (r = iotc__client_model_load(c, model_file, err)) != IOTC_OK) return r;
  const char *model_id = cfg->model_id;
  if (!set(model_id) && c->model) model_id = iotc__model_id(c->model);
  if (set(model_id) && strlen(model_id) > 512) {
    return fail(err, IOTC_ERR_INVALID_ARG, "%s is longer than 512 characters",
                set(cfg->model_id) ? "model_id" : "the device model's @id (the model id)");
  }
  if (set(cfg->model_id) && c->model && strcmp(cfg->model_id, iotc__model_id(c->model)) != 0) {
    IOTC_LOGW("iotc_client_create: model_id '%s' differs from the model file's @id '%s'",
              cfg->model_id, iotc__model_id(c->model));
  }
  c->model_id = dup_opt(model_id, &oom);
  c->cache_file = c->use_dps ? dup_opt(cfg->cache_file, &oom) : NULL;
  const char *ca = set(cfg->ca_file) ? cfg->ca_file : iotc_dps_default_ca_file();
  if (ca == NULL) {
    return fail(err, IOTC_ERR_IO, "no ca_file given, and the built-in Azure roots need "
                "memfd_create() and /proc: name a PEM trust bundle in ca_file");
  }
  if ((r = check_readable(err, set(cfg->ca_file) ? "ca_file" : "the built-in Azure roots", ca))) {
    return r;
  }
  c->ca_file = dup_opt(ca, &oom);
  c->sas_ttl_s = cfg->sas_ttl_s;
  c->keepalive_s = cfg->keepalive_s;
  c->connect_timeout_ms = cfg->connect_timeout_ms;
  c->reconnect_min_ms = cfg->reconnect_min_ms ? cfg->reconnect_min_ms : 1;
  c->reconnect_max_ms = cfg->reconnect_max_ms < c->reconnect_min_ms ? c->reconnect_min_ms
                                                                      : cfg->reconnect_max_ms;
  c->reprovision_after = cfg->reprovision_after;
  c->give_up_after = cfg->give_up_after;
  c->queue_capacity = cfg->queue_capacity;
  c->max_inflight = cfg->max_inflight;
  if (oom) return fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
  if (c->use_dps) { /* the DPS settings are checked now, not at the first connect */
    iotc_dps_config d;
    iotc__client_dps_config(c, &d);
    iotc_error derr;
    iotc_error_clear(&derr);
    iotc_dps *dps = NULL;
    r = iotc_dps_create(&d, &dps, &derr);
    iotc_dps_destroy(dps);
    if (r != IOTC_OK) {
      return fail(err, r, "DPS settings: %s", derr.message[0] ? derr.message : iotc_strerror(r));
    }
  }
  c->liveness_ms = cfg->struct_version >= 3 ? cfg->liveness_timeout_ms : 60000;
  iotc__transport_init(&c->tr, cfg->struct_version >= 4 ? cfg->transport : IOTC_TRANSPORT_MQTT,
                       cfg->struct_version >= 4 ? cfg->fallback_after_ms : 10000);
  /* The default property bag, computed once: the hot path copies it. */
  iotc_hub_telemetry_options ho;
  iotc_hub_telemetry_options_init(&ho);
  ho.content_type = "application/json";
  ho.content_encoding = "utf-8";
  if (iotc_hub_topic_property_bag(&ho, c->default_bag, sizeof c->default_bag,
                                  &c->default_bag_len) != IOTC_OK) {
    return fail(err, IOTC_ERR_INTERNAL, "the default telemetry property bag cannot be built");
  }
  return IOTC_OK;
}

static void free_locks_and_client(iotc_client *c);

/* Checks, configuration and locks: everything but the worker thread. */
static iotc_result create_client(const iotc_client_config *cfg, const iotc__io *io,
                                 iotc_client **out_client, iotc_error *err) {
  iotc_error_clear(err);
  if (out_client == NULL) return fail(err, IOTC_ERR_INVALID_ARG, "out_client is NULL");
  *out_client = NULL;
  if (cfg == NULL) return fail(err, IOTC_ERR_INVALID_ARG, "cfg is NULL");
  /* Versions 1 to 4 (built against an older iotc) end before model_file, liveness_timeout_ms,
   * transport, executor. */
  if (cfg->struct_version < 1 || cfg->struct_version > IOTC_CLIENT_CONFIG_VERSION) {
    return fail(err, IOTC_ERR_INVALID_ARG, "cfg->struct_version %d is unknown: initialise the "
                "config with iotc_client_config_init()", cfg->struct_version);
  }
  iotc_result r = check_limits(cfg, err);
  if (r != IOTC_OK) return r;
  iotc_client *c = calloc(1, sizeof *c);
  if (c == NULL) return fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
  c->io = io;
  r = build_client(c, cfg, err);
  if (r != IOTC_OK) {
    free_client(c);
    return r;
  }
  pthread_mutex_init(&c->mu, NULL);
  pthread_mutex_init(&c->send_mu, NULL);
  pthread_condattr_t ca_attr;
  pthread_condattr_init(&ca_attr);
  pthread_condattr_setclock(&ca_attr, CLOCK_MONOTONIC);
  pthread_cond_init(&c->wake, &ca_attr);
  pthread_cond_init(&c->state_cv, &ca_attr);
  pthread_condattr_destroy(&ca_attr);
  r = iotc__persist_queue_open(c, cfg, err);
  if (r != IOTC_OK) {
    free_locks_and_client(c);
    return r;
  }
  *out_client = c;
  return IOTC_OK;
}

/* Ops recovered from persist_dir that never reached the worker: no callback, kept on disk. */
static void free_unsent(iotc__op_list *l) {
  iotc__op *op;
  while ((op = iotc__list_pop_front(l)) != NULL) free(op);
}

static void free_locks_and_client(iotc_client *c) {
  free_unsent(&c->pending);
  free_unsent(&c->rep_pending);
  iotc__persist_queue_close(c);
  pthread_cond_destroy(&c->wake);
  pthread_cond_destroy(&c->state_cv);
  pthread_mutex_destroy(&c->mu);
  pthread_mutex_destroy(&c->send_mu);
  free_client(c);
}

iotc_result iotc_client_create(const iotc_client_config *cfg, iotc_client **out_client,
                               iotc_error *err) {
  iotc_result r = create_client(cfg, &iotc__io_system, out_client, err);
  if (r != IOTC_OK) return r;
  iotc_client *c = *out_client;
  iotc_executor *ex = cfg->struct_version >= 5 ? cfg->executor : NULL;
  if (ex != NULL) { /* no thread of its own: the executor runs its rounds */
    iotc__worker_init(c);
    r = iotc__executor_attach(ex, c, err);
    if (r != IOTC_OK) {
      free_locks_and_client(c);
      *out_client = NULL;
    }
    return r;
  }
  int e = iotc__worker_thread_start(&c->worker, iotc__worker_main, c);
  if (e != 0) {
    free_locks_and_client(c);
    *out_client = NULL;
    return fail(err, IOTC_ERR_NO_MEMORY, "cannot start the client's thread: %s", strerror(e));
  }
  return IOTC_OK;
}

iotc_result iotc__client_create_io(const iotc_client_config *cfg, const iotc__io *io,
                                   iotc_client **out, iotc_error *err) {
  iotc_result r = create_client(cfg, io, out, err);
  if (r != IOTC_OK) return r;
  (*out)->threadless = true;
  (*out)->worker = pthread_self(); /* the caller is the worker: the API does not wait for it */
  iotc__worker_init(*out);
  return IOTC_OK;
}

static void abs_deadline(struct timespec *ts, uint64_t deadline_ms) {
  ts->tv_sec = (time_t)(deadline_ms / 1000);
  ts->tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
}


_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "iotc_client_cancel_connect() needs a lock-free flag");

void iotc_client_cancel_connect(iotc_client *c) {
  /* Only a lock-free atomic store: safe in a signal handler. The waiting connect() looks at
   * the flag at least every CANCEL_POLL_MS. */
  if (c != NULL) atomic_store(&c->cancel_connect, true);
}

static iotc_result cancelled(iotc_error *err) {
  if (err) {
    err->result = IOTC_ERR_CANCELLED;
    snprintf(err->message, sizeof err->message, "the connect was cancelled by the application");
  }
  return IOTC_ERR_CANCELLED;
}

/* connect() was cancelled (mu held): stop the client as disconnect(0) would. The worker
 * finishes the stop in the background (an abandoned DPS request over HTTPS can take up to a
 * second); a later connect() waits for it (see wait_stop_locked). */
static void stop_cancelled_locked(iotc_client *c) {
  c->req_stop = true;
  c->stopped = false;
  c->stop_deadline = iotc__client_now(c);
  if (c->dps) c->io->dps_cancel(c->dps);
  iotc__wake_locked(c);
}

/* A stop (disconnect or cancel) still running (mu held): wait for it, bounded, so connect()
 * can start again. Not on the worker, which is the one that finishes the stop. */
static void wait_stop_locked(iotc_client *c) {
  if (iotc__on_worker(c)) return;
  struct timespec ts;
  abs_deadline(&ts, iotc__now_ms() + STOP_SETTLE_MS);
  while (c->started && c->req_stop && !c->gave_up && !c->quit) {
    if (pthread_cond_timedwait(&c->state_cv, &c->mu, &ts) == ETIMEDOUT) break;
  }
}

iotc_result iotc_client_connect(iotc_client *c, uint32_t timeout_ms, iotc_error *err) {
  iotc_error_clear(err);
  if (c == NULL) {
    IOTC_LOGE("iotc_client_connect: client is NULL");
    if (err) {
      err->result = IOTC_ERR_INVALID_ARG;
      snprintf(err->message, sizeof err->message, "client is NULL");
    }
    return IOTC_ERR_INVALID_ARG;
  }
  pthread_mutex_lock(&c->mu);
  wait_stop_locked(c);
  if (c->quit || (c->started && !c->gave_up)) {
    pthread_mutex_unlock(&c->mu);
    IOTC_LOGW("iotc_client_connect: the client is already started");
    if (err) {
      err->result = IOTC_ERR_STATE;
      snprintf(err->message, sizeof err->message, "the client is already started");
    }
    return IOTC_ERR_STATE;
  }
  if (atomic_exchange(&c->cancel_connect, false)) { /* requested before this connect began */
    pthread_mutex_unlock(&c->mu);
    return cancelled(err);
  }
  c->started = true;
  c->gave_up = false;
  c->stopped = false;
  c->req_start = true;
  c->req_stop = false;
  iotc_error_clear(&c->last_error);
  iotc__wake_locked(c);
  if (timeout_ms == 0 || iotc__on_worker(c)) {
    pthread_mutex_unlock(&c->mu);
    return IOTC_OK;
  }
  uint64_t deadline = iotc__now_ms() + timeout_ms;
  struct timespec ts;
  bool cancel = false;
  while (!c->connected && !c->gave_up && !c->quit && !c->stopped) {
    /* A signal handler cannot signal the condition variable: look at the flag in slices. */
    if ((cancel = atomic_exchange(&c->cancel_connect, false))) break;
    uint64_t now = iotc__now_ms();
    if (now >= deadline) break;
    abs_deadline(&ts, deadline - now > CANCEL_POLL_MS ? now + CANCEL_POLL_MS : deadline);
    pthread_cond_timedwait(&c->state_cv, &c->mu, &ts);
  }
  iotc_result r;
  if (cancel && !c->connected) {
    stop_cancelled_locked(c);
    r = cancelled(err);
  } else if (c->connected) {
    r = IOTC_OK;
  } else if (c->gave_up) {
    r = c->last_error.result ? c->last_error.result : IOTC_ERR_CONNECT;
    if (err) *err = c->last_error;
  } else {
    r = IOTC_ERR_TIMEOUT;
    if (err) {
      *err = c->last_error;
      err->result = r;
      if (err->message[0] == '\0') {
        snprintf(err->message, sizeof err->message, "not connected after %u ms; still trying",
                 (unsigned)timeout_ms);
      }
    }
  }
  pthread_mutex_unlock(&c->mu);
  return r;
}

iotc_result iotc_client_disconnect(iotc_client *c, uint32_t timeout_ms) {
  if (c == NULL) {
    IOTC_LOGE("iotc_client_disconnect: client is NULL");
    return IOTC_ERR_INVALID_ARG;
  }
  iotc__uploads_cancel_all(c);
  pthread_mutex_lock(&c->mu);
  if (!c->started) {
    iotc_result r = c->pending.count + c->rep_pending.count ? IOTC_ERR_TIMEOUT : IOTC_OK;
    pthread_mutex_unlock(&c->mu);
    return r;
  }
  c->req_stop = true;
  c->stopped = false;
  c->stop_deadline = iotc__client_now(c) + timeout_ms; /* the worker's clock */
  uint64_t stop_at = iotc__now_ms() + timeout_ms;      /* this thread's */
  /* Provisioning goes on while something waits to be sent (cancelled at the deadline below). */
  bool queued = c->pending.count + c->rep_pending.count > 0;
  if (c->dps && !queued) c->io->dps_cancel(c->dps);
  iotc__wake_locked(c);
  if (iotc__on_worker(c)) {
    pthread_mutex_unlock(&c->mu);
    return IOTC_OK;
  }
  /* The worker closes within timeout_ms plus one Paho disconnect (bounded by what is left of
   * timeout_ms); a worker held up by a user callback closes when the callback returns. */
  struct timespec ts, at_stop;
  abs_deadline(&ts, stop_at + IOTC__DISCONNECT_GRACE_MS);
  abs_deadline(&at_stop, stop_at);
  while (!c->stopped && !c->quit) {
    if (pthread_cond_timedwait(&c->state_cv, &c->mu, &at_stop) == ETIMEDOUT) break;
  }
  if (c->dps) c->io->dps_cancel(c->dps); /* still provisioning at the deadline */
  while (!c->stopped && !c->quit) {
    if (pthread_cond_timedwait(&c->state_cv, &c->mu, &ts) == ETIMEDOUT) break;
  }
  iotc_result r = c->stopped && c->pending.count + c->rep_pending.count == 0 ? IOTC_OK
                                                                              : IOTC_ERR_TIMEOUT;
  pthread_mutex_unlock(&c->mu);
  return r;
}

static void finish_list(iotc_client *c, iotc__op_list *l) {
  iotc__op *op;
  while ((op = iotc__list_pop_front(l)) != NULL) iotc__op_finish(c, op, IOTC_ERR_SHUTDOWN);
}

void iotc_client_destroy(iotc_client *c) {
  if (c == NULL) return;
  if (!c->threadless && iotc__on_worker(c)) {
    /* Joining the worker from itself would fail and free the client under its feet. */
    IOTC_LOGE("iotc_client_destroy: called from an iotc callback; refused, the client is kept");
    return;
  }
  if (iotc__uploads_on_thread(c)) {
    IOTC_LOGE("iotc_client_destroy: called from an upload callback; refused, the client is kept");
    return;
  }
  pthread_mutex_lock(&c->mu);
  c->quit = true;
  pthread_mutex_unlock(&c->mu);
  iotc__uploads_destroy(c); /* no new upload starts once quit is set */
  pthread_mutex_lock(&c->mu);
  if (c->dps) c->io->dps_cancel(c->dps);
  pthread_cond_signal(&c->wake);
  pthread_cond_broadcast(&c->state_cv);
  pthread_mutex_unlock(&c->mu);
  if (c->executor) {
    iotc__executor_detach(c); /* out of its queue; a round that runs finishes first */
  } else if (!c->threadless) {
    pthread_join(c->worker, NULL);
  }
  /* The worker is gone: this thread owns everything now. */
  iotc__jobs_shutdown(c);
  iotc__conn_teardown(c);
  finish_list(c, &c->inflight);
  if (c->reported.inflight) iotc__op_finish(c, c->reported.inflight, IOTC_ERR_SHUTDOWN);
  c->reported.inflight = NULL;
  finish_list(c, &c->pending);
  finish_list(c, &c->rep_pending);
  iotc__resp_free_all(c);
  iotc__free_events(&c->inbox);
  iotc__desired_drop_deferred(c);
  free_locks_and_client(c);
}

bool iotc_client_is_connected(const iotc_client *client) {
  if (client == NULL) return false;
  iotc_client *c = (iotc_client *)client;
  pthread_mutex_lock(&c->mu);
  bool r = c->connected;
  pthread_mutex_unlock(&c->mu);
  return r;
}

static iotc_result copy_out(const char *src, char *buf, size_t size) {
  if (buf == NULL) return IOTC_OK;
  size_t n = strlen(src);
  if (n + 1 > size) return IOTC_ERR_BUFFER_TOO_SMALL;
  memcpy(buf, src, n + 1);
  return IOTC_OK;
}

iotc_result iotc_client_get_hub(const iotc_client *client, char *hub, size_t hub_size,
                                char *device_id, size_t device_id_size) {
  if (client == NULL || (hub == NULL && device_id == NULL)) {
    IOTC_LOGE("iotc_client_get_hub: client is NULL or no output buffer");
    return IOTC_ERR_INVALID_ARG;
  }
  iotc_client *c = (iotc_client *)client;
  pthread_mutex_lock(&c->mu);
  const char *dev = c->device_id[0] ? c->device_id : (c->registration_id ? c->registration_id : "");
  iotc_result r = copy_out(c->hub, hub, hub_size);
  if (r == IOTC_OK) r = copy_out(dev, device_id, device_id_size);
  pthread_mutex_unlock(&c->mu);
  return r;
}

iotc_result iotc_client_get_stats(const iotc_client *client, iotc_client_stats *out) {
  if (client == NULL || out == NULL) {
    IOTC_LOGE("iotc_client_get_stats: client or out_stats is NULL");
    return IOTC_ERR_INVALID_ARG;
  }
  iotc_client *c = (iotc_client *)client;
  pthread_mutex_lock(&c->mu);
  *out = c->stats;
  out->queued = c->pending.count + c->rep_pending.count;
  pthread_mutex_unlock(&c->mu);
  return IOTC_OK;
}

iotc_result iotc_client_on_status(iotc_client *c, iotc_status_fn fn, void *user_context) {
  if (c == NULL) {
    IOTC_LOGE("iotc_client_on_status: client is NULL");
    return IOTC_ERR_INVALID_ARG;
  }
  pthread_mutex_lock(&c->mu);
  c->status_fn = fn;
  c->status_ctx = user_context;
  pthread_mutex_unlock(&c->mu);
  return IOTC_OK;
}
