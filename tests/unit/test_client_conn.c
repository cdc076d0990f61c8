/* SPDX-License-Identifier: MIT */
/* The client's connection state machine, driven without a network or a thread: a fake I/O seam
 * (central/io.h) records what the client asks of the session and DPS, the test plays the hub's
 * answers through the session's sink, and a fake clock makes every deadline exact. Each round
 * is one iotc__worker_step() on this thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "central/client_internal.h"
#include "central/conn.h"
#include "iotc/client.h"

#define KEY "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0cw=="
#define MAX_PUBS 256

/* ---- the fake world --------------------------------------------------------------------- */

struct iotc__session {
  iotc__session_sink sink;
  uint32_t gen;
  iotc__session_op *ops[MAX_PUBS]; /* publishes awaiting their completion */
  size_t op_count;
};

typedef struct fake {
  uint64_t now;
  uint32_t random;
  bool random_walk;          /* random: a xorshift sequence instead of the fixed value */
  int created, destroyed, connects, subscribes, disconnects, dps_runs;
  iotc_result dps_result;
  bool websocket;            /* the newest session's transport */
  uint32_t timeout_ms;       /* and its connect time limit */
  struct iotc__session *cur;
  char topics[MAX_PUBS][160];
  size_t pubs;
} fake;

static fake F;
static char ca_path[64];

static uint64_t fake_now(void *ctx) {
  (void)ctx;
  return F.now;
}

static uint32_t fake_random(void *ctx) {
  (void)ctx;
  if (F.random_walk) {
    F.random ^= F.random << 13;
    F.random ^= F.random >> 17;
    F.random ^= F.random << 5;
  }
  return F.random;
}

static iotc_result fake_create(const iotc__session_config *cfg, const iotc__session_sink *sink,
                               iotc__session **out, const char **why) {
  (void)why;
  struct iotc__session *s = calloc(1, sizeof *s);
  if (s == NULL) return IOTC_ERR_NO_MEMORY;
  s->sink = *sink;
  s->gen = cfg->gen;
  F.websocket = cfg->websocket;
  F.timeout_ms = cfg->connect_timeout_ms;
  F.cur = s;
  F.created++;
  *out = s;
  return IOTC_OK;
}

static iotc_result fake_connect(iotc__session *s, const char *password) {
  (void)s;
  assert_non_null(password); /* SAS: a token every time */
  assert_non_null(strstr(password, "SharedAccessSignature"));
  F.connects++;
  return IOTC_OK;
}

static iotc_result fake_subscribe(iotc__session *s, const char *device_id) {
  (void)s;
  (void)device_id;
  F.subscribes++;
  return IOTC_OK;
}

static iotc_result fake_publish(iotc__session *s, const char *topic, const void *payload,
                                size_t payload_len, int qos, iotc__session_op *op) {
  (void)payload;
  (void)payload_len;
  (void)qos;
  assert_true(s == F.cur); /* never through a session that is gone */
  assert_true(F.pubs < MAX_PUBS);
  snprintf(F.topics[F.pubs++], sizeof F.topics[0], "%s", topic);
  if (op) s->ops[s->op_count++] = op;
  return IOTC_OK;
}

static iotc_result fake_disconnect(iotc__session *s, uint32_t timeout_ms) {
  (void)s;
  (void)timeout_ms;
  F.disconnects++;
  return IOTC_OK;
}

static bool fake_no_cause(iotc__session *s, char *out, size_t size) {
  (void)s;
  (void)out;
  (void)size;
  return false;
}

static void complete_all(struct iotc__session *s, int rc) {
  size_t n = s->op_count;
  s->op_count = 0;
  for (size_t i = 0; i < n; i++) s->ops[i]->done(s->ops[i], rc);
}

static void fake_destroy(iotc__session *s) {
  if (s == NULL) return;
  complete_all(s, IOTC__SESSION_RC_INCOMPLETE); /* as Paho does for what was pending */
  if (F.cur == s) F.cur = NULL;
  F.destroyed++;
  free(s);
}

static char dps_token;
/* DPS runs on the client's provisioning thread: the test may hold it until cancelled. */
static pthread_mutex_t dps_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dps_cv = PTHREAD_COND_INITIALIZER;
static bool dps_hold, dps_cancelled;

static iotc_result fake_dps_create(const iotc_dps_config *cfg, iotc_dps **out, iotc_error *err) {
  (void)cfg;
  (void)err;
  *out = (iotc_dps *)&dps_token;
  return IOTC_OK;
}

static iotc_result fake_dps_run(iotc_dps *dps, iotc_dps_registration *reg, iotc_error *err) {
  (void)dps;
  (void)err;
  pthread_mutex_lock(&dps_mu);
  F.dps_runs++;
  while (dps_hold && !dps_cancelled) pthread_cond_wait(&dps_cv, &dps_mu);
  bool cancelled = dps_cancelled;
  dps_cancelled = false;
  pthread_mutex_unlock(&dps_mu);
  if (cancelled) return IOTC_ERR_CANCELLED;
  if (F.dps_result != IOTC_OK) return F.dps_result;
  snprintf(reg->assigned_hub, sizeof reg->assigned_hub, "hub%d.example.net", F.dps_runs);
  snprintf(reg->device_id, sizeof reg->device_id, "dev");
  return IOTC_OK;
}

