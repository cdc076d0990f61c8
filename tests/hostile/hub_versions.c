/* SPDX-License-Identifier: MIT */
/* Desired-property versions: a patch's version is its body's integer `$version`, else its topic's;
 * patches that arrive while the twin is fetched are applied only when newer than the twin, later
 * ones in arrival order whatever version they carry, so one absurd version cannot stop updates. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hub_ctl.h"

#define UPDATES_MAX 32

typedef struct updates {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  size_t count;
  char name[UPDATES_MAX][32];
  int64_t version[UPDATES_MAX];
  bool at_startup[UPDATES_MAX];
} updates;

static void on_property(iotc_client *client, const iotc_property_update *u, void *ctx) {
  (void)client;
  updates *r = ctx;
  pthread_mutex_lock(&r->mu);
  if (r->count < UPDATES_MAX) {
    snprintf(r->name[r->count], sizeof r->name[0], "%s", u->name);
    r->version[r->count] = u->version;
    r->at_startup[r->count] = u->at_startup;
    r->count++;
  }
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

/* Wait (bounded) for the update of property @p name; its index, or -1. */
static long wait_update(updates *r, const char *name) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += HUB_WAIT_MS / 1000;
  long found = -1;
  pthread_mutex_lock(&r->mu);
  while (found < 0) {
    for (size_t i = 0; i < r->count; i++) {
      if (strcmp(r->name[i], name) == 0) found = (long)i;
    }
    if (found < 0 && pthread_cond_timedwait(&r->cv, &r->mu, &until) != 0) break;
  }
  pthread_mutex_unlock(&r->mu);
  return found;
}

static hub_test *start(updates *r, const char *twin_setup) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  hub_test *t = hub_test_new("versions-device");
  assert_non_null(t);
  if (twin_setup) assert_int_equal(hub_do(&t->hub, "%s", twin_setup), 0);
  assert_non_null(hub_test_client(t));
  assert_int_equal(iotc_client_on_any_property(t->client, on_property, r), IOTC_OK);
  assert_int_equal(iotc_client_connect(t->client, HUB_WAIT_MS, NULL), IOTC_OK);
  assert_true(hub_wait(&t->hub, "twinGets", 1) >= 1);
  return t;
}

static void stop(hub_test *t, updates *r) {
  hub_test_free(t);
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
}

static void patch(hub_test *t, const char *topic_version, const char *body) {
  assert_int_equal(hub_do(&t->hub,
                          "{\"op\":\"publish\",\"topic\":\"$iothub/twin/PATCH/properties/desired/"
                          "%s\",\"payload\":\"%s\"}", topic_version, body), 0);
}

static void topic_version_when_the_body_has_none(void **state) {
  (void)state;
  updates r;
  hub_test *t = start(&r, NULL);
  patch(t, "?$version=12", "{\\\"a\\\":1}");
  patch(t, "?$version=13", "{\\\"b\\\":2,\\\"$version\\\":\\\"13\\\"}");
  long a = wait_update(&r, "a"), b = wait_update(&r, "b");
  assert_true(a >= 0 && b >= 0);
  assert_int_equal(r.version[a], 12);
  assert_int_equal(r.version[b], 13); /* a string $version is no version: the topic's counts */
  /* the application acknowledges with the version it got */
  assert_int_equal(iotc_client_ack_property(t->client, NULL, "a", "1", 200, r.version[a], NULL,
                                            NULL, NULL), IOTC_OK);
  stop(t, &r);
}

static void body_version_wins(void **state) {
  (void)state;
  updates r;
  hub_test *t = start(&r, NULL);
  patch(t, "?$version=9", "{\\\"a\\\":1,\\\"$version\\\":7}");
  long a = wait_update(&r, "a");
  assert_true(a >= 0);
  assert_int_equal(r.version[a], 7);
  stop(t, &r);
}

static void absurd_version_does_not_stop_updates(void **state) {
  (void)state;
  updates r;
  hub_test *t = start(&r, NULL);
  patch(t, "?$version=9223372036854775807", "{\\\"a\\\":1,\\\"$version\\\":9223372036854775807}");
  assert_true(wait_update(&r, "a") >= 0);
  patch(t, "?$version=5", "{\\\"b\\\":2,\\\"$version\\\":5}");
  patch(t, "?$version=18446744073709551615", "{\\\"c\\\":3}");
  long b = wait_update(&r, "b"), c = wait_update(&r, "c");
  assert_true(b >= 0);
  assert_int_equal(r.version[b], 5);
  assert_true(c >= 0); /* a topic version beyond int64: unknown, the patch still arrives */
  assert_int_equal(r.version[c], -1);
  stop(t, &r);
}

/* The neighbour: patches that arrive before the twin's answer are applied only when newer. */
static void patches_during_the_twin_fetch_newer_than_the_twin(void **state) {
  (void)state;
  updates r;
  hub_test *t = start(
      &r, "{\"op\":\"set\",\"twin\":{\"desired\":{\"$version\":3,\"a\":1},\"reported\":{\"$version\":1}},"
          "\"beforeTwin\":["
          "{\"topic\":\"$iothub/twin/PATCH/properties/desired/?$version=2\",\"payload\":\"{\\\"old\\\":2,\\\"$version\\\":2}\"},"
          "{\"topic\":\"$iothub/twin/PATCH/properties/desired/?$version=3\",\"payload\":\"{\\\"same\\\":3}\"},"
          "{\"topic\":\"$iothub/twin/PATCH/properties/desired/?$version=1\",\"payload\":\"{\\\"new\\\":4,\\\"$version\\\":4}\"}]}");
  long a = wait_update(&r, "a"), n = wait_update(&r, "new");
  assert_true(a >= 0 && n >= 0);
  assert_true(r.at_startup[a]);
  assert_int_equal(r.version[a], 3);
  assert_false(r.at_startup[n]);
  assert_int_equal(r.version[n], 4);
  pthread_mutex_lock(&r.mu);
  for (size_t i = 0; i < r.count; i++) {
    assert_string_not_equal(r.name[i], "old");
    assert_string_not_equal(r.name[i], "same");
  }
  pthread_mutex_unlock(&r.mu);
  stop(t, &r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(topic_version_when_the_body_has_none),
      cmocka_unit_test(body_version_wins),
      cmocka_unit_test(absurd_version_does_not_stop_updates),
      cmocka_unit_test(patches_during_the_twin_fetch_newer_than_the_twin),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
