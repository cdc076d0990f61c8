/* SPDX-License-Identifier: MIT */
/* C2D messages whose property bag the hub got wrong: the properties that decode reach the C2D
 * handler, in order; the others are left out with a warning that counts them. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hub_ctl.h"
#include "iotc/log.h"

typedef struct c2d_seen {
  pthread_mutex_t mu;
  int count;
  char body[32];
  char properties[256]; /* "name=value;" for each */
} c2d_seen;

static void on_c2d(iotc_client *client, const iotc_c2d_message *m, void *ctx) {
  (void)client;
  c2d_seen *s = ctx;
  pthread_mutex_lock(&s->mu);
  s->count++;
  snprintf(s->body, sizeof s->body, "%.*s", (int)m->payload_len, (const char *)m->payload);
  s->properties[0] = '\0';
  for (size_t i = 0; i < m->property_count; i++) {
    size_t used = strlen(s->properties);
    snprintf(s->properties + used, sizeof s->properties - used, "%s=%s;", m->properties[i].name,
             m->properties[i].value);
  }
  pthread_mutex_unlock(&s->mu);
}

static pthread_mutex_t warning_mu = PTHREAD_MUTEX_INITIALIZER;
static char warning[256];

static void on_log(iotc_log_level level, const char *message, void *ctx) {
  (void)ctx;
  if (level != IOTC_LOG_WARN || strstr(message, "cloud-to-device") == NULL) return;
  pthread_mutex_lock(&warning_mu);
  snprintf(warning, sizeof warning, "%s", message);
  pthread_mutex_unlock(&warning_mu);
}

static int seen_count(c2d_seen *s) {
  pthread_mutex_lock(&s->mu);
  int n = s->count;
  pthread_mutex_unlock(&s->mu);
  return n;
}

static void undecodable_properties_are_left_out_and_counted(void **state) {
  (void)state;
  hub_test *t = hub_test_new("c2d-bags");
  assert_non_null(t);
  assert_non_null(hub_test_client(t));
  c2d_seen seen = {PTHREAD_MUTEX_INITIALIZER, 0, "", ""};
  assert_int_equal(iotc_client_on_c2d(t->client, on_c2d, &seen), IOTC_OK);
  iotc_log_set_handler(on_log, IOTC_LOG_WARN, NULL);
  assert_int_equal(iotc_client_connect(t->client, HUB_WAIT_MS, NULL), IOTC_OK);
  /* A truncated escape, an empty key and an encoded NUL between two good properties. */
  assert_int_equal(hub_do(&t->hub, "{\"op\":\"publish\",\"qos\":1,\"payload\":\"hello\",\"topic\":"
                                   "\"devices/c2d-bags/messages/devicebound/"
                                   "color=green&bad%%2=x&=v&%%24.mid=7&nul=%%00\"}"),
                   0);
  for (int i = 0; i < 500 && seen_count(&seen) == 0; i++) { /* bounded: 5 s */
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  iotc_log_set_handler(NULL, IOTC_LOG_ERROR, NULL);
  pthread_mutex_lock(&seen.mu);
  assert_int_equal(seen.count, 1);
  assert_string_equal(seen.body, "hello");
  assert_string_equal(seen.properties, "color=green;$.mid=7;");
  pthread_mutex_unlock(&seen.mu);
  pthread_mutex_lock(&warning_mu);
  printf("# %s\n", warning);
  assert_non_null(strstr(warning, "3 properties that cannot be decoded"));
  pthread_mutex_unlock(&warning_mu);
  hub_test_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(undecodable_properties_are_left_out_and_counted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