static void fake_dps_nothing(iotc_dps *dps) { (void)dps; }

static void fake_dps_cancel(iotc_dps *dps) {
  (void)dps;
  pthread_mutex_lock(&dps_mu);
  dps_cancelled = true;
  pthread_cond_broadcast(&dps_cv);
  pthread_mutex_unlock(&dps_mu);
}
static void fake_check_ca(const char *path) { (void)path; }

static const iotc__io fake_io = {
    NULL, fake_now, fake_random, fake_create, fake_connect, fake_subscribe, fake_publish,
    fake_disconnect, fake_no_cause, fake_no_cause, fake_destroy, fake_dps_create, fake_dps_run,
    fake_dps_cancel, fake_dps_nothing, fake_check_ca};

/* ---- the hub's side ------------------------------------------------------------------------ */

/* The session the client has open: none when opening it failed (out of memory, say). */
static struct iotc__session *cur(void) {
  assert_non_null(F.cur);
  return F.cur;
}

static void connack(void) {
  struct iotc__session *s = cur();
  s->sink.connected(s->sink.ctx, s->gen);
}
static void refuse(int code) {
  struct iotc__session *s = cur();
  s->sink.connect_failed(s->sink.ctx, s->gen, code, "refused");
}
static void suback(void) {
  struct iotc__session *s = cur();
  s->sink.subscribed(s->sink.ctx, s->gen, IOTC__SUB_OK);
}
static void drop(void) {
  struct iotc__session *s = cur();
  s->sink.lost(s->sink.ctx, s->gen);
}
static void closed(void) {
  struct iotc__session *s = cur();
  s->sink.disconnected(s->sink.ctx, s->gen);
}
static void deliver(const char *topic, const char *payload) {
  struct iotc__session *s = cur();
  s->sink.message(s->sink.ctx, s->gen, topic, strlen(topic), payload, strlen(payload));
}
static void ack_all(void) { complete_all(cur(), 0); }

static size_t published(const char *prefix) {
  size_t n = 0;
  for (size_t i = 0; i < F.pubs; i++) n += strncmp(F.topics[i], prefix, strlen(prefix)) == 0;
  return n;
}

/* Answer the newest twin GET with @p body. */
static void answer_twin_get(const char *body) {
  const char *get = NULL;
  for (size_t i = 0; i < F.pubs; i++) {
    if (strncmp(F.topics[i], "$iothub/twin/GET/?$rid=", 23) == 0) get = F.topics[i] + 23;
  }
  assert_non_null(get);
  char topic[80];
  snprintf(topic, sizeof topic, "$iothub/twin/res/200/?$rid=%s", get);
  deliver(topic, body);
}

/* ---- the device's side ------------------------------------------------------------------- */

typedef struct record {
  int statuses[64];
  uint32_t retry_in[64];
  size_t count;
  int done_ok, done_other, done_shutdown;
} record;

static record R;

static void on_status(iotc_client *c, const iotc_status_info *info, void *ctx) {
  (void)c;
  (void)ctx;
  if (R.count < 64) {
    R.statuses[R.count] = info->status;
    R.retry_in[R.count++] = info->retry_in_ms;
  }
}

static void on_done(iotc_client *c, iotc_result r, void *ctx) {
  (void)c;
  (void)ctx;
  if (r == IOTC_OK) {
    R.done_ok++;
  } else if (r == IOTC_ERR_SHUTDOWN) {
    R.done_shutdown++;
  } else {
    R.done_other++;
  }
}

static int last_status(void) { return R.count ? R.statuses[R.count - 1] : -1; }

static void step(iotc_client *c) { iotc__worker_step(c); }

static uint64_t deadline(iotc_client *c) {
  pthread_mutex_lock(&c->mu);
  uint64_t t = iotc__worker_deadline_locked(c);
  pthread_mutex_unlock(&c->mu);
  return t;
}

/* Move the clock to the next deadline and run the round it causes. */
static void next_deadline(iotc_client *c) {
  uint64_t t = deadline(c);
  assert_true(t != UINT64_MAX);
  if (t > F.now) F.now = t;
  step(c);
}

static void advance(iotc_client *c, uint64_t ms) {
  F.now += ms;
  step(c);
}

static const char *state(iotc_client *c) { return iotc__conn_state_name(c); }

/* Wait (bounded) for the provisioning thread to report, then run the round it causes. */
static void provisioning_reported(iotc_client *c) {
  for (int i = 0; i < 5000; i++) {
    pthread_mutex_lock(&c->mu);
    bool done = c->provisioned;
    pthread_mutex_unlock(&c->mu);
    if (done) break;
    struct timespec ms = {0, 1000000L};
    nanosleep(&ms, NULL);
  }
  step(c);
}

