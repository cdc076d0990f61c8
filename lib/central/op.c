/* SPDX-License-Identifier: MIT */
/* An outgoing operation (telemetry or a reported PATCH): made, and at its end counted, taken
 * out of the persist directory, its callback run, freed. Locking: iotc__op_finish() is called
 * with no lock held (it takes mu for the count); worker or destroy. */
#include <stdlib.h>
#include <string.h>

#include "central/client_internal.h"

void iotc__op_finish(iotc_client *c, iotc__op *op, iotc_result result) {
  if (result != IOTC_OK && op->kind == IOTC__OP_TELEMETRY) {
    pthread_mutex_lock(&c->mu);
    c->stats.telemetry_failed++;
    pthread_mutex_unlock(&c->mu);
  }
  if (op->pseq && result != IOTC_ERR_SHUTDOWN) {
    iotc__persist_ack(c, &op->pseq, 1, op->recovered && result == IOTC_OK);
  }
  if (op->on_done) op->on_done(c, result, op->user_context);
  free(op);
}

iotc__op *iotc__op_new(int kind, const char *bag, size_t bag_len, const char *payload,
                       size_t payload_len) {
  iotc__op *op = malloc(sizeof *op + bag_len + 1 + payload_len + 1);
  if (op == NULL) return NULL;
  memset(op, 0, sizeof *op);
  op->kind = (uint8_t)kind;
  op->bag_len = bag_len;
  if (bag_len) memcpy(op->data, bag, bag_len);
  op->data[bag_len] = '\0';
  op->payload = op->data + bag_len + 1;
  memcpy(op->payload, payload, payload_len);
  op->payload[payload_len] = '\0';
  op->payload_len = payload_len;
  return op;
}
