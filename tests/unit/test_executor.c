/* SPDX-License-Identifier: MIT */
/* The shared executor without a network: clients made from a connection string and never
 * connected, whose rounds are driven by scheduled callbacks (iotc_client_schedule), which run
 * on the worker like every callback. Checked: every client gets its rounds, in order and never
 * on two threads at once; a client marked ready while it runs is run again; clients destroyed
 * while their rounds are queued or running; the executor refusing to be destroyed while clients
 * are attached; bad arguments. Nothing is asserted on time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <sched.h>

#include "iotc/iotc.h"

#define KEY "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0cw=="
#define JOBS 3        /* scheduled per client from the test thread */
#define WAIT_MS 300000 /* bound of every wait: generous for a loaded machine under ASan */

/* Under allocation-failure injection the program runs hundreds of times: fewer clients then. */
static size_t client_count(size_t full) {
  if (getenv("IOTC_ALLOC_FAIL_AT") || getenv("IOTC_ALLOC_COUNT_FILE")) return 100;
  return full;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(long ms) {
  nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}
static void nap(void) { sleep_ms(2); }

static iotc_client *make_client(iotc_executor *ex) {
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = "HostName=h.example.net;DeviceId=d;SharedAccessKey=" KEY;
  cfg.executor = ex;
  iotc_client *c = NULL;
  iotc_error err;
  iotc_result r = iotc_client_create(&cfg, &c, &err);
  if (r != IOTC_OK) print_message("client_create: %s\n", err.message);
  assert_int_equal(r, IOTC_OK);
  return c;
}

static iotc_executor *make_executor(uint32_t threads) {
  iotc_executor_config cfg;
  iotc_executor_config_init(&cfg);
  cfg.threads = threads;
  iotc_executor *ex = NULL;
  iotc_error err;
  assert_int_equal(iotc_executor_create(&cfg, &ex, &err), IOTC_OK);
  assert_non_null(ex);
  return ex;
}

/* ---- bad input ------------------------------------------------------------------------- */

static void test_bad_input(void **state) {
  (void)state;
  iotc_executor_config_init(NULL); /* ignored */
  iotc_executor_config cfg;
  iotc_executor_config_init(&cfg);
  assert_int_equal(cfg.threads, 2);
  iotc_executor *ex = (iotc_executor *)&cfg;
  iotc_error err;
  assert_int_equal(iotc_executor_create(NULL, &ex, &err), IOTC_ERR_INVALID_ARG);
  assert_null(ex);
  assert_non_null(strstr(err.message, "cfg is NULL"));
  assert_int_equal(iotc_executor_create(&cfg, NULL, &err), IOTC_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "out_executor is NULL"));
  cfg.threads = 0;
  assert_int_equal(iotc_executor_create(&cfg, &ex, &err), IOTC_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "threads is 0; it must be 1 to 256"));
  cfg.threads = IOTC_EXECUTOR_THREADS_MAX + 1;
  assert_int_equal(iotc_executor_create(&cfg, &ex, NULL), IOTC_ERR_INVALID_ARG);
  cfg.threads = UINT32_MAX;
  assert_int_equal(iotc_executor_create(&cfg, &ex, &err), IOTC_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "threads is 4294967295"));
  cfg.threads = 1;
  cfg.struct_version = 0;
  assert_int_equal(iotc_executor_create(&cfg, &ex, &err), IOTC_ERR_INVALID_ARG);
  assert_non_null(strstr(err.message, "struct_version"));
  assert_null(ex);
  assert_int_equal(iotc_executor_destroy(NULL, &err), IOTC_OK);
  assert_int_equal(iotc_executor_destroy(NULL, NULL), IOTC_OK);
}

/* A client whose config predates the executor field (version 4) has a thread of its own: the
 * field past its end is not read. */
