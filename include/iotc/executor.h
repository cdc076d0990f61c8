/* SPDX-License-Identifier: MIT */
/**
 * @file executor.h
 * @brief A shared executor: a few threads that run the callbacks of many clients.
 *
 * By default every ::iotc_client has a worker thread of its own, which runs its callbacks and
 * its timers. A process with many devices (a gateway, a simulator, a test) can instead create
 * one executor with a few threads and name it in iotc_client_config::executor: each of those
 * clients then has no thread of its own, and the executor's threads run its rounds.
 *
 * **What stays the same.** A client's rounds, and so its callbacks, still run one at a time
 * and in order: a client is never run on two executor threads at once, callbacks never run on
 * a Paho (MQTT library) thread nor while iotc holds a lock, and every API function behaves as
 * with a thread of its own (including iotc_client_destroy() refusing to be called from the
 * client's own callback). The MQTT I/O of every client (keep-alive, acknowledgements) is
 * Paho's and goes on whatever the executor does.
 *
 * **What a slow callback delays.** A callback holds the executor thread that runs it until it
 * returns. Meanwhile its own client's later callbacks and timers wait (as with a thread of its
 * own), and the other clients are served by the remaining threads. When every thread of the
 * executor is held (N slow callbacks at once, N = @ref iotc_executor_config::threads), the
 * callbacks and timer work of every other client on it wait until one returns: received
 * commands, properties and messages wait in their client's inbox, telemetry acknowledgements
 * are not reported, and reconnects and liveness checks are late; the MQTT connections stay up
 * (their keep-alive is Paho's), and telemetry sent from the application's threads is still
 * written while the window has room. The same holds for API calls that wait made from a
 * callback (iotc_client_connect() or iotc_client_disconnect() with a timeout, on any client):
 * they hold the thread they run on (with a single thread, until their timeout: the client they
 * wait for cannot run meanwhile).
 *
 * **Ownership.** iotc_executor_create() returns an executor the caller owns and frees with
 * iotc_executor_destroy(), once no client is attached to it: a client is attached from its
 * iotc_client_create() to its iotc_client_destroy(). While clients are attached destroy is
 * refused (IOTC_ERR_STATE, saying how many) and the executor goes on working, so a client can
 * never outlive its executor.
 *
 * **Threading.** iotc_executor_create() and iotc_executor_destroy() may be called from any
 * thread; destroy is refused on the executor's own threads (in a callback of a client on
 * it) and must not overlap the creation of a client on the same executor. The executor's
 * threads block asynchronous signals, like a client's own worker, and have the same stack
 * size (256 KiB), so the check that a command response does not point into the handler's
 * returned stack frame works on them too.
 */
#ifndef IOTC_EXECUTOR_H
#define IOTC_EXECUTOR_H

#include <stdint.h>

#include "iotc/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque executor handle. */
typedef struct iotc_executor iotc_executor;

/** Value of iotc_executor_config::struct_version written by iotc_executor_config_init(). */
#define IOTC_EXECUTOR_CONFIG_VERSION 1

/** Most threads an executor may have. */
#define IOTC_EXECUTOR_THREADS_MAX 256

/** @brief How an executor is made. Initialise with iotc_executor_config_init(). */
typedef struct iotc_executor_config {
  int struct_version; /**< IOTC_EXECUTOR_CONFIG_VERSION */
  /** Threads that run the clients' rounds, 1 to IOTC_EXECUTOR_THREADS_MAX. Default 2. Each
   *  holds a 256 KiB stack. One more thread than the number of callbacks that may block at
   *  the same time keeps the other clients served. */
  uint32_t threads;
} iotc_executor_config;

/** @brief Fill @p cfg with the defaults above (NULL is ignored). @note Thread-safe. */
void iotc_executor_config_init(iotc_executor_config *cfg);

/**
 * @brief Create an executor and start its threads.
 * @param cfg the configuration (read during the call only)
 * @param[out] out_executor the new executor; NULL on failure
 * @param[out] err why it failed, nullable
 * @retval IOTC_OK created
 * @retval IOTC_ERR_INVALID_ARG @p cfg or @p out_executor is NULL, an unknown struct_version, or
 *         threads is 0 or above IOTC_EXECUTOR_THREADS_MAX
 * @retval IOTC_ERR_NO_MEMORY out of memory, or a thread could not be started
 * @note Thread-safe.
 */
IOTC_NODISCARD iotc_result iotc_executor_create(const iotc_executor_config *cfg,
                                                iotc_executor **out_executor, iotc_error *err);

/**
 * @brief Stop the executor's threads and free it, once no client is attached to it.
 * @param executor the executor; NULL is a no-op (IOTC_OK)
 * @param[out] err why it was refused, nullable
 * @retval IOTC_OK destroyed: @p executor must not be used again
 * @retval IOTC_ERR_STATE refused, the executor is kept and goes on working: clients are still
 *         attached (the message says how many: iotc_client_destroy() them first), or the call
 *         was made on one of the executor's own threads
 * @note Any thread but the executor's own; not while a client is being created on it.
 */
IOTC_NODISCARD iotc_result iotc_executor_destroy(iotc_executor *executor, iotc_error *err);

#ifdef __cplusplus
}
#endif
#endif
