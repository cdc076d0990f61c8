/* SPDX-License-Identifier: MIT */
/* The segment log of the persistent queue (see seglog.h for the format and the guarantees). */
#define _GNU_SOURCE /* pwritev, getrandom */
#include "common/seglog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "common/crc32c.h"

static const char MAGIC[8] = {'I', 'O', 'T', 'C', 'S', 'E', 'G', '1'};
#define MIN_MAX_BYTES (64u * 1024u)
#define SEG_MIN (16u * 1024u)
#define SEG_CAP (64u * 1024u * 1024u)

typedef struct seg {
  uint64_t first;  /* sequence number of its first data record (its file name) */
  uint64_t n;      /* data records: first .. first + n - 1 */
  uint64_t size;   /* bytes in the file */
  uint64_t live;   /* data records not acknowledged */
  uint8_t *bits;   /* live bit per data record */
  size_t bits_cap; /* bytes of bits */
} seg;

struct iotc__seglog {
  char *dir;
  int dirfd, lockfd, fd; /* fd: the newest segment, written at its end */
  seg *segs;
  size_t nseg, seg_cap;
  uint64_t next_seq, id, bytes, max_bytes, seg_max;
  bool dirty;     /* written since the last fdatasync */
  bool dir_dirty; /* a segment was created without fsync'ing the directory */
};

static iotc_result say(char *why, size_t size, iotc_result r, const char *fmt, ...) {
  if (why && size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
  }
  return r;
}

static iotc_result io_error(int e) {
  return e == ENOSPC || e == EFBIG || e == EDQUOT ? IOTC_ERR_NO_SPACE : IOTC_ERR_IO;
}

static void seg_path(const iotc__seglog *l, uint64_t first, char *out, size_t size) {
  snprintf(out, size, "%s/%016" PRIx64 ".seg", l->dir, first);
}

static bool is_live(const seg *s, uint64_t seq) {
  uint64_t i = seq - s->first;
  return seq >= s->first && i < s->n && (s->bits[i / 8] >> (i % 8) & 1u);
}

/* Room for one more live bit; false when out of memory. */
static bool seg_grow(seg *s) {
  size_t need = (size_t)(s->n / 8 + 1);
  if (need <= s->bits_cap) return true;
  size_t cap = s->bits_cap ? s->bits_cap * 2 : 64;
  while (cap < need) cap *= 2;
  uint8_t *b = realloc(s->bits, cap);
  if (b == NULL) return false;
  memset(b + s->bits_cap, 0, cap - s->bits_cap);
  s->bits = b;
  s->bits_cap = cap;
  return true;
}

/* ---- reading ---------------------------------------------------------------------------- */

typedef struct scan {
  iotc__seglog *l;
  bool collect; /* first pass: acknowledgements */
  uint64_t *acks;
  size_t nacks, acks_cap;
  iotc__seglog_visit_fn visit;
  void *ctx;
  iotc__seglog_info *info;
  bool no_memory; /* acknowledgements could not be kept: not damage, so nothing is cut */
} scan;

