/* SPDX-License-Identifier: MIT */
/* Writable-property reconciliation, connection strings and reconnect back-off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "central/backoff.h"
#include "central/conn_string.h"
#include "central/twin.h"
#include "common/json.h"

typedef struct seen {
  int count;
  char text[8][128];
} seen;

static void record(void *ctx, const iotc__twin_update *u) {
  seen *s = ctx;
  if (s->count < 8) {
    snprintf(s->text[s->count], sizeof s->text[0], "%s/%s=%s@%lld",
             u->component ? u->component : "-", u->name,
             u->value_json ? u->value_json : "(out of memory)", (long long)u->version);
  }
  s->count++;
}

static bool knows_thermostat(void *ctx, const char *name) {
  (void)ctx;
  return strcmp(name, "thermostat2") == 0;
}

static seen pending_of(const char *twin_json, int64_t *version) {
  iotc__twin *t = NULL;
  const char *why = "";
  seen s = {0};
  assert_int_equal(iotc__twin_parse(twin_json, strlen(twin_json), &t, version, &why), IOTC_OK);
  iotc__twin_pending(t, knows_thermostat, NULL, record, &s);
  iotc__twin_free(t);
  return s;
}

static void only_properties_newer_than_their_acknowledgement_are_pending(void **state) {
  (void)state;
  int64_t v = 0;
  seen s = pending_of("{\"desired\":{\"name\":\"a\",\"brightness\":3,\"fan\":1,\"$version\":9},"
                      "\"reported\":{\"name\":{\"value\":\"a\",\"ac\":200,\"av\":9},"
                      "\"brightness\":{\"value\":2,\"ac\":200,\"av\":4},\"$version\":3}}",
                      &v);
  assert_int_equal(v, 9);
  assert_int_equal(s.count, 2);
  assert_string_equal(s.text[0], "-/brightness=3@9");
  assert_string_equal(s.text[1], "-/fan=1@9");
}

static void component_values_are_unwrapped_and_marked_or_known_components_recognised(void **state) {
  (void)state;
  int64_t v = 0;
  seen s = pending_of("{\"desired\":{\"thermostat1\":{\"__t\":\"c\",\"target\":{\"value\":57}},"
                      "\"thermostat2\":{\"target\":21.5},\"obj\":{\"a\":1,\"b\":2},\"$version\":4},"
                      "\"reported\":{\"thermostat1\":{\"__t\":\"c\",\"target\":{\"av\":3}}}}",
                      &v);
  assert_int_equal(s.count, 3);
  assert_string_equal(s.text[0], "thermostat1/target=57@4");
  assert_string_equal(s.text[1], "thermostat2/target=21.5@4");
  assert_string_equal(s.text[2], "-/obj={\"a\":1,\"b\":2}@4");
}

static void malformed_twins_are_refused_not_crashed_on(void **state) {
  (void)state;
  const char *bad[] = {"", "nope", "[]", "{\"desired\":1}", "{\"desired\":{}}",
                       "{\"desired\":{\"$version\":\"1\"}}",
                       "{\"desired\":{\"$version\":1},\"reported\":[]}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    iotc__twin *t = NULL;
    int64_t v = 0;
    const char *why = NULL;
    assert_int_equal(iotc__twin_parse(bad[i], strlen(bad[i]), &t, &v, &why), IOTC_ERR_MALFORMED);
    assert_null(t);
    assert_non_null(why);
  }
}

static void defaults_see_desired_and_reported_entries(void **state) {
  (void)state;
  const char *j = "{\"desired\":{\"a\":1,\"$version\":2},\"reported\":{\"c\":{\"__t\":\"c\",\"b\":1}}}";
  iotc__twin *t = NULL;
  int64_t v = 0;
  const char *why = "";
  assert_int_equal(iotc__twin_parse(j, strlen(j), &t, &v, &why), IOTC_OK);
  assert_true(iotc__twin_has_desired(t, NULL, "a"));
  assert_false(iotc__twin_has_desired(t, NULL, "b"));
  assert_true(iotc__twin_has_reported(t, "c", "b"));
  assert_false(iotc__twin_has_reported(t, NULL, "a"));
  iotc__twin_free(t);
}

static void a_patch_visits_each_property_and_skips_deletions(void **state) {
  (void)state;
  const char *p = "{\"brightness\":5,\"gone\":null,\"thermostat2\":{\"__t\":\"c\",\"target\":{\"value\":1}},"
                  "\"$version\":12}";
  seen s = {0};
  int64_t v = 0;
  const char *why = "";
  assert_int_equal(iotc__twin_patch(p, strlen(p), NULL, NULL, record, &s, -1, INT64_MIN, &v, &why), IOTC_OK);
  assert_int_equal(v, 12);
  assert_int_equal(s.count, 2);
  assert_string_equal(s.text[0], "-/brightness=5@12");
  assert_string_equal(s.text[1], "thermostat2/target=1@12");
  assert_int_equal(iotc__twin_patch("{bad", 4, NULL, NULL, record, &s, -1, INT64_MIN, &v, &why),
                   IOTC_ERR_MALFORMED);
}

static void a_patch_takes_the_body_version_else_the_topic_version(void **state) {
  (void)state;
  const char *why = "";
  seen s = {0};
  int64_t v = 0;
  const char *bare = "{\"a\":1}", *text = "{\"a\":1,\"$version\":\"7\"}";
  const char *negative = "{\"a\":1,\"$version\":-3}", *body = "{\"a\":1,\"$version\":7}";
  assert_int_equal(iotc__twin_patch(bare, strlen(bare), NULL, NULL, record, &s, 12, INT64_MIN, &v,
                                    &why), IOTC_OK);
  assert_int_equal(v, 12);
  assert_string_equal(s.text[0], "-/a=1@12");
  assert_int_equal(iotc__twin_patch(text, strlen(text), NULL, NULL, record, &s, 12, INT64_MIN, &v,
                                    &why), IOTC_OK);
  assert_int_equal(v, 12);
  assert_int_equal(iotc__twin_patch(negative, strlen(negative), NULL, NULL, record, &s, -1,
                                    INT64_MIN, &v, &why), IOTC_OK);
  assert_int_equal(v, -1);
  assert_int_equal(iotc__twin_patch(body, strlen(body), NULL, NULL, record, &s, 9, INT64_MIN, &v,
                                    &why), IOTC_OK);
  assert_int_equal(v, 7);
  /* not newer than the limit: nothing visited */
  int before = s.count;
  assert_int_equal(iotc__twin_patch(body, strlen(body), NULL, NULL, record, &s, 9, 7, &v, &why),
                   IOTC_ERR_NO_MATCH);
  assert_int_equal(s.count, before);
}

