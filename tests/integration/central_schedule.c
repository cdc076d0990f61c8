/* SPDX-License-Identifier: MIT */
/* iotc_client_schedule(): callbacks run on the client's worker after their delay, in due order
 * (ties in scheduling order); a cancelled one learns it was cancelled; destroy completes the
 * pending ones with IOTC_ERR_SHUTDOWN before it returns; a callback that reschedules itself at
 * once does not stall the client; and a writable property acknowledged from a scheduled
 * callback reaches the operator. */
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

typedef struct run_log {
  pthread_mutex_t lock;
  central_counter calls;
  int order[16];
  iotc_result results[16];
  pthread_t threads[16];
  size_t count;
} run_log;

typedef struct job {
  run_log *log;
  int tag;
} job;

static void record(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  job *j = ctx;
  run_log *log = j->log;
  pthread_mutex_lock(&log->lock);
  if (log->count < 16) {
    log->order[log->count] = j->tag;
    log->results[log->count] = result;
    log->threads[log->count] = pthread_self();
    log->count++;
  }
  pthread_mutex_unlock(&log->lock);
  central_counter_add(&log->calls, 1);
}

static void log_init(run_log *log) {
  memset(log, 0, sizeof *log);
  pthread_mutex_init(&log->lock, NULL);
  central_counter_init(&log->calls);
}

static void log_destroy(run_log *log) {
  central_counter_destroy(&log->calls);
  pthread_mutex_destroy(&log->lock);
}

/* A client that never connects (nothing listens on port 1): the worker runs anyway. */
static iotc_client *offline_client(void) { return central_offline_client("schedule"); }

static void callbacks_run_in_due_order_on_the_worker(void **state) {
  (void)state;
  iotc_client *client = offline_client();
  run_log log;
  log_init(&log);
  const uint32_t delays[] = {300, 100, 200, 100, 0};
  job jobs[5];
  uint64_t ids[5];
  for (int i = 0; i < 5; i++) {
    jobs[i] = (job){&log, i};
    assert_int_equal(iotc_client_schedule(client, delays[i], record, &jobs[i], &ids[i]), IOTC_OK);
    assert_true(ids[i] != 0);
    if (i) assert_true(ids[i] != ids[i - 1]);
  }
  assert_true(central_counter_wait(&log.calls, 5));
  const int expected[] = {4, 1, 3, 2, 0};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(log.order[i], expected[i]);
    assert_int_equal(log.results[i], IOTC_OK);
    assert_false(pthread_equal(log.threads[i], pthread_self()));
    assert_true(pthread_equal(log.threads[i], log.threads[0]));
  }
  /* Ran already: nothing to cancel. */
  assert_int_equal(iotc_client_cancel_scheduled(client, ids[0]), IOTC_ERR_NOT_FOUND);
  assert_int_equal(iotc_client_schedule(client, 0, NULL, NULL, NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_schedule(NULL, 0, record, &jobs[0], NULL), IOTC_ERR_INVALID_ARG);
  assert_int_equal(iotc_client_cancel_scheduled(NULL, 1), IOTC_ERR_INVALID_ARG);
  iotc_client_destroy(client);
  log_destroy(&log);
}

static void a_cancelled_callback_learns_it_was_cancelled(void **state) {
  (void)state;
  iotc_client *client = offline_client();
  run_log log;
  log_init(&log);
  job a = {&log, 1}, b = {&log, 2};
  uint64_t ida = 0, idb = 0;
  assert_int_equal(iotc_client_schedule(client, 400, record, &a, &ida), IOTC_OK);
  assert_int_equal(iotc_client_schedule(client, 400, record, &b, &idb), IOTC_OK);
  assert_int_equal(iotc_client_cancel_scheduled(client, idb), IOTC_OK);
  assert_int_equal(iotc_client_cancel_scheduled(client, idb), IOTC_ERR_NOT_FOUND);
  assert_int_equal(iotc_client_cancel_scheduled(client, 999999), IOTC_ERR_NOT_FOUND);
  assert_true(central_counter_wait(&log.calls, 2));
  assert_int_equal(log.order[0], 2); /* the cancelled one completes first, at once */
  assert_int_equal(log.results[0], IOTC_ERR_CANCELLED);
  assert_false(pthread_equal(log.threads[0], pthread_self()));
  assert_int_equal(log.order[1], 1);
  assert_int_equal(log.results[1], IOTC_OK);
  iotc_client_destroy(client);
  log_destroy(&log);
}

/* Heap contexts freed by their callbacks: a leak or double call shows under ASan/valgrind. */
static void free_context(iotc_client *client, iotc_result result, void *ctx) {
  job *j = ctx;
  record(client, result, j);
  free(j);
}

