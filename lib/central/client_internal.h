/* SPDX-License-Identifier: MIT */
/* The client object shared by the API functions (client.c, client_api.c), the worker loop
 * (worker.c), the connection state machine (conn.c), the inbox (inbox.c) and the feature
 * modules (desired.c, reported.c, commands.c with responses.c, c2d.c, the telemetry window in
 * window.c), each of which owns a sub-struct or a marked group of fields; the outside world is
 * reached through the I/O seam (io.h). Locking: `mu` guards the fields marked (mu);
 * it is never held across a Paho call or a user callback. `send_mu` guards the fields marked
 * (send); it is taken before `mu`, may be held across a Paho call, and is never taken on a
 * Paho thread (see window.c).
 * Fields marked (worker) belong to the worker thread alone. */
#ifndef IOTC_CENTRAL_CLIENT_INTERNAL_H
#define IOTC_CENTRAL_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "central/commands.h"
#include "central/conn.h"
#include "central/desired.h"
#include "central/executor.h"
#include "central/feature.h"
#include "central/io.h"
#include "central/persist.h"
#include "central/queue.h"
#include "central/reported.h"
#include "central/transport.h"
#include "hub/session.h"
#include "iotc/client.h"
#include "iotc/dps.h"

enum { IOTC__OP_TELEMETRY = 0, IOTC__OP_REPORTED = 1 };

/* Largest incoming payloads accepted, by kind (IoT Hub's own limits are lower: 64 KiB for C2D,
 * 128 KiB for a method request, 32 KiB per twin section). Larger ones are refused (see
 * process_message), so a hostile hub cannot make the client copy and parse megabytes. */
#define IOTC__IN_C2D_MAX (64u * 1024u)
#define IOTC__IN_METHOD_MAX (128u * 1024u)
#define IOTC__IN_TWIN_MAX (128u * 1024u)

/** iotc_client_disconnect() returns at most this long after its timeout (see client.h). */
#define IOTC__DISCONNECT_GRACE_MS 1000u

/** iotc__op::done_rc of a telemetry message there was no memory to publish (Paho's codes are
 *  small negative numbers): the worker fails it with IOTC_ERR_NO_MEMORY. */
#define IOTC__RC_NO_MEMORY (-1000)

/** One outgoing telemetry message or reported PATCH, in a single allocation. */
typedef struct iotc__op {
  iotc__session_op base; /* first: Paho's completion context */
  iotc__link link;            /* in pending, rep_pending or inflight */
  struct iotc__op *done_next; /* completion list (see iotc_client.done) */
  struct iotc_client *client;
  iotc_done_fn on_done;
  void *user_context;
  int done_rc; /* Paho's code, or IOTC__RC_NO_MEMORY */
  uint8_t kind;
  uint8_t qos;
  bool resend; /* requeued after a connection drop */
  bool in_window; /* (send) in the in-flight list */
  uint8_t attempts; /* reported PATCH: times published */
  bool recovered;   /* read back from the persist directory at create */
  uint64_t pseq;    /* its record in the persist directory; 0: not persisted (persist.h) */
  uint64_t sent_ms; /* when last published (telemetry: (send); reported: worker) */
  size_t bag_len;     /* telemetry: property bag after `devices/{id}/messages/events/` */
  size_t payload_len;
  char *payload;      /* points into data */
  char data[];        /* bag NUL payload NUL */
} iotc__op;

/* Queues of operations (queue.h): pending, rep_pending, the telemetry window. */
typedef iotc__queue iotc__op_list;

static inline iotc__op *iotc__op_of(iotc__link *l) { return IOTC__ENTRY(l, iotc__op, link); }
static inline void iotc__list_push_back(iotc__op_list *l, iotc__op *op) {
  iotc__queue_push_back(l, &op->link);
}
static inline void iotc__list_push_front(iotc__op_list *l, iotc__op *op) {
  iotc__queue_push_front(l, &op->link);
}
static inline iotc__op *iotc__list_pop_front(iotc__op_list *l) {
  return iotc__op_of(iotc__queue_pop_front(l));
}
static inline void iotc__list_remove(iotc__op_list *l, iotc__op *op) {
  iotc__queue_remove(l, &op->link);
}
static inline void iotc__list_prepend_all(iotc__op_list *to, iotc__op_list *from) {
  iotc__queue_prepend_all(to, from);
}

