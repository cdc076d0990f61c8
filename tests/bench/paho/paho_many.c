/* SPDX-License-Identifier: MIT */
/* Raw Paho: K devices in one process, one MQTTAsync client each (the schedule is bench_many's). */
#include <stdio.h>
#include <stdlib.h>

#include "bench_many.h"
#include "paho_common.h"

typedef struct bench_dev {
  MQTTAsync handle;
  size_t index;
  char topic[300];
} bench_dev;

static bench_dev *devs;

static void bench_on_connected(void *ctx, MQTTAsync_successData *data) {
  (void)data;
  bench_many_connected(((bench_dev *)ctx)->index, 1);
}

static void bench_on_connect_failed(void *ctx, MQTTAsync_failureData *data) {
  bench_dev *d = ctx;
  fprintf(stderr, "paho-many: device %zu: connect failed: %d\n", d->index, data ? data->code : -1);
  bench_many_connected(d->index, 0);
}

static void bench_on_acked(void *ctx, MQTTAsync_successData *data) {
  (void)ctx;
  (void)data;
  bench_many_sent(1);
}

static void bench_on_send_failed(void *ctx, MQTTAsync_failureData *data) {
  (void)ctx;
  (void)data;
  bench_many_sent(0);
}

static void bench_connect(size_t i, const bench_device *dev, const char *ca) {
  bench_dev *d = &devs[i];
  d->index = i;
  char uri[300], user[400], resource[300], password[700];
  snprintf(uri, sizeof uri, "ssl://%s", dev->hub);
  snprintf(user, sizeof user, "%s/%s/?api-version=" PAHO_HUB_API_VERSION, dev->hub, dev->id);
  snprintf(resource, sizeof resource, "%s/devices/%s", dev->hub, dev->id);
  paho_sas_token(dev->key, resource, NULL, 3600, password, sizeof password);
  paho_telemetry_topic(dev->id, d->topic, sizeof d->topic);
  MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
  co.MQTTVersion = MQTTVERSION_3_1_1;
  if (MQTTAsync_createWithOptions(&d->handle, uri, dev->id, MQTTCLIENT_PERSISTENCE_NONE, NULL,
                                  &co) != MQTTASYNC_SUCCESS)
    bench_fail("MQTTAsync_create");
  MQTTAsync_SSLOptions ssl;
  MQTTAsync_connectOptions o;
  paho_connect_options(&o, &ssl, user, password, ca, 10);
  o.onSuccess = bench_on_connected;
  o.onFailure = bench_on_connect_failed;
  o.context = d;
  if (MQTTAsync_connect(d->handle, &o) != MQTTASYNC_SUCCESS) bench_on_connect_failed(d, NULL);
}

static void bench_send(size_t i, uint32_t seq) {
  if (paho_send_telemetry(devs[i].handle, devs[i].topic, seq, bench_on_acked,
                          bench_on_send_failed, NULL) != MQTTASYNC_SUCCESS)
    bench_many_sent(0);
}

static void bench_close_all(size_t n) {
  /* Send every DISCONNECT first, then destroy: no per-client wait. */
  for (size_t i = 0; i < n; i++) {
    MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
    d.timeout = 0;
    MQTTAsync_disconnect(devs[i].handle, &d);
  }
  bench_sleep(0.2);
  for (size_t i = 0; i < n; i++) MQTTAsync_destroy(&devs[i].handle);
}

static void bench_init(size_t max) {
  devs = calloc(max, sizeof *devs);
  if (!devs) bench_fail("out of memory");
}

int main(int argc, char **argv) {
  static const bench_many_ops ops = {bench_init, bench_connect, bench_send, bench_close_all};
  int rc = bench_many_main(argc, argv, &ops);
  free(devs);
  return rc;
}
