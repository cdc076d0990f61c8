/* SPDX-License-Identifier: MIT */
/**
 * @file persist.h
 * @brief The persistent queue (store and forward): settings used by ::iotc_client_config
 *        (`persist_dir` and the fields after it), the client's persistence counters, and a
 *        read-only look into a persist directory.
 *
 * With `persist_dir` set, every QoS 1 telemetry message and every reported property (and
 * writable-property acknowledgement) the client accepts is appended to a log in that directory
 * before the call returns, stays there until the hub acknowledges it, and is sent again, in
 * order and before newer messages, by the next client created on the same directory (after a
 * crash, a kill or a power cut). Delivery is at least once: a message the hub received but
 * whose acknowledgement was not yet recorded is sent again; persisted telemetry carries a
 * message id (`$.mid`, `<directory id>-<sequence>`, unless the application gave its own) so a
 * consumer can drop the repeats. See the README, "Store and forward", for exactly what survives
 * what under each ::iotc_persist_durability.
 *
 * Ownership: nothing here keeps pointers. Thread-safety: iotc_persist_inspect() may run in any
 * thread, also while a client writes the directory (it reads a snapshot and changes nothing).
 *
 * @code
 * #include <iotc/iotc.h>
 * #include <inttypes.h>
 * #include <stdio.h>
 *
 * int main(int argc, char **argv) {
 *   iotc_persist_info info;
 *   iotc_error err;
 *   if (argc < 2) return 2;
 *   iotc_result r = iotc_persist_inspect(argv[1], &info, &err);
 *   if (r != IOTC_OK) {
 *     fprintf(stderr, "%s: %s\n", iotc_strerror(r), err.message);
 *     return 1;
 *   }
 *   printf("%" PRIu64 " messages waiting, %" PRIu64 " bytes\n", info.queued, info.bytes);
 *   return 0;
 * }
 * @endcode
 */
#ifndef IOTC_PERSIST_H
#define IOTC_PERSIST_H

#include <stdbool.h>
#include <stdint.h>

#include "iotc/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** When an accepted message reaches the disk (see the README, "Store and forward"). */
typedef enum iotc_persist_durability {
  /** fdatasync before the send call returns: survives a power cut. The default. */
  IOTC_PERSIST_SYNC_EACH = 0,
  /** fdatasync at most every `persist_sync_interval_ms` (by the sending call or the client's
   *  worker): a power cut loses at most the messages of the last interval. */
  IOTC_PERSIST_SYNC_INTERVAL = 1,
  /** write() only; the operating system writes back when it decides (Linux: within about 30 s).
   *  Survives the process being killed, not a power cut. */
  IOTC_PERSIST_SYNC_OS = 2
} iotc_persist_durability;

/** What happens when the persist directory would grow past `persist_max_bytes`. */
typedef enum iotc_persist_full_policy {
  /** Refuse the new message: the send call returns IOTC_ERR_QUEUE_FULL. The default. */
  IOTC_PERSIST_REFUSE_NEW = 0,
  /** Delete the oldest segment of the log: its messages that were not sent yet are dropped
   *  (their on_done gets IOTC_ERR_QUEUE_FULL; counted in iotc_persist_stats::dropped). */
  IOTC_PERSIST_DROP_OLDEST = 1
} iotc_persist_full_policy;

/** Persistence counters of a client (iotc_client_get_persist_stats()). */
typedef struct iotc_persist_stats {
  int struct_version; /**< IOTC_PERSIST_STATS_VERSION, set by the library */
  uint64_t recovered; /**< messages found in the directory when the client was created */
  uint64_t replayed;  /**< of those, acknowledged by the hub since (sent again after a restart) */
  uint64_t dropped;   /**< dropped unsent by IOTC_PERSIST_DROP_OLDEST */
  uint64_t damaged;   /**< damaged records found (and cut off) when the client was created */
  uint64_t bytes;     /**< bytes the directory's log takes now */
  /** The last message refused by the persist directory (IOTC_ERR_QUEUE_FULL, IOTC_ERR_NO_SPACE,
   *  IOTC_ERR_IO); IOTC_OK when none was. */
  iotc_result last_result;
  /** Why, in words, naming the directory and the system's reason; "" when none. */
  char last_error[IOTC_ERROR_MESSAGE_SIZE];
} iotc_persist_stats;

/** Value of iotc_persist_stats::struct_version. */
#define IOTC_PERSIST_STATS_VERSION 1

/** What a persist directory holds (iotc_persist_inspect()). */
typedef struct iotc_persist_info {
  uint64_t segments;     /**< segment files */
  uint64_t bytes;        /**< their total size */
  uint64_t records;      /**< messages recorded, sent or not */
  uint64_t queued;       /**< messages not acknowledged by the hub yet */
  uint64_t queued_bytes; /**< their size (topic properties and payload) */
  uint64_t damaged;      /**< damaged records (a torn last write is one; the next client cuts it) */
  uint64_t damaged_bytes; /**< bytes from the first damaged record to the end of its segment */
  uint64_t oldest_seq;   /**< sequence number of the oldest waiting message; 0 when none */
  uint64_t newest_seq;   /**< sequence number of the newest waiting message; 0 when none */
  uint64_t oldest_ms;    /**< when the oldest waiting message was accepted (ms since 1970, UTC) */
  uint64_t newest_ms;    /**< when the newest waiting message was accepted (ms since 1970, UTC) */
  uint64_t directory_id; /**< the directory's random id (the first part of each `$.mid`) */
  bool in_use;           /**< a client holds the directory now */
} iotc_persist_info;

/**
 * @brief Read what the persist directory @p dir holds, without locking or changing it.
 * @param dir a directory given as `persist_dir` to a client
 * @param[out] info filled on success
 * @param[out] err on failure, why in words; nullable
 * @retval IOTC_ERR_INVALID_ARG @p dir or @p info is NULL
 * @retval IOTC_ERR_IO the directory or a segment cannot be read
 * @retval IOTC_ERR_NO_MEMORY out of memory
 */
IOTC_NODISCARD iotc_result iotc_persist_inspect(const char *dir, iotc_persist_info *info,
                                                iotc_error *err);

#ifdef __cplusplus
}
#endif

#endif
