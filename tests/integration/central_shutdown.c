/* SPDX-License-Identifier: MIT */
/* A small client program for the valgrind check: connect through DPS, send telemetry, report a
 * property, answer a command, then disconnect and destroy. Exits 0 when all of it worked; valgrind
 * (--error-exitcode) fails it on any leak or invalid access, and ctest on a thread left behind. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central.h"

static void on_ping(iotc_client *c, const iotc_command_request *r, iotc_command_response *p, void *ctx) {
  (void)c;
  (void)r;
  (void)ctx;
  p->status = 200;
  p->payload_json = "{\"pong\":true}";
}

/* A scheduled callback still pending at destroy frees its context when destroy completes it. */
static void free_pending(iotc_client *c, iotc_result result, void *ctx) {
  (void)c;
  if (result != IOTC_ERR_SHUTDOWN) fprintf(stderr, "central_shutdown: scheduled: %s\n", iotc_strerror(result));
  free(ctx);
}

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "central_shutdown: %s failed (line %d)\n", #cond, __LINE__); \
      return 1;                                                          \
    }                                                                    \
  } while (0)

int main(void) {
  central_device dev;
  CHECK(central_device_new("shutdown", &dev) == 0);
  iotc_client_config cfg;
  central_config(&dev, &cfg);
  iotc_client *client = central_client(&cfg);
  CHECK(client != NULL);
  CHECK(iotc_client_on_command(client, NULL, "ping", on_ping, NULL) == IOTC_OK);
  CHECK(central_connect(client) == 0);
  central_results done;
  central_results_init(&done);
  iotc_telemetry_options opts;
  central_telemetry_options(&opts, &done);
  for (int i = 0; i < 5; i++) CHECK(iotc_client_send_telemetry(client, "{\"temp\":21}", &opts) == IOTC_OK);
  CHECK(iotc_client_report_property(client, NULL, "swVersion", "\"1.0.0\"", central_on_done, &done) == IOTC_OK);
  CHECK(central_counter_wait(&done.ok, 6));
  CHECK(central_wait_subscribed(dev.id, "$iothub/methods/POST/#") == 0);
  long status = 0;
  json_t *r = central_command(dev.id, NULL, "ping", "{}", &status);
  CHECK(r != NULL && json_integer_value(json_object_get(r, "responseCode")) == 200);
  json_decref(r);
  /* Something still queued at destroy must be released too. */
  iotc_result closed = iotc_client_disconnect(client, 10000);
  if (closed != IOTC_OK) fprintf(stderr, "central_shutdown: disconnect: %s\n", iotc_strerror(closed));
  CHECK(closed == IOTC_OK);
  CHECK(iotc_client_send_telemetry(client, "{\"temp\":22}", &opts) == IOTC_OK);
  char *pending = strdup("scheduled for later");
  CHECK(pending != NULL && iotc_client_schedule(client, 600000, free_pending, pending, NULL) == IOTC_OK);
  iotc_client_destroy(client);
  CHECK(central_counter_get(&done.failed) == 1);
  central_results_destroy(&done);
  printf("central_shutdown: clean\n");
  return 0;
}
