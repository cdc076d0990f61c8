/* SPDX-License-Identifier: MIT */
/* The segment log of the persistent queue (lib/common/seglog.c), on real files, no network:
 * torn and corrupted last records at every byte offset, acknowledgements and segment deletion,
 * the lock, the size bound, a full file system (RLIMIT_FSIZE) and an unusable directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/crc32c.h"
#include "common/seglog.h"

#define MAXB (1024u * 1024u)

typedef struct seen {
  uint64_t seq[4096];
  size_t len[4096];
  uint8_t kind[4096];
  char data[4096][64];
  size_t n;
} seen;

static void visit(void *ctx, uint64_t seq, uint8_t kind, uint64_t t, const uint8_t *d, size_t len) {
  (void)t;
  seen *s = ctx;
  assert_true(s->n < 4096);
  s->seq[s->n] = seq;
  s->kind[s->n] = kind;
  s->len[s->n] = len;
  memcpy(s->data[s->n], d, len < 64 ? len : 64);
  s->n++;
}

static char *tmpdir(void) {
  char *d = strdup("/tmp/iotc-seglog-XXXXXX");
  assert_non_null(d);
  assert_non_null(mkdtemp(d));
  return d;
}

static void rmtree(const char *d) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
  assert_int_equal(system(cmd), 0);
}

static void drop_dir(char *d) {
  rmtree(d);
  free(d);
}

static void record_text(unsigned i, char *out, size_t size) {
  snprintf(out, size, "record-%u-%.*s", i, (int)(i % 23), "abcdefghijklmnopqrstuvwxyz");
}

static off_t file_size(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  return st.st_size;
}

/* A log of @p n records in a fresh dir; *last_at: where the last record starts. */
static char *make_log(unsigned n, char *seg, size_t seg_size, off_t *last_at) {
  char *d = tmpdir();
  iotc__seglog *l = NULL;
  char why[256];
  iotc_result r = iotc__seglog_open(d, MAXB, NULL, NULL, &l, NULL, why, sizeof why);
  if (r != IOTC_OK) drop_dir(d); /* the caller never gets it to free */
  assert_int_equal(r, IOTC_OK);
  snprintf(seg, seg_size, "%s/%016x.seg", d, 1u);
  for (unsigned i = 0; i < n; i++) {
    char text[64];
    record_text(i, text, sizeof text);
    if (i + 1 == n) *last_at = file_size(seg);
    uint64_t seq = 0;
    r = iotc__seglog_append(l, 1, text, strlen(text), 1000 + i, false, &seq, why, sizeof why);
    if (r != IOTC_OK) {
      iotc__seglog_close(l);
      drop_dir(d);
    }
    assert_int_equal(r, IOTC_OK);
    assert_int_equal(seq, i + 1);
  }
  iotc__seglog_close(l);
  return d;
}

static void expect_first(const seen *s, unsigned n) {
  assert_int_equal(s->n, n);
  for (unsigned i = 0; i < n; i++) {
    char text[64];
    record_text(i, text, sizeof text);
    assert_int_equal(s->seq[i], i + 1);
    assert_int_equal(s->len[i], strlen(text));
    assert_memory_equal(s->data[i], text, strlen(text));
  }
}

/* Recovery after damage: the records before the last all come back, the last does not, the
 * file is cut where it started, and the log goes on from there. */
static void reopen_expect_cut(const char *d, const char *seg, off_t last_at, bool damaged) {
  static seen s;
  memset(&s, 0, sizeof s);
  iotc__seglog *l = NULL;
  iotc__seglog_info info;
  char why[256];
  assert_int_equal(iotc__seglog_open(d, MAXB, visit, &s, &l, &info, why, sizeof why), IOTC_OK);
  expect_first(&s, 9);
  assert_int_equal(info.damaged, damaged ? 1 : 0);
  assert_int_equal(file_size(seg), last_at);
  assert_int_equal(iotc__seglog_next_seq(l), 10);
  uint64_t seq = 0;
  iotc_result r = iotc__seglog_append(l, 1, "again", 5, 1, true, &seq, why, sizeof why);
  iotc__seglog_close(l);
  assert_int_equal(r, IOTC_OK);
  assert_int_equal(seq, 10);
}

