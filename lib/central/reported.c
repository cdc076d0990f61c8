/* SPDX-License-Identifier: MIT */
/* Reported properties (see reported.h): the queue is sent one PATCH at a time; a 429 or 5xx is
 * retried with back-off, other refusals fail the PATCH; a PATCH left unanswered is sent again
 * after a reconnect and failed after REPORTED_ATTEMPTS publishes.
 * Locking: worker only; the queue (rep_pending) under mu. */
#include <stdio.h>
#include <string.h>

#include "central/backoff.h"
#include "central/client_internal.h"
#include "common/log.h"
#include "iotc/hub_topic.h"

#define REPORTED_RETRIES 5
#define REPORTED_ATTEMPTS 3 /* publishes of one reported PATCH left unanswered before it fails */

void iotc__reported_pump(iotc_client *c, uint64_t now) {
  if (c->reported.inflight || now < c->reported.retry_at) return;
  pthread_mutex_lock(&c->mu);
  iotc__op *op = iotc__list_pop_front(&c->rep_pending);
  pthread_mutex_unlock(&c->mu);
  if (op == NULL) return;
  char topic[80];
  iotc__next_rid(c, 'r', c->reported.rid);
  if (iotc_hub_topic_twin_patch_reported(c->reported.rid, topic, sizeof topic, NULL) != IOTC_OK ||
      c->io->session_publish(c->conn.session, topic, op->payload, op->payload_len, 0, NULL) != IOTC_OK) {
    pthread_mutex_lock(&c->mu);
    iotc__list_push_front(&c->rep_pending, op);
    pthread_mutex_unlock(&c->mu);
    c->reported.rid[0] = '\0';
    return;
  }
  c->reported.inflight = op;
  op->sent_ms = now;
  op->attempts++;
}

static void process_reported_response(iotc_client *c, int status) {
  iotc__op *op = c->reported.inflight;
  c->reported.inflight = NULL;
  c->reported.rid[0] = '\0';
  if (status >= 200 && status < 300) {
    c->reported.retries = 0;
    pthread_mutex_lock(&c->mu);
    c->stats.reported_sent++;
    pthread_mutex_unlock(&c->mu);
    iotc__op_finish(c, op, IOTC_OK);
    return;
  }
  if ((status == 429 || status >= 500) && c->reported.retries < REPORTED_RETRIES) {
    IOTC_LOGW("reported PATCH answered %d: retrying", status);
    c->reported.retry_at = iotc__client_now(c) + iotc__backoff_ms(c->reported.retries++, c->reconnect_min_ms,
                                                       c->reconnect_max_ms, status == 429,
                                                       iotc__backoff_random());
    pthread_mutex_lock(&c->mu);
    iotc__list_push_front(&c->rep_pending, op);
    pthread_mutex_unlock(&c->mu);
    return;
  }
  c->reported.retries = 0;
  IOTC_LOGE("reported PATCH refused with status %d", status);
  iotc__op_finish(c, op, status == 429 ? IOTC_ERR_THROTTLED :
                         status >= 500 ? IOTC_ERR_SERVICE : status == 413 ? IOTC_ERR_TOO_LARGE :
                         IOTC_ERR_INVALID_ARG);
}

bool iotc__reported_on_response(iotc_client *c, const iotc_hub_twin_response *res) {
  if (c->reported.inflight == NULL || res->request_id.len != strlen(c->reported.rid) ||
      memcmp(res->request_id.ptr, c->reported.rid, res->request_id.len) != 0) {
    return false;
  }
  process_reported_response(c, res->status);
  return true;
}

bool iotc__reported_sendable_locked(const iotc_client *c, uint64_t now) {
  return c->rep_pending.count && c->reported.inflight == NULL && now >= c->reported.retry_at;
}

/* ---- hooks ------------------------------------------------------------------------------ */

static void on_connected(iotc_client *c, iotc__session *s) {
  (void)s;
  c->reported.retry_at = 0;
}

static void on_teardown(iotc_client *c) {
  pthread_mutex_lock(&c->mu);
  if (c->reported.inflight) { /* sent again on the next connection */
    iotc__list_push_front(&c->rep_pending, c->reported.inflight);
    c->reported.inflight = NULL;
  }
  pthread_mutex_unlock(&c->mu);
  c->reported.rid[0] = '\0';
}

static uint64_t deadline(iotc_client *c) { /* mu held */
  if (iotc__conn_is_up(&c->conn) && c->reported.retry_at > 0 && c->reported.inflight == NULL &&
      c->rep_pending.count) {
    return c->reported.retry_at;
  }
  return UINT64_MAX;
}

static bool overdue(iotc_client *c, uint64_t now, char *why, size_t size) {
  iotc__op *op = c->reported.inflight;
  if (op == NULL || now - op->sent_ms < c->liveness_ms) return false;
  snprintf(why, size, "no answer from the hub to a reported PATCH for %u ms: reconnecting",
           (unsigned)c->liveness_ms);
  if (op->attempts >= REPORTED_ATTEMPTS) {
    c->reported.inflight = NULL;
    c->reported.rid[0] = '\0';
    IOTC_LOGE("a reported PATCH went unanswered %d times: failing it", REPORTED_ATTEMPTS);
    iotc__op_finish(c, op, IOTC_ERR_TIMEOUT);
  }
  return true;
}

static bool busy(iotc_client *c) { return c->reported.inflight != NULL; }

const iotc__feature iotc__reported_feature = {on_connected, on_teardown, deadline, NULL,
                                              overdue, busy};