static bool add_acks(scan *sc, const uint8_t *data, size_t len) {
  size_t n = len / 8;
  if (sc->nacks + n > sc->acks_cap) {
    size_t cap = sc->acks_cap ? sc->acks_cap : 256;
    while (cap < sc->nacks + n) cap *= 2;
    uint64_t *a = realloc(sc->acks, cap * sizeof *a);
    if (a == NULL) return false;
    sc->acks = a;
    sc->acks_cap = cap;
  }
  memcpy(sc->acks + sc->nacks, data, n * 8);
  sc->nacks += n;
  return true;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static bool acked(const scan *sc, uint64_t seq) {
  return sc->nacks && bsearch(&seq, sc->acks, sc->nacks, sizeof seq, cmp_u64) != NULL;
}

static iotc_result read_all(int dirfd, const char *name, uint8_t **buf, size_t *len) {
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IOTC_ERR_IO;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return IOTC_ERR_IO;
  }
  size_t size = (size_t)st.st_size, got = 0;
  uint8_t *b = malloc(size ? size : 1);
  if (b == NULL) {
    close(fd);
    return IOTC_ERR_NO_MEMORY;
  }
  while (got < size) {
    ssize_t k = read(fd, b + got, size - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    got += (size_t)k;
  }
  close(fd);
  *buf = b;
  *len = got;
  return IOTC_OK;
}

/* Parse segment @p s from @p b; returns the end of its last good record. Pass 1 (collect)
 * counts its data records and gathers acknowledgements; pass 2 hands over the live ones. */
static size_t parse(scan *sc, seg *s, const uint8_t *b, size_t len, bool *bad_header) {
  *bad_header = len < IOTC__SEGLOG_SEG_HEADER || memcmp(b, MAGIC, sizeof MAGIC) != 0;
  if (*bad_header) return 0;
  if (sc->collect && sc->l->id == 0) memcpy(&sc->l->id, b + 8, 8);
  size_t at = IOTC__SEGLOG_SEG_HEADER;
  uint64_t n = 0;
  while (len - at >= IOTC__SEGLOG_HEADER) {
    const uint8_t *h = b + at;
    uint32_t dlen, crc;
    uint64_t seq, t;
    memcpy(&dlen, h, 4);
    memcpy(&crc, h + 4, 4);
    memcpy(&seq, h + 8, 8);
    memcpy(&t, h + 16, 8);
    uint8_t kind = h[24];
    if (dlen > IOTC__SEGLOG_MAX_RECORD || dlen > len - at - IOTC__SEGLOG_HEADER) break;
    uint32_t c = iotc__crc32c(0, h, 4);
    c = iotc__crc32c(c, h + 8, IOTC__SEGLOG_HEADER - 8 + dlen);
    if (c != crc) break;
    const uint8_t *data = h + IOTC__SEGLOG_HEADER;
    if (kind == 0) {
      if (dlen % 8 != 0) break;
      if (sc->collect && !add_acks(sc, data, dlen)) {
        sc->no_memory = true;
        return 0;
      }
    } else {
      if (seq != s->first + n) break; /* out of sequence: not a record of this segment */
      if (!sc->collect && is_live(s, seq)) {
        iotc__seglog_info *in = sc->info;
        if (in->oldest_seq == 0) {
          in->oldest_seq = seq;
          in->oldest_ms = t;
        }
        in->newest_seq = seq;
        in->newest_ms = t;
        in->live_bytes += dlen;
        if (sc->visit) sc->visit(sc->ctx, seq, kind, t, data, dlen);
      }
      n++;
    }
    at += IOTC__SEGLOG_HEADER + dlen;
  }
  if (sc->collect) s->n = n;
  return at;
}

static bool seg_name(const char *name, uint64_t *first) {
  size_t len = strlen(name);
  if (len != 20 || strcmp(name + 16, ".seg") != 0) return false;
  uint64_t v = 0;
  for (int i = 0; i < 16; i++) {
    char ch = name[i];
    int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | (uint64_t)d;
  }
  *first = v;
  return true;
}

static int cmp_seg(const void *a, const void *b) {
  return cmp_u64(&((const seg *)a)->first, &((const seg *)b)->first);
}

static iotc_result list_segments(iotc__seglog *l, char *why, size_t wsize) {
  int fd = dup(l->dirfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    if (fd >= 0) close(fd);
    return say(why, wsize, IOTC_ERR_IO, "persist directory '%s' cannot be listed: %s", l->dir,
               strerror(errno));
  }
  struct dirent *e;
  iotc_result r = IOTC_OK;
  while ((e = readdir(d)) != NULL) {
    uint64_t first;
    if (!seg_name(e->d_name, &first)) continue;
    if (l->nseg == l->seg_cap) {
      size_t cap = l->seg_cap ? l->seg_cap * 2 : 16;
      seg *s = realloc(l->segs, cap * sizeof *s);
      if (s == NULL) {
        r = say(why, wsize, IOTC_ERR_NO_MEMORY, "out of memory");
        break;
      }
      l->segs = s;
      l->seg_cap = cap;
    }
    memset(&l->segs[l->nseg], 0, sizeof *l->segs);
    l->segs[l->nseg++].first = first;
  }
  closedir(d);
  if (l->nseg) qsort(l->segs, l->nseg, sizeof *l->segs, cmp_seg);
  return r;
}

/* Recover: pass 1 counts records and gathers acknowledgements (cutting a torn tail when
 * @p write), pass 2 hands over the live records. */
static iotc_result recover(iotc__seglog *l, bool write, scan *sc, char *why, size_t wsize) {
  iotc__seglog_info *in = sc->info;
  for (int pass = 0; pass < 2; pass++) {
    sc->collect = pass == 0;
    for (size_t i = 0; i < l->nseg; i++) {
      seg *s = &l->segs[i];
      if (pass == 1 && s->live == 0) continue;
      char name[24];
      snprintf(name, sizeof name, "%016" PRIx64 ".seg", s->first);
      uint8_t *b = NULL;
      size_t len = 0;
      iotc_result r = read_all(l->dirfd, name, &b, &len);
      if (r != IOTC_OK) {
        return say(why, wsize, r, "persist directory '%s': segment %s cannot be read: %s",
                   l->dir, name, r == IOTC_ERR_NO_MEMORY ? "out of memory" : strerror(errno));
      }
      bool bad_header;
      size_t end = parse(sc, s, b, len, &bad_header);
      free(b);
      if (sc->no_memory) return say(why, wsize, IOTC_ERR_NO_MEMORY, "out of memory");
      if (pass == 1) continue;
      s->size = len;
      if (end < len) {
        in->damaged++;
        in->cut_bytes += len - end;
        bool last = i + 1 == l->nseg;
        if (write && last) { /* a torn write: cut it off (a header-less file starts anew) */
          int fd = openat(l->dirfd, name, O_WRONLY | O_CLOEXEC);
          if (fd < 0 || ftruncate(fd, (off_t)end) != 0) {
            int e = errno;
            if (fd >= 0) close(fd);
            return say(why, wsize, io_error(e),
                       "persist directory '%s': segment %s cannot be repaired: %s", l->dir, name,
                       strerror(e));
          }
          close(fd);
          s->size = end;
        }
      }
      (void)bad_header;
    }
    if (pass == 0) {
      if (sc->nacks) qsort(sc->acks, sc->nacks, sizeof *sc->acks, cmp_u64);
      for (size_t i = 0; i < l->nseg; i++) {
        seg *s = &l->segs[i];
        size_t bytes = (size_t)(s->n / 8 + 1);
        s->bits = calloc(bytes, 1);
        if (s->bits == NULL) return say(why, wsize, IOTC_ERR_NO_MEMORY, "out of memory");
        s->bits_cap = bytes;
        for (uint64_t k = 0; k < s->n; k++) {
          if (acked(sc, s->first + k)) continue;
          s->bits[k / 8] |= (uint8_t)(1u << (k % 8));
          s->live++;
        }
        in->records += s->n;
        in->live += s->live;
      }
    }
  }
  return IOTC_OK;
}

/* ---- writing ---------------------------------------------------------------------------- */

static iotc_result write_at(int fd, const struct iovec *iov, int n, uint64_t off, size_t total) {
  size_t done = 0;
  struct iovec v[3];
  memcpy(v, iov, (size_t)n * sizeof *iov);
  int first = 0;
  while (done < total) {
    ssize_t k = pwritev(fd, v + first, n - first, (off_t)(off + done));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      int e = k < 0 ? errno : ENOSPC;
      if (ftruncate(fd, (off_t)off) != 0) { /* keep the file as before; recovery cuts it too */
      }
      errno = e;
      return io_error(e);
    }
    done += (size_t)k;
    size_t skip = (size_t)k;
    while (first < n && skip >= v[first].iov_len) skip -= v[first++].iov_len;
    if (first < n) {
      v[first].iov_base = (char *)v[first].iov_base + skip;
      v[first].iov_len -= skip;
    }
  }
  return IOTC_OK;
}