enum { IOTC__EV_MESSAGE = 0, IOTC__EV_RESPOND = 1 };

/** A received message, or a late command response to send (one allocation). */
typedef struct iotc__event {
  iotc__link link; /* in the inbox, a round's list, or the deferred patches */
  int type;
  uint32_t gen;
  bool early; /* arrived before the hub accepted the connection (CONNACK) */
  size_t oversize; /* > 0: the payload (this many bytes) was over its limit and not kept */
  int status;
  size_t topic_len, payload_len;
  char *topic, *payload; /* into data, NUL-terminated */
  char data[];
} iotc__event;

/** A command response waiting to be written (responses.c). */
typedef struct iotc__resp {
  iotc__session_op base; /* first: Paho's completion context */
  iotc__link link;             /* in the response queue (commands.resp) */
  struct iotc__resp *done_next; /* in commands.resp_done */
  struct iotc_client *client;
  uint64_t created_ms;
  int status, rc;
  size_t payload_len;
  char *payload; /* into data, after the topic */
  char data[];   /* topic NUL payload NUL */
} iotc__resp;

typedef struct iotc__handler {
  char *component; /* NULL: root */
  char *name;
  void (*fn)(void);
  void *ctx;
} iotc__handler;

typedef struct iotc__handlers {
  iotc__handler *items;
  size_t count, cap;
} iotc__handlers;

/** The handler registered for @p component (NULL: root) and @p name, or NULL; caller holds mu. */
iotc__handler *iotc__handler_find(const iotc__handlers *h, const char *component,
                                  const char *name);

typedef struct iotc__default {
  char *component, *name, *value_json;
} iotc__default;

/** The client's file uploads (upload.c). */
typedef struct iotc__uploads iotc__uploads;

/** A callback scheduled with iotc_client_schedule() (schedule.c). */
typedef struct iotc__job iotc__job;

typedef struct iotc__pending_cmd {
  struct iotc__pending_cmd *next;
  uint64_t created_ms;
  char rid[];
} iotc__pending_cmd;

/* Session flags raised by Paho callbacks (mu). */
enum {
  IOTC__SF_CONNECTED = 1,
  IOTC__SF_CONNECT_FAILED = 2,
  IOTC__SF_SUBSCRIBED = 4,
  IOTC__SF_SUB_FAILED = 8,
  IOTC__SF_LOST = 16,
  IOTC__SF_DISCONNECTED = 32,
  IOTC__SF_SUB_MALFORMED = 64
};

struct iotc_client {
  /* ---- configuration (immutable after create) ---- */
  char *id_scope, *registration_id, *device_key /* secret */, *cert_file, *key_file;
  char *dps_endpoint, *model_id, *ca_file, *cache_file;
  bool use_dps, dps_https, x509;
  uint32_t sas_ttl_s, connect_timeout_ms, reconnect_min_ms, reconnect_max_ms;
  uint32_t reprovision_after, give_up_after;
  uint16_t keepalive_s, max_inflight;
  uint32_t liveness_ms;
  size_t queue_capacity;
  char default_bag[64];
  size_t default_bag_len;
  struct iotc__model *model; /* nullable: the device model values are checked against */
  const iotc__io *io;        /* the outside world (io.h) */
  bool threadless;           /* no worker thread: driven by iotc__worker_step() (tests) */
  iotc_executor *executor;   /* NULL: the client's own worker thread; else it runs the rounds */
  iotc__exec_slot exec;      /* the place in the executor (executor.h; the executor's lock) */
  iotc__transport_state tr;  /* which transport, and the automatic choice (transport.h) */

