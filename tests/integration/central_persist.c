/* SPDX-License-Identifier: MIT */
/* Store and forward (persist_dir) against an emulator of the test's own (it keeps every
 * message: --retain-messages), so what reached the hub can be counted exactly:
 *  - kill: a sender process killed with SIGKILL at random points under load, again and again,
 *    restarted on the same directory; every message whose send returned IOTC_OK reaches the
 *    hub, repeats carry the same $.mid and stay within the in-flight window per kill;
 *  - backlog: many messages accepted while the hub refuses the device, the client destroyed
 *    and created again: delivered once each, in order, the status callback and the counters
 *    saying how many were recovered;
 *  - reported properties survive a restart too; a second client on a directory is refused.
 * The program runs itself as the sender: central_persist sender DIR RUN ... (see sender()). */
#define _DEFAULT_SOURCE /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "central.h"

#define KILL_WINDOW 8 /* max_inflight of the sender: the bound on repeats per kill */
#define SENDER_MAX 20000

static emu_info emu;
static char self_path[4096]; /* this program (argv[0]: under valgrind /proc/self/exe is valgrind) */

/* What a test leaves behind when an assertion fails (cmocka leaves the test by longjmp): its
 * clients and its sender, ended by the teardown. A client's worker must not outlive the test,
 * nor call back into state of a test that is gone, so callback contexts are file-scope too. */
static iotc_client *live[2];
static pid_t live_sender;
static char live_mount[64]; /* the full file system's tmpfs */

static iotc_client *open_client(const iotc_client_config *cfg) {
  iotc_client *c = central_client(cfg);
  assert_non_null(c);
  for (size_t i = 0; i < sizeof live / sizeof *live; i++) {
    if (live[i] == NULL) {
      live[i] = c;
      return c;
    }
  }
  iotc_client_destroy(c);
  fail_msg("more than %zu clients at once", sizeof live / sizeof *live);
  return NULL;
}

static void close_client(iotc_client *c) {
  for (size_t i = 0; i < sizeof live / sizeof *live; i++) {
    if (live[i] == c) live[i] = NULL;
  }
  iotc_client_destroy(c);
}

static int clean_up(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof live / sizeof *live; i++) {
    iotc_client_destroy(live[i]);
    live[i] = NULL;
  }
  if (live_sender > 0) {
    kill(live_sender, SIGKILL);
    waitpid(live_sender, NULL, 0);
    live_sender = 0;
  }
  if (live_mount[0]) {
    umount2(live_mount, MNT_DETACH);
    rmdir(live_mount);
    live_mount[0] = '\0';
  }
  return 0;
}

/* How long draining @p messages may take: a fixed part (connecting, the last acknowledgements)
 * and a part per message, about 5 times what one took under ASan on a loaded 2-core machine
 * (75 to 130 us with the default window, 110 to 200 us with the kill test's window of 8). The
 * limit grows linearly with the backlog, so a drain that slows down as it grows still fails.
 * LSan's full unwinder at every malloc (LSAN_OPTIONS fast_unwind_on_malloc=0, which the test
 * suite sets so that Paho's frames can be named) makes each message cost 7 times as much (1,396
 * against 9,492 messages/s, 60% of the time in libgcc's unwinder): the budget follows. */
#define DRAIN_US_PER_MESSAGE 500u
#define KILL_US_PER_MESSAGE 1000u
static uint32_t drain_ms(uint64_t messages, unsigned us_per_message) {
#ifdef __SANITIZE_ADDRESS__
  const char *lsan = getenv("LSAN_OPTIONS");
  if (lsan && strstr(lsan, "fast_unwind_on_malloc=0")) us_per_message *= 7u;
#endif
  return (uint32_t)(30000u + messages * us_per_message / 1000u);
}

static void config(const char *id, const char *key, const char *dir, iotc_client_config *cfg) {
  iotc_client_config_init(cfg);
  cfg->id_scope = emu.id_scope;
  cfg->device_id = id;
  cfg->device_key = key;
  cfg->dps_endpoint = emu.dps_mqtt;
  cfg->ca_file = emu.ca_file;
  cfg->reconnect_min_ms = 50;
  cfg->reconnect_max_ms = 500;
  cfg->persist_dir = dir;
}