static void test_torn_last_record_at_every_offset(void **state) {
  (void)state;
  char seg[512];
  off_t last_at = 0;
  char *ref = make_log(10, seg, sizeof seg, &last_at);
  off_t end = file_size(seg);
  assert_true(end > last_at);
  for (off_t cut = last_at; cut < end; cut++) {
    char s2[512];
    off_t at2 = 0;
    char *d = make_log(10, s2, sizeof s2, &at2);
    assert_int_equal(truncate(s2, cut), 0);
    reopen_expect_cut(d, s2, last_at, cut > last_at);
    rmtree(d);
    free(d);
  }
  rmtree(ref);
  free(ref);
}

static void test_corrupted_last_record_at_every_offset(void **state) {
  (void)state;
  char seg[512];
  off_t last_at = 0;
  char *ref = make_log(10, seg, sizeof seg, &last_at);
  off_t end = file_size(seg);
  for (off_t at = last_at; at < end; at++) {
    char s2[512];
    off_t at2 = 0;
    char *d = make_log(10, s2, sizeof s2, &at2);
    int fd = open(s2, O_RDWR);
    assert_true(fd >= 0);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, at), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, at), 1);
    close(fd);
    reopen_expect_cut(d, s2, last_at, true);
    rmtree(d);
    free(d);
  }
  rmtree(ref);
  free(ref);
}

static void test_acks_remove_records_and_segments(void **state) {
  (void)state;
  char *d = tmpdir();
  iotc__seglog *l = NULL;
  char why[256];
  /* 64 KiB: 16 KiB segments, so 400 records of ~250 bytes take several. */
  assert_int_equal(iotc__seglog_open(d, 64 * 1024, NULL, NULL, &l, NULL, why, sizeof why), IOTC_OK);
  char big[220];
  memset(big, 'x', sizeof big);
  uint64_t seq;
  unsigned n = 0;
  for (; n < 240; n++) {
    iotc_result r = iotc__seglog_append(l, 2, big, sizeof big, n, false, &seq, why, sizeof why);
    if (r == IOTC_ERR_QUEUE_FULL) break;
    assert_int_equal(r, IOTC_OK);
  }
  assert_true(n > 150); /* the bound stopped it, not the loop */
  assert_true(iotc__seglog_bytes(l) <= 64 * 1024);
  uint64_t before = iotc__seglog_bytes(l);
  uint64_t acks[240];
  for (unsigned i = 0; i + 5 < n; i++) acks[i] = i + 1;
  assert_int_equal(iotc__seglog_ack(l, acks, n - 5, why, sizeof why), IOTC_OK);
  assert_true(iotc__seglog_bytes(l) < before / 2); /* acknowledged segments are gone */
  iotc__seglog_close(l);

  static seen s;
  memset(&s, 0, sizeof s);
  iotc__seglog_info info;
  assert_int_equal(iotc__seglog_open(d, 64 * 1024, visit, &s, &l, &info, why, sizeof why), IOTC_OK);
  assert_int_equal(s.n, 5);
  for (unsigned i = 0; i < 5; i++) {
    assert_int_equal(s.seq[i], n - 4 + i);
    assert_int_equal(s.kind[i], 2);
  }
  assert_int_equal(info.live, 5);
  assert_int_equal(info.damaged, 0);
  assert_int_equal(iotc__seglog_next_seq(l), n + 1);
  iotc__seglog_close(l);
  rmtree(d);
  free(d);
}

static void test_second_opener_is_refused_with_locked(void **state) {
  (void)state;
  char *d = tmpdir();
  iotc__seglog *a = NULL, *b = NULL;
  char why[256];
  assert_int_equal(iotc__seglog_open(d, MAXB, NULL, NULL, &a, NULL, why, sizeof why), IOTC_OK);
  assert_int_equal(iotc__seglog_open(d, MAXB, NULL, NULL, &b, NULL, why, sizeof why),
                   IOTC_ERR_LOCKED);
  assert_null(b);
  assert_non_null(strstr(why, "in use by another client"));
  iotc__seglog_info info;
  assert_int_equal(iotc__seglog_inspect(d, &info, why, sizeof why), IOTC_OK);
  assert_true(info.locked);
  iotc__seglog_close(a);
  assert_int_equal(iotc__seglog_open(d, MAXB, NULL, NULL, &b, NULL, why, sizeof why), IOTC_OK);
  iotc__seglog_close(b);
  rmtree(d);
  free(d);
}

