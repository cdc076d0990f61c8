/* SPDX-License-Identifier: MIT */
/* Store and forward (see persist.h): the client's queue in a segment log. Records: telemetry
 * (kind 1: u32 property-bag length, the bag, the payload) and reported PATCHes (kind 2: the
 * document). The durability setting decides when appends reach the disk; with an interval the
 * worker syncs (the persist feature's timer) when no later append did. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "central/client_internal.h"
#include "common/log.h"
#include "common/seglog.h"

enum { REC_TELEMETRY = 1, REC_REPORTED = 2 };

struct iotc__persist {
  pthread_mutex_t mu; /* the persist lock: guards log, last_sync_ms; taken before c->mu */
  iotc__seglog *log;
  iotc_persist_durability durability;
  iotc_persist_full_policy policy;
  uint32_t interval_ms;
  uint64_t last_sync_ms;
  atomic_bool dirty;          /* appended since the last sync (interval setting) */
  _Atomic uint64_t sync_due;  /* when the worker syncs a dirty log */
  iotc_persist_stats stats;   /* (c->mu) */
  iotc__op_list dropped;      /* (c->mu) dropped by the full policy: the worker finishes them */
  bool told;                  /* (worker) the first status said how many were recovered */
};

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- recovery --------------------------------------------------------------------------- */

typedef struct recovery {
  iotc_client *c;
  uint64_t count, unknown;
  bool oom;
} recovery;

static void on_record(void *ctx, uint64_t seq, uint8_t kind, uint64_t time_ms,
                      const uint8_t *data, size_t len) {
  recovery *rc = ctx;
  (void)time_ms;
  iotc_client *c = rc->c;
  iotc__op *op = NULL;
  if (kind == REC_TELEMETRY && len >= 4) {
    uint32_t bag_len;
    memcpy(&bag_len, data, 4);
    if (bag_len > len - 4) {
      rc->unknown++;
      return;
    }
    op = iotc__op_new(IOTC__OP_TELEMETRY, (const char *)data + 4, bag_len,
                      (const char *)data + 4 + bag_len, len - 4 - bag_len);
    if (op) {
      op->qos = 1;
      iotc__window_init_op(op);
    }
  } else if (kind == REC_REPORTED) {
    op = iotc__op_new(IOTC__OP_REPORTED, NULL, 0, (const char *)data, len);
  } else {
    rc->unknown++; /* a record kind of a newer iotc: kept on disk, not sent */
    return;
  }
  if (op == NULL) {
    rc->oom = true;
    return;
  }
  op->client = c;
  op->pseq = seq;
  op->recovered = true;
  op->resend = true;
  iotc__list_push_back(kind == REC_TELEMETRY ? &c->pending : &c->rep_pending, op);
  rc->count++;
}

static iotc_result refuse(iotc_error *err, iotc_result r, const char *msg) {
  IOTC_LOGE("iotc_client_create: %s", msg);
  if (err) {
    iotc_error_clear(err);
    err->result = r;
    snprintf(err->message, sizeof err->message, "%s", msg);
  }
  return r;
}