static void new_device(const char *prefix, char *id, size_t id_size, char *key, size_t key_size) {
  emu_unique_id(prefix, id, id_size);
  assert_int_equal(emu_create_device(&emu, id, NULL), 0);
  assert_int_equal(emu_device_key(&emu, id, key, key_size), 0);
}

static char *temp_dir(void) {
  char *d = strdup("/tmp/iotc-persist-XXXXXX");
  assert_non_null(mkdtemp(d));
  return d;
}

static void remove_tree(const char *d) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
  assert_int_equal(system(cmd), 0);
}

/* Every telemetry message of the device after *since, appended to @p all. */
static void fetch(const char *id, long *since, json_t *all) {
  for (int pages = 0; pages < 1000; pages++) {
    char path[512];
    snprintf(path, sizeof path, "/emulator/devices/%s/messages?since=%ld&limit=100000", id, *since);
    long status = 0;
    json_t *body = NULL;
    assert_int_equal(emu_api(&emu, "GET", path, NULL, &status, &body), 0);
    assert_int_equal(status, 200);
    json_t *value = json_object_get(body, "value");
    assert_int_equal(json_integer_value(json_object_get(body, "dropped")), 0);
    size_t n = json_array_size(value);
    json_array_extend(all, value);
    *since = (long)json_integer_value(json_object_get(body, "next"));
    json_decref(body);
    if (n == 0) return;
  }
}

/* ---- the sender (a child process) ------------------------------------------------------- */

/* argv: sender DIR RUN ID KEY [drain]. Prints "I\n" on stdout after each send that returned
 * IOTC_OK (payload {"run":RUN,"i":I}); "drain": sends nothing, delivers the backlog, exits 0. */
static int sender(int argc, char **argv) {
  if (argc < 6) return 2;
  assert_int_equal(emu_load(&emu), 0);
  const char *dir = argv[2];
  int run = atoi(argv[3]);
  bool drain = argc > 6 && strcmp(argv[6], "drain") == 0;
  iotc_client_config cfg;
  config(argv[4], argv[5], dir, &cfg);
  cfg.max_inflight = KILL_WINDOW;
  char cache[600];
  snprintf(cache, sizeof cache, "%s.cache.json", dir);
  cfg.cache_file = cache;
  iotc_client *client = NULL;
  iotc_error err;
  iotc_result r = iotc_client_create(&cfg, &client, &err);
  if (r != IOTC_OK) {
    fprintf(stderr, "sender: create: %s: %s\n", iotc_strerror(r), err.message);
    return 1;
  }
  if (drain) {
    iotc_persist_stats ps;
    if ((r = iotc_client_get_persist_stats(client, &ps)) == IOTC_OK) {
      r = iotc_client_connect(client, 30000, &err);
    }
    uint64_t t0 = central_now_ms();
    if (r == IOTC_OK) { /* waits for the queue */
      r = iotc_client_disconnect(client, drain_ms(ps.recovered, KILL_US_PER_MESSAGE));
    }
    uint64_t ms = central_now_ms() - t0;
    if (iotc_client_get_persist_stats(client, &ps) == IOTC_OK) {
      fprintf(stderr, "sender drain: recovered %" PRIu64 ", replayed %" PRIu64 " in %" PRIu64
              " ms (%.0f messages/s): %s\n", ps.recovered, ps.replayed, ms,
              (double)ps.replayed * 1000.0 / (double)(ms ? ms : 1), iotc_strerror(r));
    }
    iotc_client_destroy(client);
    return r == IOTC_OK ? 0 : 1;
  }
  if ((r = iotc_client_connect(client, 0, &err)) != IOTC_OK) {
    fprintf(stderr, "sender: connect: %s: %s\n", iotc_strerror(r), err.message);
    return 1;
  }
  char json[64];
  for (int i = 0; i < SENDER_MAX; i++) {
    snprintf(json, sizeof json, "{\"run\":%d,\"i\":%d}", run, i);
    r = iotc_client_send_telemetry(client, json, NULL);
    if (r == IOTC_OK) {
      printf("%d\n", i);
      fflush(stdout);
    } else {
      fprintf(stderr, "sender: send: %s\n", iotc_strerror(r));
    }
    if (i % 4 == 0) central_sleep_ms(1); /* load, not a flood: the emulator is shared */
  }
  central_sleep_ms(30000); /* the parent kills it before */
  iotc_client_destroy(client);
  return 0;
}

