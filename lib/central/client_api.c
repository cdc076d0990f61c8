/* SPDX-License-Identifier: MIT */
/* Client API: telemetry, reported and writable properties, commands, C2D handlers. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "central/client_internal.h"
#include "central/payloads.h"
#include "common/json.h"
#include "central/model_client.h"
#include "common/log.h"
#include "iotc/hub_topic.h"

/* IoT Hub's limit for a device-to-cloud message, counted with its topic. */
#define HUB_MESSAGE_MAX (256u * 1024u)
/* `devices/` + 128-byte id + `/messages/events/` */
#define TOPIC_PREFIX_MAX (8u + 128u + 17u)
/* IoT Hub's limit for one reported property document. */
#define REPORTED_MAX (32u * 1024u)

static iotc_result bad(const char *fn, const char *why) {
  IOTC_LOGE("%s: %s", fn, why);
  return IOTC_ERR_INVALID_ARG;
}

static iotc_result check_name(const char *fn, iotc_hub_name_kind kind, const char *what,
                              const char *name) {
  iotc_hub_name_rule rule;
  size_t at = 0;
  if (iotc_hub_name_check(kind, name, &rule, &at) == IOTC_OK) return IOTC_OK;
  IOTC_LOGE("%s: %s '%.64s' is not valid: %s (byte %zu)", fn, what, name ? name : "(null)",
            iotc_hub_name_rule_text(rule), at);
  return IOTC_ERR_INVALID_ARG;
}

static iotc_result check_json(const char *fn, const char *what, const char *json, char want) {
  if (json == NULL || *json == '\0') return bad(fn, "the JSON text is NULL or empty");
  char kind = 0;
  const char *why = iotc__json_check(json, strlen(json), &kind);
  if (why != NULL) {
    IOTC_LOGE("%s: %s is not valid JSON: %s", fn, what, why);
    return IOTC_ERR_INVALID_ARG;
  }
  if (want && kind != want) {
    IOTC_LOGE("%s: %s must be a JSON object", fn, what);
    return IOTC_ERR_INVALID_ARG;
  }
  return IOTC_OK;
}

/* ---- telemetry -------------------------------------------------------------------------- */

void iotc_telemetry_options_init(iotc_telemetry_options *opts) {
  if (opts == NULL) return;
  memset(opts, 0, sizeof *opts);
  opts->struct_version = IOTC_TELEMETRY_OPTIONS_VERSION;
  opts->qos = 1;
}

static bool only_defaults(const iotc_telemetry_options *o) {
  return o == NULL || (o->component == NULL && o->property_count == 0 && o->content_type == NULL &&
                       o->content_encoding == NULL && o->message_id == NULL &&
                       o->correlation_id == NULL && !o->creation_time);
}

static void utc_now(char out[64]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  if (tm.tm_year > 8000) tm.tm_year = 8000; /* keeps the text within 24 bytes */
  snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (ts.tv_nsec / 1000000L) % 1000);
}

/* The property bag for @p o (the topic prefix is added when the message is sent). */
static iotc_result build_bag(const iotc_telemetry_options *o, char **out, size_t *out_len) {
  static const char fn[] = "iotc_client_send_telemetry";
  iotc_hub_telemetry_options ho;
  iotc_hub_telemetry_options_init(&ho);
  if (o->component && check_name(fn, IOTC_HUB_NAME_COMPONENT, "component", o->component)) {
    return IOTC_ERR_INVALID_ARG;
  }
  if (o->property_count && o->properties == NULL) return bad(fn, "properties is NULL");
  if (o->property_count > 64) return bad(fn, "more than 64 custom properties");
  iotc_hub_property props[64];
  for (size_t i = 0; i < o->property_count; i++) {
    if (check_name(fn, IOTC_HUB_NAME_MESSAGE_PROPERTY, "property name", o->properties[i].name)) {
      return IOTC_ERR_INVALID_ARG;
    }
    if (o->properties[i].value == NULL) return bad(fn, "a custom property value is NULL");
    props[i].key = o->properties[i].name;
    props[i].value = o->properties[i].value;
  }
  char when[64];
  if (o->creation_time) utc_now(when);
  ho.component = o->component;
  ho.content_type = o->content_type ? o->content_type : "application/json";
  ho.content_encoding = o->content_encoding ? o->content_encoding : "utf-8";
  ho.message_id = o->message_id;
  ho.correlation_id = o->correlation_id;
  ho.creation_time_utc = o->creation_time ? when : NULL;
  ho.properties = o->property_count ? props : NULL;
  ho.property_count = o->property_count;
  size_t need = 0;
  char probe[1];
  iotc_result r = iotc_hub_topic_property_bag(&ho, probe, sizeof probe, &need);
  if (r == IOTC_ERR_INVALID_ARG) return bad(fn, "an option is empty or not acceptable in a topic");
  if (r == IOTC_ERR_TOO_LARGE) return r;
  if (r != IOTC_OK && r != IOTC_ERR_BUFFER_TOO_SMALL) return IOTC_ERR_INTERNAL;
  /* The topic is the prefix (up to TOPIC_PREFIX_MAX) and the bag: MQTT caps it at 65535. */
  if (need > 65535u - TOPIC_PREFIX_MAX) return IOTC_ERR_TOO_LARGE;
  char *buf = malloc(need + 1);
  if (buf == NULL) return IOTC_ERR_NO_MEMORY;
  r = iotc_hub_topic_property_bag(&ho, buf, need + 1, &need);
  if (r != IOTC_OK) { /* same options as the measuring call: cannot happen */
    free(buf);
    return IOTC_ERR_INTERNAL;
  }
  *out = buf;
  *out_len = need;
  return IOTC_OK;
}

