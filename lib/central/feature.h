/* SPDX-License-Identifier: MIT */
/* The hook set every feature module of the client offers the connection state machine and the
 * worker: a connection became usable, the connection is gone, when the feature next needs the
 * worker, what to do then, and whether an answer from the hub is overdue. Features: desired
 * properties (desired.c), reported properties (reported.c), commands (commands.c), telemetry
 * (window.c), store and forward (persist.c). C2D (c2d.c) keeps no per-connection state and has only its message handler.
 * Locking: every hook runs on the worker (or in destroy once the worker is gone), with no lock
 * held but for `deadline`, which runs with mu held; a hook takes the locks its fields need. */
#ifndef IOTC_CENTRAL_FEATURE_H
#define IOTC_CENTRAL_FEATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub/session.h"

struct iotc_client;

typedef struct iotc__feature {
  /** The session @p s is connected and subscribed: start what the feature needs on it. */
  void (*on_connected)(struct iotc_client *c, iotc__session *s);
  /** The session is gone (destroyed already): take back what was in flight. */
  void (*on_teardown)(struct iotc_client *c);
  /** When the feature next needs a round; UINT64_MAX when it does not. Called with mu held. */
  uint64_t (*deadline)(struct iotc_client *c);
  /** A round at @p now: run what is due. */
  void (*on_timer)(struct iotc_client *c, uint64_t now);
  /** An answer overdue past the liveness limit: true, with the reason in @p why. */
  bool (*overdue)(struct iotc_client *c, uint64_t now, char *why, size_t size);
  /** Something awaits an answer from the hub (a planned reconnect waits for it). */
  bool (*busy)(struct iotc_client *c);
} iotc__feature;

extern const iotc__feature iotc__desired_feature;   /* desired.c */
extern const iotc__feature iotc__reported_feature;  /* reported.c */
extern const iotc__feature iotc__commands_feature;  /* commands.c */
extern const iotc__feature iotc__telemetry_feature; /* window.c */
extern const iotc__feature iotc__persist_feature;   /* persist.c (store and forward) */

/* ---- all features at once, in the order above (features.c) ---- */
void iotc__features_on_connected(struct iotc_client *c, iotc__session *s);
void iotc__features_on_teardown(struct iotc_client *c);
uint64_t iotc__features_deadline(struct iotc_client *c);
void iotc__features_on_timer(struct iotc_client *c, uint64_t now);
bool iotc__features_overdue(struct iotc_client *c, uint64_t now, char *why, size_t size);
/** No feature awaits an answer. */
bool iotc__features_idle(struct iotc_client *c);

#endif