static pid_t spawn(const char *dir, int run, const char *id, const char *key, bool drain,
                   int *out_fd) {
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    char runs[16];
    snprintf(runs, sizeof runs, "%d", run);
    execl(self_path, "central_persist", "sender", dir, runs, id, key,
          drain ? "drain" : (char *)NULL, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  *out_fd = fds[0];
  return pid;
}

/* Read the sender's OK lines until @p until_ms (monotonic) or its end. */
static void read_oks(int fd, uint64_t until_ms, char *buf, size_t size, size_t *len,
                     uint8_t *ok) {
  for (;;) {
    uint64_t now = central_now_ms();
    if (now >= until_ms) return;
    struct pollfd p = {fd, POLLIN, 0};
    int k = poll(&p, 1, (int)(until_ms - now));
    if (k <= 0) continue;
    ssize_t got = read(fd, buf + *len, size - *len - 1);
    if (got <= 0) return;
    *len += (size_t)got;
    buf[*len] = '\0';
    char *line = buf, *nl;
    while ((nl = strchr(line, '\n')) != NULL) {
      *nl = '\0';
      int i = atoi(line);
      if (i >= 0 && i < SENDER_MAX) ok[i] = 1;
      line = nl + 1;
    }
    *len = strlen(line);
    memmove(buf, line, *len + 1);
  }
}

static int kill_rounds(void) {
  const char *n = getenv("IOTC_PERSIST_KILLS");
  int v = n ? atoi(n) : 50;
  return v > 0 && v <= 10000 ? v : 50;
}

static void kill_test_every_ok_message_arrives(void **state) {
  (void)state;
  char id[128], key[128];
  new_device("persist-kill", id, sizeof id, key, sizeof key);
  char *dir = temp_dir();
  int rounds = kill_rounds();
  uint8_t(*ok)[SENDER_MAX] = calloc((size_t)rounds + 1, SENDER_MAX);
  assert_non_null(ok);
  srand((unsigned)getpid());
  uint64_t total_ok = 0;
  for (int run = 0; run < rounds; run++) {
    int fd;
    pid_t pid = live_sender = spawn(dir, run, id, key, false, &fd);
    char buf[4096];
    size_t len = 0;
    /* A random point: during start-up and recovery, the connect, or sending under load. */
    read_oks(fd, central_now_ms() + 20 + (uint64_t)(rand() % 600), buf, sizeof buf, &len, ok[run]);
    kill(pid, SIGKILL);
    read_oks(fd, central_now_ms() + 2000, buf, sizeof buf, &len, ok[run]); /* what it wrote before */
    close(fd);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    live_sender = 0;
    for (int i = 0; i < SENDER_MAX; i++) total_ok += ok[run][i];
  }
  iotc_persist_info info;
  iotc_error err;
  assert_int_equal(iotc_persist_inspect(dir, &info, &err), IOTC_OK);
  /* The drainer's own limits (start-up and connect, then drain_ms()) and a margin. */
  uint64_t limit = 30000u + drain_ms(info.queued, KILL_US_PER_MESSAGE) + 30000u;
  printf("kill test: %" PRIu64 " messages left to drain (allowed %" PRIu64 " ms)\n", info.queued,
         limit);
  int fd;
  pid_t pid = live_sender = spawn(dir, rounds, id, key, true, &fd);
  char buf[4096];
  size_t len = 0;
  read_oks(fd, central_now_ms() + limit, buf, sizeof buf, &len, ok[rounds]);
  close(fd);
  int st;
  pid_t gone = 0; /* its output ends as it exits: a few ms more to be waitable */
  for (int tries = 0; tries < 500 && gone == 0; tries++) {
    if ((gone = waitpid(pid, &st, WNOHANG)) == 0) central_sleep_ms(10);
  }
  if (gone == 0) fail_msg("the drain did not end within %" PRIu64 " ms", limit);
  assert_int_equal(gone, pid);
  live_sender = 0;
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

  assert_int_equal(iotc_persist_inspect(dir, &info, &err), IOTC_OK);
  assert_int_equal(info.queued, 0);

  json_t *all = json_array();
  long since = 0;
  fetch(id, &since, all);
  uint16_t(*seen)[SENDER_MAX] = calloc((size_t)rounds, sizeof *seen);
  assert_non_null(seen);
  size_t i;
  json_t *m;
  uint64_t dup = 0, order_breaks = 0;
  long last_key = -1;
  json_t *mids = json_object();
  json_array_foreach(all, i, m) {
    json_t *j = json_object_get(m, "json");
    int run = (int)json_integer_value(json_object_get(j, "run"));
    int n = (int)json_integer_value(json_object_get(j, "i"));
    assert_true(run >= 0 && run < rounds && n >= 0 && n < SENDER_MAX);
    const char *mid = json_string_value(json_object_get(m, "messageId"));
    assert_non_null(mid); /* every persisted message carries $.mid, shown by the emulator */
    char k[32];
    snprintf(k, sizeof k, "%d/%d", run, n);
    json_t *prev = json_object_get(mids, k);
    if (prev) {
      assert_string_equal(json_string_value(prev), mid); /* a repeat: the same id */
      dup++;
    } else {
      json_object_set_new(mids, k, json_string(mid));
      long key_order = (long)run * SENDER_MAX + n;
      if (key_order < last_key) order_breaks++;
      last_key = key_order;
    }
    seen[run][n]++;
  }
  uint64_t missing = 0;
  for (int run = 0; run < rounds; run++) {
    for (int n = 0; n < SENDER_MAX; n++) {
      if (ok[run][n] && seen[run][n] == 0) {
        if (missing < 10) fprintf(stderr, "lost: run %d message %d\n", run, n);
        missing++;
      }
    }
  }
  printf("kill test: %d kills, %" PRIu64 " sends returned OK, %zu messages at the hub, %" PRIu64
         " repeats (bound %d), %" PRIu64 " out of order, %" PRIu64 " lost\n",
         rounds, total_ok, json_array_size(all), dup, rounds * KILL_WINDOW, order_breaks, missing);
  assert_int_equal(missing, 0);
  assert_true(dup <= (uint64_t)rounds * KILL_WINDOW);
  assert_int_equal(order_breaks, 0);
  assert_true(total_ok > (uint64_t)rounds); /* it was under load, not killed only while starting */
  json_decref(mids);
  json_decref(all);
  free(seen);
  free(ok);
  remove_tree(dir);
  char cache[600];
  snprintf(cache, sizeof cache, "%s.cache.json", dir);
  unlink(cache);
  free(dir);
}

/* ---- backlog ----------------------------------------------------------------------------- */

typedef struct status_log {
  pthread_mutex_t lock;
  uint64_t recovered;
  char first[320];
  int calls;
} status_log;

static void on_status(iotc_client *client, const iotc_status_info *info, void *ctx) {
  (void)client;
  status_log *s = ctx;
  pthread_mutex_lock(&s->lock);
  if (s->calls++ == 0) {
    snprintf(s->first, sizeof s->first, "%s", info->message);
    s->recovered = info->recovered;
  }
  pthread_mutex_unlock(&s->lock);
}

static int backlog_size(void) {
  const char *n = getenv("IOTC_PERSIST_BACKLOG");
  int v = n ? atoi(n) : 10000;
  return v > 0 && v <= 2000000 ? v : 10000;
}

static void backlog_delivered_in_order_after_restart(void **state) {
  (void)state;
  char id[128], key[128];
  new_device("persist-backlog", id, sizeof id, key, sizeof key);
  char *dir = temp_dir();
  int total = backlog_size();
  iotc_client_config cfg;
  config(id, key, dir, &cfg);
  cfg.persist_durability = IOTC_PERSIST_SYNC_INTERVAL; /* a backlog of hours is written fast */
  cfg.persist_sync_interval_ms = 200;
  /* The hub refuses the device (CONNACK 3) while the backlog builds up. */
  char fault[256];
  snprintf(fault, sizeof fault, "{\"kind\":\"refuseConnect\",\"deviceId\":\"%s\",\"count\":1000}", id);
  assert_int_equal(emu_fault(&emu, fault), 0);
  iotc_client *a = open_client(&cfg);
  assert_int_equal(iotc_client_connect(a, 0, NULL), IOTC_OK);
  char json[64];
  for (int i = 0; i < total; i++) {
    snprintf(json, sizeof json, "{\"i\":%d}", i);
    assert_int_equal(iotc_client_send_telemetry(a, json, NULL), IOTC_OK);
  }
  /* The queue is bounded by the disk, not by queue_capacity (1000). */
  iotc_client_stats st;
  assert_int_equal(iotc_client_get_stats(a, &st), IOTC_OK);
  assert_int_equal(st.queued, (size_t)total);
  close_client(a); /* as a restart: nothing was delivered */
  long status = 0; /* the emulator is this program's own: clearing every fault is safe */
  assert_int_equal(emu_api(&emu, "DELETE", "/emulator/faults", NULL, &status, NULL), 0);

  iotc_persist_info info;
  iotc_error err;
  assert_int_equal(iotc_persist_inspect(dir, &info, &err), IOTC_OK);
  assert_int_equal(info.queued, (uint64_t)total);
  assert_int_equal(info.damaged, 0);
  assert_false(info.in_use);
  printf("backlog: %d messages, %" PRIu64 " bytes in %" PRIu64 " segments\n", total, info.bytes,
         info.segments);
#ifdef IOTC_CLI_PATH
  { /* iotc queue inspect says the same */
    char cmd[700], out[4096] = "", want[64];
    snprintf(cmd, sizeof cmd, "'%s' queue inspect '%s'", IOTC_CLI_PATH, dir);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    assert_int_equal(pclose(f), 0);
    snprintf(want, sizeof want, "messages waiting: %d (", total);
    printf("%s", out);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "damaged records:  0"));
    assert_non_null(strstr(out, "not in use"));
  }