static void base_config(iotc_client_config *cfg) {
  iotc_client_config_init(cfg);
  cfg->connection_string = "HostName=hub.example.net;DeviceId=dev;SharedAccessKey=" KEY;
  cfg->ca_file = ca_path;
  cfg->liveness_timeout_ms = 600000;
  cfg->reconnect_min_ms = 1000;
  cfg->reconnect_max_ms = 16000;
}

/* The test's client: teardown destroys it when a failed assertion left it behind; the same
 * for a persist directory. */
static iotc_client *live;
static char live_dir[32];

static iotc_client *make(const iotc_client_config *cfg) {
  iotc_error err;
  assert_null(live);
  assert_int_equal(iotc__client_create_io(cfg, &fake_io, &live, &err), IOTC_OK);
  assert_int_equal(iotc_client_on_status(live, on_status, NULL), IOTC_OK);
  return live;
}

static void destroy(iotc_client *c) {
  assert_true(c == live);
  live = NULL;
  iotc_client_destroy(c);
}

static void send_one(iotc_client *c) {
  iotc_telemetry_options o;
  iotc_telemetry_options_init(&o);
  o.on_done = on_done;
  assert_int_equal(iotc_client_send_telemetry(c, "{\"t\":1}", &o), IOTC_OK);
}

/* Start (when idle) and play CONNACK and SUBACK; answers the twin GET with an empty twin. */
static void bring_up(iotc_client *c) {
  if (strcmp(state(c), "idle") == 0) {
    assert_int_equal(iotc_client_connect(c, 0, NULL), IOTC_OK);
    step(c);
  }
  if (strcmp(state(c), "provisioning") == 0) provisioning_reported(c);
  assert_string_equal(state(c), "connecting");
  connack();
  step(c);
  assert_string_equal(state(c), "subscribing");
  suback();
  step(c);
  assert_string_equal(state(c), "connected");
  answer_twin_get("{\"desired\":{\"$version\":1},\"reported\":{\"$version\":1}}");
  step(c);
}

static int setup(void **state_) {
  (void)state_;
  memset(&F, 0, sizeof F);
  dps_hold = dps_cancelled = false;
  memset(&R, 0, sizeof R);
  F.now = 1000000;
  F.random = 0x9E3779B9u;
  return 0;
}

static int teardown(void **state_) {
  (void)state_;
  if (live) {
    iotc_client_destroy(live);
    live = NULL;
  }
  if (live_dir[0]) {
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", live_dir);
    if (system(cmd) != 0) fprintf(stderr, "%s: not removed\n", live_dir);
    live_dir[0] = '\0';
  }
  assert_int_equal(F.created, F.destroyed); /* no session left behind */
  return 0;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void a_dropped_connection_is_retried_within_the_jitter_bounds(void **s) {
  (void)s;
  iotc_client_config cfg;
  base_config(&cfg);
  iotc_client *c = make(&cfg);
  F.random_walk = true;
  assert_int_equal(iotc_client_connect(c, 0, NULL), IOTC_OK);
  step(c);
  /* Refused attempts: the n-th waits at most min * 2^(n-1), capped at max. */
  uint64_t cap = 1000;
  for (int attempt = 1; attempt <= 8; attempt++) {
    refuse(-1);
    step(c);
    assert_string_equal(state(c), "waiting to retry");
    assert_int_equal(last_status(), IOTC_STATUS_RECONNECTING);
    uint32_t delay = R.retry_in[R.count - 1];
    assert_true(delay <= cap);
    assert_int_equal(deadline(c), F.now + delay);
    next_deadline(c);
    assert_string_equal(state(c), "connecting");
    cap = cap * 2 > 16000 ? 16000 : cap * 2;
  }
  /* Throttled (CONNACK 3): never sooner than half the cap. */
  F.random = 0;
  F.random_walk = false;
  refuse(3);
  step(c);
  assert_int_equal(R.retry_in[R.count - 1], 8000);
  next_deadline(c);
  bring_up(c);
  assert_true(iotc_client_is_connected(c));
  /* A drop after a connection starts again from the smallest back-off. */
  F.random = UINT32_MAX;
  drop();
  step(c);
  assert_false(iotc_client_is_connected(c));
  assert_int_equal(R.retry_in[R.count - 1], UINT32_MAX % 1001);
  destroy(c);
}

static void the_sas_token_is_renewed_at_80_percent_of_its_life_and_nothing_is_lost(void **s) {
  (void)s;
  iotc_client_config cfg;
  base_config(&cfg);
  cfg.sas_ttl_s = 100;
  iotc_client *c = make(&cfg);
  bring_up(c);
  uint64_t connected_at = F.now;
  send_one(c);
  step(c);
  assert_int_equal(published("devices/dev/messages/events/"), 1);
  F.now = connected_at + 79999;
  step(c);
  assert_string_equal(state(c), "connected");
  F.now = connected_at + 80000;
  step(c);
  assert_string_equal(state(c), "renewing"); /* waits for the PUBACK in flight */
  send_one(c); /* queued: the window is closed while renewing */
  step(c);
  assert_int_equal(published("devices/dev/messages/events/"), 1);
  ack_all();
  step(c);
  assert_string_equal(state(c), "closing to renew");
  assert_int_equal(F.disconnects, 1);
  closed();
  step(c);
  assert_string_equal(state(c), "connecting");
  assert_int_equal(F.connects, 2); /* a fresh token */
  bring_up(c);
  assert_int_equal(published("devices/dev/messages/events/"), 2);
  ack_all();
  step(c);
  assert_int_equal(R.done_ok, 2);
  assert_int_equal(R.done_other + R.done_shutdown, 0);
  iotc_client_stats st;
  assert_int_equal(iotc_client_get_stats(c, &st), IOTC_OK);
  assert_int_equal(st.telemetry_sent, 2);
  assert_int_equal(st.telemetry_resent, 0);
  destroy(c);
}

/* Messages the hub has (published) whose acknowledgement the persist directory does not hold
 * yet: what a kill now would send again. */
static uint64_t unrecorded(const char *dir, uint64_t accepted) {
  iotc_persist_info info;
  iotc_error err;
  assert_int_equal(iotc_persist_inspect(dir, &info, &err), IOTC_OK);
  return published("devices/dev/messages/events/") - (accepted - info.queued);
}

/* With persist_dir, a window slot is free only once the acknowledgement of its message is on
 * record: PUBACKs that arrived but were not recorded yet keep their slots, so a kill repeats at
 * most max_inflight messages (README, "At least once"), also when sends refill the window
 * before the worker ran. */
typedef struct sending {
  iotc_client *client;
  iotc_result result;
} sending;

static void *send_two(void *arg) {
  sending *s = arg;
  s->result = iotc_client_send_telemetry(s->client, "{\"t\":1}", NULL);
  if (s->result == IOTC_OK) s->result = iotc_client_send_telemetry(s->client, "{\"t\":2}", NULL);
  return NULL;
}

/* Two sends from an application thread (which publishes itself when the window has room). */
static void send_two_from_a_thread(iotc_client *c) {
  sending s = {c, IOTC_ERR_INTERNAL};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, send_two, &s), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_int_equal(s.result, IOTC_OK);
}

