/* SPDX-License-Identifier: MIT */
/* The one intrusive queue of the client: a doubly linked list with a count, whose nodes are an
 * iotc__link embedded in the queued record (outgoing operations, received events, deferred
 * patches, command responses). No allocation; O(1) everywhere but nothing to search.
 * Locking: none here; each queue is guarded by the lock of the field that holds it. */
#ifndef IOTC_CENTRAL_QUEUE_H
#define IOTC_CENTRAL_QUEUE_H

#include <stddef.h>

typedef struct iotc__link {
  struct iotc__link *next, *prev;
} iotc__link;

typedef struct iotc__queue {
  iotc__link *head, *tail;
  size_t count;
} iotc__queue;

/** The record of @p type holding @p link as its @p member; NULL for NULL. */
#define IOTC__ENTRY(link, type, member) \
  ((link) ? (type *)(void *)((char *)(link) - offsetof(type, member)) : (type *)NULL)

static inline void iotc__queue_push_back(iotc__queue *q, iotc__link *n) {
  n->next = NULL;
  n->prev = q->tail;
  if (q->tail) {
    q->tail->next = n;
  } else {
    q->head = n;
  }
  q->tail = n;
  q->count++;
}

static inline void iotc__queue_push_front(iotc__queue *q, iotc__link *n) {
  n->prev = NULL;
  n->next = q->head;
  if (q->head) {
    q->head->prev = n;
  } else {
    q->tail = n;
  }
  q->head = n;
  q->count++;
}

static inline void iotc__queue_remove(iotc__queue *q, iotc__link *n) {
  if (n->prev) {
    n->prev->next = n->next;
  } else {
    q->head = n->next;
  }
  if (n->next) {
    n->next->prev = n->prev;
  } else {
    q->tail = n->prev;
  }
  n->next = n->prev = NULL;
  q->count--;
}

static inline iotc__link *iotc__queue_pop_front(iotc__queue *q) {
  iotc__link *n = q->head;
  if (n) iotc__queue_remove(q, n);
  return n;
}

/** Move all of @p from to the front of @p to, keeping order. */
static inline void iotc__queue_prepend_all(iotc__queue *to, iotc__queue *from) {
  if (from->head == NULL) return;
  from->tail->next = to->head;
  if (to->head) {
    to->head->prev = from->tail;
  } else {
    to->tail = from->tail;
  }
  to->head = from->head;
  to->count += from->count;
  from->head = from->tail = NULL;
  from->count = 0;
}

/** Take the whole queue, leaving @p q empty. */
static inline iotc__queue iotc__queue_take_all(iotc__queue *q) {
  iotc__queue all = *q;
  q->head = q->tail = NULL;
  q->count = 0;
  return all;
}

#endif