#endif

  static status_log sl = {PTHREAD_MUTEX_INITIALIZER, 0, "", 0};
  uint64_t t0 = central_now_ms();
  iotc_client *b = open_client(&cfg);
  uint64_t t1 = central_now_ms();
  assert_int_equal(iotc_client_on_status(b, on_status, &sl), IOTC_OK);
  /* A second client on the same directory is refused, with the reason. */
  iotc_client *c2 = NULL;
  assert_int_equal(iotc_client_create(&cfg, &c2, &err), IOTC_ERR_LOCKED);
  assert_null(c2);
  assert_non_null(strstr(err.message, "in use by another client"));
  assert_int_equal(iotc_persist_inspect(dir, &info, &err), IOTC_OK);
  assert_true(info.in_use);

  assert_int_equal(central_connect(b), 0);
  assert_int_equal(iotc_client_disconnect(b, drain_ms((uint64_t)total, DRAIN_US_PER_MESSAGE)),
                   IOTC_OK); /* drains the backlog */
  uint64_t t2 = central_now_ms();
  iotc_persist_stats ps;
  assert_int_equal(iotc_client_get_persist_stats(b, &ps), IOTC_OK);
  assert_int_equal(ps.recovered, (uint64_t)total);
  assert_int_equal(ps.replayed, (uint64_t)total);
  pthread_mutex_lock(&sl.lock);
  assert_int_equal(sl.recovered, (uint64_t)total);
  assert_non_null(strstr(sl.first, "recovered from persist_dir"));
  pthread_mutex_unlock(&sl.lock);
  close_client(b);
  printf("backlog: recovered in %" PRIu64 " ms, delivered in %" PRIu64 " ms (%.0f messages/s)\n",
         t1 - t0, t2 - t1, (double)total * 1000.0 / (double)(t2 - t1 ? t2 - t1 : 1));

  json_t *all = json_array();
  long since = 0;
  uint64_t t3 = central_now_ms();
  fetch(id, &since, all);
  printf("backlog: %zu messages read back from the emulator in %" PRIu64 " ms\n",
         json_array_size(all), central_now_ms() - t3);
  assert_int_equal(json_array_size(all), (size_t)total); /* once each */
  size_t i;
  json_t *m;
  char prefix[32];
  snprintf(prefix, sizeof prefix, "%016" PRIx64 "-", info.directory_id);
  json_array_foreach(all, i, m) {
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "json"), "i")), (json_int_t)i);
    const char *mid = json_string_value(json_object_get(m, "messageId"));
    assert_non_null(mid);
    assert_memory_equal(mid, prefix, strlen(prefix));
    assert_int_equal(strtoull(mid + strlen(prefix), NULL, 10), i + 1);
  }
  json_decref(all);
  assert_int_equal(iotc_persist_inspect(dir, &info, &err), IOTC_OK);
  assert_int_equal(info.queued, 0);
  remove_tree(dir);
  free(dir);
}