static void test_old_config_ignores_executor(void **state) {
  (void)state;
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  assert_int_equal(cfg.struct_version, 5);
  assert_null(cfg.executor);
  cfg.connection_string = "HostName=h.example.net;DeviceId=d;SharedAccessKey=" KEY;
  cfg.struct_version = 4;
  cfg.executor = (iotc_executor *)&cfg; /* garbage past a version-4 struct */
  iotc_client *c = NULL;
  assert_int_equal(iotc_client_create(&cfg, &c, NULL), IOTC_OK);
  iotc_client_destroy(c);
}

/* ---- many clients ---------------------------------------------------------------------- */

typedef struct rec {
  iotc_client *client;
  atomic_int busy;   /* a callback of this client runs: two at once is a failure */
  int next;          /* the sequence number the next callback must carry */
  int bad;           /* callbacks out of order or overlapping */
} rec;

typedef struct job {
  rec *r;
  int seq;
} job;

static atomic_size_t ran, on_main;
static pthread_t main_thread;
#define THREADS_SEEN 8
static pthread_t seen[THREADS_SEEN];
static atomic_size_t seen_n;
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;

static void note_thread(void) {
  pthread_mutex_lock(&seen_mu);
  size_t n = atomic_load(&seen_n);
  bool known = false;
  for (size_t i = 0; i < n; i++) known = known || pthread_equal(seen[i], pthread_self());
  if (!known && n < THREADS_SEEN) seen[atomic_fetch_add(&seen_n, 1)] = pthread_self();
  pthread_mutex_unlock(&seen_mu);
}

static void on_job(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  job *j = ctx;
  rec *r = j->r;
  if (atomic_exchange(&r->busy, 1) != 0) r->bad++;
  if (result != IOTC_OK || j->seq != r->next) r->bad++;
  r->next++;
  if (pthread_equal(pthread_self(), main_thread)) atomic_fetch_add(&on_main, 1);
  note_thread();
  if (j->seq == JOBS - 1) {
    /* Scheduled while its own round runs: the client must be run again after it. */
    job *extra = j + 1;
    extra->r = r;
    extra->seq = JOBS;
    if (iotc_client_schedule(r->client, 0, on_job, extra, NULL) != IOTC_OK) {
      r->bad++;                 /* out of memory (allocation-failure runs): fails below */
      r->next++;
      atomic_fetch_add(&ran, 1); /* counted, so the wait ends */
    }
  }
  atomic_store(&r->busy, 0);
  atomic_fetch_add(&ran, 1);
}

/* Wait, bounded, until @p n callbacks ran. */
static void wait_ran(size_t n) {
  uint64_t until = now_ms() + WAIT_MS;
  while (atomic_load(&ran) < n && now_ms() < until) nap();
  assert_int_equal(atomic_load(&ran), n);
}

static void test_many_clients_on_four_threads(void **state) {
  (void)state;
  size_t n = client_count(10000);
  main_thread = pthread_self();
  atomic_store(&ran, 0);
  atomic_store(&on_main, 0);
  atomic_store(&seen_n, 0);
  iotc_executor *ex = make_executor(4);
  rec *recs = calloc(n, sizeof *recs);
  job *jobs = calloc(n * (JOBS + 1), sizeof *jobs); /* JOBS from here, one from a callback */
  assert_non_null(recs);
  assert_non_null(jobs);
  uint64_t t0 = now_ms();
  for (size_t i = 0; i < n; i++) recs[i].client = make_client(ex);
  uint64_t t1 = now_ms();
  /* Scheduled while the executor runs the clients' first rounds: some are queued, some run. */
  for (size_t k = 0; k < JOBS; k++) {
    for (size_t i = 0; i < n; i++) {
      job *j = &jobs[i * (JOBS + 1) + k];
      j->r = &recs[i];
      j->seq = (int)k;
      assert_int_equal(iotc_client_schedule(recs[i].client, 0, on_job, j, NULL), IOTC_OK);
    }
  }
  wait_ran(n * (JOBS + 1));
  uint64_t t2 = now_ms();
  print_message("executor: %zu clients created in %llu ms, %zu callbacks run in %llu ms on %zu "
                "thread(s)\n", n, (unsigned long long)(t1 - t0), n * (JOBS + 1),
                (unsigned long long)(t2 - t1), atomic_load(&seen_n));
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(recs[i].bad, 0);
    assert_int_equal(recs[i].next, JOBS + 1);
  }
  assert_int_equal(atomic_load(&on_main), 0);
  assert_true(atomic_load(&seen_n) <= 4); /* the executor's threads, nothing else */
  iotc_error err;
  assert_int_equal(iotc_executor_destroy(ex, &err), IOTC_ERR_STATE);
  char want[64];
  snprintf(want, sizeof want, "%zu client(s) still attached", n);
  assert_non_null(strstr(err.message, want));
  for (size_t i = 0; i < n; i++) iotc_client_destroy(recs[i].client);
  assert_int_equal(iotc_executor_destroy(ex, &err), IOTC_OK);
  free(jobs);
  free(recs);
}