static void a_kill_repeats_at_most_the_window_of_persisted_telemetry(void **s) {
  (void)s;
  snprintf(live_dir, sizeof live_dir, "/tmp/iotc-conn-persist-XXXXXX");
  assert_non_null(mkdtemp(live_dir));
  const char *dir = live_dir;
  iotc_client_config cfg;
  base_config(&cfg);
  cfg.persist_dir = dir;
  cfg.max_inflight = 2;
  iotc_client *c = make(&cfg);
  bring_up(c);
  send_two_from_a_thread(c);
  assert_int_equal(published("devices/dev/messages/events/"), 2);
  ack_all(); /* the PUBACKs arrive; the worker has not run since */
  send_two_from_a_thread(c);
  assert_true(unrecorded(dir, 4) <= 2);
  step(c); /* the worker records the acknowledgements: the window takes the next two */
  assert_int_equal(published("devices/dev/messages/events/"), 4);
  assert_true(unrecorded(dir, 4) <= 2);
  ack_all();
  step(c);
  assert_int_equal(unrecorded(dir, 4), 0);
  destroy(c); /* the teardown removes the directory */
}

/* A connected client renewing its 100 s token, one telemetry message awaiting its PUBACK. */
static iotc_client *renewing_with_one_in_flight(void) {
  iotc_client_config cfg;
  base_config(&cfg);
  cfg.sas_ttl_s = 100;
  iotc_client *c = make(&cfg);
  bring_up(c);
  send_one(c);
  step(c);
  advance(c, 80000);
  assert_string_equal(state(c), "renewing");
  return c;
}

static void a_renewal_that_is_never_drained_closes_after_the_drain_limit(void **s) {
  (void)s;
  iotc_client *c = renewing_with_one_in_flight();
  next_deadline(c);
  assert_string_equal(state(c), "closing to renew");
  closed();
  step(c);
  bring_up(c);
  /* The PUBACK never came: the message is sent again on the new connection. */
  assert_int_equal(published("devices/dev/messages/events/"), 2);
  ack_all();
  step(c);
  assert_int_equal(R.done_ok, 1);
  destroy(c);
}

static void a_drop_while_renewing_leaves_no_deadline_in_the_past(void **s) {
  (void)s;
  iotc_client *c = renewing_with_one_in_flight();
  drop();
  step(c);
  assert_string_equal(state(c), "waiting to retry");
  next_deadline(c);
  assert_string_equal(state(c), "connecting");
  F.now += 60000; /* the hub stays silent, long past the old drain limit */
  /* The next deadline is the connect backstop, not a drain limit that has passed (which
   * would wake the worker at once, again and again). */
  assert_true(deadline(c) > F.now - 60000 + 5000);
  destroy(c);
}