/* ---- reported properties ------------------------------------------------------------------ */

static bool has_reported(json_t *body, void *ctx) {
  json_t *v = json_object_get(body, (const char *)ctx);
  return v && json_integer_value(v) == 7;
}

static void reported_property_survives_restart(void **state) {
  (void)state;
  char id[128], key[128];
  new_device("persist-rep", id, sizeof id, key, sizeof key);
  char *dir = temp_dir();
  iotc_client_config cfg;
  config(id, key, dir, &cfg);
  iotc_client *a = open_client(&cfg);
  assert_int_equal(iotc_client_report_property(a, NULL, "firmwareLevel", "7", NULL, NULL), IOTC_OK);
  close_client(a); /* never connected */
  iotc_client *b = open_client(&cfg);
  assert_int_equal(central_connect(b), 0);
  char path[256];
  snprintf(path, sizeof path, "/api/devices/%s/properties", id);
  bool ok = false;
  /* the fixture's emulator is not ours: poll our own */
  for (int tries = 0; tries < 300 && !ok; tries++) {
    long status = 0;
    json_t *body = NULL;
    assert_int_equal(emu_api(&emu, "GET", path, NULL, &status, &body), 0);
    ok = status == 200 && has_reported(body, "firmwareLevel");
    json_decref(body);
    if (!ok) central_sleep_ms(100);
  }
  assert_true(ok);
  assert_int_equal(iotc_client_disconnect(b, 30000), IOTC_OK);
  close_client(b);
  iotc_persist_info info;
  iotc_error err;
  assert_int_equal(iotc_persist_inspect(dir, &info, &err), IOTC_OK);
  assert_int_equal(info.queued, 0);
  remove_tree(dir);
  free(dir);
}