iotc_result iotc__persist_open(iotc_client *c, const iotc_client_config *cfg, iotc_error *err) {
  if (cfg->struct_version < 4 || cfg->persist_dir == NULL || cfg->persist_dir[0] == '\0') {
    return IOTC_OK;
  }
  if (cfg->persist_durability > IOTC_PERSIST_SYNC_OS) {
    return refuse(err, IOTC_ERR_INVALID_ARG, "persist_durability is not an iotc_persist_durability");
  }
  if (cfg->persist_full_policy > IOTC_PERSIST_DROP_OLDEST) {
    return refuse(err, IOTC_ERR_INVALID_ARG, "persist_full_policy is not an iotc_persist_full_policy");
  }
  if (cfg->persist_durability == IOTC_PERSIST_SYNC_INTERVAL &&
      (cfg->persist_sync_interval_ms == 0 || cfg->persist_sync_interval_ms > 3600000u)) {
    return refuse(err, IOTC_ERR_INVALID_ARG, "persist_sync_interval_ms must be 1 to 3600000");
  }
  iotc__persist *p = calloc(1, sizeof *p);
  if (p == NULL) return refuse(err, IOTC_ERR_NO_MEMORY, "out of memory");
  p->durability = cfg->persist_durability;
  p->policy = cfg->persist_full_policy;
  p->interval_ms = cfg->persist_sync_interval_ms;
  atomic_init(&p->sync_due, UINT64_MAX);
  char why[IOTC_ERROR_MESSAGE_SIZE];
  recovery rc = {c, 0, 0, false};
  iotc__seglog_info info;
  uint64_t t0 = iotc__now_ms();
  iotc_result r = iotc__seglog_open(cfg->persist_dir, cfg->persist_max_bytes, on_record, &rc,
                                    &p->log, &info, why, sizeof why);
  if (r == IOTC_OK && rc.oom) {
    iotc__seglog_close(p->log);
    r = IOTC_ERR_NO_MEMORY;
    snprintf(why, sizeof why, "out of memory reading back persist_dir '%s'", cfg->persist_dir);
  }
  if (r != IOTC_OK) {
    free(p);
    return refuse(err, r, why);
  }
  pthread_mutex_init(&p->mu, NULL);
  p->stats.struct_version = IOTC_PERSIST_STATS_VERSION;
  p->stats.recovered = rc.count;
  p->stats.damaged = info.damaged;
  p->last_sync_ms = iotc__client_now(c);
  c->persist = p;
  if (rc.count || info.damaged || rc.unknown) {
    IOTC_LOGI("persist_dir '%s': %" PRIu64 " messages recovered (%" PRIu64 " bytes) in %" PRIu64
              " ms; %" PRIu64 " damaged records cut off; %" PRIu64 " of an unknown kind kept",
              cfg->persist_dir, rc.count, info.live_bytes, iotc__now_ms() - t0, info.damaged,
              rc.unknown);
  }
  return IOTC_OK;
}

/* ---- appending -------------------------------------------------------------------------- */

void iotc__persist_lock(iotc_client *c) { pthread_mutex_lock(&c->persist->mu); }
void iotc__persist_unlock(iotc_client *c) { pthread_mutex_unlock(&c->persist->mu); }

void iotc__persist_next_mid(iotc_client *c, char out[48]) {
  snprintf(out, 48, "%016" PRIx64 "-%" PRIu64, iotc__seglog_id(c->persist->log),
           iotc__seglog_next_seq(c->persist->log));
}

static bool in_range(const iotc__op *op, uint64_t first, uint64_t last) {
  return op->pseq >= first && op->pseq <= last;
}

/* Move the queued ops of records [first, last] to the dropped list (c->mu held). */
static uint64_t take_dropped_locked(iotc_client *c, iotc__op_list *from, uint64_t first,
                                    uint64_t last) {
  uint64_t n = 0;
  iotc__link *l = from->head;
  while (l) {
    iotc__link *next = l->next;
    iotc__op *op = iotc__op_of(l);
    if (op->pseq && in_range(op, first, last)) {
      iotc__list_remove(from, op);
      op->pseq = 0; /* its record is gone already */
      iotc__list_push_back(&c->persist->dropped, op);
      n++;
    }
    l = next;
  }
  return n;
}

/* The oldest segment goes (IOTC_PERSIST_DROP_OLDEST); persist lock held. */
static bool drop_oldest(iotc_client *c) {
  uint64_t first, last;
  if (!iotc__seglog_drop_oldest(c->persist->log, &first, &last)) return false;
  pthread_mutex_lock(&c->mu);
  uint64_t n = take_dropped_locked(c, &c->pending, first, last) +
               take_dropped_locked(c, &c->rep_pending, first, last);
  c->persist->stats.dropped += n;
  if (n) iotc__wake_locked(c);
  pthread_mutex_unlock(&c->mu);
  IOTC_LOGW("persist_max_bytes reached: the oldest segment (records %" PRIu64 "-%" PRIu64
            ") was deleted, %" PRIu64 " unsent messages dropped", first, last, n);
  return true;
}