/* Timers: clients waiting for different deadlines are woken from the heap, none early. */
typedef struct timed {
  uint64_t not_before;
  atomic_int early, result;
} timed;

static void on_timed(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  timed *t = ctx;
  if (now_ms() < t->not_before) atomic_store(&t->early, 1);
  atomic_store(&t->result, (int)result);
  atomic_fetch_add(&ran, 1);
}

static void test_deadlines_from_the_heap(void **state) {
  (void)state;
  size_t n = client_count(1000);
  atomic_store(&ran, 0);
  iotc_executor *ex = make_executor(2);
  iotc_client **cs = calloc(n, sizeof *cs);
  timed *ts = calloc(n, sizeof *ts);
  assert_non_null(cs);
  assert_non_null(ts);
  for (size_t i = 0; i < n; i++) cs[i] = make_client(ex);
  for (size_t i = 0; i < n; i++) {
    uint32_t delay = (uint32_t)((i * 7919u) % 200u); /* spread, out of creation order */
    ts[i].not_before = now_ms() + delay;
    assert_int_equal(iotc_client_schedule(cs[i], delay, on_timed, &ts[i], NULL), IOTC_OK);
  }
  wait_ran(n);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(atomic_load(&ts[i].early), 0);
    assert_int_equal(atomic_load(&ts[i].result), IOTC_OK);
  }
  for (size_t i = 0; i < n; i++) iotc_client_destroy(cs[i]);
  assert_int_equal(iotc_executor_destroy(ex, NULL), IOTC_OK);
  free(ts);
  free(cs);
}

/* Ping-pong: the next callback is scheduled the moment the previous one ran, so it often
 * arrives while the executor still runs that client's round (after looking for work): such a
 * client must be run again, not forgotten until some other wake. */
static void on_count(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  (void)ctx;
  if (result == IOTC_OK) atomic_fetch_add(&ran, 1);
}

static void test_marked_ready_while_running(void **state) {
  (void)state;
  enum { CLIENTS = 4, ROUNDS = 2000 };
  size_t rounds = client_count(ROUNDS) == ROUNDS ? ROUNDS : 20;
  atomic_store(&ran, 0);
  iotc_executor *ex = make_executor(2);
  iotc_client *cs[CLIENTS];
  for (size_t i = 0; i < CLIENTS; i++) cs[i] = make_client(ex);
  for (size_t k = 0; k < rounds; k++) {
    for (size_t i = 0; i < CLIENTS; i++) {
      assert_int_equal(iotc_client_schedule(cs[i], 0, on_count, NULL, NULL), IOTC_OK);
    }
    uint64_t until = now_ms() + WAIT_MS; /* spinning, to schedule as soon as it ran */
    while (atomic_load(&ran) < (k + 1) * CLIENTS && now_ms() < until) sched_yield();
    assert_int_equal(atomic_load(&ran), (k + 1) * CLIENTS);
  }
  for (size_t i = 0; i < CLIENTS; i++) iotc_client_destroy(cs[i]);
  assert_int_equal(iotc_executor_destroy(ex, NULL), IOTC_OK);
}

/* ---- destroy while rounds are queued or running ------------------------------------------ */

static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static bool holding, released;
static iotc_executor *hold_ex;
static iotc_result self_destroy_ex;

/* Holds its executor thread until the test releases it; meanwhile tries what a callback may
 * not do. */