  /* ---- synchronisation ---- */
  pthread_t worker; /* the client's own worker thread (not with an executor) */
  pthread_mutex_t mu;
  pthread_cond_t wake;     /* worker waits here */
  pthread_cond_t state_cv; /* connect()/disconnect() wait here */

  /* ---- (mu) ---- */
  atomic_bool worker_waiting; /* written under mu; read without it by op_done (window.c) */
  atomic_bool cancel_connect; /* set by iotc_client_cancel_connect() without a lock (signals) */
  bool quit;
  bool started;
  bool req_start;
  bool req_stop;
  uint64_t stop_deadline;
  bool stopped;      /* the worker finished a stop request */
  bool provisioned;  /* the provisioning thread finished (conn.c) */
  bool connected;
  bool gave_up;
  iotc_error last_error;
  char hub[IOTC_DPS_HUB_SIZE];
  char device_id[IOTC_DPS_ID_SIZE];
  iotc__op_list pending;     /* telemetry not yet handed to Paho */
  iotc__op_list rep_pending; /* reported PATCHes waiting */
  _Atomic(iotc__op *) done;  /* completions from Paho, newest first: pushed without mu */
  iotc__op *reaped;          /* completions a sending thread took out of the window, newest
                              * first, older than those in done: the worker finishes them */
  atomic_bool in_handler; /* the worker runs an application handler (command, property, C2D,
                           * status), which may block: completions then move the window */
  iotc__queue inbox;        /* received events for the worker (iotc__event) */
  uint64_t inbound_dropped; /* messages dropped on a Paho thread for lack of memory, for the
                             * worker to log */
  uint32_t session_gen;
  atomic_bool connack_seen; /* the current session's CONNACK arrived (set on Paho's thread) */
  unsigned sflags;
  int fail_code;
  char fail_text[128];
  iotc_client_stats stats;
  iotc__handlers prop_handlers, cmd_handlers;
  iotc_property_fn any_prop;
  void *any_prop_ctx;
  iotc_command_fn any_cmd;
  void *any_cmd_ctx;
  iotc_c2d_fn c2d_fn;
  void *c2d_ctx;
  iotc_status_fn status_fn;
  void *status_ctx;
  iotc__default *defaults;
  size_t default_count;
  iotc_dps *dps; /* while provisioning, for cancel */
  iotc__job *jobs;              /* scheduled callbacks, by due time (schedule.c) */
  uint64_t job_counter;
  iotc__uploads *uploads;       /* file uploads, created on the first one (upload.c) */

  /* ---- the telemetry window (send) ---- */
  pthread_mutex_t send_mu;
  iotc__session *send_session; /* NULL: closed, nothing may be published */
  iotc__op_list inflight;      /* published, not yet acknowledged, in publish order */
  atomic_size_t inflight_n;    /* inflight.count, readable without send_mu */
  char *topic_buf;
  size_t topic_cap;

  /* ---- (worker) ---- */
  iotc__conn conn;         /* the connection state machine (conn.h): worker only */
  iotc__desired desired;   /* desired properties (desired.h): worker only, `seen` no lock */
  iotc__reported reported; /* reported properties (reported.h): worker only */
  iotc__commands commands; /* commands (commands.h): worker, `pending` (mu), `resp_done` Paho */
  uint32_t rid_counter;
  char topic_prefix[IOTC_DPS_ID_SIZE + 32]; /* written only while the window is closed */
  size_t prefix_len;
  uintptr_t stack_lo, stack_hi; /* the worker's stack (see stack_check.h) */

  /* ---- store and forward (persist.h); NULL without persist_dir ---- */
  iotc__persist *persist;
};

/* Paho takes the connect timeout in whole seconds, as an int: stay far from any wrap. */
#define IOTC__CONNECT_TIMEOUT_MAX_MS 3600000u

