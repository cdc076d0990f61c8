/* SPDX-License-Identifier: MIT */
/* The queue's side of store and forward (persist.h): records read back at create become queued
 * ops, ops the full policy dropped are finished, and the persist feature's hooks. persist.c
 * keeps the log and knows no ops; this file calls it, never the other way round. */
#include "central/client_internal.h"

static bool requeue(iotc_client *c, uint64_t seq, bool telemetry, const char *bag,
                    size_t bag_len, const char *payload, size_t payload_len) {
  iotc__op *op = iotc__op_new(telemetry ? IOTC__OP_TELEMETRY : IOTC__OP_REPORTED, bag, bag_len,
                              payload, payload_len);
  if (op == NULL) return false;
  if (telemetry) {
    op->qos = 1;
    iotc__window_init_op(op);
  }
  op->client = c;
  op->pseq = seq;
  op->recovered = true;
  op->resend = true;
  iotc__list_push_back(telemetry ? &c->pending : &c->rep_pending, op);
  return true;
}

iotc_result iotc__persist_queue_open(iotc_client *c, const iotc_client_config *cfg,
                                     iotc_error *err) {
  return iotc__persist_open(c, cfg, requeue, err);
}

static void finish_dropped(iotc_client *c) {
  iotc__op_list dropped = iotc__persist_take_dropped(c);
  iotc__op *op;
  while ((op = iotc__list_pop_front(&dropped)) != NULL) iotc__op_finish(c, op, IOTC_ERR_QUEUE_FULL);
}

void iotc__persist_queue_close(iotc_client *c) {
  if (c->persist == NULL) return;
  finish_dropped(c);
  iotc__persist_close(c);
}

/* ---- hooks ------------------------------------------------------------------------------ */

static uint64_t deadline(iotc_client *c) { return iotc__persist_deadline_locked(c); } /* mu held */

static void on_timer(iotc_client *c, uint64_t now) {
  if (c->persist == NULL) return;
  finish_dropped(c);
  iotc__persist_sync_if_due(c, now);
}

const iotc__feature iotc__persist_feature = {NULL, NULL, deadline, on_timer, NULL, NULL};