static void the_client_gives_up_after_the_configured_number_of_attempts(void **s) {
  (void)s;
  iotc_client_config cfg;
  base_config(&cfg);
  cfg.give_up_after = 3;
  iotc_client *c = make(&cfg);
  assert_int_equal(iotc_client_connect(c, 0, NULL), IOTC_OK);
  step(c);
  for (int i = 1; i < 3; i++) {
    refuse(-1);
    step(c);
    assert_string_equal(state(c), "waiting to retry");
    next_deadline(c);
  }
  refuse(-1);
  step(c);
  assert_string_equal(state(c), "gave up");
  assert_int_equal(last_status(), IOTC_STATUS_GAVE_UP);
  assert_int_equal(F.created, 3);
  assert_int_equal(deadline(c), UINT64_MAX); /* nothing more to do */
  assert_int_equal(iotc_client_send_telemetry(c, "{\"t\":1}", NULL), IOTC_ERR_STATE);
  destroy(c);
}

static void dps_config(iotc_client_config *cfg) {
  base_config(cfg);
  cfg->connection_string = NULL;
  cfg->id_scope = "0ne00000000";
  cfg->device_id = "dev";
  cfg->device_key = KEY;
}

static void the_device_is_provisioned_again_after_n_failures(void **s) {
  (void)s;
  iotc_client_config cfg;
  dps_config(&cfg);
  cfg.reprovision_after = 2;
  iotc_client *c = make(&cfg);
  assert_int_equal(iotc_client_connect(c, 0, NULL), IOTC_OK);
  step(c);
  assert_string_equal(state(c), "provisioning");
  bring_up(c);
  assert_int_equal(F.dps_runs, 1);
  drop();
  step(c);
  next_deadline(c);
  refuse(-1);
  step(c);
  next_deadline(c);
  assert_string_equal(state(c), "connecting"); /* one failure */
  refuse(-1);
  step(c);
  next_deadline(c);
  assert_string_equal(state(c), "provisioning"); /* the second: ask DPS again */
  provisioning_reported(c);
  assert_int_equal(F.dps_runs, 2);
  char hub[64];
  assert_int_equal(iotc_client_get_hub(c, hub, sizeof hub, NULL, 0), IOTC_OK);
  assert_string_equal(hub, "hub2.example.net");
  assert_int_equal(last_status(), IOTC_STATUS_CONNECTING);
  destroy(c);
}

static void a_hub_refusal_sends_the_device_back_to_dps_at_once(void **s) {
  (void)s;
  iotc_client_config cfg;
  dps_config(&cfg);
  iotc_client *c = make(&cfg);
  bring_up(c);
  drop();
  step(c);
  next_deadline(c);
  refuse(5); /* not authorized: the device may have moved */
  step(c);  /* no back-off: DPS is asked in the same round */
  assert_string_equal(state(c), "provisioning");
  provisioning_reported(c);
  size_t i = R.count;
  while (i > 0 && R.statuses[i - 1] != IOTC_STATUS_RECONNECTING) i--;
  assert_true(i > 0);
  assert_int_equal(R.retry_in[i - 1], 0);
  assert_int_equal(R.statuses[i], IOTC_STATUS_REPROVISIONING);
  assert_int_equal(F.dps_runs, 2);
  assert_string_equal(state(c), "connecting");
  /* Refused again right after DPS answered: permanent. */
  refuse(5);
  step(c);
  assert_string_equal(state(c), "gave up");
  destroy(c);
}

static int job_runs;

static void on_job(iotc_client *c, iotc_result r, void *ctx) {
  (void)c;
  (void)ctx;
  if (r == IOTC_OK) job_runs++;
}

static void provisioning_leaves_the_worker_free_and_a_disconnect_cancels_it(void **s) {
  (void)s;
  iotc_client_config cfg;
  dps_config(&cfg);
  iotc_client *c = make(&cfg);
  dps_hold = true; /* DPS does not answer */
  assert_int_equal(iotc_client_connect(c, 0, NULL), IOTC_OK);
  step(c);
  assert_string_equal(state(c), "provisioning");
  job_runs = 0;
  assert_int_equal(iotc_client_schedule(c, 10, on_job, NULL, NULL), IOTC_OK);
  next_deadline(c);
  assert_int_equal(job_runs, 1); /* callbacks run while DPS is asked */
  assert_int_equal(iotc_client_disconnect(c, 0), IOTC_OK);
  step(c);
  provisioning_reported(c); /* cancelled */
  assert_string_equal(state(c), "idle");
  assert_int_equal(last_status(), IOTC_STATUS_DISCONNECTED);
  assert_int_equal(F.created, 0);
  destroy(c);
}

