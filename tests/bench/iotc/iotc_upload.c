/* SPDX-License-Identifier: MIT */
/* iotc: one device uploads --mib MiB (a generated stream, 4 MiB blocks) to the application's
 * storage and prints one JSON line: seconds, client CPU, MiB/s. With --telemetry RATE it also
 * offers RATE QoS 1 messages per second for --window seconds without an upload, then again
 * while the upload runs, and reports the acknowledged rate of each window. */
#include <iotc/iotc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"

static iotc_client *client;
static atomic_long acked;
static atomic_int upload_done;
static iotc_result upload_result;
static char upload_message[IOTC_ERROR_MESSAGE_SIZE];
static uint64_t stream_left;

static void on_telemetry(iotc_client *c, iotc_result result, void *ctx) {
  (void)c;
  (void)ctx;
  if (result == IOTC_OK) atomic_fetch_add(&acked, 1);
}

static iotc_result read_stream(void *ctx, void *buf, size_t size, size_t *got) {
  (void)ctx;
  size_t n = stream_left < size ? (size_t)stream_left : size;
  memset(buf, 'u', n);
  stream_left -= n;
  *got = n;
  return IOTC_OK;
}

static void on_upload(void *ctx, const iotc_upload_result *r) {
  (void)ctx;
  upload_result = r->result;
  snprintf(upload_message, sizeof upload_message, "%s", r->error->message);
  atomic_store(&upload_done, 1);
}

/* Offer @p rate messages per second until @p until (bench_now() seconds) or, when @p while_upload,
 * until the upload ends; returns the acknowledged rate over the window. */
static double offer(long rate, double until, bool while_upload, uint32_t *seq) {
  iotc_telemetry_options opts;
  iotc_telemetry_options_init(&opts);
  opts.on_done = on_telemetry;
  long a0 = atomic_load(&acked);
  double t0 = bench_now();
  double next = t0;
  while (bench_now() < until && !(while_upload && atomic_load(&upload_done))) {
    char payload[BENCH_PAYLOAD_SIZE + 1];
    bench_payload(payload, (*seq)++);
    if (iotc_client_send_telemetry(client, payload, &opts) != IOTC_OK) bench_fail("send_telemetry");
    next += 1.0 / (double)rate;
    double wait = next - bench_now();
    if (wait > 0) bench_sleep(wait);
  }
  double t1 = bench_now();
  bench_sleep(0.5); /* the acknowledgements of the last messages */
  return (double)(atomic_load(&acked) - a0) / (t1 - t0);
}

int main(int argc, char **argv) {
  const char *hub = bench_arg_required(argc, argv, "--hub");
  const char *device = bench_arg_required(argc, argv, "--device");
  const char *key = bench_arg_required(argc, argv, "--key");
  const char *ca = bench_arg_required(argc, argv, "--ca");
  long mib = bench_arg_long(argc, argv, "--mib", 256);
  long rate = bench_arg_long(argc, argv, "--telemetry", 0);
  long window = bench_arg_long(argc, argv, "--window", 5);

  char cs[512];
  snprintf(cs, sizeof cs, "HostName=%s;DeviceId=%s;SharedAccessKey=%s", hub, device, key);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = cs;
  cfg.ca_file = ca;
  cfg.queue_capacity = 100000;
  if (iotc_client_create(&cfg, &client, NULL) != IOTC_OK) bench_fail("iotc_client_create");
  iotc_error err;
  memset(&err, 0, sizeof err);
  iotc_result rc = iotc_client_connect(client, 30000, &err);
  if (rc != IOTC_OK) bench_fail("connect: %s: %s", iotc_strerror(rc), err.message);

  uint32_t seq = 0;
  double alone = 0;
  if (rate > 0) alone = offer(rate, bench_now() + (double)window, false, &seq);

  stream_left = (uint64_t)mib * 1024u * 1024u;
  iotc_upload_options opts;
  iotc_upload_options_init(&opts);
  opts.blob_name = "bench/upload.bin";
  opts.on_done = on_upload;
  double cpu0 = bench_cpu_seconds();
  double t0 = bench_now();
  rc = iotc_client_upload_stream(client, stream_left, read_stream, NULL, &opts, NULL, &err);
  if (rc != IOTC_OK) bench_fail("upload: %s", err.message);
  double during = 0;
  if (rate > 0) during = offer(rate, t0 + 3600.0, true, &seq);
  while (!atomic_load(&upload_done)) bench_sleep(0.005);
  double seconds = bench_now() - t0;
  double cpu = bench_cpu_seconds() - cpu0;
  if (upload_result != IOTC_OK) bench_fail("upload: %s", upload_message);
  long rss = bench_rss_kib();
  (void)iotc_client_disconnect(client, 2000);
  iotc_client_destroy(client);
  printf("{\"ok\":true,\"bytes\":%lld,\"seconds\":%.6f,\"cpu_s\":%.6f,\"rss_kib\":%ld,"
         "\"telemetry_alone\":%.1f,\"telemetry_during\":%.1f}\n",
         (long long)mib * 1024 * 1024, seconds, cpu, rss, alone, during);
  return 0;
}