static void on_hold(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  iotc_client *self = ctx;
  (void)result;
  iotc_client_destroy(self);                            /* refused: the client is kept */
  self_destroy_ex = iotc_executor_destroy(hold_ex, NULL); /* refused: its own thread */
  pthread_mutex_lock(&hold_mu);
  holding = true;
  pthread_cond_broadcast(&hold_cv);
  uint64_t until = now_ms() + WAIT_MS;
  while (!released && now_ms() < until) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&hold_cv, &hold_mu, &ts);
  }
  pthread_mutex_unlock(&hold_mu);
  atomic_fetch_add(&ran, 1);
}

typedef struct outcome {
  atomic_int calls, result;
} outcome;

static void on_outcome(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  outcome *o = ctx;
  atomic_store(&o->result, (int)result);
  atomic_fetch_add(&o->calls, 1);
}

static atomic_bool destroyed;
static void *destroy_thread(void *arg) {
  iotc_client_destroy(arg);
  atomic_store(&destroyed, true);
  return NULL;
}

static void test_destroy_with_rounds_queued(void **state) {
  (void)state;
  size_t n = client_count(2000);
  atomic_store(&ran, 0);
  atomic_store(&destroyed, false);
  holding = released = false;
  hold_ex = make_executor(1);
  iotc_client **cs = calloc(n, sizeof *cs);
  outcome *os = calloc(n, sizeof *os);
  assert_non_null(cs);
  assert_non_null(os);
  for (size_t i = 0; i < n; i++) cs[i] = make_client(hold_ex);
  /* Client 0 holds the only thread: everything scheduled after it stays queued. */
  assert_int_equal(iotc_client_schedule(cs[0], 0, on_hold, cs[0], NULL), IOTC_OK);
  pthread_mutex_lock(&hold_mu);
  uint64_t until = now_ms() + WAIT_MS;
  while (!holding && now_ms() < until) {
    pthread_mutex_unlock(&hold_mu);
    nap();
    pthread_mutex_lock(&hold_mu);
  }
  assert_true(holding);
  pthread_mutex_unlock(&hold_mu);
  assert_int_equal(self_destroy_ex, IOTC_ERR_STATE);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(iotc_client_schedule(cs[i], 0, on_outcome, &os[i], NULL), IOTC_OK);
  }
  /* Every other client is destroyed with its round queued: its callback learns it on this
   * thread, once, with IOTC_ERR_SHUTDOWN. */
  for (size_t i = 1; i < n; i++) {
    iotc_client_destroy(cs[i]);
    assert_int_equal(atomic_load(&os[i].calls), 1);
    assert_int_equal(atomic_load(&os[i].result), IOTC_ERR_SHUTDOWN);
  }
  iotc_error err;
  assert_int_equal(iotc_executor_destroy(hold_ex, &err), IOTC_ERR_STATE);
  assert_non_null(strstr(err.message, "1 client(s) still attached"));
  /* Client 0's round runs: its destroy waits for it. */
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, destroy_thread, cs[0]), 0);
  sleep_ms(100);
  assert_false(atomic_load(&destroyed)); /* the round is held: destroy cannot have returned */
  pthread_mutex_lock(&hold_mu);
  released = true;
  pthread_cond_broadcast(&hold_cv);
  pthread_mutex_unlock(&hold_mu);
  pthread_join(t, NULL);
  assert_true(atomic_load(&destroyed));
  assert_int_equal(atomic_load(&ran), 1);
  /* Its second callback was queued behind the held one: it ran, or destroy finished it. */
  assert_int_equal(atomic_load(&os[0].calls), 1);
  assert_int_equal(iotc_executor_destroy(hold_ex, &err), IOTC_OK);
  free(os);
  free(cs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_old_config_ignores_executor),
      cmocka_unit_test(test_many_clients_on_four_threads),
      cmocka_unit_test(test_deadlines_from_the_heap),
      cmocka_unit_test(test_marked_ready_while_running),
      cmocka_unit_test(test_destroy_with_rounds_queued),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
