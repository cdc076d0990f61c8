/* SPDX-License-Identifier: MIT */
/* Work the client drops for lack of memory is counted in iotc_client_stats::dropped_no_memory
 * and logged, never dropped silently, and the client goes on working once memory is back. The
 * allocations of one library function at a time are failed with alloc_fail_in()
 * (tests/unit/support/alloc_fail.c, which names functions with the sanitizer's symbolizer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alloc_fail.h"
#include "central.h"
#include "iotc/log.h"

static central_counter oom_lines; /* log lines saying something was dropped for lack of memory */

static void on_log(iotc_log_level level, const char *message, void *ctx) {
  (void)ctx;
  if (level <= IOTC_LOG_WARN && strstr(message, "out of memory") != NULL) {
    central_counter_add(&oom_lines, 1);
  }
}

static uint64_t dropped(iotc_client *client) {
  iotc_client_stats stats;
  memset(&stats, 0, sizeof stats);
  assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
  return stats.dropped_no_memory;
}

/* Polls the counter (it is bumped on the worker thread) until it reaches @p target. */
static bool dropped_reaches(iotc_client *client, uint64_t target) {
  uint64_t deadline = central_now_ms() + CENTRAL_WAIT_MS;
  while (dropped(client) < target && central_now_ms() < deadline) central_sleep_ms(20);
  return dropped(client) >= target;
}

static void on_blink(iotc_client *client, const iotc_command_request *req,
                     iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)req;
  (void)resp;
  central_counter_add(ctx, 1);
}

static void on_c2d(iotc_client *client, const iotc_c2d_message *m, void *ctx) {
  (void)client;
  (void)m;
  central_counter_add(ctx, 1);
}

static void on_property(iotc_client *client, const iotc_property_update *u, void *ctx) {
  (void)client;
  (void)u;
  central_counter_add(ctx, 1);
}

