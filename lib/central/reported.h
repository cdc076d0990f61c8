/* SPDX-License-Identifier: MIT */
/* Reported properties (reported.c): one reported PATCH in flight at a time, retried on 429 and
 * 5xx with back-off, failed after REPORTED_ATTEMPTS publishes left unanswered.
 * Locking: the fields here are the worker's alone; the queue itself (rep_pending) is guarded by
 * mu, since the API appends to it. */
#ifndef IOTC_CENTRAL_REPORTED_H
#define IOTC_CENTRAL_REPORTED_H

#include <stdbool.h>
#include <stdint.h>

#include "iotc/hub_topic.h"

struct iotc_client;
struct iotc__op;

typedef struct iotc__reported {
  struct iotc__op *inflight; /* published, awaiting its twin response */
  uint32_t retries;          /* consecutive 429/5xx answers */
  uint64_t retry_at;         /* no PATCH before this (0: at once) */
  char rid[16];              /* request id of the PATCH in flight */
} iotc__reported;

/** A twin response: true when it answers the PATCH in flight (then handled). */
bool iotc__reported_on_response(struct iotc_client *c, const iotc_hub_twin_response *res);
/** Publish the next PATCH when none is in flight and no retry back-off runs. */
void iotc__reported_pump(struct iotc_client *c, uint64_t now);
/** A PATCH could be published now (mu held). */
bool iotc__reported_sendable_locked(const struct iotc_client *c, uint64_t now);

#endif
