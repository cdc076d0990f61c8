/* SPDX-License-Identifier: MIT */
/* A command handler that builds its answer in a stack buffer and hands it over with
 * iotc_command_response_set_payload(): the operator receives exactly that text. A handler that
 * assigns the stack buffer itself is answered 500 instead of sending what is left of its frame.
 * Run under ASan with stack-use-after-return detection, so a response read after the handler's
 * frame is gone fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"

#if defined(__SANITIZE_ADDRESS__)
/* Frames of returned functions stay poisoned, so reading one is reported. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_stack_use_after_return=1"; }
#endif

static void on_echo(iotc_client *client, const iotc_command_request *req,
                    iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)ctx;
  char body[256];
  snprintf(body, sizeof body, "{\"echo\":%s,\"note\":\"built on the handler's stack\"}",
           req->payload_json);
  assert_int_equal(iotc_command_response_set_payload(resp, body), IOTC_OK);
}

static void on_dangling(iotc_client *client, const iotc_command_request *req,
                        iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)ctx;
  char body[256];
  snprintf(body, sizeof body, "{\"echo\":%s}", req->payload_json);
  char *volatile gone = body; /* the volatile hides the mistake from the compiler's warning */
  resp->payload_json = gone;  /* gone when the handler returns */
}

static void on_replaced(iotc_client *client, const iotc_command_request *req,
                        iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)req;
  (void)ctx;
  assert_int_equal(iotc_command_response_set_payload(resp, "{\"first\":1}"), IOTC_OK);
  assert_int_equal(iotc_command_response_set_payload(resp, "[not json"), IOTC_ERR_INVALID_ARG);
  assert_string_equal(resp->payload_json, "{\"first\":1}");
  assert_int_equal(iotc_command_response_set_payload(resp, "{\"second\":2}"), IOTC_OK);
  resp->status = 201;
}

static void a_response_built_on_the_stack_reaches_the_operator(void **state) {
  (void)state;
  central_device dev;
  iotc_client *client = central_new("stackresp", &dev);
  assert_non_null(client);
  assert_int_equal(iotc_client_on_command(client, NULL, "echo", on_echo, NULL), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/methods/POST/#"), 0);
  for (int i = 0; i < 3; i++) {
    char req[32];
    snprintf(req, sizeof req, "{\"request\":%d}", 40 + i);
    long status = 0;
    json_t *body = central_command(dev.id, NULL, "echo", req, &status);
    assert_non_null(body);
    assert_int_equal(json_integer_value(json_object_get(body, "responseCode")), 200);
    json_t *resp = json_object_get(body, "response");
    assert_int_equal(json_integer_value(json_object_get(resp, "echo")), 40 + i);
    assert_string_equal(json_string_value(json_object_get(resp, "note")),
                        "built on the handler's stack");
    json_decref(body);
  }
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
}

static void a_response_left_on_a_returned_stack_is_answered_500(void **state) {
  (void)state;
  central_device dev;
  iotc_client *client = central_new("danglingresp", &dev);
  assert_non_null(client);
  assert_int_equal(iotc_client_on_command(client, NULL, "dangling", on_dangling, NULL), IOTC_OK);
  assert_int_equal(iotc_client_on_command(client, NULL, "replaced", on_replaced, NULL), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/methods/POST/#"), 0);
  assert_int_equal(central_command_code(dev.id, NULL, "dangling", "{\"request\":7}"), 500);
  long status = 0;
  json_t *body = central_command(dev.id, NULL, "replaced", "{}", &status);
  assert_non_null(body);
  assert_int_equal(json_integer_value(json_object_get(body, "responseCode")), 201);
  json_t *resp = json_object_get(body, "response");
  assert_int_equal(json_integer_value(json_object_get(resp, "second")), 2);
  assert_null(json_object_get(resp, "first"));
  json_decref(body);
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
}

/* A response the application makes itself (to test a handler) works the same way. */
static void a_response_made_by_the_application_holds_a_copy(void **state) {
  (void)state;
  iotc_command_response resp = {200, NULL, false, NULL};
  char body[32];
  snprintf(body, sizeof body, "{\"n\":%d}", 5);
  assert_int_equal(iotc_command_response_set_payload(&resp, body), IOTC_OK);
  memset(body, 'x', sizeof body);
  assert_string_equal(resp.payload_json, "{\"n\":5}");
  assert_int_equal(iotc_command_response_set_payload(&resp, NULL), IOTC_OK);
  assert_null(resp.payload_json);
  assert_int_equal(iotc_command_response_set_payload(NULL, "{}"), IOTC_ERR_INVALID_ARG);
  iotc_free(resp.payload_copy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_response_built_on_the_stack_reaches_the_operator),
      cmocka_unit_test(a_response_left_on_a_returned_stack_is_answered_500),
      cmocka_unit_test(a_response_made_by_the_application_holds_a_copy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
