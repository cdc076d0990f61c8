/* SPDX-License-Identifier: MIT */
/* iotc: recovery time of a persist directory holding a backlog. Fills --dir with --mb MiB of
 * 200-byte QoS 1 telemetry accepted while offline (never connected), destroys the client, then
 * times iotc_client_create() on the directory (it reads every segment and queues every message
 * again). No network: the connection string names a hub that is never dialled. Prints one JSON
 * line: {"messages","bytes","fill_s","recover_ms","rss_kib"}. */
#include <iotc/iotc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

int main(int argc, char **argv) {
  const char *dir = NULL;
  unsigned long mb = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--dir") == 0) dir = argv[i + 1];
    else if (strcmp(argv[i], "--mb") == 0) mb = strtoul(argv[i + 1], NULL, 10);
    else bench_fail("usage: iotc-persist-recovery --dir DIR [--mb MiB]");
  }
  if (dir == NULL || mb == 0 || mb > 4096) bench_fail("usage: iotc-persist-recovery --dir DIR [--mb MiB]");
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = "HostName=bench.invalid;DeviceId=bench;SharedAccessKey=AAAA";
  cfg.persist_dir = dir;
  cfg.persist_max_bytes = (uint64_t)mb * 1024u * 1024u * 2u;
  cfg.persist_durability = IOTC_PERSIST_SYNC_OS; /* the fill is not what is measured */
  iotc_client *c = NULL;
  iotc_error err;
  if (iotc_client_create(&cfg, &c, &err) != IOTC_OK) bench_fail("create: %s", err.message);
  char payload[BENCH_PAYLOAD_SIZE + 1];
  iotc_persist_stats ps;
  uint64_t messages = 0;
  double t0 = bench_now();
  do {
    for (int k = 0; k < 1000; k++) {
      bench_payload(payload, (uint32_t)messages);
      iotc_result r = iotc_client_send_telemetry(c, payload, NULL);
      if (r != IOTC_OK) bench_fail("send: %s", iotc_strerror(r));
      messages++;
    }
    if (iotc_client_get_persist_stats(c, &ps) != IOTC_OK) bench_fail("stats");
  } while (ps.bytes < (uint64_t)mb * 1024u * 1024u);
  double fill = bench_now() - t0;
  iotc_client_destroy(c);
  double t1 = bench_now();
  if (iotc_client_create(&cfg, &c, &err) != IOTC_OK) bench_fail("create again: %s", err.message);
  double recover = bench_now() - t1;
  if (iotc_client_get_persist_stats(c, &ps) != IOTC_OK || ps.recovered != messages) {
    bench_fail("recovered %llu of %llu messages", (unsigned long long)ps.recovered,
               (unsigned long long)messages);
  }
  long rss = bench_rss_kib();
  uint64_t bytes = ps.bytes;
  iotc_client_destroy(c);
  printf("{\"ok\":true,\"messages\":%llu,\"bytes\":%llu,\"fill_s\":%.3f,\"recover_ms\":%.1f,\"rss_kib\":%ld}\n",
         (unsigned long long)messages, (unsigned long long)bytes, fill, recover * 1000.0, rss);
  return 0;
}