/* Start segment @p first; it becomes the one written. */
static iotc_result new_segment(iotc__seglog *l, bool sync, char *why, size_t wsize) {
  if (l->nseg == l->seg_cap) {
    size_t cap = l->seg_cap ? l->seg_cap * 2 : 16;
    seg *s = realloc(l->segs, cap * sizeof *s);
    if (s == NULL) return say(why, wsize, IOTC_ERR_NO_MEMORY, "out of memory");
    l->segs = s;
    l->seg_cap = cap;
  }
  char path[4096];
  seg_path(l, l->next_seq, path, sizeof path);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    int e = errno;
    return say(why, wsize, io_error(e), "persist directory '%s': cannot create a segment: %s",
               l->dir, strerror(e));
  }
  uint8_t h[IOTC__SEGLOG_SEG_HEADER];
  memcpy(h, MAGIC, 8);
  memcpy(h + 8, &l->id, 8);
  struct iovec v = {h, sizeof h};
  iotc_result r = write_at(fd, &v, 1, 0, sizeof h);
  if (r == IOTC_OK && sync && (fdatasync(fd) != 0 || fsync(l->dirfd) != 0)) r = io_error(errno);
  if (r == IOTC_OK) l->dir_dirty = !sync;
  if (r != IOTC_OK) {
    int e = errno;
    close(fd);
    unlink(path);
    return say(why, wsize, r, "persist directory '%s': cannot write a new segment: %s", l->dir,
               strerror(e));
  }
  if (l->fd >= 0) {
    if (l->dirty) (void)fdatasync(l->fd); /* what the older segment got is on disk too */
    close(l->fd);
  }
  l->fd = fd;
  l->dirty = false;
  seg *s = &l->segs[l->nseg++];
  memset(s, 0, sizeof *s);
  s->first = l->next_seq;
  s->size = sizeof h;
  l->bytes += sizeof h;
  return IOTC_OK;
}

