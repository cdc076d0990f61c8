/* SPDX-License-Identifier: MIT */
/* Secrets never reach the log: with a DEBUG log handler installed, run provisioning with a
 * group key, connect, telemetry, a command, SAS renewal and a refused connect, then look for any
 * key (raw, URL-encoded or in part), SAS signature or token in everything that was logged and in
 * the error details. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"
#include "iotc/log.h"
#include "iotc/sas.h"

typedef struct log_sink {
  pthread_mutex_t lock;
  char *text;
  size_t len, cap;
  size_t lines;
} log_sink;

static log_sink sink = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void append(const char *s) {
  size_t n = strlen(s);
  if (sink.len + n + 2 > sink.cap) {
    size_t cap = (sink.cap + n + 2) * 2;
    char *grown = realloc(sink.text, cap);
    if (!grown) return;
    sink.text = grown;
    sink.cap = cap;
  }
  memcpy(sink.text + sink.len, s, n);
  sink.len += n;
  sink.text[sink.len++] = '\n';
  sink.text[sink.len] = '\0';
}

static void on_log(iotc_log_level level, const char *message, void *ctx) {
  (void)level;
  (void)ctx;
  pthread_mutex_lock(&sink.lock);
  append(message);
  sink.lines++;
  pthread_mutex_unlock(&sink.lock);
}

static void on_ping(iotc_client *c, const iotc_command_request *r, iotc_command_response *p, void *ctx) {
  (void)c;
  (void)r;
  (void)ctx;
  p->status = 200;
}

/* Fails when @p text holds @p secret or a telling piece of it, in any usual encoding. */
static void assert_no_secret(const char *text, const char *what, const char *secret) {
  char variants[4][256];
  size_t k = 0;
  snprintf(variants[k++], sizeof variants[0], "%s", secret);
  /* Without its padding, and the first 12 characters alone. */
  snprintf(variants[k], sizeof variants[0], "%s", secret);
  char *pad = strchr(variants[k], '=');
  if (pad) *pad = '\0';
  k++;
  snprintf(variants[k++], sizeof variants[0], "%.12s", secret);
  /* URL-encoded. */
  size_t o = 0;
  for (const char *p = secret; *p && o + 4 < sizeof variants[0]; p++) {
    if (*p == '+' || *p == '/' || *p == '=')
      o += (size_t)snprintf(variants[k] + o, sizeof variants[0] - o, "%%%02X", (unsigned char)*p);
    else
      variants[k][o++] = *p;
  }
  variants[k][o] = '\0';
  k++;
  for (size_t i = 0; i < k; i++) {
    if (strstr(text, variants[i])) {
      fprintf(stderr, "the %s appears (as \"%s\")\n", what, variants[i]);
      fail();
    }
  }
}

static void assert_no_token(const char *text) {
  static const char *const markers[] = {"sig=", "SharedAccessSignature sr", "SharedAccessKey=", NULL};
  for (const char *const *m = markers; *m; m++) {
    if (strstr(text, *m)) {
      fprintf(stderr, "a SAS token or key appears (\"%s\")\n", *m);
      fail();
    }
  }
}

static void keys_tokens_and_signatures_are_never_logged(void **state) {
  (void)state;
  const emu_info *emu = central_emu();
  iotc_log_set_handler(on_log, IOTC_LOG_DEBUG, NULL);

  char device_id[128];
  emu_unique_id("secrets", device_id, sizeof device_id);
  char derived[64];
  size_t len = 0;
  assert_int_equal(iotc_derive_device_key(emu->group_key, device_id, derived, sizeof derived, &len), IOTC_OK);
  iotc_client_config cfg;
  central_group_config(device_id, &cfg);
  cfg.sas_ttl_s = 20;
  iotc_client *client = central_client(&cfg);
  assert_non_null(client);
  assert_int_equal(iotc_client_on_command(client, NULL, "ping", on_ping, NULL), IOTC_OK);
  assert_int_equal(central_connect(client), 0);
  central_results sent;
  central_results_init(&sent);
  iotc_telemetry_options opts;
  central_telemetry_options(&opts, &sent);
  assert_int_equal(iotc_client_send_telemetry(client, "{\"temp\":1}", &opts), IOTC_OK);
  assert_true(central_counter_wait(&sent.ok, 1));
  assert_int_equal(central_wait_subscribed(device_id, "$iothub/methods/POST/#"), 0);
  long status = 0;
  json_t *r = central_command(device_id, NULL, "ping", "{}", &status);
  json_decref(r);
  /* SAS renewal: a second connection, about 16 s in. */
  uint64_t deadline = central_now_ms() + 40000;
  iotc_client_stats stats = {0};
  while (central_now_ms() < deadline) {
    assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
    if (stats.connects >= 2) break;
    central_sleep_ms(200);
  }
  assert_true(stats.connects >= 2);
  assert_int_equal(iotc_client_send_telemetry(client, "{\"temp\":2}", &opts), IOTC_OK);
  assert_true(central_counter_wait(&sent.ok, 2));
  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  iotc_client_destroy(client);

  /* A refused connect (wrong key): its error detail must not carry the key either. */
  const char *wrong = "c2VjcmV0LXdyb25nLWtleS1mb3ItdGhpcy10ZXN0IQ==";
  iotc_client_config_init(&cfg);
  cfg.id_scope = emu->id_scope;
  cfg.device_id = device_id;
  cfg.device_key = wrong;
  cfg.dps_endpoint = emu->dps_mqtt;
  cfg.ca_file = emu->ca_file;
  cfg.give_up_after = 1;
  client = central_client(&cfg);
  assert_non_null(client);
  iotc_error err;
  iotc_error_clear(&err);
  assert_int_not_equal(iotc_client_connect(client, CENTRAL_WAIT_MS, &err), IOTC_OK);
  iotc_client_destroy(client);
  iotc_log_set_handler(NULL, IOTC_LOG_ERROR, NULL);

  pthread_mutex_lock(&sink.lock);
  append(err.message);
  append(err.transport);
  fprintf(stderr, "%zu log lines checked\n", sink.lines);
  assert_true(sink.lines >= 10); /* DEBUG logging happened: the check is not vacuous */
  assert_no_secret(sink.text, "group key", emu->group_key);
  assert_no_secret(sink.text, "derived device key", derived);
  assert_no_secret(sink.text, "wrong device key", wrong);
  assert_no_token(sink.text);
  pthread_mutex_unlock(&sink.lock);
  central_results_destroy(&sent);
  free(sink.text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(keys_tokens_and_signatures_are_never_logged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