static iotc_result enqueue(iotc_client *c, iotc__op *op, bool reported) {
  pthread_mutex_lock(&c->mu);
  iotc_result r = IOTC_OK;
  size_t queued = c->pending.count + c->rep_pending.count;
  if (c->quit || c->gave_up) {
    r = IOTC_ERR_STATE;
  } else if (op->pseq == 0 && queued >= c->queue_capacity) {
    /* acknowledgements count too: one bound for all; persisted ones are bound by the disk */
    r = IOTC_ERR_QUEUE_FULL;
  } else {
    iotc__list_push_back(reported ? &c->rep_pending : &c->pending, op);
    /* Telemetry needs no wake-up: the caller sends it (below), or the window is full or closed
     * and a completion or the next connect makes the worker send it. */
    if (reported) iotc__wake_locked(c);
  }
  pthread_mutex_unlock(&c->mu);
  if (r == IOTC_ERR_STATE) {
    IOTC_LOGE("%s: the client gave up or is being destroyed", reported ? "report" : "telemetry");
  } else if (r == IOTC_ERR_QUEUE_FULL) {
    IOTC_LOGW("%s: the queue is full (%zu messages)", reported ? "report" : "telemetry",
              c->queue_capacity);
  }
  return r;
}

/* Build the message, persist it (when @p persisted; persist lock held) and queue it. */
static iotc_result queue_telemetry(iotc_client *c, const char *json, size_t len, int qos,
                                   const iotc_telemetry_options *opts, bool persisted) {
  static const char fn[] = "iotc_client_send_telemetry";
  iotc__op *op;
  if (only_defaults(opts)) {
    if (len + c->default_bag_len + TOPIC_PREFIX_MAX > HUB_MESSAGE_MAX) goto too_large;
    op = iotc__op_new(IOTC__OP_TELEMETRY, c->default_bag, c->default_bag_len, json, len);
  } else {
    char *bag = NULL;
    size_t bag_len = 0;
    iotc_result r = build_bag(opts, &bag, &bag_len);
    if (r == IOTC_ERR_TOO_LARGE) goto too_large;
    if (r != IOTC_OK) return r;
    if (len + bag_len + TOPIC_PREFIX_MAX > HUB_MESSAGE_MAX) {
      free(bag);
      goto too_large;
    }
    op = iotc__op_new(IOTC__OP_TELEMETRY, bag, bag_len, json, len);
    free(bag);
  }
  if (op == NULL) return IOTC_ERR_NO_MEMORY;
  op->client = c;
  op->qos = (uint8_t)qos;
  iotc__window_init_op(op);
  if (opts) {
    op->on_done = opts->on_done;
    op->user_context = opts->user_context;
  }
  iotc_result r = persisted ? iotc__persist_append(c, op) : IOTC_OK;
  if (r == IOTC_OK) r = enqueue(c, op, false);
  if (r != IOTC_OK) {
    if (op->pseq) iotc__persist_cancel(c, op);
    free(op);
  }
  return r;
too_large:
  IOTC_LOGE("%s: the message (%zu bytes) is larger than IoT Hub accepts (256 KiB with its topic)",
            fn, len);
  return IOTC_ERR_TOO_LARGE;
}