/** CLOCK_MONOTONIC in milliseconds: the API's own waits (io_system.c). */
uint64_t iotc__now_ms(void);
/** The next request id for a twin GET ('g') or a reported PATCH ('r'). Worker. */
static inline void iotc__next_rid(iotc_client *c, char prefix, char out[16]) {
  snprintf(out, 16, "%c%u", prefix, ++c->rid_counter);
}
/** A cloud-to-device message (c2d.c; worker). */
void iotc__c2d_on_message(iotc_client *c, iotc__event *ev, const iotc_hub_c2d_message *m);
/** The client's clock (the I/O seam's): every deadline of the worker is on it. */
static inline uint64_t iotc__client_now(const iotc_client *c) { return c->io->now_ms(c->io->ctx); }
/** Telemetry and reported PATCHes waiting to be sent (mu held). */
static inline size_t iotc__client_queued_locked(const iotc_client *c) {
  return c->pending.count + c->rep_pending.count;
}
/** A client on @p io with no worker thread: the caller drives it with iotc__worker_step()
 * (tests). iotc_client_destroy() frees it. */
iotc_result iotc__client_create_io(const iotc_client_config *cfg, const iotc__io *io,
                                   iotc_client **out, iotc_error *err);
void iotc__wake_locked(iotc_client *c);
/** Append a received event (Paho thread or API); takes mu. */
void iotc__post_event(iotc_client *c, iotc__event *ev);
/** Queue a reported PATCH (API or worker); takes mu. */
iotc_result iotc__queue_reported(iotc_client *c, char *payload, size_t len, iotc_done_fn on_done,
                                 void *user_context);
void *iotc__worker_main(void *arg);
/** Executor: one round of @p c when it has work (true: it may have more). False when it has
 *  none or is being destroyed; then *wait_ms says how soon it must run again unless woken
 *  (UINT64_MAX: only when woken). Never on two threads at once for one client. */
bool iotc__worker_run_once(iotc_client *c, uint64_t *wait_ms);

/* ---- the threads that run rounds (worker_thread.c) ---- */
/** Start a thread that runs clients' rounds (a client's worker or an executor's): its stack
 *  size, and asynchronous signals blocked. 0 or the errno of pthread_create(). */
int iotc__worker_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);
/** The calling thread runs @p c's rounds from now on (NULL: no client's). */
void iotc__worker_running(const iotc_client *c);
/** True on the thread running @p c's rounds, i.e. inside one of its callbacks. */
bool iotc__on_worker(const iotc_client *c);
/** Count @p n pieces of work dropped for lack of memory (stats); takes mu. The caller logs
 *  what was dropped. */
void iotc__count_dropped(iotc_client *c, uint64_t n);
/** Set the worker's state before its first round. */
void iotc__worker_init(iotc_client *c);
/** One round of the worker without waiting: take what arrived, route it, dispatch it. */
void iotc__worker_step(iotc_client *c);
/** When the worker must run next, whatever arrives (mu held); UINT64_MAX: only on an event. */
uint64_t iotc__worker_deadline_locked(iotc_client *c);

/* ---- inbox: what Paho's threads hand to the worker ---- */
/** The session is gone: its late reports are ignored. */
void iotc__inbox_end_session(iotc_client *c);
/** A new session starts: its generation number (older reports are ignored). */
uint32_t iotc__inbox_new_session(iotc_client *c);
/** The largest payload accepted on @p topic (IOTC__IN_*_MAX). */
size_t iotc__inbox_limit(const char *topic, size_t topic_len);
/** The callbacks a session reports to. */
iotc__session_sink iotc__inbox_sink(iotc_client *c);
/** Complete @p op with @p result (user callback) and free it; no lock held. A persisted op
 * leaves the persist directory unless @p result is IOTC_ERR_SHUTDOWN (sent again next time). */
void iotc__op_finish(iotc_client *c, iotc__op *op, iotc_result result);
/** A new op of @p kind holding @p bag and @p payload (copied), zeroed otherwise; NULL: no memory. */
iotc__op *iotc__op_new(int kind, const char *bag, size_t bag_len, const char *payload,
                       size_t payload_len);
