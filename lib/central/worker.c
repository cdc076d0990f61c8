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
#include "central/conn.h"
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

/* ---- helpers ---------------------------------------------------------------------------- */

void iotc__op_finish(iotc_client *c, iotc__op *op, iotc_result result) {
  if (result != IOTC_OK && op->kind == IOTC__OP_TELEMETRY) {
    pthread_mutex_lock(&c->mu);
    c->stats.telemetry_failed++;
    pthread_mutex_unlock(&c->mu);
  }
  if (op->on_done) op->on_done(c, result, op->user_context);
  free(op);
}

static void next_rid(iotc_client *c, char prefix, char out[16]) {
  snprintf(out, 16, "%c%u", prefix, ++c->rid_counter);
}

static void publish_control(iotc_client *c, const char *topic, const char *payload, size_t len) {
  if (c->conn.session == NULL) return;
  if (c->io->session_publish(c->conn.session, topic, payload, len, 0, NULL) != IOTC_OK) {
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

static void send_twin_get(iotc_client *c) {
  char topic[64];
  next_rid(c, 'g', c->twin_rid);
  if (iotc_hub_topic_twin_get(c->twin_rid, topic, sizeof topic, NULL) == IOTC_OK) {
    publish_control(c, topic, "", 0);
  }
  c->twin_tries++;
  c->t_twin = iotc__client_now(c) + c->connect_timeout_ms;
  if (c->twin_asked_ms == 0) c->twin_asked_ms = iotc__client_now(c); /* liveness: first unanswered GET */
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
  } else if (r != IOTC_OK) {
    IOTC_LOGE("ignoring a desired patch: %s", why);
  }
}

static void report_defaults(iotc_client *c, const iotc__twin *t) {
  pthread_mutex_lock(&c->mu);
  size_t n = c->default_count;
  iotc__default *copy = n ? calloc(n, sizeof *copy) : NULL;
  for (size_t i = 0; copy && i < n; i++) {
    copy[i].component = c->defaults[i].component ? strdup(c->defaults[i].component) : NULL;
    copy[i].name = strdup(c->defaults[i].name);
    copy[i].value_json = strdup(c->defaults[i].value_json);
  }
  pthread_mutex_unlock(&c->mu);
  for (size_t i = 0; copy && i < n; i++) {
    iotc__default *d = &copy[i];
    if (d->name && d->value_json && !iotc__twin_has_desired(t, d->component, d->name) &&
        !iotc__twin_has_reported(t, d->component, d->name)) {
      /* Checked when set (iotc_client_set_property_default()): queued without a second look. */
      if (iotc__queue_ack(c, d->component, d->name, d->value_json, 203, 0, "default", NULL,
                          NULL) != IOTC_OK) {
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
    c->t_twin = iotc__client_now(c) + iotc__backoff_ms(c->twin_tries, c->reconnect_min_ms,
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
    c->t_twin = iotc__client_now(c) + iotc__backoff_ms(c->twin_tries, c->reconnect_min_ms,
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
    c->t_rep_retry = iotc__client_now(c) + iotc__backoff_ms(c->rep_retries++, c->reconnect_min_ms,
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

static void send_method_response(iotc_client *c, const char *rid, int status, const char *payload) {
  iotc__resp_queue(c, rid, status, payload);
  if (iotc__conn_can_send(c)) iotc__resp_pump(c, c->conn.session);
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

static void add_pending_cmd(iotc_client *c, const char *rid) {
  size_t n = strlen(rid);
  iotc__pending_cmd *p = malloc(sizeof *p + n + 1);
  if (p == NULL) return;
  memcpy(p->rid, rid, n + 1);
  p->created_ms = iotc__client_now(c);
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
  if (rid) add_pending_cmd(c, rid);
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
  if (name == NULL || (m.component.ptr && comp == NULL)) goto out;
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
  size_t max = iotc__inbox_limit(ev->topic, ev->topic_len);
  iotc_hub_method_request m;
  if (iotc_hub_topic_method_parse(ev->topic, ev->topic_len, &m) == IOTC_OK) {
    char *rid = view_dup(m.request_id);
    char msg[160];
    snprintf(msg, sizeof msg, "the command payload (%zu bytes) is larger than the %zu bytes the "
             "device accepts", ev->oversize, max);
    IOTC_LOGW("%s: answering 413", msg);
    if (rid) respond_error(c, rid, 413, msg);
    free(rid);
    return;
  }
  IOTC_LOGW("ignoring a %s of %zu bytes: larger than the %zu bytes accepted",
            max == IOTC__IN_TWIN_MAX ? "twin message" : "cloud-to-device message", ev->oversize,
            max);
}

/* Worker: a desired patch before the twin waits for it (the twin decides which patches are
 * news); true when @p ev was kept. */
static bool desired_patch_arrived(iotc_client *c, iotc__event *ev) {
  if (c->twin_ready) {
    process_patch(c, ev, false);
    return false;
  }
  ev->next = NULL;
  if (c->deferred_tail) {
    c->deferred_tail->next = ev;
  } else {
    c->deferred = ev;
  }
  c->deferred_tail = ev;
  return true;
}

/* Which feature a message belongs to: the pure layer's parsers, each answering
 * IOTC_ERR_NO_MATCH for the other features' topics, tried in turn. True when @p ev was kept. */
static bool route(iotc_client *c, iotc__event *ev) {
  const char *t = ev->topic;
  size_t n = ev->topic_len;
  iotc_hub_twin_response tr;
  iotc_hub_twin_desired td;
  iotc_hub_method_request mr;
  iotc_hub_c2d_message m;
  if (iotc_hub_topic_twin_response_parse(t, n, &tr) != IOTC_ERR_NO_MATCH) {
    process_twin_response(c, ev);
  } else if (iotc_hub_topic_twin_desired_parse(t, n, &td) != IOTC_ERR_NO_MATCH) {
    return desired_patch_arrived(c, ev);
  } else if (iotc_hub_topic_method_parse(t, n, &mr) != IOTC_ERR_NO_MATCH) {
    process_method(c, ev);
  } else if (iotc_hub_topic_c2d_parse(t, n, &m) == IOTC_OK) {
    process_c2d(c, ev, &m);
  } else {
    IOTC_LOGW("ignoring a message on an unexpected topic");
  }
  return false;
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
  if (!route(c, ev)) iotc__free_event(ev);
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

static void pump_reported(iotc_client *c, uint64_t now) {
  if (c->rep_inflight || now < c->t_rep_retry) return;
  pthread_mutex_lock(&c->mu);
  iotc__op *op = iotc__list_pop_front(&c->rep_pending);
  pthread_mutex_unlock(&c->mu);
  if (op == NULL) return;
  char topic[80];
  next_rid(c, 'r', c->rep_rid);
  if (iotc_hub_topic_twin_patch_reported(c->rep_rid, topic, sizeof topic, NULL) != IOTC_OK ||
      c->io->session_publish(c->conn.session, topic, op->payload, op->payload_len, 0, NULL) != IOTC_OK) {
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

/* ---- feature hooks (called by the connection state machine) ----------------------------- */

static void desired_on_timer(iotc_client *c, uint64_t now) {
  if (c->t_twin > now) return;
  c->t_twin = NO_TIMER;
  if (!iotc__conn_is_up(c) || c->twin_ready) return;
  if (c->twin_tries < TWIN_TRIES) {
    IOTC_LOGW("no answer to the twin GET: asking again");
    send_twin_get(c);
  } else {
    IOTC_LOGE("the twin could not be fetched: live patches are applied without it");
    process_twin(c, 0, "", 0);
  }
}

void iotc__features_on_connected(iotc_client *c, iotc__session *s) {
  c->twin_tries = 0;
  c->twin_ready = false;
  send_twin_get(c);
  c->t_rep_retry = 0;
  iotc__window_open(c, s);
}

void iotc__features_on_teardown(iotc_client *c) {
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
  pthread_mutex_unlock(&c->mu);
  c->twin_ready = false;
  c->twin_asked_ms = 0;
  c->twin_rid[0] = c->rep_rid[0] = '\0';
  c->t_twin = NO_TIMER;
  drop_deferred(c);
}

bool iotc__features_idle(iotc_client *c) {
  return atomic_load(&c->inflight_n) == 0 && c->rep_inflight == NULL;
}

bool iotc__features_overdue(iotc_client *c, uint64_t now, char *why, size_t size) {
  uint64_t oldest = iotc__window_oldest_ms(c);
  if (oldest != UINT64_MAX && now - oldest >= c->liveness_ms) {
    snprintf(why, size, "no acknowledgement (PUBACK) from the hub for %u ms: reconnecting",
             (unsigned)c->liveness_ms);
    return true;
  }
  if (c->twin_asked_ms && now - c->twin_asked_ms >= c->liveness_ms) {
    snprintf(why, size, "no answer from the hub to the twin GET for %u ms: reconnecting",
             (unsigned)c->liveness_ms);
    return true;
  }
  if (c->rep_inflight && now - c->rep_inflight->sent_ms >= c->liveness_ms) {
    snprintf(why, size, "no answer from the hub to a reported PATCH for %u ms: reconnecting",
             (unsigned)c->liveness_ms);
    iotc__op *op = c->rep_inflight;
    if (op->attempts >= REPORTED_ATTEMPTS) {
      c->rep_inflight = NULL;
      c->rep_rid[0] = '\0';
      IOTC_LOGE("a reported PATCH went unanswered %d times: failing it", REPORTED_ATTEMPTS);
      iotc__op_finish(c, op, IOTC_ERR_TIMEOUT);
    }
    return true;
  }
  return false;
}

/* ---- main loop -------------------------------------------------------------------------- */

/* What one round of the worker takes from the inbox. */
typedef struct round {
  unsigned flags;
  int code;
  char text[sizeof ((iotc_client *)0)->fail_text];
  iotc__event *evs;
  iotc__op *done;
  bool start, stop;
  uint64_t stop_deadline, job_due;
} round;

/* Take what arrived (mu held); true when there is work now, else *wake_at says until when the
 * worker may sleep. */
static bool collect_locked(iotc_client *c, round *r, uint64_t *wake_at) {
  r->flags = c->sflags;
  c->sflags = 0;
  r->code = c->fail_code;
  memcpy(r->text, c->fail_text, sizeof r->text);
  r->evs = c->ev_head;
  c->ev_head = c->ev_tail = NULL;
  r->done = iotc__window_take_done_locked(c);
  r->start = c->req_start;
  c->req_start = false;
  r->stop = c->req_stop;
  r->stop_deadline = c->stop_deadline;
  uint64_t now = iotc__client_now(c);
  bool responses = atomic_load(&c->resp_done) != NULL;
  bool sendable = iotc__conn_can_send(c) &&
                  (iotc__resp_sendable(c) ||
                   (c->pending.count && atomic_load(&c->inflight_n) < c->max_inflight) ||
                   (c->rep_pending.count && c->rep_inflight == NULL && now >= c->t_rep_retry));
  uint64_t t = iotc__worker_deadline_locked(c);
  r->job_due = iotc__jobs_next_due_locked(c);
  *wake_at = t;
  return r->flags || r->evs || r->done || responses || r->start || sendable || t <= now ||
         (r->stop && iotc__conn_stop_needs_round(c));
}

uint64_t iotc__worker_deadline_locked(iotc_client *c) {
  uint64_t t = iotc__conn_deadline(c);
  if (c->t_twin < t) t = c->t_twin;
  if (iotc__conn_is_up(c) && c->t_rep_retry > 0 && c->rep_inflight == NULL &&
      c->rep_pending.count && c->t_rep_retry < t) {
    t = c->t_rep_retry;
  }
  if (c->req_stop && !iotc__conn_closing_to_stop(c) && c->stop_deadline < t) {
    t = c->stop_deadline; /* draining or connecting to drain: the caller's timeout */
  }
  uint64_t job_due = iotc__jobs_next_due_locked(c);
  return job_due < t ? job_due : t;
}

static bool stop_still_requested(iotc_client *c) {
  pthread_mutex_lock(&c->mu);
  bool requested = c->req_stop; /* cleared when a close in this round already finished */
  pthread_mutex_unlock(&c->mu);
  return requested;
}

static void run_round(iotc_client *c, round *r) {
  if (r->start) {
    iotc__conn_event ev = {IOTC__CONN_START, 0, NULL, 0, 0};
    iotc__conn_dispatch(c, &ev);
  }
  handle_done(c, r->done); /* completions come before the loss that follows them */
  if (r->flags) iotc__conn_session_flags(c, r->flags, r->code, r->text);
  handle_events(c, r->evs);
  uint64_t now = iotc__client_now(c);
  iotc__conn_on_timer(c, now);
  desired_on_timer(c, now);
  iotc__conn_check_liveness(c, now);
  if (r->job_due <= now) iotc__jobs_run_due(c);
  if (r->stop && stop_still_requested(c)) {
    iotc__conn_event ev = {IOTC__CONN_STOP, 0, NULL, now, r->stop_deadline};
    iotc__conn_dispatch(c, &ev);
  }
  iotc__resp_completions(c);
  if (iotc__conn_can_send(c)) {
    iotc__resp_pump(c, c->conn.session);
    iotc__window_pump(c);
    pump_reported(c, now);
  }
}

void iotc__worker_init(iotc_client *c) {
  iotc__conn_init(c);
  c->t_twin = NO_TIMER;
  c->twin_version = -1;
  iotc__stack_bounds(&c->stack_lo, &c->stack_hi);
}

void iotc__worker_step(iotc_client *c) {
  round r;
  uint64_t wake_at;
  pthread_mutex_lock(&c->mu);
  (void)collect_locked(c, &r, &wake_at);
  pthread_mutex_unlock(&c->mu);
  run_round(c, &r);
}

void *iotc__worker_main(void *arg) {
  iotc_client *c = arg;
  iotc__worker_init(c);
  pthread_mutex_lock(&c->mu);
  while (!c->quit) {
    /* Announced before the completions are looked at: a completion pushed after the look sees
     * it and signals (see op_done in window.c). */
    atomic_store(&c->worker_waiting, true);
    round r;
    uint64_t t;
    if (!collect_locked(c, &r, &t)) {
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
    run_round(c, &r);
    pthread_mutex_lock(&c->mu);
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}
