/* SPDX-License-Identifier: MIT */
/* Store and forward (persist.c): the client's outgoing queue kept in a segment log
 * (common/seglog.h) in persist_dir. A QoS 1 telemetry message or a reported PATCH is appended
 * before it is queued (the log order is the queue order), and acknowledged in the log when it
 * ends (iotc__op_finish), unless it ends by the client being destroyed: then it stays for the
 * next client on the directory, which queues it again at create, before anything new.
 * This file keeps the log and speaks records and sequence numbers; making ops of recovered
 * records and finishing dropped ones is the queue's side (persist_queue.c), which calls it.
 * Locking: the log is guarded by the persist lock, taken before mu (iotc__persist_lock); the
 * counters by mu. Never called on a Paho thread. */
#ifndef IOTC_CENTRAL_PERSIST_H
#define IOTC_CENTRAL_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "central/queue.h"
#include "iotc/client.h"

struct iotc_client;
struct iotc__op;
typedef struct iotc__persist iotc__persist;

/** Queue a record read back at create: telemetry (@p bag, @p payload) or, when !telemetry, a
 * reported PATCH (@p payload); @p seq is its record. False: out of memory. */
typedef bool (*iotc__persist_requeue_fn)(struct iotc_client *c, uint64_t seq, bool telemetry,
                                         const char *bag, size_t bag_len, const char *payload,
                                         size_t payload_len);
/** Create: open and lock cfg->persist_dir and hand what it holds to @p requeue, in order.
 * No-op without persist_dir. Errors name the directory and the reason in @p err. */
iotc_result iotc__persist_open(struct iotc_client *c, const iotc_client_config *cfg,
                               iotc__persist_requeue_fn requeue, iotc_error *err);
/** Destroy (after every op ended and the dropped ones were taken): sync what the durability
 * setting left unsynced, unlock. */
void iotc__persist_close(struct iotc_client *c);

/** Take / release the persist lock around make-id, append and queue (keeps the orders equal). */
void iotc__persist_lock(struct iotc_client *c);
void iotc__persist_unlock(struct iotc_client *c);
/** The message id (`$.mid`) the next appended record gets (persist lock held). */
void iotc__persist_next_mid(struct iotc_client *c, char out[48]);
/** Append @p op (persist lock held); sets op->pseq. Applies the full policy; errors are logged
 * with the reason: IOTC_ERR_QUEUE_FULL, IOTC_ERR_NO_SPACE, IOTC_ERR_IO, IOTC_ERR_TOO_LARGE. */
iotc_result iotc__persist_append(struct iotc_client *c, struct iotc__op *op);
/** Undo iotc__persist_append() of an op that was not queued after all (persist lock held). */
void iotc__persist_cancel(struct iotc_client *c, struct iotc__op *op);
/** @p seqs left the queue (delivered, or failed for good); @p replayed of them were recovered
 * at create and delivered. Takes the persist lock; no other lock held. */
void iotc__persist_ack(struct iotc_client *c, const uint64_t *seqs, size_t n, size_t replayed);
/** Messages recovered at create (for the status callback). */
uint64_t iotc__persist_recovered(const struct iotc_client *c);
/** Worker: true once, for the first status, when messages were recovered. */
bool iotc__persist_tell_recovered(struct iotc_client *c);

/** Worker (mu held): when the log next needs a round (0: dropped ops wait); UINT64_MAX: never. */
uint64_t iotc__persist_deadline_locked(struct iotc_client *c);
/** The queued ops the full policy dropped (their records are gone); takes mu. */
iotc__queue iotc__persist_take_dropped(struct iotc_client *c);
/** Worker: sync a log the interval setting left dirty once its time came. */
void iotc__persist_sync_if_due(struct iotc_client *c, uint64_t now);

/** The queue's side (persist_queue.c): open with recovered records queued as ops. */
iotc_result iotc__persist_queue_open(struct iotc_client *c, const iotc_client_config *cfg,
                                     iotc_error *err);
/** The queue's side: finish the dropped ops, then iotc__persist_close(). */
void iotc__persist_queue_close(struct iotc_client *c);

#endif
