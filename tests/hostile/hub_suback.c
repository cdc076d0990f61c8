/* SPDX-License-Identifier: MIT */
/* SUBACKs whose return-code count differs from the SUBSCRIBE's topics: the client never accepts
 * such a connection (it reconnects, saying why) and never crashes; a SUBACK with the right count
 * and a refusal code is refused the same way. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "hub_ctl.h"

/* The hub answers SUBSCRIBEs with @p codes codes (-1: one more than asked) on the first
 * @p bad_connections connections, then correctly; the client must end up connected on a
 * connection whose SUBACKs were right. */
static void run(int codes, int bad_connections) {
  hub_test *t = hub_test_new("suback-device");
  assert_non_null(t);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"subackCodes\":%d,\"subackConnections\":%d}",
                          codes, bad_connections), 0);
  assert_non_null(hub_test_client(t));
  assert_int_equal(iotc_client_connect(t->client, HUB_WAIT_MS, NULL), IOTC_OK);
  long bad = hub_stat(&t->hub, "badSubacks");
  printf("# codes %d: %ld mismatched SUBACKs, %ld connections\n", codes, bad,
         hub_stat(&t->hub, "connections"));
  assert_int_equal(hub_stat(&t->hub, "acceptedBadSuback"), 0);
  if (bad > 0) {
    long i = central_status_find(&t->log, 0, IOTC_STATUS_RECONNECTING, "SUBACK");
    assert_true(i >= 0);
    assert_int_equal(central_status_at(&t->log, (size_t)i).reason, IOTC_ERR_PROTOCOL);
    assert_true(hub_stat(&t->hub, "connections") > bad_connections);
  }
  assert_int_equal(iotc_client_disconnect(t->client, 5000), IOTC_OK);
  hub_test_free(t);
}

static void one_code_per_subscribe(void **state) {
  (void)state;
  run(1, 2);
}

static void two_codes_per_subscribe(void **state) {
  (void)state;
  run(2, 2);
}

static void one_code_too_many(void **state) {
  (void)state;
  run(-1, 2);
}

/* The neighbour: the right count, but refused (0x80): a protocol error too, then reconnect. */
static void refused_subscription_reconnects(void **state) {
  (void)state;
  hub_test *t = hub_test_new("suback-refused");
  assert_non_null(t);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"subackRefuse\":true}"), 0);
  assert_non_null(hub_test_client(t));
  assert_int_equal(iotc_client_connect(t->client, 0, NULL), IOTC_OK);
  long i = central_status_find(&t->log, 0, IOTC_STATUS_RECONNECTING, "refused");
  assert_true(i >= 0);
  assert_int_equal(central_status_at(&t->log, (size_t)i).reason, IOTC_ERR_PROTOCOL);
  assert_true(hub_wait(&t->hub, "connections", 2) >= 2);
  assert_int_equal(hub_stat(&t->hub, "twinGets"), 0);
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"set\",\"subackRefuse\":false}"), 0);
  assert_true(hub_wait(&t->hub, "twinGets", 1) >= 1);
  hub_test_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(one_code_per_subscribe),
      cmocka_unit_test(two_codes_per_subscribe),
      cmocka_unit_test(one_code_too_many),
      cmocka_unit_test(refused_subscription_reconnects),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
