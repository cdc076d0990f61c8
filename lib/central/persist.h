/* SPDX-License-Identifier: MIT */
/* Store and forward (persist.c): the client's outgoing queue kept in a segment log
 * (common/seglog.h) in persist_dir. A QoS 1 telemetry message or a reported PATCH is appended
 * before it is queued (the log order is the queue order), and acknowledged in the log when it
 * ends (iotc__op_finish), unless it ends by the client being destroyed: then it stays for the
 * next client on the directory, which queues it again at create, before anything new.
 * Locking: the log is guarded by the persist lock, taken before mu (iotc__persist_lock); the
 * counters by mu. Never called on a Paho thread. */
#ifndef IOTC_CENTRAL_PERSIST_H
#define IOTC_CENTRAL_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/client.h"

struct iotc_client;
struct iotc__op;
typedef struct iotc__persist iotc__persist;

/** Create: open and lock cfg->persist_dir and queue what it holds (pending, rep_pending), in
 * order. No-op without persist_dir. Errors name the directory and the reason in @p err. */
iotc_result iotc__persist_open(struct iotc_client *c, const iotc_client_config *cfg,
                               iotc_error *err);
/** Destroy (after every op ended): sync what the durability setting left unsynced, unlock. */
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

#endif