/* Interval setting: sync now when the interval passed, else leave it to the worker. */
static void after_append(iotc_client *c, iotc__persist *p) {
  if (p->durability != IOTC_PERSIST_SYNC_INTERVAL) return;
  uint64_t now = iotc__client_now(c);
  if (now - p->last_sync_ms >= p->interval_ms) {
    if (iotc__seglog_sync(p->log) != IOTC_OK) IOTC_LOGW("persist_dir: fdatasync failed");
    p->last_sync_ms = now;
    atomic_store(&p->dirty, false);
    return;
  }
  if (!atomic_exchange(&p->dirty, true)) { /* the worker learns of the new deadline */
    atomic_store(&p->sync_due, p->last_sync_ms + p->interval_ms);
    pthread_mutex_lock(&c->mu);
    iotc__wake_locked(c);
    pthread_mutex_unlock(&c->mu);
  }
}

iotc_result iotc__persist_append(iotc_client *c, iotc__op *op) {
  iotc__persist *p = c->persist;
  bool tel = op->kind == IOTC__OP_TELEMETRY;
  size_t len = (tel ? 4 + op->bag_len : 0) + op->payload_len;
  uint8_t *rec = malloc(len ? len : 1);
  if (rec == NULL) return IOTC_ERR_NO_MEMORY;
  if (tel) {
    uint32_t bag_len = (uint32_t)op->bag_len;
    memcpy(rec, &bag_len, 4);
    memcpy(rec + 4, op->data, op->bag_len);
    memcpy(rec + 4 + op->bag_len, op->payload, op->payload_len);
  } else {
    memcpy(rec, op->payload, op->payload_len);
  }
  char why[IOTC_ERROR_MESSAGE_SIZE];
  iotc_result r;
  uint64_t seq = 0;
  for (;;) {
    r = iotc__seglog_append(p->log, tel ? REC_TELEMETRY : REC_REPORTED, rec, len, wall_ms(),
                            p->durability == IOTC_PERSIST_SYNC_EACH, &seq, why, sizeof why);
    if (r != IOTC_ERR_QUEUE_FULL || p->policy != IOTC_PERSIST_DROP_OLDEST || !drop_oldest(c)) {
      break;
    }
  }
  free(rec);
  if (r != IOTC_OK) {
    IOTC_LOGE("%s: %s; the message was not accepted", tel ? "telemetry" : "report", why);
    pthread_mutex_lock(&c->mu);
    p->stats.last_result = r;
    snprintf(p->stats.last_error, sizeof p->stats.last_error, "%s", why);
    pthread_mutex_unlock(&c->mu);
    return r;
  }
  op->pseq = seq;
  after_append(c, p);
  return IOTC_OK;
}

void iotc__persist_cancel(iotc_client *c, iotc__op *op) {
  char why[IOTC_ERROR_MESSAGE_SIZE];
  if (iotc__seglog_ack(c->persist->log, &op->pseq, 1, why, sizeof why) != IOTC_OK) {
    IOTC_LOGW("persist_dir: %s (a refused message may be sent after a restart)", why);
  }
  op->pseq = 0;
}

void iotc__persist_ack(iotc_client *c, const uint64_t *seqs, size_t n, size_t replayed) {
  iotc__persist *p = c->persist;
  if (p == NULL || n == 0) return;
  char why[IOTC_ERROR_MESSAGE_SIZE];
  pthread_mutex_lock(&p->mu);
  iotc_result r = iotc__seglog_ack(p->log, seqs, n, why, sizeof why);
  pthread_mutex_unlock(&p->mu);
  if (r != IOTC_OK) IOTC_LOGW("persist_dir: %s (the messages may be sent again after a restart)", why);
  if (replayed) {
    pthread_mutex_lock(&c->mu);
    p->stats.replayed += replayed;
    pthread_mutex_unlock(&c->mu);
  }
}

uint64_t iotc__persist_recovered(const iotc_client *c) {
  return c->persist ? c->persist->stats.recovered : 0; /* written once, at create */
}

bool iotc__persist_tell_recovered(iotc_client *c) {
  iotc__persist *p = c->persist;
  if (p == NULL || p->told || p->stats.recovered == 0) return false;
  p->told = true;
  return true;
}

