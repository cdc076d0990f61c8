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
  assert_true(alloc_fail_in("process_c2d"));
  assert_int_equal(emu_api(central_emu(), "POST", path, body, &status, NULL), 0);
  assert_int_equal(status, 201);
  assert_true(dropped_reaches(f->client, before + 1));
  assert_true(central_counter_wait(&oom_lines, lines + 1));
  alloc_fail_in(NULL);
  assert_int_equal(central_counter_get(&f->c2d), 0);
  assert_int_equal(emu_api(central_emu(), "POST", path, body, &status, NULL), 0);
  assert_true(central_counter_wait(&f->c2d, 1));
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
      cmocka_unit_test_setup_teardown(a_command_without_memory_for_its_record_is_answered_503_unrun,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(a_c2d_message_without_memory_for_its_properties_is_counted,
                                      setup, teardown),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  iotc_log_set_handler(NULL, IOTC_LOG_WARN, NULL);
  central_counter_destroy(&oom_lines);
  return failed;
}
