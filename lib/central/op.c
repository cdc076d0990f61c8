/* SPDX-License-Identifier: MIT */
/* The end of an outgoing operation (telemetry or a reported PATCH): counted, its callback run,
 * freed. Locking: called with no lock held (it takes mu for the count); worker or destroy. */
#include <stdlib.h>

#include "central/client_internal.h"

void iotc__op_finish(iotc_client *c, iotc__op *op, iotc_result result) {
  if (result != IOTC_OK && op->kind == IOTC__OP_TELEMETRY) {
    pthread_mutex_lock(&c->mu);
    c->stats.telemetry_failed++;
    pthread_mutex_unlock(&c->mu);
  }
  if (op->on_done) op->on_done(c, result, op->user_context);
  free(op);
}
