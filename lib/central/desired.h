/* SPDX-License-Identifier: MIT */
/* Desired properties (desired.c): the twin GET after every connection, reconciliation of what
 * changed while offline, patches deferred until the twin is known, and property defaults.
 * Locking: the fields are the worker's alone, except `seen`, an atomic read by the API. */
#ifndef IOTC_CENTRAL_DESIRED_H
#define IOTC_CENTRAL_DESIRED_H

#include <stdbool.h>
#include <stdint.h>

#include "central/queue.h"
#include "iotc/hub_topic.h"

struct iotc_client;
struct iotc__event;

typedef struct iotc__desired {
  bool ready;              /* the twin of this connection was handled (or given up on) */
  int64_t version;         /* the twin's desired $version; -1: unknown */
  uint32_t tries;          /* twin GETs sent on this connection */
  uint64_t asked_ms;       /* when the unanswered GET was first sent (liveness); 0: none */
  uint64_t retry_at;       /* next GET; UINT64_MAX: none */
  iotc__queue deferred;    /* patches waiting for the twin (iotc__event) */
  char rid[16];            /* request id of the GET in flight; "": none */
  _Atomic int64_t seen;    /* newest desired version handed to the application; no lock */
} iotc__desired;

/** Worker start: no twin yet. */
void iotc__desired_init(struct iotc_client *c);
/** A desired patch arrived: applied now, or kept until the twin is known; true when kept. */
bool iotc__desired_on_patch(struct iotc_client *c, struct iotc__event *ev);
/** A twin response: true when it answers our GET (then handled). */
bool iotc__desired_on_response(struct iotc_client *c, const iotc_hub_twin_response *res,
                               const struct iotc__event *ev);
/** Free the deferred patches (destroy). */
void iotc__desired_drop_deferred(struct iotc_client *c);

#endif