static iotc_result put(iotc__seglog *l, uint8_t kind, uint64_t seq, uint64_t t, const void *data,
                       size_t len, bool sync, char *why, size_t wsize) {
  seg *s = &l->segs[l->nseg - 1];
  uint8_t h[IOTC__SEGLOG_HEADER] = {0};
  uint32_t dlen = (uint32_t)len;
  memcpy(h, &dlen, 4);
  memcpy(h + 8, &seq, 8);
  memcpy(h + 16, &t, 8);
  h[24] = kind;
  uint32_t crc = iotc__crc32c(0, h, 4);
  crc = iotc__crc32c(crc, h + 8, IOTC__SEGLOG_HEADER - 8);
  crc = iotc__crc32c(crc, data, len);
  memcpy(h + 4, &crc, 4);
  struct iovec v[2] = {{h, sizeof h}, {(void *)data, len}};
  iotc_result r = write_at(l->fd, v, 2, s->size, sizeof h + len);
  if (r != IOTC_OK) {
    return say(why, wsize, r, "persist directory '%s': a write failed: %s", l->dir,
               strerror(errno));
  }
  if (sync && (fdatasync(l->fd) != 0 || (l->dir_dirty && fsync(l->dirfd) != 0))) {
    int e = errno;
    if (ftruncate(l->fd, (off_t)s->size) != 0) { /* the record is not kept: cut it off */
    }
    return say(why, wsize, io_error(e), "persist directory '%s': fdatasync failed: %s", l->dir,
               strerror(e));
  }
  l->dirty = !sync;
  if (sync) l->dir_dirty = false;
  s->size += sizeof h + len;
  l->bytes += sizeof h + len;
  return IOTC_OK;
}

