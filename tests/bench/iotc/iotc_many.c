/* SPDX-License-Identifier: MIT */
/* iotc: K devices in one process, one iotc client each, connected with connection strings so
 * only the hubs are involved (the schedule is bench_many's). --executor-threads N (N > 0) runs
 * every client on one shared executor of N threads instead of a thread per client. */
#include <iotc/iotc.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_many.h"

static iotc_client **clients;
static iotc_telemetry_options opts;
static long executor_threads; /* 0: a worker thread per client */
static iotc_executor *executor;

static void bench_on_status(iotc_client *client, const iotc_status_info *info, void *ctx) {
  (void)client;
  size_t i = (size_t)(uintptr_t)ctx;
  if (info->status == IOTC_STATUS_CONNECTED) {
    bench_many_connected(i, 1);
  } else if (info->status == IOTC_STATUS_GAVE_UP) {
    fprintf(stderr, "iotc-many: device %zu gave up: %s\n", i, info->message);
    bench_many_connected(i, 0);
  }
}

static void bench_on_done(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  (void)ctx;
  bench_many_sent(result == IOTC_OK);
}

static void bench_init(size_t max) {
  clients = calloc(max, sizeof *clients);
  if (!clients) bench_fail("out of memory");
  iotc_telemetry_options_init(&opts);
  opts.on_done = bench_on_done;
  if (executor_threads == 0) return;
  iotc_executor_config ecfg;
  iotc_executor_config_init(&ecfg);
  ecfg.threads = (uint32_t)(executor_threads > UINT32_MAX ? UINT32_MAX : executor_threads);
  iotc_error err;
  if (iotc_executor_create(&ecfg, &executor, &err) != IOTC_OK) {
    bench_fail("iotc_executor_create: %s", err.message);
  }
}

static void bench_connect(size_t i, const bench_device *dev, const char *ca) {
  char cs[512];
  snprintf(cs, sizeof cs, "HostName=%s;DeviceId=%s;SharedAccessKey=%s", dev->hub, dev->id,
           dev->key);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = cs;
  cfg.ca_file = ca;
  cfg.executor = executor;
  if (iotc_client_create(&cfg, &clients[i], NULL) != IOTC_OK) bench_fail("iotc_client_create");
  if (iotc_client_on_status(clients[i], bench_on_status, (void *)(uintptr_t)i) != IOTC_OK)
    bench_fail("iotc_client_on_status");
  iotc_result rc = iotc_client_connect(clients[i], 0, NULL);
  if (rc != IOTC_OK && rc != IOTC_ERR_TIMEOUT) {
    fprintf(stderr, "iotc-many: device %zu: connect: %s\n", i, iotc_strerror(rc));
    bench_many_connected(i, 0);
  }
}

static void bench_send(size_t i, uint32_t seq) {
  char payload[BENCH_PAYLOAD_SIZE + 1];
  bench_payload(payload, seq);
  if (iotc_client_send_telemetry(clients[i], payload, &opts) != IOTC_OK) bench_many_sent(0);
}

static void bench_close_all(size_t n) {
  /* The numbers are taken: close without waiting for acknowledgements. */
  for (size_t i = 0; i < n; i++) (void)iotc_client_disconnect(clients[i], 0);
  for (size_t i = 0; i < n; i++) iotc_client_destroy(clients[i]);
  free(clients);
  iotc_error err;
  if (iotc_executor_destroy(executor, &err) != IOTC_OK) {
    bench_fail("iotc_executor_destroy: %s", err.message);
  }
}

int main(int argc, char **argv) {
  static const bench_many_ops ops = {bench_init, bench_connect, bench_send, bench_close_all};
  executor_threads = bench_arg_long(argc, argv, "--executor-threads", 0);
  return bench_many_main(argc, argv, &ops);
}
