/* SPDX-License-Identifier: MIT */
/* Commands (commands.c): direct method requests run their handler and are answered, now or
 * later (iotc_client_respond_command(), also across a reconnect); the answers are written by
 * responses.c. Queued commands arrive as C2D (c2d.c) and run the same handler, unanswered.
 * Locking: the response queue is the worker's alone, `pending` (requests answered later) is
 * guarded by mu, `resp_done` is pushed by Paho threads without a lock. */
#ifndef IOTC_CENTRAL_COMMANDS_H
#define IOTC_CENTRAL_COMMANDS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "central/queue.h"
#include "iotc/hub_topic.h"

struct iotc_client;
struct iotc__event;
struct iotc__resp;
struct iotc__pending_cmd;

typedef struct iotc__commands {
  iotc__queue resp;                         /* (worker) responses not yet handed to Paho */
  uint32_t resp_out;                        /* (worker) handed to Paho, not yet written */
  bool resp_refused;                        /* (worker) Paho refused one: wait */
  _Atomic(struct iotc__resp *) resp_done;   /* written responses, newest first (Paho) */
  struct iotc__pending_cmd *pending;        /* (mu) requests to be answered later */
} iotc__commands;

/** A method request arrived: run its handler and answer it (or leave it for later). */
void iotc__commands_on_request(struct iotc_client *c, const struct iotc__event *ev);
/** Run the handler of one command; @p rid NULL for a queued (C2D) command. */
void iotc__commands_run(struct iotc_client *c, const char *comp, const char *name,
                        const char *payload, size_t payload_len, const char *rid);
/** Answer request @p rid (a late response, or a refusal). */
void iotc__commands_respond(struct iotc_client *c, const char *rid, int status,
                            const char *payload);
/** Answer request @p rid with an error @p status and a {"message": ...} body. */
void iotc__commands_refuse(struct iotc_client *c, const char *rid, int status,
                           const char *message);
/** A NUL-terminated copy of @p v (NULL when v is absent or on no memory). */
char *iotc__view_dup(iotc_hub_view v);

#endif