/* `{"desired":{"$version":3,"x":[[...1...]]}}`, or the patch `{"$version":3,"x":[[...]]}`,
 * with the value of x nested @p depth deep. Heap; free(). NULL when out of memory (no assertion
 * here: it also runs on a thread of its own, where a cmocka failure cannot be reported). */
static char *nested(bool patch, size_t depth) {
  char *s = malloc(2 * depth + 64);
  if (s == NULL) return NULL;
  char *p = s + sprintf(s, patch ? "{\"$version\":3,\"x\":" : "{\"desired\":{\"$version\":3,\"x\":");
  memset(p, '[', depth);
  p[depth] = '1';
  memset(p + depth + 1, ']', depth);
  strcpy(p + 2 * depth + 1, patch ? "}" : "}}");
  return s;
}

static void twins_and_patches_nested_beyond_the_limit_are_refused(void **state) {
  (void)state;
  /* jansson would parse these, then overflow the worker's stack dumping the value. */
  char *twin = nested(false, 1000), *patch = nested(true, 1000);
  if (twin == NULL || patch == NULL) {
    free(twin);
    free(patch);
    fail_msg("out of memory");
  }
  iotc__twin *t = NULL;
  int64_t v = 0;
  const char *why = "";
  seen s = {0};
  assert_int_equal(iotc__twin_parse(twin, strlen(twin), &t, &v, &why), IOTC_ERR_MALFORMED);
  assert_null(t);
  assert_int_equal(iotc__twin_patch(patch, strlen(patch), NULL, NULL, record, &s, -1, INT64_MIN, &v, &why),
                   IOTC_ERR_MALFORMED);
  assert_int_equal(s.count, 0);
  free(twin);
  free(patch);
}

