/* SPDX-License-Identifier: MIT */
/* The doubly linked queue of outgoing operations (telemetry and reported PATCHes): the pending
 * queues, the reported queue and the telemetry window all use it.
 * Locking: none here; each list is guarded by the lock of the field that holds it. */
#include <stdlib.h>
#include <string.h>

#include "central/client_internal.h"

void iotc__list_push_back(iotc__op_list *l, iotc__op *op) {
  op->next = NULL;
  op->prev = l->tail;
  if (l->tail) {
    l->tail->next = op;
  } else {
    l->head = op;
  }
  l->tail = op;
  l->count++;
}

void iotc__list_push_front(iotc__op_list *l, iotc__op *op) {
  op->prev = NULL;
  op->next = l->head;
  if (l->head) {
    l->head->prev = op;
  } else {
    l->tail = op;
  }
  l->head = op;
  l->count++;
}

iotc__op *iotc__list_pop_front(iotc__op_list *l) {
  iotc__op *op = l->head;
  if (op) iotc__list_remove(l, op);
  return op;
}

void iotc__list_remove(iotc__op_list *l, iotc__op *op) {
  if (op->prev) {
    op->prev->next = op->next;
  } else {
    l->head = op->next;
  }
  if (op->next) {
    op->next->prev = op->prev;
  } else {
    l->tail = op->prev;
  }
  op->next = op->prev = NULL;
  l->count--;
}

void iotc__list_prepend_all(iotc__op_list *to, iotc__op_list *from) {
  if (from->head == NULL) return;
  from->tail->next = to->head;
  if (to->head) {
    to->head->prev = from->tail;
  } else {
    to->tail = from->tail;
  }
  to->head = from->head;
  to->count += from->count;
  memset(from, 0, sizeof *from);
}

void iotc__op_finish(iotc_client *c, iotc__op *op, iotc_result result) {
  if (result != IOTC_OK && op->kind == IOTC__OP_TELEMETRY) {
    pthread_mutex_lock(&c->mu);
    c->stats.telemetry_failed++;
    pthread_mutex_unlock(&c->mu);
  }
  if (op->on_done) op->on_done(c, result, op->user_context);
  free(op);
}