/** Remove a later-response entry; true when it was there. */
bool iotc__pending_cmd_take(iotc_client *c, const char *rid);
void iotc__free_event(iotc__event *ev);
static inline iotc__event *iotc__event_of(iotc__link *l) {
  return IOTC__ENTRY(l, iotc__event, link);
}
/** Free every event of @p q. */
void iotc__free_events(iotc__queue *q);
/** Worker: a desired @p version reaches the application; acknowledgements up to it are valid. */
void iotc__desired_seen(iotc_client *c, int64_t version);
/** Queue the acknowledgement of a writable property whose arguments are known to be valid. */
iotc_result iotc__queue_ack(iotc_client *c, const char *component, const char *name,
                            const char *value_json, int status, int64_t version,
                            const char *description, iotc_done_fn on_done, void *user_context);
iotc__event *iotc__event_new(int type, const char *topic, size_t topic_len, const void *payload,
                             size_t payload_len);

/* ---- scheduled callbacks (schedule.c) ---- */
/** When the first scheduled callback is due (a cancelled one: 0); UINT64_MAX when none. mu held. */
uint64_t iotc__jobs_next_due_locked(const iotc_client *c);
/** Worker: run the callbacks that are due, and complete the cancelled ones; no lock held. */
void iotc__jobs_run_due(iotc_client *c);
/** Destroy, after the worker is gone: complete every remaining callback with IOTC_ERR_SHUTDOWN
 * (IOTC_ERR_CANCELLED for one already cancelled), in due order. */
void iotc__jobs_shutdown(iotc_client *c);

/* ---- command responses (responses.c; worker, or destroy once the worker is gone) ---- */
/** Queue the response to request @p rid (logged and dropped only when no topic can carry it). */
void iotc__resp_queue(iotc_client *c, const char *rid, int status, const char *payload);
/** Every queued response was written (a disconnect may close). */
bool iotc__resp_all_written(const iotc_client *c);
/** True when responses are queued and Paho may take more. */
bool iotc__resp_sendable(const iotc_client *c);
/** Hand queued responses to Paho through @p s (the connected session). */
void iotc__resp_pump(iotc_client *c, iotc__session *s);
/** Take the written responses back; those a drop interrupted go first in the queue again. */
void iotc__resp_completions(iotc_client *c);
/** Destroy: free what is left, with a log line saying how many were never sent. */
void iotc__resp_free_all(iotc_client *c);
/** Paho thread: wake the worker if it waits (it takes the completions). */
void iotc__wake_from_paho(iotc_client *c);

/* ---- the telemetry window (window.c) ---- */
/** Set the completion of a telemetry op before it is queued. */
void iotc__window_init_op(iotc__op *op);
/** Worker: allow sending through @p s (the current session) and send what fits. */
void iotc__window_open(iotc_client *c, iotc__session *s);
/** Worker: stop sending; no telemetry is published through the session after this returns. */
void iotc__window_close(iotc_client *c);
/** Worker: close the window when nothing is queued or in flight; true when it did. */
bool iotc__window_close_if_idle(iotc_client *c);
/** Any thread but Paho's: send queued telemetry while the window is open and has room; true
 * when a publish failed and left messages queued. */
bool iotc__window_pump(iotc_client *c);
/** Worker (mu held): all completions not yet finished, newest first (done, then reaped). */
iotc__op *iotc__window_take_done_locked(iotc_client *c);
/** Worker: take the acknowledged ops of the completion list @p done out of the window. */
void iotc__window_release(iotc_client *c, iotc__op *done);
/** Worker: finish the completion list @p done (newest first): callbacks in completion order. */
void iotc__window_completions(iotc_client *c, iotc__op *done);
/** When the oldest telemetry in flight was published; UINT64_MAX when none is. */
uint64_t iotc__window_oldest_ms(iotc_client *c);
/** Worker or destroy: close the window and requeue what is in flight, in order, for resending. */
void iotc__window_requeue(iotc_client *c);

#endif
