/* SPDX-License-Identifier: MIT */
/* File upload on a machine without libcurl. The library loads libcurl on the first HTTPS
 * request only; this program is linked with -Wl,--wrap=dlopen and its dlopen() refuses libcurl
 * as a machine without the package would. The device connects over MQTT all the same, the
 * upload ends with IOTC_ERR_NOT_SUPPORTED and a message naming libcurl, and telemetry goes on. */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"
#include "iotc/upload.h"

void *__real_dlopen(const char *file, int mode);
void *__wrap_dlopen(const char *file, int mode);

static atomic_int curl_asked;

void *__wrap_dlopen(const char *file, int mode) {
  if (file != NULL && strstr(file, "libcurl") != NULL) {
    atomic_fetch_add(&curl_asked, 1);
    return NULL;
  }
  return __real_dlopen(file, mode);
}

typedef struct outcome {
  pthread_mutex_t mu;
  int done;
  iotc_result result;
  char message[IOTC_ERROR_MESSAGE_SIZE];
} outcome;

static void on_done(void *ctx, const iotc_upload_result *r) {
  outcome *o = ctx;
  pthread_mutex_lock(&o->mu);
  o->done++;
  o->result = r->result;
  snprintf(o->message, sizeof o->message, "%s", r->error->message);
  pthread_mutex_unlock(&o->mu);
}

static int done_count(outcome *o) {
  pthread_mutex_lock(&o->mu);
  int n = o->done;
  pthread_mutex_unlock(&o->mu);
  return n;
}

static void an_upload_without_libcurl_is_not_supported_and_telemetry_goes_on(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = central_new("upload-nocurl", &dev);
  assert_non_null(c);
  assert_int_equal(central_connect(c), 0);
  assert_int_equal(atomic_load(&curl_asked), 0); /* MQTT needs no libcurl */

  outcome o = {.mu = PTHREAD_MUTEX_INITIALIZER};
  iotc_upload_options opts;
  iotc_upload_options_init(&opts);
  opts.blob_name = "nocurl.txt";
  opts.on_done = on_done;
  opts.user_context = &o;
  static const char data[] = "no libcurl here";
  assert_int_equal(iotc_client_upload_buffer(c, data, sizeof data - 1, &opts, NULL, NULL),
                   IOTC_OK);
  for (int i = 0; i < 3000 && done_count(&o) == 0; ++i) {
    central_sleep_ms(10);
  }
  pthread_mutex_lock(&o.mu);
  assert_int_equal(o.done, 1);
  assert_int_equal(o.result, IOTC_ERR_NOT_SUPPORTED);
  assert_non_null(strstr(o.message, "libcurl"));
  pthread_mutex_unlock(&o.mu);
  assert_int_equal(atomic_load(&curl_asked), 1);

  assert_int_equal(central_telemetry_round_trip(c, dev.id, 1), 0);
  iotc_client_destroy(c);
  pthread_mutex_destroy(&o.mu);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(an_upload_without_libcurl_is_not_supported_and_telemetry_goes_on),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
