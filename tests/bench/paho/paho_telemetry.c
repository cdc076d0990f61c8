/* SPDX-License-Identifier: MIT */
/* Raw Paho: one device sends --count QoS 1 telemetry messages of 200 bytes, keeping --inflight
 * of them unacknowledged with its own window (maxInflight = the window, so Paho never queues
 * beyond it). Prints one JSON line: messages, seconds from first send to last ack, CPU. */
#include <stdio.h>

#include "bench_util.h"
#include "bench_window.h"
#include "paho_common.h"

static paho_conn conn;
static char topic[300];

static void bench_on_acked(void *ctx, MQTTAsync_successData *data) {
  (void)ctx;
  (void)data;
  bench_window_done(1);
}

static void bench_on_failed(void *ctx, MQTTAsync_failureData *data) {
  (void)ctx;
  (void)data;
  bench_window_done(0);
}

static void bench_send(uint32_t seq) {
  int rc = paho_send_telemetry(conn.handle, topic, seq, bench_on_acked, bench_on_failed, NULL);
  if (rc != MQTTASYNC_SUCCESS) {
    fprintf(stderr, "paho-telemetry: send: %d\n", rc);
    bench_window_done(0);
  }
}

int main(int argc, char **argv) {
  bench_telemetry_args a = bench_telemetry_parse(argc, argv);

  char user[400], resource[300], password[700];
  snprintf(user, sizeof user, "%s/%s/?api-version=" PAHO_HUB_API_VERSION, a.hub, a.device);
  snprintf(resource, sizeof resource, "%s/devices/%s", a.hub, a.device);
  paho_sas_token(a.key, resource, NULL, 3600, password, sizeof password);
  paho_telemetry_topic(a.device, topic, sizeof topic);

  paho_conn_create(&conn, a.hub, a.device);
  int rc = paho_conn_connect(&conn, user, password, a.ca, (int)a.window);
  if (rc != 0) bench_fail("connect failed: %d", rc);
  bench_window_result r = bench_window_run_warm(&a, bench_send);
  long rss = bench_rss_kib();
  paho_conn_close(&conn);
  if (r.failed) bench_fail("%ld messages failed", r.failed);
  bench_telemetry_print(&r, rss);
  return 0;
}