/* ---- a full file system ------------------------------------------------------------------ */

/* A 256 KiB tmpfs (root only; skipped with a note otherwise, the unit test test_seglog covers
 * a full file system with RLIMIT_FSIZE): sends fail with IOTC_ERR_NO_SPACE and a readable
 * reason once it is full, and every message accepted before reaches the hub after a restart. */
static void full_file_system_refuses_and_keeps_what_was_accepted(void **state) {
  (void)state;
  char *mnt = temp_dir();
  if (mount("tmpfs", mnt, "tmpfs", 0, "size=256k,mode=0700") != 0) {
    printf("disk full: a tmpfs cannot be mounted here (%s; needs root): skipped\n", strerror(errno));
    rmdir(mnt);
    free(mnt);
    skip();
  }
  snprintf(live_mount, sizeof live_mount, "%s", mnt);
  char dir[600];
  snprintf(dir, sizeof dir, "%s/queue", mnt);
  char id[128], key[128];
  new_device("persist-full", id, sizeof id, key, sizeof key);
  iotc_client_config cfg;
  config(id, key, dir, &cfg); /* persist_max_bytes (64 MiB) is far above the file system */
  iotc_client *a = open_client(&cfg);
  char json[1100];
  int accepted = 0;
  iotc_result r = IOTC_OK;
  for (int i = 0; i < 10000; i++) {
    int n = snprintf(json, sizeof json, "{\"i\":%d,\"pad\":\"", i);
    memset(json + n, 'p', 1000);
    snprintf(json + n + 1000, sizeof json - (size_t)n - 1000, "\"}");
    r = iotc_client_send_telemetry(a, json, NULL);
    if (r != IOTC_OK) break;
    accepted++;
  }
  assert_int_equal(r, IOTC_ERR_NO_SPACE);
  assert_true(accepted > 50);
  iotc_persist_stats ps;
  assert_int_equal(iotc_client_get_persist_stats(a, &ps), IOTC_OK);
  assert_int_equal(ps.last_result, IOTC_ERR_NO_SPACE);
  assert_non_null(strstr(ps.last_error, dir));
  assert_non_null(strstr(ps.last_error, "No space left on device"));
  printf("disk full: %d messages accepted, then: %s\n", accepted, ps.last_error);
  close_client(a);

  iotc_client *b = open_client(&cfg); /* recovery on the full file system */
  assert_int_equal(central_connect(b), 0);
  assert_int_equal(iotc_client_disconnect(b, 60000), IOTC_OK);
  close_client(b);
  json_t *all = json_array();
  long since = 0;
  fetch(id, &since, all);
  assert_int_equal(json_array_size(all), (size_t)accepted);
  size_t i;
  json_t *m;
  json_array_foreach(all, i, m) {
    assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "json"), "i")), (json_int_t)i);
  }
  json_decref(all);
  live_mount[0] = '\0';
  assert_int_equal(umount2(mnt, MNT_DETACH), 0);
  assert_int_equal(rmdir(mnt), 0);
  free(mnt);
}