/* Roll to a new segment when the record does not fit the one written. */
static iotc_result make_room(iotc__seglog *l, size_t rec, bool sync, char *why, size_t wsize) {
  seg *s = &l->segs[l->nseg - 1];
  if (s->size > IOTC__SEGLOG_SEG_HEADER && s->size + rec > l->seg_max) {
    return new_segment(l, sync, why, wsize);
  }
  return IOTC_OK;
}

static void delete_front(iotc__seglog *l) {
  seg *s = &l->segs[0];
  char path[4096];
  seg_path(l, s->first, path, sizeof path);
  if (unlink(path) != 0 && errno != ENOENT) return; /* kept: tried again at the next ack */
  l->bytes -= s->size;
  free(s->bits);
  memmove(l->segs, l->segs + 1, (l->nseg - 1) * sizeof *l->segs);
  l->nseg--;
}

static void delete_acked(iotc__seglog *l) {
  while (l->nseg > 1 && l->segs[0].live == 0) {
    size_t before = l->nseg;
    delete_front(l);
    if (l->nseg == before) break;
  }
}

/* ---- API -------------------------------------------------------------------------------- */

static uint64_t random_id(void) {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v || v == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    v = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 16);
  }
  return v ? v : 1;
}

static iotc_result open_dir(iotc__seglog *l, bool create, char *why, size_t wsize) {
  if (create && mkdir(l->dir, 0700) != 0 && errno != EEXIST) {
    int e = errno;
    return say(why, wsize, io_error(e), "persist directory '%s' cannot be created: %s", l->dir,
               strerror(e));
  }
  l->dirfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (l->dirfd < 0) {
    int e = errno;
    return say(why, wsize, IOTC_ERR_IO, "persist directory '%s' cannot be opened: %s", l->dir,
               strerror(e));
  }
  return IOTC_OK;
}

static iotc__seglog *alloc_log(const char *dir) {
  iotc__seglog *l = calloc(1, sizeof *l);
  if (l == NULL) return NULL;
  l->dirfd = l->lockfd = l->fd = -1;
  l->dir = strdup(dir);
  if (l->dir == NULL) {
    free(l);
    return NULL;
  }
  return l;
}

static void free_log(iotc__seglog *l) {
  for (size_t i = 0; i < l->nseg; i++) free(l->segs[i].bits);
  free(l->segs);
  if (l->fd >= 0) close(l->fd);
  if (l->lockfd >= 0) close(l->lockfd); /* releases the flock */
  if (l->dirfd >= 0) close(l->dirfd);
  free(l->dir);
  free(l);
}

static void finish_info(const iotc__seglog *l, iotc__seglog_info *in) {
  in->segments = l->nseg;
  in->bytes = 0;
  for (size_t i = 0; i < l->nseg; i++) in->bytes += l->segs[i].size;
  in->log_id = l->id;
}

