/* SPDX-License-Identifier: MIT */
/* Desired properties (see desired.h): after every connection the full twin is fetched; what
 * changed while offline is handed to the application once (reconciliation), patches that arrive
 * meanwhile wait for it, and defaults the service has no value for are reported.
 * Locking: worker only, except the handler tables and defaults, read under mu. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central/backoff.h"
#include "central/client_internal.h"
#include "central/model_client.h"
#include "central/twin.h"
#include "common/log.h"
#include "iotc/hub_topic.h"

#define NO_TIMER UINT64_MAX
#define TWIN_TRIES 3

void iotc__desired_init(iotc_client *c) {
  c->desired.retry_at = NO_TIMER;
  c->desired.version = -1;
}

static void publish_control(iotc_client *c, const char *topic, const char *payload, size_t len) {
  if (c->conn.session == NULL) return;
  if (c->io->session_publish(c->conn.session, topic, payload, len, 0, NULL) != IOTC_OK) {
    IOTC_LOGW("could not publish to %.80s: not connected", topic);
  }
}

static void send_twin_get(iotc_client *c) {
  char topic[64];
  iotc__next_rid(c, 'g', c->desired.rid);
  if (iotc_hub_topic_twin_get(c->desired.rid, topic, sizeof topic, NULL) == IOTC_OK) {
    publish_control(c, topic, "", 0);
  }
  c->desired.tries++;
  c->desired.retry_at = iotc__client_now(c) + c->connect_timeout_ms;
  if (c->desired.asked_ms == 0) c->desired.asked_ms = iotc__client_now(c); /* liveness: first unanswered GET */
}

void iotc__desired_seen(iotc_client *c, int64_t version) {
  int64_t seen = atomic_load(&c->desired.seen);
  while (version > seen && !atomic_compare_exchange_weak(&c->desired.seen, &seen, version)) {
  }
}

static void drop_deferred(iotc_client *c) { iotc__free_events(&c->desired.deferred); }

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
    if (iotc__queue_ack(c, u->component, u->name, u->value_json, 400,
                        u->version < 0 ? 0 : u->version, why, NULL, NULL) != IOTC_OK) {
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
  if (iotc__queue_ack(c, u->component, u->name, u->value_json, 404,
                      u->version < 0 ? 0 : u->version, desc, NULL, NULL) != IOTC_OK) {
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
                                   deferred ? c->desired.version : INT64_MIN, &version, &why);
  if (r == IOTC_ERR_NO_MATCH) {
    IOTC_LOGD("ignoring desired patch version %lld (twin is at %lld)", (long long)version,
              (long long)c->desired.version);
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
  c->desired.asked_ms = 0;
  if (status == 429 || status >= 500) {
    IOTC_LOGW("twin GET answered %d: retrying", status);
    c->desired.retry_at = iotc__client_now(c) + iotc__backoff_ms(c->desired.tries, c->reconnect_min_ms,
                                                  c->reconnect_max_ms, status == 429,
                                                  iotc__backoff_random());
    c->desired.rid[0] = '\0';
    c->desired.tries = 0;
    return;
  }
  c->desired.rid[0] = '\0';
  iotc__twin *t = NULL;
  const char *why = "";
  bool usable = status == 200 && iotc__twin_parse(body, len, &t, &c->desired.version, &why) == IOTC_OK;
  if (!usable && status == 200 && c->desired.tries < TWIN_TRIES) {
    /* An unreadable twin is asked for again: what changed while offline is in it. */
    IOTC_LOGW("the twin could not be read (%s): asking again", why);
    c->desired.version = -1;
    c->desired.retry_at = iotc__client_now(c) + iotc__backoff_ms(c->desired.tries, c->reconnect_min_ms,
                                                  c->reconnect_max_ms, false,
                                                  iotc__backoff_random());
    return;
  }
  c->desired.retry_at = NO_TIMER;
  if (!usable) {
    IOTC_LOGE("the twin could not be used (status %d): %s", status, status == 200 ? why : "");
    c->desired.version = -1;
  } else {
    visit_ctx v = {c, true};
    iotc__twin_pending(t, is_component_cb, c, dispatch_property, &v);
    report_defaults(c, t);
    iotc__twin_free(t);
  }
  c->desired.ready = true;
  iotc__queue waiting = iotc__queue_take_all(&c->desired.deferred);
  iotc__link *l;
  while ((l = iotc__queue_pop_front(&waiting)) != NULL) {
    process_patch(c, iotc__event_of(l), true);
    iotc__free_event(iotc__event_of(l));
  }
}

/* Worker: a desired patch before the twin waits for it (the twin decides which patches are
 * news); true when @p ev was kept. */
bool iotc__desired_on_patch(iotc_client *c, iotc__event *ev) {
  if (c->desired.ready) {
    process_patch(c, ev, false);
    return false;
  }
  iotc__queue_push_back(&c->desired.deferred, &ev->link);
  return true;
}

bool iotc__desired_on_response(iotc_client *c, const iotc_hub_twin_response *res,
                               const iotc__event *ev) {
  if (c->desired.rid[0] == '\0' || res->request_id.len != strlen(c->desired.rid) ||
      memcmp(res->request_id.ptr, c->desired.rid, res->request_id.len) != 0) {
    return false;
  }
  process_twin(c, res->status, ev->payload, ev->payload_len);
  return true;
}

void iotc__desired_drop_deferred(iotc_client *c) { drop_deferred(c); }

/* ---- hooks ------------------------------------------------------------------------------ */

static void on_connected(iotc_client *c, iotc__session *s) {
  (void)s;
  c->desired.tries = 0;
  c->desired.ready = false;
  send_twin_get(c);
}

static void on_teardown(iotc_client *c) {
  c->desired.ready = false;
  c->desired.asked_ms = 0;
  c->desired.rid[0] = '\0';
  c->desired.retry_at = NO_TIMER;
  drop_deferred(c);
}

static uint64_t deadline(iotc_client *c) { return c->desired.retry_at; }

static void on_timer(iotc_client *c, uint64_t now) {
  if (c->desired.retry_at > now) return;
  c->desired.retry_at = NO_TIMER;
  if (!iotc__conn_is_up(&c->conn) || c->desired.ready) return;
  if (c->desired.tries < TWIN_TRIES) {
    IOTC_LOGW("no answer to the twin GET: asking again");
    send_twin_get(c);
  } else {
    IOTC_LOGE("the twin could not be fetched: live patches are applied without it");
    process_twin(c, 0, "", 0);
  }
}

static bool overdue(iotc_client *c, uint64_t now, char *why, size_t size) {
  if (c->desired.asked_ms == 0 || now - c->desired.asked_ms < c->liveness_ms) return false;
  snprintf(why, size, "no answer from the hub to the twin GET for %u ms: reconnecting",
           (unsigned)c->liveness_ms);
  return true;
}

const iotc__feature iotc__desired_feature = {on_connected, on_teardown, deadline, on_timer,
                                             overdue, NULL};