void iotc__persist_close(iotc_client *c) {
  iotc__persist *p = c->persist;
  if (p == NULL) return;
  iotc__op *op;
  while ((op = iotc__list_pop_front(&p->dropped)) != NULL) iotc__op_finish(c, op, IOTC_ERR_QUEUE_FULL);
  if (p->durability != IOTC_PERSIST_SYNC_OS && iotc__seglog_sync(p->log) != IOTC_OK) {
    IOTC_LOGW("persist_dir: the last fdatasync failed");
  }
  iotc__seglog_close(p->log);
  pthread_mutex_destroy(&p->mu);
  free(p);
  c->persist = NULL;
}

/* ---- public ----------------------------------------------------------------------------- */

iotc_result iotc_client_get_persist_stats(const iotc_client *client, iotc_persist_stats *out) {
  if (client == NULL || out == NULL) {
    IOTC_LOGE("iotc_client_get_persist_stats: client or out_stats is NULL");
    return IOTC_ERR_INVALID_ARG;
  }
  iotc_client *c = (iotc_client *)client;
  memset(out, 0, sizeof *out);
  out->struct_version = IOTC_PERSIST_STATS_VERSION;
  iotc__persist *p = c->persist;
  if (p == NULL) return IOTC_OK;
  pthread_mutex_lock(&p->mu);
  uint64_t bytes = iotc__seglog_bytes(p->log);
  pthread_mutex_lock(&c->mu);
  *out = p->stats;
  pthread_mutex_unlock(&c->mu);
  pthread_mutex_unlock(&p->mu);
  out->bytes = bytes;
  return IOTC_OK;
}

iotc_result iotc_persist_inspect(const char *dir, iotc_persist_info *info, iotc_error *err) {
  iotc_error_clear(err);
  if (dir == NULL || *dir == '\0' || info == NULL) {
    if (err) {
      err->result = IOTC_ERR_INVALID_ARG;
      snprintf(err->message, sizeof err->message, "dir is NULL or empty, or info is NULL");
    }
    return IOTC_ERR_INVALID_ARG;
  }
  memset(info, 0, sizeof *info);
  iotc__seglog_info in;
  char why[IOTC_ERROR_MESSAGE_SIZE] = "";
  iotc_result r = iotc__seglog_inspect(dir, &in, why, sizeof why);
  if (r != IOTC_OK) {
    if (err) {
      err->result = r;
      snprintf(err->message, sizeof err->message, "%s", why);
    }
    return r;
  }
  info->segments = in.segments;
  info->bytes = in.bytes;
  info->records = in.records;
  info->queued = in.live;
  info->queued_bytes = in.live_bytes;
  info->damaged = in.damaged;
  info->damaged_bytes = in.cut_bytes;
  info->oldest_seq = in.oldest_seq;
  info->newest_seq = in.newest_seq;
  info->oldest_ms = in.oldest_ms;
  info->newest_ms = in.newest_ms;
  info->directory_id = in.log_id;
  info->in_use = in.locked;
  return IOTC_OK;
}

/* ---- hooks ------------------------------------------------------------------------------ */

static uint64_t deadline(iotc_client *c) { /* mu held */
  iotc__persist *p = c->persist;
  if (p == NULL) return UINT64_MAX;
  if (p->dropped.count) return 0;
  return atomic_load(&p->dirty) ? atomic_load(&p->sync_due) : UINT64_MAX;
}

static void on_timer(iotc_client *c, uint64_t now) {
  iotc__persist *p = c->persist;
  if (p == NULL) return;
  pthread_mutex_lock(&c->mu);
  iotc__op_list dropped = iotc__queue_take_all(&p->dropped);
  pthread_mutex_unlock(&c->mu);
  iotc__op *op;
  while ((op = iotc__list_pop_front(&dropped)) != NULL) iotc__op_finish(c, op, IOTC_ERR_QUEUE_FULL);
  if (!atomic_load(&p->dirty) || now < atomic_load(&p->sync_due)) return;
  pthread_mutex_lock(&p->mu);
  if (atomic_load(&p->dirty)) {
    if (iotc__seglog_sync(p->log) != IOTC_OK) IOTC_LOGW("persist_dir: fdatasync failed");
    p->last_sync_ms = now;
    atomic_store(&p->dirty, false);
  }
  pthread_mutex_unlock(&p->mu);
}

const iotc__feature iotc__persist_feature = {NULL, NULL, deadline, on_timer, NULL, NULL};