/* ---- the bound and its policies ---------------------------------------------------------- */

typedef struct done_count {
  pthread_mutex_t lock;
  int ok, full, other;
} done_count;

static void count_done(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  done_count *d = ctx;
  pthread_mutex_lock(&d->lock);
  if (result == IOTC_OK) d->ok++;
  else if (result == IOTC_ERR_QUEUE_FULL) d->full++;
  else d->other++;
  pthread_mutex_unlock(&d->lock);
}

static void bad_settings_are_refused_at_create(void **state) {
  (void)state;
  char *dir = temp_dir();
  iotc_client_config cfg;
  config("dev", "AAAA", dir, &cfg);
  iotc_client *c = NULL;
  iotc_error err;
  cfg.persist_max_bytes = 1000;
  assert_int_equal(iotc_client_create(&cfg, &c, &err), IOTC_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "persist_max_bytes"));
  config("dev", "AAAA", dir, &cfg);
  cfg.persist_durability = IOTC_PERSIST_SYNC_INTERVAL;
  cfg.persist_sync_interval_ms = 0;
  assert_int_equal(iotc_client_create(&cfg, &c, &err), IOTC_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "persist_sync_interval_ms"));
  config("dev", "AAAA", dir, &cfg);
  cfg.persist_full_policy = (iotc_persist_full_policy)7;
  assert_int_equal(iotc_client_create(&cfg, &c, &err), IOTC_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "persist_full_policy"));
  char file[600];
  snprintf(file, sizeof file, "%s/file", dir);
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fclose(f);
  char under[700];
  snprintf(under, sizeof under, "%s/q", file);
  config("dev", "AAAA", under, &cfg);
  assert_int_equal(iotc_client_create(&cfg, &c, &err), IOTC_ERR_IO);
  assert_non_null(strstr(err.message, under));
  assert_null(c);
  remove_tree(dir);
  free(dir);
}

/* persist_max_bytes reached: REFUSE_NEW refuses with IOTC_ERR_QUEUE_FULL and a reason;
 * DROP_OLDEST keeps accepting, completes the dropped ones with IOTC_ERR_QUEUE_FULL, and the hub
 * gets the rest, in order, ending with the newest. */
