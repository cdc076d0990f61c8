/* SPDX-License-Identifier: MIT */
/* The connection state machine: provisioning, connecting, subscribing, SAS renewal, drain on
 * disconnect, back-off, re-provisioning and giving up, as one dispatch function over (state,
 * event). The states and the transition table are in conn.c, side by side; nothing outside
 * conn.c writes the state. It owns the MQTT session and its own deadlines.
 *
 * Locking: worker only (the worker thread, or destroy once the worker is gone). The fields the
 * API reads (connected, gave_up, stopped, last_error, hub, device_id) are written here under mu.
 * Provisioning runs on a thread of its own (dps_thread), which touches only c->dps, hub,
 * device_id and the stats under mu, and its result fields before it reports through the inbox;
 * disconnect and destroy cancel it through c->dps. */
#ifndef IOTC_CENTRAL_CONN_H
#define IOTC_CENTRAL_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hub/session.h"
#include "iotc/dps.h"

struct iotc_client;

/** What happened; each is a real input: an API request, a session report, or a deadline. */
typedef enum {
  IOTC__CONN_START,           /* iotc_client_connect() */
  IOTC__CONN_PROVISIONED,     /* the provisioning thread finished (result in iotc__conn) */
  IOTC__CONN_STOP,            /* iotc_client_disconnect() pending (every round until closed) */
  IOTC__CONN_CONNACK,         /* the hub accepted the connection */
  IOTC__CONN_REFUSED,         /* the connect failed: code (CONNACK code > 0, Paho error < 0) */
  IOTC__CONN_SUBACK,          /* the subscriptions were accepted */
  IOTC__CONN_SUBACK_REFUSED,
  IOTC__CONN_SUBACK_MALFORMED,
  IOTC__CONN_CLOSED,          /* the disconnect we asked for finished */
  IOTC__CONN_LOST,            /* the connection dropped */
  IOTC__CONN_BACKSTOP,        /* deadline: a connect or a close took too long */
  IOTC__CONN_RETRY_DUE,       /* deadline: the back-off is over */
  IOTC__CONN_RENEW_DUE,       /* deadline: 80 % of the SAS token's life is gone */
  IOTC__CONN_DRAINED,         /* renewing: nothing is in flight any more */
  IOTC__CONN_DRAIN_TIMEOUT,   /* deadline: renewing waited long enough for in-flight answers */
  IOTC__CONN_UNRESPONSIVE     /* liveness: an answer from the hub is overdue (text says which) */
} iotc__conn_event_type;

typedef struct iotc__conn_event {
  iotc__conn_event_type type;
  int code;             /* REFUSED */
  const char *text;     /* REFUSED: Paho's text; UNRESPONSIVE: the reason */
  uint64_t now;         /* STOP */
  uint64_t deadline;    /* STOP: when the caller's timeout ends */
} iotc__conn_event;

/** The connection's part of the client (worker only). */
typedef struct iotc__conn {
  int state;                    /* one of the states in conn.c; written only there */
  bool up, can_send;            /* derived from state, for the features (see below) */
  iotc__session *session;       /* NULL between connections */
  uint32_t attempt;             /* failed attempts since the last connection */
  bool need_provision, fresh_provision;
  bool stop_connecting;         /* a stop waits for a connection to flush what is queued */
  bool ca_checked;              /* the CA file's expiry was checked (once per client) */
  uint64_t retry_at;            /* back-off end */
  uint64_t renew_at;            /* SAS renewal */
  uint64_t backstop_at;         /* connect or close that never completes */
  uint64_t drain_until;         /* renewing: longest wait for in-flight answers */
  uint64_t liveness_at;         /* next look for overdue answers */
  pthread_t dps_thread;         /* provisioning runs here, off the worker's path */
  bool dps_running;             /* dps_thread was started and not joined yet */
  iotc_result dps_result;       /* written by dps_thread; read after the join */
  iotc_error dps_error;
  iotc_dps *dps_kept;           /* a successful run, its connection open until the hub's starts */
} iotc__conn;

/** Worker start: idle, no deadline. */
void iotc__conn_init(struct iotc_client *c);
/** Apply @p ev to the current state (see the table in conn.c); unknown pairs are ignored. */
void iotc__conn_dispatch(struct iotc_client *c, const iotc__conn_event *ev);
/** The session reports of one round (IOTC__SF_* flags), in order, as events. */
void iotc__conn_session_flags(struct iotc_client *c, unsigned flags, int code, const char *text);
/** Dispatch the deadlines that are due at @p now. */
void iotc__conn_on_timer(struct iotc_client *c, uint64_t now);
/** The earliest of the connection's deadlines; UINT64_MAX when none. */
uint64_t iotc__conn_deadline(const struct iotc_client *c);
/** Telemetry, reported properties and responses may be published (connected or draining). */
static inline bool iotc__conn_can_send(const iotc__conn *k) { return k->can_send; }
/** Connected, and neither renewing nor draining. */
static inline bool iotc__conn_is_up(const iotc__conn *k) { return k->up; }
/** A pending stop needs a round now (not waiting for a connection or a close). */
bool iotc__conn_stop_needs_round(const struct iotc_client *c);
/** A disconnect for a stop was sent: only its completion (or its backstop) matters now. */
bool iotc__conn_closing_to_stop(const struct iotc_client *c);
/** Look for overdue answers (liveness) when that deadline is due; reconnect when one is. */
void iotc__conn_check_liveness(struct iotc_client *c, uint64_t now);
/** The DPS configuration of the client's identity (strings borrowed from @p c). */
void iotc__client_dps_config(const struct iotc_client *c, iotc_dps_config *d);
/** The state's name, for logs and tests. */
const char *iotc__conn_state_name(const struct iotc_client *c);
/** Close the session and requeue what was in flight (worker, or destroy). */
void iotc__conn_teardown(struct iotc_client *c);

#endif