static void test_drop_oldest_frees_room(void **state) {
  (void)state;
  char *d = tmpdir();
  iotc__seglog *l = NULL;
  char why[256];
  assert_int_equal(iotc__seglog_open(d, 64 * 1024, NULL, NULL, &l, NULL, why, sizeof why), IOTC_OK);
  char big[500];
  memset(big, 'y', sizeof big);
  uint64_t seq = 0;
  iotc_result r;
  while ((r = iotc__seglog_append(l, 1, big, sizeof big, 0, false, &seq, why, sizeof why)) == IOTC_OK) {
  }
  assert_int_equal(r, IOTC_ERR_QUEUE_FULL);
  assert_non_null(strstr(why, "persist_max_bytes"));
  uint64_t first = 0, last = 0;
  assert_true(iotc__seglog_drop_oldest(l, &first, &last));
  assert_int_equal(first, 1);
  assert_true(last > first);
  assert_int_equal(iotc__seglog_append(l, 1, big, sizeof big, 0, false, &seq, why, sizeof why), IOTC_OK);
  iotc__seglog_close(l);
  static seen s;
  memset(&s, 0, sizeof s);
  assert_int_equal(iotc__seglog_open(d, 64 * 1024, visit, &s, &l, NULL, why, sizeof why), IOTC_OK);
  assert_int_equal(s.seq[0], last + 1); /* everything after the dropped segment, in order */
  assert_int_equal(s.seq[s.n - 1], seq);
  iotc__seglog_close(l);
  rmtree(d);
  free(d);
}

/* A full file system, made with RLIMIT_FSIZE (files cannot grow past it: EFBIG): the append
 * fails with IOTC_ERR_NO_SPACE, the file is left as before, and every earlier record stays. */
static void test_file_size_limit_is_no_space_and_keeps_records(void **state) {
  (void)state;
  char *d = tmpdir();
  iotc__seglog *l = NULL;
  char why[256];
  assert_int_equal(iotc__seglog_open(d, MAXB, NULL, NULL, &l, NULL, why, sizeof why), IOTC_OK);
  struct rlimit old;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = {8192, old.rlim_max};
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  char rec[300];
  memset(rec, 'z', sizeof rec);
  uint64_t seq = 0, ok = 0;
  iotc_result r;
  while ((r = iotc__seglog_append(l, 1, rec, sizeof rec, 0, true, &seq, why, sizeof why)) == IOTC_OK) {
    ok = seq;
  }
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
  signal(SIGXFSZ, prev);
  assert_int_equal(r, IOTC_ERR_NO_SPACE);
  assert_non_null(strstr(why, "write failed"));
  assert_true(ok > 10);
  /* room again: the log goes on after the last good record */
  assert_int_equal(iotc__seglog_append(l, 1, rec, sizeof rec, 0, true, &seq, why, sizeof why), IOTC_OK);
  assert_int_equal(seq, ok + 1);
  iotc__seglog_close(l);
  static seen s;
  memset(&s, 0, sizeof s);
  iotc__seglog_info info;
  assert_int_equal(iotc__seglog_open(d, MAXB, visit, &s, &l, &info, why, sizeof why), IOTC_OK);
  assert_int_equal(s.n, ok + 1);
  assert_int_equal(info.damaged, 0);
  iotc__seglog_close(l);
  rmtree(d);
  free(d);
}

static void test_unusable_directory_is_a_clear_error(void **state) {
  (void)state;
  iotc__seglog *l = NULL;
  char why[256];
  char *d = tmpdir();
  char file[512];
  snprintf(file, sizeof file, "%s/plain-file", d);
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fclose(f);
  char under[600];
  snprintf(under, sizeof under, "%s/sub", file); /* a directory under a file: ENOTDIR */
  assert_int_equal(iotc__seglog_open(under, MAXB, NULL, NULL, &l, NULL, why, sizeof why), IOTC_ERR_IO);
  assert_null(l);
  assert_non_null(strstr(why, under));
  assert_non_null(strstr(why, "cannot be created"));
  assert_int_equal(iotc__seglog_open(d, 1000, NULL, NULL, &l, NULL, why, sizeof why),
                   IOTC_ERR_INVALID_ARG);
  rmtree(d);
  free(d);
}

static void test_crc32c_known_value(void **state) {
  (void)state;
  assert_int_equal(iotc__crc32c(0, "123456789", 9), 0xe3069283u); /* the standard check value */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crc32c_known_value),
      cmocka_unit_test(test_torn_last_record_at_every_offset),
      cmocka_unit_test(test_corrupted_last_record_at_every_offset),
      cmocka_unit_test(test_acks_remove_records_and_segments),
      cmocka_unit_test(test_second_opener_is_refused_with_locked),
      cmocka_unit_test(test_drop_oldest_frees_room),
      cmocka_unit_test(test_file_size_limit_is_no_space_and_keeps_records),
      cmocka_unit_test(test_unusable_directory_is_a_clear_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