static void full_policies_refuse_or_drop_the_oldest(void **state) {
  (void)state;
  char id[128], key[128];
  new_device("persist-policy", id, sizeof id, key, sizeof key);
  char *dir = temp_dir();
  iotc_client_config cfg;
  config(id, key, dir, &cfg);
  cfg.persist_max_bytes = 64 * 1024;
  iotc_client *a = open_client(&cfg);
  char json[300];
  int accepted = 0;
  iotc_result r = IOTC_OK;
  for (int i = 0; i < 5000 && r == IOTC_OK; i++) {
    snprintf(json, sizeof json, "{\"i\":%d,\"pad\":\"%0200d\"}", i, 0);
    if ((r = iotc_client_send_telemetry(a, json, NULL)) == IOTC_OK) accepted++;
  }
  assert_int_equal(r, IOTC_ERR_QUEUE_FULL);
  iotc_persist_stats ps;
  assert_int_equal(iotc_client_get_persist_stats(a, &ps), IOTC_OK);
  assert_int_equal(ps.last_result, IOTC_ERR_QUEUE_FULL);
  assert_non_null(strstr(ps.last_error, "persist_max_bytes"));
  assert_true(ps.bytes <= 64 * 1024);
  printf("refuse: %d accepted in 64 KiB\n", accepted);
  close_client(a);
  remove_tree(dir);

  assert_non_null(mkdtemp(strcpy(dir, "/tmp/iotc-persist-XXXXXX")));
  cfg.persist_full_policy = IOTC_PERSIST_DROP_OLDEST;
  iotc_client *b = open_client(&cfg);
  static done_count d = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
  iotc_telemetry_options o;
  iotc_telemetry_options_init(&o);
  o.on_done = count_done;
  o.user_context = &d;
  const int total = 2000;
  for (int i = 0; i < total; i++) {
    snprintf(json, sizeof json, "{\"i\":%d,\"pad\":\"%0200d\"}", i, 0);
    assert_int_equal(iotc_client_send_telemetry(b, json, &o), IOTC_OK);
  }
  assert_int_equal(central_connect(b), 0);
  assert_int_equal(iotc_client_disconnect(b, 60000), IOTC_OK);
  assert_int_equal(iotc_client_get_persist_stats(b, &ps), IOTC_OK);
  close_client(b);
  pthread_mutex_lock(&d.lock);
  printf("drop oldest: %d delivered, %d dropped (counted %" PRIu64 ")\n", d.ok, d.full, ps.dropped);
  assert_int_equal(d.ok + d.full, total);
  assert_int_equal(d.other, 0);
  assert_true(d.full > 0);
  assert_int_equal((uint64_t)d.full, ps.dropped);
  int delivered = d.ok;
  pthread_mutex_unlock(&d.lock);
  json_t *all = json_array();
  long since = 0;
  fetch(id, &since, all);
  assert_int_equal(json_array_size(all), (size_t)delivered);
  size_t i;
  json_t *m;
  json_array_foreach(all, i, m) { /* the newest survive, in order */
    json_int_t n = json_integer_value(json_object_get(json_object_get(m, "json"), "i"));
    assert_int_equal(n, (json_int_t)(total - delivered) + (json_int_t)i);
  }
  json_decref(all);
  remove_tree(dir);
  free(dir);
}

static int setup(void **state) {
  (void)state;
  static const char *const args[] = {"--retain-messages", "1000000", "--retry-after", "0",
                                     "--quiet", NULL};
  if (emu_start(args, &emu) != 0) return -1;
  /* The sender processes find it through the ready-line file. */
  static char file[64];
  snprintf(file, sizeof file, "/tmp/iotc-persist-emu-%d.json", (int)getpid());
  FILE *f = fopen(file, "w");
  if (f == NULL) return -1;
  fprintf(f, "{\"ready\":true,\"pid\":%d,\"idScope\":\"%s\",\"caFile\":\"%s\",\"api\":\"%s\","
          "\"dps\":{\"mqtt\":\"%s\",\"https\":\"%s\"},\"hubs\":[\"%s\"],\"groupKey\":\"%s\"}\n",
          emu.pid, emu.id_scope, emu.ca_file, emu.api, emu.dps_mqtt, emu.dps_https, emu.hubs[0],
          emu.group_key);
  fclose(f);
  setenv("IOTC_EMULATOR_INFO", file, 1);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  emu_stop(&emu);
  const char *file = getenv("IOTC_EMULATOR_INFO");
  if (file && strstr(file, "iotc-persist-emu-")) unlink(file);
  return 0;
}

int main(int argc, char **argv) {
  if (realpath(argv[0], self_path) == NULL) snprintf(self_path, sizeof self_path, "/proc/self/exe");
  if (argc > 1 && strcmp(argv[1], "sender") == 0) return sender(argc, argv);
  if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(bad_settings_are_refused_at_create, clean_up),
      cmocka_unit_test_teardown(full_policies_refuse_or_drop_the_oldest, clean_up),
      cmocka_unit_test_teardown(reported_property_survives_restart, clean_up),
      cmocka_unit_test_teardown(backlog_delivered_in_order_after_restart, clean_up),
      cmocka_unit_test_teardown(full_file_system_refuses_and_keeps_what_was_accepted, clean_up),
      cmocka_unit_test_teardown(kill_test_every_ok_message_arrives, clean_up),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