static void destroy_cancels_provisioning(void **s) {
  (void)s;
  iotc_client_config cfg;
  dps_config(&cfg);
  iotc_client *c = make(&cfg);
  dps_hold = true;
  assert_int_equal(iotc_client_connect(c, 0, NULL), IOTC_OK);
  step(c);
  assert_string_equal(state(c), "provisioning");
  destroy(c); /* returns once the thread saw the cancel */
}

static void a_disconnect_drains_what_is_queued_first(void **s) {
  (void)s;
  iotc_client_config cfg;
  base_config(&cfg);
  iotc_client *c = make(&cfg);
  bring_up(c);
  for (int i = 0; i < 3; i++) send_one(c);
  step(c);
  assert_int_equal(iotc_client_disconnect(c, 5000), IOTC_OK); /* on the worker: no wait */
  step(c);
  assert_string_equal(state(c), "draining");
  assert_int_equal(F.disconnects, 0);
  ack_all();
  step(c);
  assert_string_equal(state(c), "closing to stop");
  closed();
  step(c);
  assert_string_equal(state(c), "idle");
  assert_int_equal(R.done_ok, 3);
  assert_int_equal(last_status(), IOTC_STATUS_DISCONNECTED);
  destroy(c);
}

static void a_disconnect_stops_at_its_deadline_when_nothing_is_acknowledged(void **s) {
  (void)s;
  iotc_client_config cfg;
  base_config(&cfg);
  iotc_client *c = make(&cfg);
  bring_up(c);
  send_one(c);
  step(c);
  assert_int_equal(iotc_client_disconnect(c, 5000), IOTC_OK);
  step(c);
  assert_string_equal(state(c), "draining");
  next_deadline(c);
  assert_string_equal(state(c), "closing to stop");
  next_deadline(c); /* the hub never confirms the close: the backstop */
  assert_string_equal(state(c), "idle");
  destroy(c);
  assert_int_equal(R.done_shutdown, 1); /* still queued at destroy */
}

static void on_name(iotc_client *c, const iotc_property_update *u, void *ctx) {
  (void)c;
  char *log = ctx;
  strncat(log, u->value_json, 63 - strlen(log));
  strncat(log, u->at_startup ? "S " : "L ", 63 - strlen(log));
}

static void the_twin_is_fetched_after_every_reconnect_and_patches_wait_for_it(void **s) {
  (void)s;
  iotc_client_config cfg;
  base_config(&cfg);
  iotc_client *c = make(&cfg);
  char log[64] = "";
  assert_int_equal(iotc_client_on_property(c, NULL, "name", on_name, log), IOTC_OK);
  for (int round = 1; round <= 3; round++) {
    if (round == 1) {
      assert_int_equal(iotc_client_connect(c, 0, NULL), IOTC_OK);
      step(c);
    }
    connack();
    step(c);
    suback();
    step(c);
    assert_int_equal(published("$iothub/twin/GET/"), (size_t)round);
    drop();
    step(c);
    next_deadline(c);
  }
  connack();
  step(c);
  suback();
  step(c);
  /* A patch that arrives before the twin waits for it; applied after, being newer. */
  deliver("$iothub/twin/PATCH/properties/desired/?$version=3", "{\"name\":\"b\",\"$version\":3}");
  step(c);
  assert_string_equal(log, "");
  answer_twin_get("{\"desired\":{\"name\":\"a\",\"$version\":2},\"reported\":{\"$version\":1}}");
  step(c);
  assert_string_equal(log, "\"a\"S \"b\"L ");
  destroy(c);
}

static char later_rid[32];

static void on_reboot(iotc_client *c, const iotc_command_request *req, iotc_command_response *resp,
                      void *ctx) {
  (void)c;
  (void)ctx;
  snprintf(later_rid, sizeof later_rid, "%s", req->request_id);
  resp->later = true;
}

static void a_late_command_response_is_sent_on_the_next_connection(void **s) {
  (void)s;
  iotc_client_config cfg;
  base_config(&cfg);
  iotc_client *c = make(&cfg);
  assert_int_equal(iotc_client_on_command(c, NULL, "reboot", on_reboot, NULL), IOTC_OK);
  bring_up(c);
  deliver("$iothub/methods/POST/reboot/?$rid=42", "{}");
  step(c);
  assert_string_equal(later_rid, "42");
  drop();
  step(c);
  assert_int_equal(iotc_client_respond_command(c, "42", 200, "{\"ok\":true}"), IOTC_OK);
  step(c);
  assert_int_equal(published("$iothub/methods/res/"), 0); /* no connection */
  next_deadline(c);
  bring_up(c);
  assert_int_equal(published("$iothub/methods/res/200/?$rid=42"), 1);
  assert_int_equal(iotc_client_respond_command(c, "42", 200, "{}"), IOTC_ERR_NOT_FOUND);
  destroy(c);
}

static char c2d_seen[64];

static void on_c2d(iotc_client *c, const iotc_c2d_message *m, void *ctx) {
  (void)c;
  (void)ctx;
  snprintf(c2d_seen, sizeof c2d_seen, "%.*s %zu %s=%s", (int)m->payload_len, (const char *)m->payload,
           m->property_count, m->property_count ? m->properties[0].name : "",
           m->property_count ? m->properties[0].value : "");
}

