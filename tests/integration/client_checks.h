/* SPDX-License-Identifier: MIT */
/* Checks shared by the device-client integration tests that drive connect paths, the cache file
 * and permanent failures: a status recorder, a telemetry round trip seen by the operator, and
 * wire-log counts per service. Header-only (static functions); include after cmocka.h. */
#ifndef IOTC_TEST_CLIENT_CHECKS_H
#define IOTC_TEST_CLIENT_CHECKS_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "emu.h"
#include "iotc/client.h"

/* Every status the client reported, counted per kind, with the last reason of each. */
typedef struct status_log {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int count[IOTC_STATUS_GAVE_UP + 1];
  iotc_result reason[IOTC_STATUS_GAVE_UP + 1];
} status_log;

static inline void status_log_init(status_log *s) {
  memset(s, 0, sizeof *s);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
}

static inline void status_log_destroy(status_log *s) {
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
}

static inline void status_log_fn(iotc_client *client, const iotc_status_info *info, void *ctx) {
  (void)client;
  status_log *s = ctx;
  pthread_mutex_lock(&s->mu);
  if ((int)info->status >= 0 && info->status <= IOTC_STATUS_GAVE_UP) {
    s->count[info->status]++;
    s->reason[info->status] = info->reason;
  }
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static inline int status_count(status_log *s, iotc_connection_status st) {
  pthread_mutex_lock(&s->mu);
  int n = s->count[st];
  pthread_mutex_unlock(&s->mu);
  return n;
}

/* Wait until status @p st was reported at least once (60 s bound for a broken run). */
static inline int status_wait(status_log *s, iotc_connection_status st) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 60;
  pthread_mutex_lock(&s->mu);
  while (s->count[st] == 0) {
    if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) break;
  }
  int n = s->count[st];
  pthread_mutex_unlock(&s->mu);
  return n;
}

/* One completion, waited for. */
typedef struct done_wait {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int calls;
  iotc_result results[16]; /* in completion order */
} done_wait;

static inline void done_wait_init(done_wait *d) {
  memset(d, 0, sizeof *d);
  pthread_mutex_init(&d->mu, NULL);
  pthread_cond_init(&d->cv, NULL);
}

static inline void done_wait_fn(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  done_wait *d = ctx;
  pthread_mutex_lock(&d->mu);
  if (d->calls < (int)(sizeof d->results / sizeof d->results[0])) d->results[d->calls] = result;
  d->calls++;
  pthread_cond_broadcast(&d->cv);
  pthread_mutex_unlock(&d->mu);
}

/* The result of the @p n-th completion (1-based), waiting for it; IOTC_ERR_TIMEOUT after 60 s.
 * Kept per completion: several may arrive before the waiting thread runs. */
static inline iotc_result done_wait_for(done_wait *d, int n) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 60;
  pthread_mutex_lock(&d->mu);
  while (d->calls < n) {
    if (pthread_cond_timedwait(&d->cv, &d->mu, &ts) == ETIMEDOUT) break;
  }
  iotc_result r = d->calls >= n && n >= 1 && n <= (int)(sizeof d->results / sizeof d->results[0])
                      ? d->results[n - 1]
                      : IOTC_ERR_TIMEOUT;
  pthread_mutex_unlock(&d->mu);
  return r;
}

/* Send {"seq": seq} and check the operator sees it as the device's latest `seq` telemetry. */
static inline void telemetry_round_trip(const emu_info *emu, iotc_client *client, const char *id,
                                 int seq) {
  done_wait d;
  done_wait_init(&d);
  iotc_telemetry_options o;
  iotc_telemetry_options_init(&o);
  o.on_done = done_wait_fn;
  o.user_context = &d;
  char json[64];
  snprintf(json, sizeof json, "{\"seq\":%d}", seq);
  assert_int_equal(iotc_client_send_telemetry(client, json, &o), IOTC_OK);
  assert_int_equal(done_wait_for(&d, 1), IOTC_OK);
  char path[300];
  snprintf(path, sizeof path, "/api/devices/%s/telemetry/seq", id);
  json_int_t seen = -1;
  for (int i = 0; i < 200 && seen != seq; i++) { /* the PUBACK may come before the store */
    long status = 0;
    json_t *body = NULL;
    assert_int_equal(emu_api(emu, "GET", path, NULL, &status, &body), 0);
    if (status == 200) seen = json_integer_value(json_object_get(body, "value"));
    json_decref(body);
    if (seen != seq) nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
  }
  assert_int_equal(seen, seq);
}

/* Wire-log entries of @p device_id after @p since whose "svc" starts with @p svc
 * ("dps", "dps-mqtt", "dps-https", "hub"). */
static inline int wire_svc_count(const emu_info *emu, const char *device_id, long since,
                          const char *svc) {
  json_t *w = emu_wire(emu, device_id, since);
  assert_non_null(w);
  int n = 0;
  size_t i;
  json_t *e;
  json_array_foreach(w, i, e) {
    const char *s = json_string_value(json_object_get(e, "svc"));
    if (s && strncmp(s, svc, strlen(svc)) == 0) n++;
  }
  json_decref(w);
  return n;
}

/* The newest wire-log sequence number of @p device_id (0 when none). */
static inline long wire_last(const emu_info *emu, const char *device_id) {
  json_t *w = emu_wire(emu, device_id, 0);
  assert_non_null(w);
  long last = 0;
  size_t i;
  json_t *e;
  json_array_foreach(w, i, e) {
    long seq = (long)json_integer_value(json_object_get(e, "seq"));
    if (seq > last) last = seq;
  }
  json_decref(w);
  return last;
}

#endif