typedef struct fixture {
  central_device dev;
  iotc_client *client;
  central_counter commands, c2d, properties;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return -1;
  central_counter_init(&f->commands);
  central_counter_init(&f->c2d);
  central_counter_init(&f->properties);
  f->client = central_new("oom", &f->dev);
  if (f->client == NULL ||
      iotc_client_on_command(f->client, NULL, "blink", on_blink, &f->commands) != IOTC_OK ||
      iotc_client_on_c2d(f->client, on_c2d, &f->c2d) != IOTC_OK ||
      iotc_client_on_property(f->client, NULL, "brightness", on_property, &f->properties) != IOTC_OK) {
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  alloc_fail_in(NULL);
  if (f->client) {
    if (iotc_client_disconnect(f->client, 10000) != IOTC_OK) fprintf(stderr, "disconnect failed\n");
    iotc_client_destroy(f->client);
  }
  central_counter_destroy(&f->commands);
  central_counter_destroy(&f->c2d);
  central_counter_destroy(&f->properties);
  free(f);
  return 0;
}

static void connect_and_wait_subscribed(fixture *f) {
  assert_int_equal(central_connect(f->client), 0);
  char filter[256];
  snprintf(filter, sizeof filter, "devices/%s/messages/devicebound/#", f->dev.id);
  assert_int_equal(central_wait_subscribed(f->dev.id, filter), 0);
  assert_int_equal(central_wait_subscribed(f->dev.id, "$iothub/methods/POST/#"), 0);
}

static void a_default_that_cannot_be_copied_is_counted_not_reported(void **state) {
  fixture *f = *state;
  assert_int_equal(iotc_client_set_property_default(f->client, NULL, "brightness", "5"), IOTC_OK);
  uint64_t lines = central_counter_get(&oom_lines);
  assert_true(alloc_fail_in("report_defaults"));
  connect_and_wait_subscribed(f);
  assert_true(dropped_reaches(f->client, 1));
  assert_true(alloc_failed_in() >= 1);
  assert_true(central_counter_wait(&oom_lines, lines + 1));
  alloc_fail_in(NULL);
  json_t *props = central_properties(f->dev.id, NULL);
  assert_null(json_object_get(props, "brightness"));
  json_decref(props);
}

static void an_inbound_message_without_memory_is_counted_and_the_next_arrives(void **state) {
  fixture *f = *state;
  connect_and_wait_subscribed(f);
  uint64_t before = dropped(f->client), lines = central_counter_get(&oom_lines);
  assert_true(alloc_fail_in("sink_message")); /* the event made on Paho's thread */
  assert_int_equal(central_patch(f->dev.id, NULL, "{\"brightness\":3}") / 100, 2);
  assert_true(dropped_reaches(f->client, before + 1));
  assert_true(central_counter_wait(&oom_lines, lines + 1)); /* logged by the worker */
  alloc_fail_in(NULL);
  assert_int_equal(central_counter_get(&f->properties), 0);
  assert_int_equal(central_patch(f->dev.id, NULL, "{\"brightness\":4}") / 100, 2);
  assert_true(central_counter_wait(&f->properties, 1));
}

/* Each value copied out of a patch (visit_one): failing it drops the update, counted and logged.
 * Reading the patch itself is jansson's parser, whose allocations are not failed (see
 * tests/unit/support/alloc_fail.c). */
static void desired_property(fixture *f, const char *failing) {
  connect_and_wait_subscribed(f);
  uint64_t before = dropped(f->client), lines = central_counter_get(&oom_lines);
  assert_true(alloc_fail_in(failing));
  assert_int_equal(central_patch(f->dev.id, NULL, "{\"brightness\":3}") / 100, 2);
  assert_true(dropped_reaches(f->client, before + 1));
  assert_true(central_counter_wait(&oom_lines, lines + 1));
  alloc_fail_in(NULL);
  assert_int_equal(central_counter_get(&f->properties), 0);
  assert_int_equal(central_patch(f->dev.id, NULL, "{\"brightness\":4}") / 100, 2);
  assert_true(central_counter_wait(&f->properties, 1));
}

static void a_desired_value_without_memory_to_copy_it_is_counted(void **state) {
  desired_property(*state, "visit_one");
}

static void telemetry_without_memory_for_its_topic_fails_once_not_again_and_again(void **state) {
  fixture *f = *state;
  connect_and_wait_subscribed(f);
  central_results sent;
  central_results_init(&sent);
  iotc_telemetry_options opts;
  central_telemetry_options(&opts, &sent);
  uint64_t before = dropped(f->client), lines = central_counter_get(&oom_lines);
  unsigned long failed_before = alloc_failed_in();
  assert_true(alloc_fail_in("publish"));
  assert_int_equal(iotc_client_send_telemetry(f->client, "{\"t\":1}", &opts), IOTC_OK);
  assert_true(central_counter_wait(&sent.failed, 1));
  alloc_fail_in(NULL);
  assert_int_equal(sent.last_error, IOTC_ERR_NO_MEMORY);
  assert_int_equal(alloc_failed_in() - failed_before, 1); /* one try, no retry loop */
  assert_int_equal(dropped(f->client), before + 1);
  assert_true(central_counter_wait(&oom_lines, lines + 1));
  assert_int_equal(iotc_client_send_telemetry(f->client, "{\"t\":2}", &opts), IOTC_OK);
  assert_true(central_counter_wait(&sent.ok, 1));
  central_results_destroy(&sent);
}

static void a_command_without_memory_for_its_record_is_answered_503_unrun(void **state) {
  fixture *f = *state;
  connect_and_wait_subscribed(f);
  uint64_t before = dropped(f->client), lines = central_counter_get(&oom_lines);
  assert_true(alloc_fail_in("add_pending_cmd"));
  assert_int_equal(central_command_code(f->dev.id, NULL, "blink", "{\"request\":1}"), 503);
  assert_int_equal(dropped(f->client), before + 1);
  assert_true(central_counter_wait(&oom_lines, lines + 1));
  assert_int_equal(central_counter_get(&f->commands), 0);
  alloc_fail_in(NULL);
  assert_int_equal(central_command_code(f->dev.id, NULL, "blink", "{\"request\":2}"), 200);
  assert_int_equal(central_counter_get(&f->commands), 1);
}

static void a_c2d_message_without_memory_for_its_properties_is_counted(void **state) {
  fixture *f = *state;
  connect_and_wait_subscribed(f);
  uint64_t before = dropped(f->client), lines = central_counter_get(&oom_lines);
  char path[512];
  snprintf(path, sizeof path, "/emulator/devices/%s/c2d", f->dev.id);
  const char *body = "{\"body\":\"hello\",\"properties\":{\"color\":\"green\"}}";
  long status = 0;
  assert_true(alloc_fail_in("decode_bag"));
  assert_int_equal(emu_api(central_emu(), "POST", path, body, &status, NULL), 0);
  assert_int_equal(status, 201);
  assert_true(dropped_reaches(f->client, before + 1));
  assert_true(central_counter_wait(&oom_lines, lines + 1));
  alloc_fail_in(NULL);
  assert_int_equal(central_counter_get(&f->c2d), 0);
  assert_int_equal(emu_api(central_emu(), "POST", path, body, &status, NULL), 0);
  assert_true(central_counter_wait(&f->c2d, 1));
}

/* Waits up to @p ms for the counter to reach @p target: work that was dropped never arrives. */
static bool arrives_within(central_counter *c, uint64_t target, uint32_t ms) {
  uint64_t deadline = central_now_ms() + ms;
  while (central_counter_get(c) < target && central_now_ms() < deadline) central_sleep_ms(20);
  return central_counter_get(c) >= target;
}

/* Each function of the client that allocates while connected, failing every allocation it
 * makes while the client connects, sends telemetry and a reported property, and receives a
 * property, a C2D message, a command and a queued command: whatever is lost, nothing crashes
 * (ASan), nothing leaks (LSan, at exit), and once memory is back the client works again. */
static void every_client_function_failing_its_allocations_breaks_nothing_for_good(void **state) {
  (void)state;
  static const char *const functions[] = {
      "sink_message", "iotc__event_new", "add_pending_cmd", "iotc__view_dup", "queued_payload",
      "decode_bag", "report_defaults", "iotc__resp_queue", "publish", "iotc__sbuf_add",
      "iotc__op_new", "build_bag", "iotc__twin_parse", "iotc__twin_patch", "visit_one",
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    fixture *f = NULL;
    assert_int_equal(setup((void **)&f), 0);
    printf("# %s\n", functions[i]);
    fflush(stdout); /* before any child process the emulator helpers start */
    assert_int_equal(iotc_client_set_property_default(f->client, NULL, "brightness", "5"), IOTC_OK);
    central_results sent;
    central_results_init(&sent);
    iotc_telemetry_options opts;
    central_telemetry_options(&opts, &sent);
    unsigned long failed_before = alloc_failed_in();

    assert_true(alloc_fail_in(functions[i]));
    bool connected = central_connect(f->client) == 0;
    if (connected) {
      /* Either may be refused with IOTC_ERR_NO_MEMORY: only what follows is checked. */
      iotc_result r = iotc_client_send_telemetry(f->client, "{\"t\":1}", &opts);
      r = iotc_client_report_property(f->client, NULL, "state", "\"on\"", NULL, NULL);
      (void)r;
      (void)central_patch(f->dev.id, NULL, "{\"brightness\":3}");
      /* C2D messages arrive in order: once the plain one is handled, so is the queued command. */
      (void)central_command_code(f->dev.id, NULL, "blink", "{\"request\":2,\"queued\":true}");
      char path[512];
      snprintf(path, sizeof path, "/emulator/devices/%s/c2d", f->dev.id);
      long status = 0;
      (void)emu_api(central_emu(), "POST", path, "{\"body\":\"x\",\"properties\":{\"k\":\"v\"}}",
                    &status, NULL);
      (void)central_command_code(f->dev.id, NULL, "blink", "{\"request\":1,\"responseTimeout\":2}");
      (void)arrives_within(&f->c2d, 1, 2000);
    }
    alloc_fail_in(NULL);
    printf("#   %lu allocations failed, %llu pieces of work counted as dropped\n",
           alloc_failed_in() - failed_before, (unsigned long long)dropped(f->client));
    fflush(stdout);

    if (!connected) assert_int_equal(central_connect(f->client), 0);
    uint64_t commands = central_counter_get(&f->commands);
    assert_int_equal(iotc_client_send_telemetry(f->client, "{\"t\":2}", &opts), IOTC_OK);
    assert_true(central_counter_wait(&sent.ok, 1));
    assert_int_equal(central_command_code(f->dev.id, NULL, "blink", "{\"request\":3}"), 200);
    assert_true(central_counter_get(&f->commands) > commands);
    uint64_t props = central_counter_get(&f->properties);
    assert_int_equal(central_patch(f->dev.id, NULL, "{\"brightness\":9}") / 100, 2);
    assert_true(arrives_within(&f->properties, props + 1, CENTRAL_WAIT_MS));
    assert_int_equal(teardown((void **)&f), 0);
    central_results_destroy(&sent);
  }
}

int main(void) {
  if (!alloc_fail_in(NULL)) {
    fprintf(stderr, "central_out_of_memory: needs a sanitized build (-DIOTC_SANITIZE=ON)\n");
    return 1;
  }
  central_counter_init(&oom_lines);
  iotc_log_set_handler(on_log, IOTC_LOG_WARN, NULL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(a_default_that_cannot_be_copied_is_counted_not_reported,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          an_inbound_message_without_memory_is_counted_and_the_next_arrives, setup, teardown),
      cmocka_unit_test_setup_teardown(a_desired_value_without_memory_to_copy_it_is_counted, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          telemetry_without_memory_for_its_topic_fails_once_not_again_and_again, setup, teardown),
      cmocka_unit_test_setup_teardown(a_command_without_memory_for_its_record_is_answered_503_unrun,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(a_c2d_message_without_memory_for_its_properties_is_counted,
                                      setup, teardown),
      cmocka_unit_test(every_client_function_failing_its_allocations_breaks_nothing_for_good),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  iotc_log_set_handler(NULL, IOTC_LOG_WARN, NULL);
  central_counter_destroy(&oom_lines);
  return failed;
}