static void messages_reach_their_feature_and_others_are_ignored(void **s) {
  (void)s;
  iotc_client_config cfg;
  base_config(&cfg);
  iotc_client *c = make(&cfg);
  assert_int_equal(iotc_client_on_c2d(c, on_c2d, NULL), IOTC_OK);
  bring_up(c);
  deliver("devices/dev/messages/devicebound/colour=red%20ish", "hello");
  step(c);
  assert_string_equal(c2d_seen, "hello 1 colour=red ish");
  size_t before = F.pubs;
  deliver("$iothub/unknown/topic", "{}");
  deliver("$iothub/methods/POST/nosuch/?$rid=7", "{}");
  step(c);
  assert_int_equal(F.pubs, before + 1); /* only the 404 for the unknown command */
  assert_int_equal(published("$iothub/methods/res/404/?$rid=7"), 1);
  /* A reported property: its PATCH, answered by the twin response with its $rid. */
  assert_int_equal(iotc_client_report_property(c, NULL, "p", "1", on_done, NULL), IOTC_OK);
  step(c);
  assert_int_equal(published("$iothub/twin/PATCH/properties/reported/?$rid=r"), 1);
  const char *rid = strstr(F.topics[F.pubs - 1], "$rid=") + 5;
  char topic[80];
  snprintf(topic, sizeof topic, "$iothub/twin/res/204/?$rid=%s&$version=2", rid);
  deliver(topic, "");
  step(c);
  assert_int_equal(R.done_ok, 1);
  destroy(c);
}

/* Drive a fresh client to the state @p target, with one telemetry message queued or in flight. */
static iotc_client *client_in(const char *target) {
  iotc_client_config cfg;
  base_config(&cfg);
  cfg.sas_ttl_s = 100;
  cfg.give_up_after = 1;
  iotc_client *c = make(&cfg);
  send_one(c);
  if (strcmp(target, "idle") == 0) return c;
  assert_int_equal(iotc_client_connect(c, 0, NULL), IOTC_OK);
  step(c);
  if (strcmp(target, "gave up") == 0) {
    refuse(-1);
    step(c);
  } else if (strcmp(target, "subscribing") == 0) {
    connack();
    step(c);
  } else if (strcmp(target, "connecting") != 0) {
    bring_up(c);
    if (strcmp(target, "waiting to retry") == 0) {
      drop();
      step(c);
    } else if (strcmp(target, "renewing") == 0 || strcmp(target, "closing to renew") == 0) {
      advance(c, 80000);
      if (target[0] == 'c') next_deadline(c);
    } else if (strcmp(target, "draining") == 0 || strcmp(target, "closing to stop") == 0) {
      assert_int_equal(iotc_client_disconnect(c, 5000), IOTC_OK);
      step(c);
      if (target[0] == 'c') next_deadline(c);
    }
  }
  assert_string_equal(state(c), target);
  return c;
}

static void the_client_can_be_destroyed_in_every_state(void **s) {
  (void)s;
  static const char *const states[] = {
      "idle", "connecting", "subscribing", "connected", "renewing", "closing to renew",
      "waiting to retry", "draining", "closing to stop", "gave up"};
  for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
    memset(&R, 0, sizeof R);
    iotc_client *c = client_in(states[i]);
    destroy(c);
    assert_int_equal(R.done_ok + R.done_shutdown + R.done_other, 1); /* completed once */
    assert_int_equal(F.created, F.destroyed);
  }
}

/* AUTO: a connect that fails before any CONNACK on 8883 (within fallback_after_ms) is tried
 * again at once over WebSockets; when that fails too, the next attempt, after back-off, is 8883
 * again. A CONNACK refusal is the service's answer: no fallback. */
static void auto_falls_back_to_websockets_at_once_and_back_after_a_backoff(void **s) {
  (void)s;
  iotc_client_config cfg;
  base_config(&cfg);
  cfg.transport = IOTC_TRANSPORT_AUTO;
  cfg.fallback_after_ms = 3000;
  iotc_client *c = make(&cfg);
  assert_int_equal(iotc_client_connect(c, 0, NULL), IOTC_OK);
  step(c);
  assert_false(F.websocket);
  assert_int_equal(F.timeout_ms, 3000);
  assert_int_equal(iotc_client_get_transport(c), IOTC_TRANSPORT_MQTT);
  refuse(-1);
  step(c); /* the fallback is due at once: the same round connects again */
  assert_int_equal(R.count, 3);
  assert_int_equal(R.statuses[1], IOTC_STATUS_RECONNECTING);
  assert_int_equal(R.retry_in[1], 0);
  assert_int_equal(last_status(), IOTC_STATUS_CONNECTING);
  assert_int_equal(iotc_client_get_transport(c), IOTC_TRANSPORT_MQTT_WS);
  assert_int_equal(F.created, 2);
  assert_true(F.websocket);
  assert_int_equal(F.timeout_ms, 30000); /* the whole connect_timeout_ms over 443 */
  refuse(-1);
  step(c);
  assert_int_equal(last_status(), IOTC_STATUS_RECONNECTING);
  assert_true(R.retry_in[R.count - 1] > 0); /* a real failure: back-off */
  next_deadline(c);
  assert_int_equal(F.created, 3);
  assert_false(F.websocket);
  refuse(5); /* not authorized: the hub answered over 8883 */
  step(c);
  assert_false(F.websocket);
  assert_int_equal(iotc_client_get_transport(c), IOTC_TRANSPORT_MQTT);
  destroy(c);
}

