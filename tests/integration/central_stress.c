/* SPDX-License-Identifier: MIT */
/* Concurrency under fire: several threads send telemetry and report properties, commands arrive
 * and are answered later from other threads, while the emulator drops the connection again and
 * again; then the client is destroyed with work still queued and in flight. Every accepted
 * operation must complete exactly once (IOTC_OK, or IOTC_ERR_SHUTDOWN at destroy), and the
 * program must stay clean under ASan/UBSan and ThreadSanitizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"
#include "iotc/hub_topic.h"

#define SENDERS 4
#define OPS_PER_SENDER 400
#define ROUNDS 3

/* One slot per operation: how many completions it got, and how it ended. */
typedef struct slot {
  atomic_int calls;
  atomic_int result;
  atomic_bool accepted;
} slot;

typedef struct stress {
  iotc_client *client;
  slot slots[SENDERS][OPS_PER_SENDER];
  atomic_bool stop;
  atomic_int destroying; /* set just before iotc_client_destroy() */
  atomic_int reentered;  /* API calls made from on_done during destroy */
  /* request ids handed from the command handler to the responder thread */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  char rids[64][IOTC_HUB_REQUEST_ID_MAX + 1];
  size_t rid_count;
  atomic_int responded;
} stress;

/* cmocka's asserts must stay on the test's thread: other threads count what went wrong. */
static atomic_int thread_failures;
#define EXPECT(cond)                                                            \
  do {                                                                          \
    if (!(cond)) {                                                              \
      fprintf(stderr, "central_stress: %s failed (line %d)\n", #cond, __LINE__); \
      atomic_fetch_add(&thread_failures, 1);                                    \
    }                                                                           \
  } while (0)

typedef struct sender_arg {
  stress *s;
  int index;
} sender_arg;

static void on_done(iotc_client *client, iotc_result result, void *user_context) {
  slot *sl = user_context;
  atomic_store(&sl->result, (int)result);
  atomic_fetch_add(&sl->calls, 1);
  (void)client;
}

/* During destroy, completions run on the destroying thread: calling the API from them must be
 * refused cleanly, not crash or deadlock. */
static stress *g_stress;
static void on_done_reenter(iotc_client *client, iotc_result result, void *user_context) {
  on_done(client, result, user_context);
  if (atomic_load(&g_stress->destroying)) {
    EXPECT(iotc_client_send_telemetry(client, "{\"late\":1}", NULL) == IOTC_ERR_STATE);
    atomic_fetch_add(&g_stress->reentered, 1);
  }
}

static void *send_loop(void *arg) {
  sender_arg *a = arg;
  stress *s = a->s;
  for (int i = 0; i < OPS_PER_SENDER && !atomic_load(&s->stop); i++) {
    slot *sl = &s->slots[a->index][i];
    iotc_result r;
    if (i % 10 == 9) {
      char value[32];
      snprintf(value, sizeof value, "%d", i);
      char name[32];
      snprintf(name, sizeof name, "counter%d", a->index);
      r = iotc_client_report_property(s->client, NULL, name, value, on_done_reenter, sl);
    } else {
      iotc_telemetry_options o;
      iotc_telemetry_options_init(&o);
      o.on_done = on_done_reenter;
      o.user_context = sl;
      o.qos = i % 7 == 0 ? 0 : 1;
      char json[64];
      snprintf(json, sizeof json, "{\"sender\":%d,\"n\":%d}", a->index, i);
      r = iotc_client_send_telemetry(s->client, json, &o);
    }
    if (r == IOTC_OK) {
      atomic_store(&sl->accepted, true);
    } else {
      EXPECT(r == IOTC_ERR_QUEUE_FULL);
    }
    if (i % 50 == 0) central_sleep_ms(5);
  }
  return NULL;
}

static void on_slow(iotc_client *client, const iotc_command_request *req,
                    iotc_command_response *resp, void *ctx) {
  (void)client;
  stress *s = ctx;
  resp->later = true;
  pthread_mutex_lock(&s->lock);
  if (s->rid_count < 64) {
    snprintf(s->rids[s->rid_count++], sizeof s->rids[0], "%s", req->request_id);
    pthread_cond_signal(&s->cond);
  }
  pthread_mutex_unlock(&s->lock);
}

static void *respond_loop(void *arg) {
  stress *s = arg;
  for (;;) {
    char rid[IOTC_HUB_REQUEST_ID_MAX + 1];
    pthread_mutex_lock(&s->lock);
    while (s->rid_count == 0 && !atomic_load(&s->stop)) {
      pthread_cond_wait(&s->cond, &s->lock);
    }
    if (s->rid_count == 0) {
      pthread_mutex_unlock(&s->lock);
      return NULL;
    }
    snprintf(rid, sizeof rid, "%s", s->rids[--s->rid_count]);
    pthread_mutex_unlock(&s->lock);
    iotc_result r = iotc_client_respond_command(s->client, rid, 200, "{\"ok\":true}");
    EXPECT(r == IOTC_OK || r == IOTC_ERR_NOT_FOUND);
    atomic_fetch_add(&s->responded, 1);
  }
}

typedef struct invoker_arg {
  stress *s;
  const char *device_id;
} invoker_arg;

static void *invoke_loop(void *arg) {
  invoker_arg *a = arg;
  while (!atomic_load(&a->s->stop)) {
    /* Any outcome is fine (the connection may be down): the device side is what is tested. */
    long status = 0;
    json_t *r = central_command(a->device_id, NULL, "slow", "{\"responseTimeout\":2}", &status);
    json_decref(r);
  }
  return NULL;
}

static void force_disconnect(const char *device_id) {
  char path[512];
  snprintf(path, sizeof path, "/emulator/devices/%s/disconnect", device_id);
  long status = 0;
  assert_int_equal(emu_api(central_emu(), "POST", path, "{}", &status, NULL), 0);
}

static void check_exactly_once(stress *s, int round) {
  int accepted = 0, ok = 0, shutdown = 0;
  for (int t = 0; t < SENDERS; t++) {
    for (int i = 0; i < OPS_PER_SENDER; i++) {
      slot *sl = &s->slots[t][i];
      int calls = atomic_load(&sl->calls);
      if (!atomic_load(&sl->accepted)) {
        if (calls != 0) fprintf(stderr, "round %d: refused op %d/%d completed\n", round, t, i);
        assert_int_equal(calls, 0);
        continue;
      }
      accepted++;
      if (calls != 1) fprintf(stderr, "round %d: op %d/%d completed %d times\n", round, t, i, calls);
      assert_int_equal(calls, 1);
      int r = atomic_load(&sl->result);
      if (r == IOTC_OK) ok++;
      else if (r == IOTC_ERR_SHUTDOWN) shutdown++;
      else fail_msg("round %d: op %d/%d ended with %s", round, t, i, iotc_strerror(r));
    }
  }
  printf("round %d: %d accepted, %d delivered, %d ended by destroy, %d reentrant calls, "
         "%d late responses\n", round, accepted, ok, shutdown, atomic_load(&s->reentered),
         atomic_load(&s->responded));
  assert_true(accepted > 0);
  assert_int_equal(atomic_load(&thread_failures), 0);
}

static void one_round(int round) {
  stress *s = calloc(1, sizeof *s);
  assert_non_null(s);
  g_stress = s;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->cond, NULL);
  central_device dev;
  s->client = central_new("stress", &dev);
  assert_non_null(s->client);
  assert_int_equal(iotc_client_on_command(s->client, NULL, "slow", on_slow, s), IOTC_OK);
  assert_int_equal(central_connect(s->client), 0);

  pthread_t senders[SENDERS], responder, invoker;
  sender_arg args[SENDERS];
  invoker_arg ia = {s, dev.id};
  for (int t = 0; t < SENDERS; t++) {
    args[t] = (sender_arg){s, t};
    assert_int_equal(pthread_create(&senders[t], NULL, send_loop, &args[t]), 0);
  }
  assert_int_equal(pthread_create(&responder, NULL, respond_loop, s), 0);
  assert_int_equal(pthread_create(&invoker, NULL, invoke_loop, &ia), 0);

  /* Drops while everything flows. */
  for (int d = 0; d < 3; d++) {
    central_sleep_ms(150);
    force_disconnect(dev.id);
  }
  for (int t = 0; t < SENDERS; t++) pthread_join(senders[t], NULL);
  /* Each round ends at a different moment: right after a drop (reconnecting), while
   * connected with a full pipeline, and after a graceful disconnect that left work behind. */
  if (round == 0) force_disconnect(dev.id);
  if (round == 2) (void)iotc_client_disconnect(s->client, 1);
  atomic_store(&s->stop, true);
  pthread_mutex_lock(&s->lock);
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->lock);
  pthread_join(responder, NULL);

  /* The invoker talks to the emulator only: commands may still be arriving during destroy. */
  atomic_store(&s->destroying, 1);
  iotc_client_destroy(s->client);
  pthread_join(invoker, NULL);
  check_exactly_once(s, round);
  pthread_cond_destroy(&s->cond);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

static void operations_complete_exactly_once_under_drops_and_destroy(void **state) {
  (void)state;
  for (int round = 0; round < ROUNDS; round++) one_round(round);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(operations_complete_exactly_once_under_drops_and_destroy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