iotc_result iotc_client_send_telemetry(iotc_client *c, const char *json,
                                       const iotc_telemetry_options *opts) {
  static const char fn[] = "iotc_client_send_telemetry";
  if (c == NULL) return bad(fn, "client is NULL");
  if (json == NULL || *json == '\0') return bad(fn, "the payload is NULL or empty");
  if (opts && opts->struct_version != IOTC_TELEMETRY_OPTIONS_VERSION) {
    return bad(fn, "opts->struct_version is unknown: initialise with iotc_telemetry_options_init()");
  }
  int qos = opts ? opts->qos : 1;
  if (qos != 0 && qos != 1) return bad(fn, "qos must be 0 or 1");
  size_t len = strlen(json);
  const char *ct = opts ? opts->content_type : NULL;
  if (ct == NULL || strncasecmp(ct, "application/json", 16) == 0) {
    char kind = 0;
    const char *why = iotc__json_check(json, len, &kind);
    if (why) {
      IOTC_LOGE("%s: the payload is not valid JSON (%s)", fn, why);
      return IOTC_ERR_INVALID_ARG;
    }
    if (kind != '{') {
      IOTC_LOGE("%s: the payload must be a JSON object ({\"name\": value, ...}): IoT Central "
                "reads telemetry only from objects", fn);
      return IOTC_ERR_INVALID_ARG;
    }
    if (c->model != NULL && iotc__client_model_members(c, fn, opts ? opts->component : NULL,
                                                       IOTC__MODEL_TELEMETRY, json, len)) {
      return IOTC_ERR_INVALID_ARG;
    }
  }
  bool persisted = c->persist != NULL && qos == 1;
  iotc_telemetry_options with_mid;
  char mid[48];
  if (persisted) { /* the id, the record and the queue entry are made in one order */
    iotc__persist_lock(c);
    if (opts == NULL || opts->message_id == NULL) {
      iotc_telemetry_options_init(&with_mid);
      if (opts) with_mid = *opts;
      iotc__persist_next_mid(c, mid);
      with_mid.message_id = mid;
      opts = &with_mid;
    }
  }
  iotc_result r = queue_telemetry(c, json, len, qos, opts, persisted);
  if (persisted) iotc__persist_unlock(c);
  if (r != IOTC_OK) return r;
  /* Out now when the window has room, without waking the worker. On the worker itself (a
   * callback sending the next message) the pump after the callbacks sends them together. */
  if (!iotc__on_worker(c) && iotc__window_pump(c)) {
    pthread_mutex_lock(&c->mu); /* Paho refused it: the worker handles what follows */
    iotc__wake_locked(c);
    pthread_mutex_unlock(&c->mu);
  }
  return IOTC_OK;
}

/* ---- reported properties ---------------------------------------------------------------- */

iotc_result iotc__queue_reported(iotc_client *c, char *payload, size_t len, iotc_done_fn on_done,
                                 void *user_context) {
  if (payload == NULL) return IOTC_ERR_NO_MEMORY;
  if (len > REPORTED_MAX) {
    free(payload);
    IOTC_LOGE("report: the reported document (%zu bytes) is larger than IoT Hub's 32 KiB", len);
    return IOTC_ERR_TOO_LARGE;
  }
  iotc__op *op = iotc__op_new(IOTC__OP_REPORTED, NULL, 0, payload, len);
  free(payload);
  if (op == NULL) return IOTC_ERR_NO_MEMORY;
  op->client = c;
  op->on_done = on_done;
  op->user_context = user_context;
  if (c->persist == NULL) {
    iotc_result r = enqueue(c, op, true);
    if (r != IOTC_OK) free(op);
    return r;
  }
  iotc__persist_lock(c);
  iotc_result r = iotc__persist_append(c, op);
  if (r == IOTC_OK) r = enqueue(c, op, true);
  if (r != IOTC_OK && op->pseq) iotc__persist_cancel(c, op);
  iotc__persist_unlock(c);
  if (r != IOTC_OK) free(op);
  return r;
}

static iotc_result check_component(const char *fn, const char *component) {
  if (component == NULL) return IOTC_OK;
  return check_name(fn, IOTC_HUB_NAME_COMPONENT, "component", component);
}

/* The member names of @p json_object (a valid JSON object) as property names: the rule
 * iotc_client_report_property() applies to its name. */