/* AUTO: 8883 that never answers falls back when its shorter time limit runs out; then a
 * connection over 443 reports the transport. */
static void auto_falls_back_when_8883_never_answers(void **s) {
  (void)s;
  iotc_client_config cfg;
  base_config(&cfg);
  cfg.transport = IOTC_TRANSPORT_AUTO;
  cfg.fallback_after_ms = 2000;
  iotc_client *c = make(&cfg);
  assert_int_equal(iotc_client_connect(c, 0, NULL), IOTC_OK);
  step(c);
  uint64_t started = F.now;
  next_deadline(c); /* the connect backstop, then at once the attempt over 443 */
  assert_true(F.now - started < 30000); /* the fallback limit, not connect_timeout_ms */
  assert_int_equal(R.statuses[R.count - 2], IOTC_STATUS_RECONNECTING);
  assert_int_equal(F.created, 2);
  assert_true(F.websocket);
  bring_up(c);
  assert_int_equal(last_status(), IOTC_STATUS_CONNECTED);
  assert_int_equal(iotc_client_get_transport(c), IOTC_TRANSPORT_MQTT_WS);
  destroy(c);
}

/* MQTT and MQTT_WS never switch. */
static void explicit_transports_never_switch(void **s) {
  (void)s;
  for (int ws = 0; ws <= 1; ws++) {
    iotc_client_config cfg;
    base_config(&cfg);
    cfg.transport = ws ? IOTC_TRANSPORT_MQTT_WS : IOTC_TRANSPORT_MQTT;
    iotc_client *c = make(&cfg);
    assert_int_equal(iotc_client_connect(c, 0, NULL), IOTC_OK);
    step(c);
    assert_int_equal(F.websocket, ws);
    assert_int_equal(F.timeout_ms, 30000);
    refuse(-1);
    step(c);
    assert_true(R.retry_in[R.count - 1] > 0);
    next_deadline(c);
    assert_int_equal(F.websocket, ws);
    destroy(c);
  }
}

int main(void) {
  snprintf(ca_path, sizeof ca_path, "/tmp/iotc-conn-ca-XXXXXX");
  int fd = mkstemp(ca_path);
  if (fd < 0) return 1;
  close(fd);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(a_dropped_connection_is_retried_within_the_jitter_bounds,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          the_sas_token_is_renewed_at_80_percent_of_its_life_and_nothing_is_lost, setup, teardown),
      cmocka_unit_test_setup_teardown(
          a_renewal_that_is_never_drained_closes_after_the_drain_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(a_drop_while_renewing_leaves_no_deadline_in_the_past,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          the_client_gives_up_after_the_configured_number_of_attempts, setup, teardown),
      cmocka_unit_test_setup_teardown(the_device_is_provisioned_again_after_n_failures, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(a_hub_refusal_sends_the_device_back_to_dps_at_once, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          provisioning_leaves_the_worker_free_and_a_disconnect_cancels_it, setup, teardown),
      cmocka_unit_test_setup_teardown(destroy_cancels_provisioning, setup, teardown),
      cmocka_unit_test_setup_teardown(a_disconnect_drains_what_is_queued_first, setup, teardown),
      cmocka_unit_test_setup_teardown(
          a_disconnect_stops_at_its_deadline_when_nothing_is_acknowledged, setup, teardown),
      cmocka_unit_test_setup_teardown(
          the_twin_is_fetched_after_every_reconnect_and_patches_wait_for_it, setup, teardown),
      cmocka_unit_test_setup_teardown(a_late_command_response_is_sent_on_the_next_connection,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(messages_reach_their_feature_and_others_are_ignored, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(the_client_can_be_destroyed_in_every_state, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          auto_falls_back_to_websockets_at_once_and_back_after_a_backoff, setup, teardown),
      cmocka_unit_test_setup_teardown(auto_falls_back_when_8883_never_answers, setup, teardown),
      cmocka_unit_test_setup_teardown(explicit_transports_never_switch, setup, teardown),
      cmocka_unit_test_setup_teardown(a_kill_repeats_at_most_the_window_of_persisted_telemetry,
                                      setup, teardown),
  };
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("connection state machine: %zu tests in %.1f ms\n", sizeof tests / sizeof tests[0],
         (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
  unlink(ca_path);
  return failed;
}