static void destroy_completes_pending_callbacks_on_its_thread(void **state) {
  (void)state;
  iotc_client *client = offline_client();
  run_log log;
  log_init(&log);
  uint64_t last_id = 0;
  for (int i = 0; i < 4; i++) {
    job *j = malloc(sizeof *j);
    assert_non_null(j);
    *j = (job){&log, i};
    assert_int_equal(iotc_client_schedule(client, 60000 + (uint32_t)i, free_context, j, &last_id),
                     IOTC_OK);
  }
  /* Cancelled just before destroy: it completes as cancelled, on the worker or in destroy. */
  assert_int_equal(iotc_client_cancel_scheduled(client, last_id), IOTC_OK);
  iotc_client_destroy(client);
  assert_int_equal(central_counter_get(&log.calls), 4);
  assert_int_equal(log.order[0], 3);
  assert_int_equal(log.results[0], IOTC_ERR_CANCELLED);
  for (int i = 1; i < 4; i++) {
    assert_int_equal(log.order[i], i - 1);
    assert_int_equal(log.results[i], IOTC_ERR_SHUTDOWN);
    assert_true(pthread_equal(log.threads[i], pthread_self()));
  }
  log_destroy(&log);
}

typedef struct chain {
  atomic_bool stop;
  atomic_ulong runs;
} chain;

static void again(iotc_client *client, iotc_result result, void *ctx) {
  chain *ch = ctx;
  atomic_fetch_add(&ch->runs, 1);
  if (result == IOTC_OK && !atomic_load(&ch->stop)) {
    if (iotc_client_schedule(client, 0, again, ch, NULL) != IOTC_OK) atomic_store(&ch->stop, true);
  }
}

static void a_callback_that_reschedules_itself_does_not_stall_the_client(void **state) {
  (void)state;
  central_device dev;
  iotc_client *client = central_new("schedchain", &dev);
  assert_non_null(client);
  chain ch;
  atomic_init(&ch.stop, false);
  atomic_init(&ch.runs, 0);
  assert_int_equal(iotc_client_schedule(client, 0, again, &ch, NULL), IOTC_OK);
  assert_int_equal(central_connect(client), 0); /* the worker still connects */
  assert_int_equal(central_send_telemetry_wait(client, "{\"t\":1}"), IOTC_OK);
  atomic_store(&ch.stop, true);
  printf("the chain ran %lu times meanwhile\n", (unsigned long)atomic_load(&ch.runs));
  assert_true(atomic_load(&ch.runs) > 1);
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client); /* the chain's last pending run completes with SHUTDOWN */
}

/* ---- end to end: a writable property acknowledged 200 ms later ------------------------------ */

typedef struct later_ack {
  char name[64];
  char value[64];
  int64_t version;
} later_ack;

static void send_later_ack(iotc_client *client, iotc_result result, void *ctx) {
  later_ack *a = ctx;
  if (result == IOTC_OK &&
      iotc_client_ack_property(client, NULL, a->name, a->value, 200, a->version, "applied later",
                               NULL, NULL) != IOTC_OK) {
    fprintf(stderr, "could not acknowledge %s\n", a->name);
  }
  free(a);
}

static void on_brightness(iotc_client *client, const iotc_property_update *u, void *ctx) {
  (void)ctx;
  later_ack *a = calloc(1, sizeof *a);
  if (a == NULL) return;
  snprintf(a->name, sizeof a->name, "%s", u->name);
  snprintf(a->value, sizeof a->value, "%s", u->value_json);
  a->version = u->version;
  if (iotc_client_schedule(client, 200, send_later_ack, a, NULL) != IOTC_OK) free(a);
}

static void an_acknowledgement_sent_from_a_scheduled_callback_reaches_the_operator(void **state) {
  (void)state;
  central_device dev;
  iotc_client *client = central_new("schedack", &dev);
  assert_non_null(client);
  assert_int_equal(iotc_client_on_property(client, NULL, "brightness", on_brightness, NULL), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/twin/PATCH/properties/desired/#"), 0);
  assert_int_equal(central_patch(dev.id, NULL, "{\"brightness\":4}"), 200);
  json_t *acked = central_wait_ack(dev.id, NULL, "brightness");
  assert_non_null(acked);
  json_t *meta = json_object_get(json_object_get(acked, "$metadata"), "brightness");
  assert_int_equal(json_integer_value(json_object_get(meta, "ackCode")), 200);
  assert_string_equal(json_string_value(json_object_get(meta, "ackDescription")), "applied later");
  json_decref(acked);
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(callbacks_run_in_due_order_on_the_worker),
      cmocka_unit_test(a_cancelled_callback_learns_it_was_cancelled),
      cmocka_unit_test(destroy_completes_pending_callbacks_on_its_thread),
      cmocka_unit_test(a_callback_that_reschedules_itself_does_not_stall_the_client),
      cmocka_unit_test(an_acknowledgement_sent_from_a_scheduled_callback_reaches_the_operator),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
