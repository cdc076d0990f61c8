/* SPDX-License-Identifier: MIT */
/* An append-only log of records in segment files, in one directory, for the persistent queue.
 *
 * Layout: DIR/lock (flock'ed by the one process that writes), DIR/<16 hex digits>.seg, named
 * by the sequence number of the segment's first record. A segment starts with a 16-byte header
 * ("IOTCSEG1" and the log's 64-bit id, the same in every segment); then records:
 *   u32 len | u32 crc | u64 seq | u64 time_ms | u8 kind | 3 zero bytes | len bytes of data
 * in host byte order; crc is CRC-32C over len, everything after crc, and the data. A data
 * record has a kind >= 1 and the next sequence number (they never repeat in a directory); an
 * acknowledgement record (kind 0, seq 0) lists the u64 sequence numbers that left the queue.
 *
 * Recovery (open): every segment is read; a record that is short, too long or fails its
 * checksum ends its segment. In the last segment that is a torn write (the process or the
 * machine stopped inside a write): the file is cut there. In an older segment it is damage:
 * the rest of that segment is skipped and counted. Data records not acknowledged are handed to
 * the caller in sequence order. Segments from the oldest on whose records are all acknowledged
 * are deleted (the newest one is kept: it carries the sequence on).
 *
 * Durability: append() write()s each record in one call, so it survives the process (a kill,
 * a crash) once append() returns; with @p sync it is also on the disk (fdatasync, and the
 * directory is fsync'ed when a segment is created), so it survives a power cut.
 *
 * Thread-safety: none; the caller serialises every call on one log. Not async-signal-safe. */
#ifndef IOTC_COMMON_SEGLOG_H
#define IOTC_COMMON_SEGLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

#define IOTC__SEGLOG_HEADER 28u  /* bytes before a record's data */
#define IOTC__SEGLOG_SEG_HEADER 16u
#define IOTC__SEGLOG_MAX_RECORD (4u * 1024u * 1024u) /* larger data is refused */

typedef struct iotc__seglog iotc__seglog;

/** What a directory holds (open() and inspect()). */
typedef struct iotc__seglog_info {
  uint64_t segments;       /* segment files */
  uint64_t bytes;          /* their total size */
  uint64_t records;        /* data records read */
  uint64_t live;           /* data records not acknowledged */
  uint64_t live_bytes;     /* their data */
  uint64_t damaged;        /* bad records: a torn tail of the last segment, or damage elsewhere */
  uint64_t cut_bytes;      /* bytes cut from (open) or past a bad record of (inspect) segments */
  uint64_t oldest_seq, newest_seq; /* of the live records; 0 when none */
  uint64_t oldest_ms, newest_ms;   /* their wall-clock times (ms since 1970) */
  uint64_t log_id;         /* the directory's random id */
  bool locked;             /* inspect: a process holds the lock */
} iotc__seglog_info;

/** A live data record, handed over by open() in sequence order; @p data is borrowed. */
typedef void (*iotc__seglog_visit_fn)(void *ctx, uint64_t seq, uint8_t kind, uint64_t time_ms,
                                      const uint8_t *data, size_t len);

/**
 * Open (creating the directory itself if missing, mode 0700), lock, recover. @p visit gets each
 * live record (nullable). @p max_bytes bounds the segments on disk (appends beyond it are
 * refused); the segment size follows from it.
 * Errors (with a sentence in @p why): IOTC_ERR_IO (cannot create, read or write: the path and
 * the system's reason), IOTC_ERR_LOCKED (another process or client holds the lock),
 * IOTC_ERR_INVALID_ARG (max_bytes too small), IOTC_ERR_NO_SPACE, IOTC_ERR_NO_MEMORY.
 */
iotc_result iotc__seglog_open(const char *dir, uint64_t max_bytes, iotc__seglog_visit_fn visit,
                              void *ctx, iotc__seglog **out, iotc__seglog_info *info, char *why,
                              size_t why_size);

/** Read what @p dir holds without locking or changing anything (for a CLI). */
iotc_result iotc__seglog_inspect(const char *dir, iotc__seglog_info *info, char *why,
                                 size_t why_size);

/** The sequence number the next data record gets. */
uint64_t iotc__seglog_next_seq(const iotc__seglog *l);
/** The directory's random id (stable over restarts). */
uint64_t iotc__seglog_id(const iotc__seglog *l);
/** Bytes of the segments now. */
uint64_t iotc__seglog_bytes(const iotc__seglog *l);

/**
 * Append a data record (kind >= 1) with the next sequence number (*seq). @p sync: on the disk
 * before returning. IOTC_ERR_QUEUE_FULL: it would take the log past max_bytes (nothing
 * written); IOTC_ERR_NO_SPACE / IOTC_ERR_IO: the write failed and was undone (the file is as
 * before); IOTC_ERR_TOO_LARGE: over IOTC__SEGLOG_MAX_RECORD.
 */
iotc_result iotc__seglog_append(iotc__seglog *l, uint8_t kind, const void *data, size_t len,
                                uint64_t time_ms, bool sync, uint64_t *seq, char *why,
                                size_t why_size);

/** Record that @p seqs left the queue (one record; unknown or repeated numbers are ignored) and
 * delete the segments that held only such records. Never refused for max_bytes. */
iotc_result iotc__seglog_ack(iotc__seglog *l, const uint64_t *seqs, size_t n, char *why,
                             size_t why_size);

/** fdatasync the segment being written (no-op when nothing was written since the last). */
iotc_result iotc__seglog_sync(iotc__seglog *l);

/** Delete the oldest segment (starting a new one first when it is the only one): its live
 * records [*first, *last] are dropped. False when there is nothing to drop. */
bool iotc__seglog_drop_oldest(iotc__seglog *l, uint64_t *first, uint64_t *last);

/** Close and unlock (no sync beyond what was asked); NULL is a no-op. */
void iotc__seglog_close(iotc__seglog *l);

#endif