static void *reconcile_deepest(void *arg) {
  seen *s = arg;
  /* Two levels are the document's own objects. */
  char *twin = nested(false, IOTC__JSON_MAX_DEPTH - 2), *patch = nested(true, IOTC__JSON_MAX_DEPTH - 1);
  iotc__twin *t = NULL;
  int64_t v = 0;
  const char *why = "";
  if (twin == NULL || patch == NULL) {
    s->count = -100;
    free(twin);
    free(patch);
    return NULL;
  }
  if (iotc__twin_parse(twin, strlen(twin), &t, &v, &why) == IOTC_OK) {
    iotc__twin_pending(t, NULL, NULL, record, s);
    iotc__twin_free(t);
  }
  if (iotc__twin_patch(patch, strlen(patch), NULL, NULL, record, s, -1, INT64_MIN, &v, &why) != IOTC_OK) {
    s->count = -100;
  }
  free(twin);
  free(patch);
  return NULL;
}

static void the_deepest_accepted_twin_fits_the_worker_stack(void **state) {
  (void)state;
  seen s = {0};
  pthread_attr_t attr;
  pthread_t th;
  assert_int_equal(pthread_attr_init(&attr), 0);
  assert_int_equal(pthread_attr_setstacksize(&attr, 256 * 1024), 0); /* the client worker's */
  assert_int_equal(pthread_create(&th, &attr, reconcile_deepest, &s), 0);
  assert_int_equal(pthread_join(th, NULL), 0);
  pthread_attr_destroy(&attr);
  assert_int_equal(s.count, 2);
}

static void a_connection_string_gives_host_device_and_key(void **state) {
  (void)state;
  iotc__conn_string cs;
  const char *why = "";
  assert_int_equal(iotc__conn_string_parse("HostName=h.azure-devices.net;DeviceId=d1;"
                                           "SharedAccessKey=a2V5PQ==",
                                           &cs, &why),
                   IOTC_OK);
  assert_string_equal(cs.host, "h.azure-devices.net");
  assert_string_equal(cs.device_id, "d1");
  assert_string_equal(cs.key, "a2V5PQ==");
  iotc__conn_string_clear(&cs);
  const char *bad[] = {"", "HostName=h;DeviceId=d", "HostName=h;DeviceId=d;SharedAccessKey=",
                       "HostName=h;HostName=i;DeviceId=d;SharedAccessKey=k", "junk",
                       "HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey=k"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(iotc__conn_string_parse(bad[i], &cs, &why), IOTC_ERR_INVALID_ARG);
    assert_null(cs.key);
  }
}

static void back_off_grows_exponentially_with_full_jitter_up_to_the_cap(void **state) {
  (void)state;
  assert_int_equal(iotc__backoff_ms(0, 1000, 60000, false, 0), 0);
  assert_int_equal(iotc__backoff_ms(0, 1000, 60000, false, 1000), 1000);
  assert_int_equal(iotc__backoff_ms(3, 1000, 60000, false, 8000), 8000);
  assert_int_equal(iotc__backoff_ms(3, 1000, 60000, false, 8001), 0);
  assert_true(iotc__backoff_ms(20, 1000, 60000, false, UINT32_MAX) <= 60000);
  assert_int_equal(iotc__backoff_ms(40, 1000, 60000, false, 60000), 60000);
  /* throttled: never less than half the cap */
  for (uint32_t r = 0; r < 5000; r += 97) {
    uint32_t d = iotc__backoff_ms(2, 1000, 60000, true, r);
    assert_true(d >= 2000 && d <= 4000);
  }
  uint32_t a = iotc__backoff_random(), b = iotc__backoff_random();
  assert_true(a != b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(only_properties_newer_than_their_acknowledgement_are_pending),
      cmocka_unit_test(component_values_are_unwrapped_and_marked_or_known_components_recognised),
      cmocka_unit_test(malformed_twins_are_refused_not_crashed_on),
      cmocka_unit_test(defaults_see_desired_and_reported_entries),
      cmocka_unit_test(a_patch_visits_each_property_and_skips_deletions),
      cmocka_unit_test(a_patch_takes_the_body_version_else_the_topic_version),
      cmocka_unit_test(twins_and_patches_nested_beyond_the_limit_are_refused),
      cmocka_unit_test(the_deepest_accepted_twin_fits_the_worker_stack),
      cmocka_unit_test(a_connection_string_gives_host_device_and_key),
      cmocka_unit_test(back_off_grows_exponentially_with_full_jitter_up_to_the_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