static iotc_result check_member_names(const char *fn, const char *json_object) {
  json_t *o = iotc__json_load(json_object, strlen(json_object), IOTC__JSON_MAX_LEN, 0, NULL);
  if (o == NULL) return IOTC_ERR_NO_MEMORY; /* it was checked as valid JSON already */
  iotc_result r = IOTC_OK;
  const char *key;
  json_t *value;
  json_object_foreach(o, key, value) {
    (void)value;
    if ((r = check_name(fn, IOTC_HUB_NAME_PROPERTY, "property name", key)) != IOTC_OK) break;
  }
  json_decref(o);
  return r;
}

iotc_result iotc_client_report_property(iotc_client *c, const char *component, const char *name,
                                        const char *value_json, iotc_done_fn on_done,
                                        void *user_context) {
  static const char fn[] = "iotc_client_report_property";
  if (c == NULL) return bad(fn, "client is NULL");
  if (check_component(fn, component) || check_name(fn, IOTC_HUB_NAME_PROPERTY, "name", name) ||
      check_json(fn, "value_json", value_json, 0) ||
      iotc__client_model_value(c, fn, component, IOTC__MODEL_REPORTED, name, value_json)) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t len = 0;
  char *p = iotc__json_reported_one(component, name, value_json, &len);
  return iotc__queue_reported(c, p, len, on_done, user_context);
}

iotc_result iotc_client_report_properties(iotc_client *c, const char *component,
                                          const char *json_object, iotc_done_fn on_done,
                                          void *user_context) {
  static const char fn[] = "iotc_client_report_properties";
  if (c == NULL) return bad(fn, "client is NULL");
  if (check_component(fn, component) || check_json(fn, "json_object", json_object, '{')) {
    return IOTC_ERR_INVALID_ARG;
  }
  iotc_result nr = check_member_names(fn, json_object);
  if (nr != IOTC_OK) return nr;
  if (iotc__client_model_members(c, fn, component, IOTC__MODEL_REPORTED, json_object,
                                 strlen(json_object))) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t len = 0;
  char *p = iotc__json_reported_many(component, json_object, &len);
  return iotc__queue_reported(c, p, len, on_done, user_context);
}

static iotc_result ack_property(iotc_client *c, const char *component, const char *name,
                                const char *value_json, int status, int64_t version,
                                const char *description, iotc_done_fn on_done, void *user_context) {
  static const char fn[] = "iotc_client_ack_property";
  if (c == NULL) return bad(fn, "client is NULL");
  if (check_component(fn, component) || check_name(fn, IOTC_HUB_NAME_PROPERTY, "name", name) ||
      check_json(fn, "value_json", value_json, 0)) {
    return IOTC_ERR_INVALID_ARG;
  }
  if (status < 100 || status > 999) return bad(fn, "status must be an HTTP-like code (100-999)");
  if (version < 0) return bad(fn, "version must be >= 0");
  int64_t seen = atomic_load(&c->desired.seen);
  if (version > seen) {
    /* The service ignores it; the operator would wait for an acknowledgement that never came. */
    IOTC_LOGE("%s: version %lld is newer than any desired version received (%lld): acknowledge "
              "with the version the update carried", fn, (long long)version, (long long)seen);
    return IOTC_ERR_INVALID_ARG;
  }
  if (description && strlen(description) > 1024) return bad(fn, "description is longer than 1024");
  if (iotc__client_model_value(c, fn, component, IOTC__MODEL_WRITABLE, name, value_json)) {
    return IOTC_ERR_INVALID_ARG;
  }
  return iotc__queue_ack(c, component, name, value_json, status, version, description, on_done,
                         user_context);
}

iotc_result iotc__queue_ack(iotc_client *c, const char *component, const char *name,
                            const char *value_json, int status, int64_t version,
                            const char *description, iotc_done_fn on_done, void *user_context) {
  size_t len = 0;
  char *p = iotc__json_ack(component, name, value_json, status, version, description, &len);
  /* Acknowledgements must not be refused for lack of room: the service waits for them. */
  return iotc__queue_reported(c, p, len, on_done, user_context);
}

iotc_result iotc_client_ack_property(iotc_client *c, const char *component, const char *name,
                                     const char *value_json, int status, int64_t version,
                                     const char *description, iotc_done_fn on_done,
                                     void *user_context) {
  return ack_property(c, component, name, value_json, status, version, description, on_done,
                      user_context);
}

