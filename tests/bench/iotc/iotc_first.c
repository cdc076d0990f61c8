/* SPDX-License-Identifier: MIT */
/* iotc: process start to first telemetry acknowledged: DPS over MQTT, hub connect, one QoS 1
 * message. Prints the wall-clock time of the acknowledgement; the harness subtracts the time it
 * started the process. --cache FILE: the client's cache file; once it holds the assigned hub, a
 * start skips DPS (the warm start). */
#include <iotc/iotc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int done;
static iotc_result outcome;
static double acked_at;

static void bench_on_done(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  (void)ctx;
  double t = bench_unix_ms();
  pthread_mutex_lock(&lock);
  acked_at = t;
  outcome = result;
  done = 1;
  pthread_cond_signal(&cond);
  pthread_mutex_unlock(&lock);
}

int main(int argc, char **argv) {
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.dps_endpoint = bench_arg_required(argc, argv, "--dps");
  cfg.id_scope = bench_arg_required(argc, argv, "--scope");
  cfg.device_id = bench_arg_required(argc, argv, "--device");
  cfg.device_key = bench_arg_required(argc, argv, "--key");
  cfg.ca_file = bench_arg_required(argc, argv, "--ca");
  cfg.model_id = bench_arg(argc, argv, "--model", "dtmi:com:example:Thermostat;1");
  cfg.cache_file = bench_arg(argc, argv, "--cache", NULL);

  iotc_client *client;
  if (iotc_client_create(&cfg, &client, NULL) != IOTC_OK) bench_fail("iotc_client_create");
  iotc_error err;
  memset(&err, 0, sizeof err);
  iotc_result rc = iotc_client_connect(client, 30000, &err);
  if (rc != IOTC_OK) bench_fail("connect: %s: %s", iotc_strerror(rc), err.message);

  char payload[BENCH_PAYLOAD_SIZE + 1];
  bench_payload(payload, 0);
  iotc_telemetry_options opts;
  iotc_telemetry_options_init(&opts);
  opts.on_done = bench_on_done;
  rc = iotc_client_send_telemetry(client, payload, &opts);
  if (rc != IOTC_OK) bench_fail("send: %s", iotc_strerror(rc));
  pthread_mutex_lock(&lock);
  while (!done) pthread_cond_wait(&cond, &lock);
  pthread_mutex_unlock(&lock);
  if (outcome == IOTC_OK) {
    printf("{\"ok\":true,\"acked_unix_ms\":%.3f}\n", acked_at);
    fflush(stdout);
  }
  (void)iotc_client_disconnect(client, 2000);
  iotc_client_destroy(client);
  if (outcome != IOTC_OK) bench_fail("telemetry failed: %s", iotc_strerror(outcome));
  return 0;
}
