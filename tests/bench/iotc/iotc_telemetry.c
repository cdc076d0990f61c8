/* SPDX-License-Identifier: MIT */
/* iotc: one device sends --count QoS 1 telemetry messages of 200 bytes, keeping --inflight of them
 * unacknowledged (the client's max_inflight; each completion sends the next). Connects with a
 * connection string so only the hub is involved. Prints one JSON line like paho-telemetry.
 * --persist DIR [--durability each|interval|os]: the same through the persistent queue. */
#include <iotc/iotc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"
#include "bench_window.h"

static iotc_client *client;
static iotc_telemetry_options opts;
static atomic_int first_error;

static void bench_on_done(iotc_client *c, iotc_result result, void *ctx) {
  (void)c;
  (void)ctx;
  if (result != IOTC_OK) {
    int expected = 0;
    atomic_compare_exchange_strong(&first_error, &expected, (int)result);
  }
  bench_window_done(result == IOTC_OK);
}

static void bench_send(uint32_t seq) {
  char payload[BENCH_PAYLOAD_SIZE + 1];
  bench_payload(payload, seq);
  iotc_result rc = iotc_client_send_telemetry(client, payload, &opts);
  if (rc != IOTC_OK) bench_on_done(client, rc, NULL);
}

int main(int argc, char **argv) {
  /* The persistence options are taken out before the shared parser sees the rest. */
  const char *persist = NULL;
  iotc_persist_durability durability = IOTC_PERSIST_SYNC_EACH;
  int n = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--persist") == 0 && i + 1 < argc) {
      persist = argv[++i];
    } else if (strcmp(argv[i], "--durability") == 0 && i + 1 < argc) {
      const char *d = argv[++i];
      durability = strcmp(d, "os") == 0 ? IOTC_PERSIST_SYNC_OS :
                   strcmp(d, "interval") == 0 ? IOTC_PERSIST_SYNC_INTERVAL : IOTC_PERSIST_SYNC_EACH;
    } else {
      argv[n++] = argv[i];
    }
  }
  argc = n;
  bench_telemetry_args a = bench_telemetry_parse(argc, argv);

  char cs[512];
  snprintf(cs, sizeof cs, "HostName=%s;DeviceId=%s;SharedAccessKey=%s", a.hub, a.device,
           a.key);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = cs;
  cfg.ca_file = a.ca;
  cfg.max_inflight = (uint16_t)a.window;
  cfg.queue_capacity = (size_t)a.window + 16;
  cfg.persist_dir = persist;
  cfg.persist_durability = durability;
  iotc_error cerr;
  if (iotc_client_create(&cfg, &client, &cerr) != IOTC_OK) bench_fail("iotc_client_create: %s", cerr.message);
  iotc_error err;
  memset(&err, 0, sizeof err);
  iotc_result rc = iotc_client_connect(client, 30000, &err);
  if (rc != IOTC_OK) bench_fail("connect: %s: %s", iotc_strerror(rc), err.message);

  iotc_telemetry_options_init(&opts);
  opts.qos = 1;
  opts.on_done = bench_on_done;
  bench_window_result r = bench_window_run_warm(&a, bench_send);
  long rss = bench_rss_kib();
  (void)iotc_client_disconnect(client, 2000);
  iotc_client_destroy(client);
  if (r.failed)
    bench_fail("%ld messages failed: %s", r.failed, iotc_strerror((iotc_result)first_error));
  bench_telemetry_print(&r, rss);
  return 0;
}
