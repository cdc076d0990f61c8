/* SPDX-License-Identifier: MIT */
/* The worker's inbox: what Paho's threads and the API hand to the worker (session reports,
 * received messages, late command responses) and how the worker is woken.
 * Locking: the sink functions run on Paho threads and only record under mu and wake; the
 * event list, the session flags and the generation number are guarded by mu. */
#include <stdlib.h>
#include <string.h>

#include "central/client_internal.h"
#include "common/text.h"

void iotc__wake_locked(iotc_client *c) {
  if (!c->worker_waiting) return; /* busy: it looks again after its round */
  if (c->executor == NULL) {
    pthread_cond_signal(&c->wake);
  } else if (!c->quit) { /* a client being destroyed leaves its executor */
    iotc__executor_ready_locked(c);
  }
}

void iotc__wake_from_paho(iotc_client *c) {
  if (!atomic_load(&c->worker_waiting)) return;
  pthread_mutex_lock(&c->mu);
  iotc__wake_locked(c);
  pthread_mutex_unlock(&c->mu);
}

void iotc__count_dropped(iotc_client *c, uint64_t n) {
  pthread_mutex_lock(&c->mu);
  c->stats.dropped_no_memory += n;
  pthread_mutex_unlock(&c->mu);
}

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

void iotc__free_events(iotc__queue *q) {
  iotc__link *l;
  while ((l = iotc__queue_pop_front(q)) != NULL) iotc__free_event(iotc__event_of(l));
}

void iotc__post_event(iotc_client *c, iotc__event *ev) {
  pthread_mutex_lock(&c->mu);
  iotc__queue_push_back(&c->inbox, &ev->link);
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

size_t iotc__inbox_limit(const char *topic, size_t topic_len) {
  if (topic_len >= 21 && memcmp(topic, "$iothub/methods/POST/", 21) == 0) return IOTC__IN_METHOD_MAX;
  if (topic_len >= 13 && memcmp(topic, "$iothub/twin/", 13) == 0) return IOTC__IN_TWIN_MAX;
  return IOTC__IN_C2D_MAX;
}

static void sink_message(void *ctx, uint32_t gen, const char *topic, size_t topic_len,
                         const void *payload, size_t payload_len) {
  /* Too large: keep only the topic; the worker refuses it (no logging on a Paho thread). */
  size_t oversize = payload_len > iotc__inbox_limit(topic, topic_len) ? payload_len : 0;
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

/* ---- inbox ------------------------------------------------------------------------------ */

uint32_t iotc__inbox_new_session(iotc_client *c) {
  pthread_mutex_lock(&c->mu);
  uint32_t gen = ++c->session_gen;
  c->sflags = 0;
  atomic_store(&c->connack_seen, false);
  pthread_mutex_unlock(&c->mu);
  return gen;
}

iotc__session_sink iotc__inbox_sink(iotc_client *c) {
  iotc__session_sink sink = {c, sink_connected, sink_connect_failed, sink_subscribed,
                             sink_lost, sink_disconnected, sink_message};
  return sink;
}

void iotc__inbox_end_session(iotc_client *c) {
  pthread_mutex_lock(&c->mu);
  c->session_gen++; /* late reports of the old session are ignored */
  c->sflags = 0;
  pthread_mutex_unlock(&c->mu);
}