iotc_result iotc__seglog_open(const char *dir, uint64_t max_bytes, iotc__seglog_visit_fn visit,
                              void *ctx, iotc__seglog **out, iotc__seglog_info *info, char *why,
                              size_t wsize) {
  *out = NULL;
  iotc__seglog_info local;
  if (info == NULL) info = &local;
  memset(info, 0, sizeof *info);
  if (dir == NULL || *dir == '\0') return say(why, wsize, IOTC_ERR_INVALID_ARG, "no directory");
  if (max_bytes < MIN_MAX_BYTES) {
    return say(why, wsize, IOTC_ERR_INVALID_ARG, "persist_max_bytes must be at least %u",
               MIN_MAX_BYTES);
  }
  iotc__seglog *l = alloc_log(dir);
  if (l == NULL) return say(why, wsize, IOTC_ERR_NO_MEMORY, "out of memory");
  l->max_bytes = max_bytes;
  l->seg_max = max_bytes / 8 < SEG_MIN ? SEG_MIN : max_bytes / 8 > SEG_CAP ? SEG_CAP : max_bytes / 8;
  iotc_result r = open_dir(l, true, why, wsize);
  if (r == IOTC_OK) {
    l->lockfd = openat(l->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (l->lockfd < 0) {
      int e = errno;
      r = say(why, wsize, io_error(e), "persist directory '%s' is not writable: %s", dir,
              strerror(e));
    } else if (flock(l->lockfd, LOCK_EX | LOCK_NB) != 0) {
      r = say(why, wsize, IOTC_ERR_LOCKED, "persist directory '%s' is in use by another client "
              "(its lock file is held): one client per directory", dir);
    }
  }
  scan sc = {l, true, NULL, 0, 0, visit, ctx, info, false};
  if (r == IOTC_OK) r = list_segments(l, why, wsize);
  if (r == IOTC_OK) r = recover(l, true, &sc, why, wsize);
  free(sc.acks);
  if (r == IOTC_OK) {
    for (size_t i = 0; i < l->nseg; i++) l->bytes += l->segs[i].size;
    delete_acked(l);
    seg *last = l->nseg ? &l->segs[l->nseg - 1] : NULL;
    if (l->id == 0) l->id = random_id();
    if (last && last->size >= IOTC__SEGLOG_SEG_HEADER) {
      l->next_seq = last->first + last->n;
      char path[4096];
      seg_path(l, last->first, path, sizeof path);
      l->fd = open(path, O_RDWR | O_CLOEXEC);
      if (l->fd < 0) {
        int e = errno;
        r = say(why, wsize, io_error(e), "persist directory '%s': cannot open %s: %s", dir, path,
                strerror(e));
      }
    } else {
      if (last) { /* the newest segment lost its header: start it again */
        l->next_seq = last->first;
        l->bytes -= last->size;
        free(last->bits);
        l->nseg--;
      } else {
        l->next_seq = 1;
      }
      r = new_segment(l, true, why, wsize);
    }
  }
  if (r != IOTC_OK) {
    free_log(l);
    return r;
  }
  finish_info(l, info);
  *out = l;
  return IOTC_OK;
}

iotc_result iotc__seglog_inspect(const char *dir, iotc__seglog_info *info, char *why,
                                 size_t wsize) {
  memset(info, 0, sizeof *info);
  iotc__seglog *l = alloc_log(dir);
  if (l == NULL) return say(why, wsize, IOTC_ERR_NO_MEMORY, "out of memory");
  iotc_result r = open_dir(l, false, why, wsize);
  if (r == IOTC_OK) {
    int fd = openat(l->dirfd, "lock", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (flock(fd, LOCK_SH | LOCK_NB) != 0) info->locked = true;
      close(fd);
    }
    r = list_segments(l, why, wsize);
  }
  scan sc = {l, true, NULL, 0, 0, NULL, NULL, info, false};
  if (r == IOTC_OK) r = recover(l, false, &sc, why, wsize);
  free(sc.acks);
  if (r == IOTC_OK) finish_info(l, info);
  free_log(l);
  return r;
}

uint64_t iotc__seglog_next_seq(const iotc__seglog *l) { return l->next_seq; }
uint64_t iotc__seglog_id(const iotc__seglog *l) { return l->id; }
uint64_t iotc__seglog_bytes(const iotc__seglog *l) { return l->bytes; }

iotc_result iotc__seglog_append(iotc__seglog *l, uint8_t kind, const void *data, size_t len,
                                uint64_t time_ms, bool sync, uint64_t *seq, char *why,
                                size_t wsize) {
  if (kind == 0) return say(why, wsize, IOTC_ERR_INVALID_ARG, "record kind 0 is reserved");
  if (len > IOTC__SEGLOG_MAX_RECORD) {
    return say(why, wsize, IOTC_ERR_TOO_LARGE, "a record of %zu bytes is over %u", len,
               IOTC__SEGLOG_MAX_RECORD);
  }
  size_t rec = IOTC__SEGLOG_HEADER + len;
  seg *s = &l->segs[l->nseg - 1];
  bool roll = s->size > IOTC__SEGLOG_SEG_HEADER && s->size + rec > l->seg_max;
  if (l->bytes + rec + (roll ? IOTC__SEGLOG_SEG_HEADER : 0) > l->max_bytes) {
    return say(why, wsize, IOTC_ERR_QUEUE_FULL,
               "persist directory '%s' holds %" PRIu64 " bytes: persist_max_bytes (%" PRIu64
               ") reached", l->dir, l->bytes, l->max_bytes);
  }
  iotc_result r = make_room(l, rec, sync, why, wsize);
  if (r != IOTC_OK) return r;
  s = &l->segs[l->nseg - 1];
  if (!seg_grow(s)) return say(why, wsize, IOTC_ERR_NO_MEMORY, "out of memory");
  r = put(l, kind, l->next_seq, time_ms, data, len, sync, why, wsize);
  if (r != IOTC_OK) return r;
  uint64_t i = s->n++;
  s->bits[i / 8] |= (uint8_t)(1u << (i % 8));
  s->live++;
  *seq = l->next_seq++;
  return IOTC_OK;
}

static seg *find(iotc__seglog *l, uint64_t seq) {
  size_t lo = 0, hi = l->nseg;
  while (lo < hi) { /* the last segment whose first <= seq */
    size_t mid = (lo + hi) / 2;
    if (l->segs[mid].first <= seq) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo ? &l->segs[lo - 1] : NULL;
}

iotc_result iotc__seglog_ack(iotc__seglog *l, const uint64_t *seqs, size_t n, char *why,
                             size_t wsize) {
  iotc_result r = IOTC_OK;
  size_t per = IOTC__SEGLOG_MAX_RECORD / 8;
  for (size_t at = 0; at < n && r == IOTC_OK; at += per) {
    size_t k = n - at < per ? n - at : per;
    r = make_room(l, IOTC__SEGLOG_HEADER + k * 8, false, why, wsize);
    if (r == IOTC_OK) r = put(l, 0, 0, 0, seqs + at, k * 8, false, why, wsize);
  }
  /* Counted off even when the record could not be written: at worst sent again after a restart. */
  for (size_t i = 0; i < n; i++) {
    seg *s = find(l, seqs[i]);
    if (s == NULL || !is_live(s, seqs[i])) continue;
    uint64_t k = seqs[i] - s->first;
    s->bits[k / 8] &= (uint8_t) ~(1u << (k % 8));
    s->live--;
  }
  delete_acked(l);
  return r;
}

iotc_result iotc__seglog_sync(iotc__seglog *l) {
  if (!l->dirty && !l->dir_dirty) return IOTC_OK;
  if (fdatasync(l->fd) != 0 || (l->dir_dirty && fsync(l->dirfd) != 0)) return io_error(errno);
  l->dirty = l->dir_dirty = false;
  return IOTC_OK;
}

bool iotc__seglog_drop_oldest(iotc__seglog *l, uint64_t *first, uint64_t *last) {
  if (l->nseg == 1 && (l->segs[0].n == 0 || new_segment(l, false, NULL, 0) != IOTC_OK)) {
    return false;
  }
  seg *s = &l->segs[0];
  *first = s->first;
  *last = s->first + (s->n ? s->n - 1 : 0);
  size_t before = l->nseg;
  delete_front(l);
  return l->nseg < before;
}

void iotc__seglog_close(iotc__seglog *l) {
  if (l == NULL) return;
  free_log(l);
}