iotc_result iotc_client_complete_command(iotc_client *c, const char *component, const char *name,
                                         const char *value_json, iotc_done_fn on_done,
                                         void *user_context) {
  static const char fn[] = "iotc_client_complete_command";
  if (c == NULL) return bad(fn, "client is NULL");
  if (check_component(fn, component) || check_name(fn, IOTC_HUB_NAME_COMMAND, "name", name) ||
      check_json(fn, "value_json", value_json, 0) ||
      iotc__client_model_value(c, fn, component, IOTC__MODEL_COMMAND_RESPONSE, name, value_json)) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t len = 0;
  char *p = iotc__json_command_done(component, name, value_json, &len);
  return iotc__queue_reported(c, p, len, on_done, user_context);
}

/* ---- handlers --------------------------------------------------------------------------- */

static bool same(const char *a, const char *b) {
  return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

iotc__handler *iotc__handler_find(const iotc__handlers *h, const char *component,
                                  const char *name) {
  for (size_t i = 0; i < h->count; i++) {
    if (same(h->items[i].component, component) && strcmp(h->items[i].name, name) == 0) {
      return &h->items[i];
    }
  }
  return NULL;
}

static iotc_result set_handler(iotc_client *c, iotc__handlers *h, const char *component,
                               const char *name, void (*fn)(void), void *ctx) {
  pthread_mutex_lock(&c->mu);
  iotc__handler *found = iotc__handler_find(h, component, name);
  if (found) {
    if (fn) {
      found->fn = fn;
      found->ctx = ctx;
    } else {
      free(found->component);
      free(found->name);
      *found = h->items[--h->count];
    }
    pthread_mutex_unlock(&c->mu);
    return IOTC_OK;
  }
  iotc_result r = IOTC_OK;
  if (fn) {
    if (h->count == h->cap) {
      size_t cap = h->cap ? h->cap * 2 : 8;
      iotc__handler *items = realloc(h->items, cap * sizeof *items);
      if (items == NULL) {
        r = IOTC_ERR_NO_MEMORY;
      } else {
        h->items = items;
        h->cap = cap;
      }
    }
    if (r == IOTC_OK) {
      iotc__handler e = {component ? strdup(component) : NULL, strdup(name), fn, ctx};
      if ((component && !e.component) || !e.name) {
        free(e.component);
        free(e.name);
        r = IOTC_ERR_NO_MEMORY;
      } else {
        h->items[h->count++] = e;
      }
    }
  }
  pthread_mutex_unlock(&c->mu);
  return r;
}

iotc_result iotc_client_on_property(iotc_client *c, const char *component, const char *name,
                                    iotc_property_fn fn, void *user_context) {
  static const char f[] = "iotc_client_on_property";
  if (c == NULL) return bad(f, "client is NULL");
  if (check_component(f, component) || check_name(f, IOTC_HUB_NAME_PROPERTY, "name", name)) {
    return IOTC_ERR_INVALID_ARG;
  }
  return set_handler(c, &c->prop_handlers, component, name, (void (*)(void))fn, user_context);
}

iotc_result iotc_client_on_any_property(iotc_client *c, iotc_property_fn fn, void *user_context) {
  if (c == NULL) return bad("iotc_client_on_any_property", "client is NULL");
  pthread_mutex_lock(&c->mu);
  c->any_prop = fn;
  c->any_prop_ctx = user_context;
  pthread_mutex_unlock(&c->mu);
  return IOTC_OK;
}

iotc_result iotc_client_on_command(iotc_client *c, const char *component, const char *name,
                                   iotc_command_fn fn, void *user_context) {
  static const char f[] = "iotc_client_on_command";
  if (c == NULL) return bad(f, "client is NULL");
  if (check_component(f, component) || check_name(f, IOTC_HUB_NAME_COMMAND, "name", name)) {
    return IOTC_ERR_INVALID_ARG;
  }
  return set_handler(c, &c->cmd_handlers, component, name, (void (*)(void))fn, user_context);
}

iotc_result iotc_client_on_any_command(iotc_client *c, iotc_command_fn fn, void *user_context) {
  if (c == NULL) return bad("iotc_client_on_any_command", "client is NULL");
  pthread_mutex_lock(&c->mu);
  c->any_cmd = fn;
  c->any_cmd_ctx = user_context;
  pthread_mutex_unlock(&c->mu);
  return IOTC_OK;
}

iotc_result iotc_client_on_c2d(iotc_client *c, iotc_c2d_fn fn, void *user_context) {
  if (c == NULL) return bad("iotc_client_on_c2d", "client is NULL");
  pthread_mutex_lock(&c->mu);
  c->c2d_fn = fn;
  c->c2d_ctx = user_context;
  pthread_mutex_unlock(&c->mu);
  return IOTC_OK;
}

iotc_result iotc_client_set_property_default(iotc_client *c, const char *component,
                                             const char *name, const char *value_json) {
  static const char f[] = "iotc_client_set_property_default";
  if (c == NULL) return bad(f, "client is NULL");
  if (check_component(f, component) || check_name(f, IOTC_HUB_NAME_PROPERTY, "name", name) ||
      check_json(f, "value_json", value_json, 0) ||
      iotc__client_model_value(c, f, component, IOTC__MODEL_WRITABLE, name, value_json)) {
    return IOTC_ERR_INVALID_ARG;
  }
  iotc__default d = {component ? strdup(component) : NULL, strdup(name), strdup(value_json)};
  pthread_mutex_lock(&c->mu);
  iotc__default *grown = realloc(c->defaults, (c->default_count + 1) * sizeof *grown);
  bool ok = grown && d.name && d.value_json && (!component || d.component);
  if (grown) c->defaults = grown;
  if (ok) {
    size_t i = 0;
    while (i < c->default_count &&
           !(same(c->defaults[i].component, component) && strcmp(c->defaults[i].name, name) == 0)) {
      i++;
    }
    if (i < c->default_count) { /* replace */
      free(c->defaults[i].component);
      free(c->defaults[i].name);
      free(c->defaults[i].value_json);
    } else {
      c->default_count++;
    }
    c->defaults[i] = d;
  }
  pthread_mutex_unlock(&c->mu);
  if (!ok) {
    free(d.component);
    free(d.name);
    free(d.value_json);
    return IOTC_ERR_NO_MEMORY;
  }
  return IOTC_OK;
}

/* ---- command responses ------------------------------------------------------------------ */

iotc_result iotc_command_response_set_payload(iotc_command_response *resp,
                                              const char *payload_json) {
  static const char f[] = "iotc_command_response_set_payload";
  if (resp == NULL) return bad(f, "response is NULL");
  char *copy = NULL;
  if (payload_json != NULL) {
    if (check_json(f, "payload_json", payload_json, 0)) return IOTC_ERR_INVALID_ARG;
    copy = strdup(payload_json);
    if (copy == NULL) return IOTC_ERR_NO_MEMORY;
  }
  free(resp->payload_copy);
  resp->payload_copy = copy;
  resp->payload_json = copy;
  return IOTC_OK;
}

/* ---- late command responses ------------------------------------------------------------- */

bool iotc__pending_cmd_take(iotc_client *c, const char *rid) {
  pthread_mutex_lock(&c->mu);
  bool found = false;
  for (iotc__pending_cmd **pp = &c->commands.pending; *pp; pp = &(*pp)->next) {
    if (strcmp((*pp)->rid, rid) == 0) {
      iotc__pending_cmd *p = *pp;
      *pp = p->next;
      free(p);
      found = true;
      break;
    }
  }
  pthread_mutex_unlock(&c->mu);
  return found;
}

iotc_result iotc_client_respond_command(iotc_client *c, const char *request_id, int status,
                                        const char *payload_json) {
  static const char f[] = "iotc_client_respond_command";
  if (c == NULL) return bad(f, "client is NULL");
  if (request_id == NULL || *request_id == '\0' || strlen(request_id) > IOTC_HUB_REQUEST_ID_MAX) {
    return bad(f, "request_id is NULL, empty or too long");
  }
  if (status < 100 || status > 999) return bad(f, "status must be an HTTP-like code (100-999)");
  if (payload_json && check_json(f, "payload_json", payload_json, 0)) return IOTC_ERR_INVALID_ARG;
  const char *payload = payload_json ? payload_json : "{}";
  iotc__event *ev = iotc__event_new(IOTC__EV_RESPOND, request_id, strlen(request_id), payload,
                                    strlen(payload));
  if (ev == NULL) return IOTC_ERR_NO_MEMORY;
  ev->status = status;
  if (!iotc__pending_cmd_take(c, request_id)) {
    iotc__free_event(ev);
    IOTC_LOGW("%s: no pending command with request id '%.64s'", f, request_id);
    return IOTC_ERR_NOT_FOUND;
  }
  iotc__post_event(c, ev);
  return IOTC_OK;
}
