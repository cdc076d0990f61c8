/* SPDX-License-Identifier: MIT */
/* Raw Paho: process start to first telemetry acknowledged. Provisions over DPS MQTT (register,
 * poll the operation), destroys the DPS client (a second live Paho client slows the next connect),
 * connects to the assigned hub and sends one QoS 1 message. Prints the wall-clock time of the
 * acknowledgement; the harness subtracts the time it started the process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "paho_common.h"

/* The last DPS response, handed from Paho's thread to the main thread. */
static struct {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int status;          /* HTTP-like status from the topic; 0 while waiting */
  long retry_after_s;
  char body[4096];
  int acked;           /* the hub acknowledged the telemetry message */
  int failed;
} resp = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, {0}, 0, 0};

static int bench_on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m) {
  (void)ctx;
  (void)topic_len;
  /* $dps/registrations/res/{status}/?$rid={rid}[&retry-after={s}] */
  const char *prefix = "$dps/registrations/res/";
  if (strncmp(topic, prefix, strlen(prefix)) == 0) {
    pthread_mutex_lock(&resp.lock);
    resp.status = atoi(topic + strlen(prefix));
    const char *ra = strstr(topic, "retry-after=");
    resp.retry_after_s = ra ? atol(ra + 12) : 0;
    size_t n = (size_t)m->payloadlen < sizeof resp.body - 1 ? (size_t)m->payloadlen : sizeof resp.body - 1;
    memcpy(resp.body, m->payload, n);
    resp.body[n] = '\0';
    pthread_cond_signal(&resp.cond);
    pthread_mutex_unlock(&resp.lock);
  }
  MQTTAsync_freeMessage(&m);
  MQTTAsync_free(topic);
  return 1;
}

static void bench_on_lost(void *ctx, char *cause) {
  (void)ctx;
  (void)cause;
}

/* Copies the string value of "name" in a flat JSON text (DPS answers have no escapes in these). */
static int json_string(const char *json, const char *name, char *out, size_t size) {
  char pattern[64];
  snprintf(pattern, sizeof pattern, "\"%s\":\"", name);
  const char *p = strstr(json, pattern);
  if (!p) return -1;
  p += strlen(pattern);
  const char *end = strchr(p, '"');
  if (!end || (size_t)(end - p) >= size) return -1;
  memcpy(out, p, (size_t)(end - p));
  out[end - p] = '\0';
  return 0;
}

static int dps_request(paho_conn *c, const char *topic, const char *payload) {
  pthread_mutex_lock(&resp.lock);
  resp.status = 0;
  pthread_mutex_unlock(&resp.lock);
  MQTTAsync_message m = MQTTAsync_message_initializer;
  m.payload = (void *)payload;
  m.payloadlen = (int)strlen(payload);
  m.qos = 1;
  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  int rc = MQTTAsync_sendMessage(c->handle, topic, &m, &ro);
  if (rc != MQTTASYNC_SUCCESS) bench_fail("DPS publish: %d", rc);
  pthread_mutex_lock(&resp.lock);
  while (resp.status == 0) pthread_cond_wait(&resp.cond, &resp.lock);
  int status = resp.status;
  pthread_mutex_unlock(&resp.lock);
  return status;
}

static void bench_on_subscribed(void *ctx, MQTTAsync_successData *data) {
  (void)data;
  paho_conn *c = ctx;
  pthread_mutex_lock(&c->lock);
  c->done = 2;
  pthread_cond_signal(&c->cond);
  pthread_mutex_unlock(&c->lock);
}

static void bench_on_sub_failed(void *ctx, MQTTAsync_failureData *data) {
  (void)data;
  paho_conn *c = ctx;
  pthread_mutex_lock(&c->lock);
  c->done = 3;
  pthread_cond_signal(&c->cond);
  pthread_mutex_unlock(&c->lock);
}

static void provision(const char *dps, const char *scope, const char *device, const char *key,
                      const char *ca, const char *model, char *hub, size_t hub_size) {
  char user[400], resource[300], password[700];
  snprintf(user, sizeof user, "%s/registrations/%s/api-version=" PAHO_DPS_API_VERSION, scope,
           device);
  snprintf(resource, sizeof resource, "%s/registrations/%s", scope, device);
  paho_sas_token(key, resource, "registration", 3600, password, sizeof password);

  paho_conn c;
  paho_conn_create(&c, dps, device);
  MQTTAsync_setCallbacks(c.handle, &c, bench_on_lost, bench_on_message, NULL);
  int rc = paho_conn_connect(&c, user, password, ca, 10);
  if (rc != 0) bench_fail("DPS connect failed: %d", rc);

  MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
  ro.onSuccess = bench_on_subscribed;
  ro.onFailure = bench_on_sub_failed;
  ro.context = &c;
  if (MQTTAsync_subscribe(c.handle, "$dps/registrations/res/#", 1, &ro) != MQTTASYNC_SUCCESS)
    bench_fail("DPS subscribe");
  pthread_mutex_lock(&c.lock);
  while (c.done < 2) pthread_cond_wait(&c.cond, &c.lock);
  int sub = c.done;
  pthread_mutex_unlock(&c.lock);
  if (sub != 2) bench_fail("DPS subscribe refused");

  char topic[512], body[512], op[256];
  snprintf(body, sizeof body, "{\"registrationId\":\"%s\",\"payload\":{\"modelId\":\"%s\"}}",
           device, model);
  int status = dps_request(&c, "$dps/registrations/PUT/iotdps-register/?$rid=1", body);
  for (int rid = 2; status == 202 && rid < 100; rid++) {
    if (json_string(resp.body, "operationId", op, sizeof op) != 0) bench_fail("DPS: no operationId");
    bench_sleep((double)resp.retry_after_s);
    snprintf(topic, sizeof topic,
             "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=%d&operationId=%s", rid, op);
    status = dps_request(&c, topic, " ");
  }
  if (status != 200 || json_string(resp.body, "assignedHub", hub, hub_size) != 0)
    bench_fail("DPS: status %d: %.200s", status, resp.body);
  paho_conn_close(&c);
}

static void bench_on_acked(void *ctx, MQTTAsync_successData *data) {
  (void)ctx;
  (void)data;
  double t = bench_unix_ms();
  pthread_mutex_lock(&resp.lock);
  resp.acked = 1;
  printf("{\"ok\":true,\"acked_unix_ms\":%.3f}\n", t);
  fflush(stdout);
  pthread_cond_signal(&resp.cond);
  pthread_mutex_unlock(&resp.lock);
}

static void bench_on_send_failed(void *ctx, MQTTAsync_failureData *data) {
  (void)ctx;
  (void)data;
  pthread_mutex_lock(&resp.lock);
  resp.failed = 1;
  pthread_cond_signal(&resp.cond);
  pthread_mutex_unlock(&resp.lock);
}

int main(int argc, char **argv) {
  const char *dps = bench_arg_required(argc, argv, "--dps");
  const char *scope = bench_arg_required(argc, argv, "--scope");
  const char *device = bench_arg_required(argc, argv, "--device");
  const char *key = bench_arg_required(argc, argv, "--key");
  const char *ca = bench_arg_required(argc, argv, "--ca");
  const char *model = bench_arg(argc, argv, "--model", "dtmi:com:example:Thermostat;1");

  char hub[256];
  provision(dps, scope, device, key, ca, model, hub, sizeof hub);

  char user[400], resource[300], password[700], topic[300];
  snprintf(user, sizeof user, "%s/%s/?api-version=" PAHO_HUB_API_VERSION "&model-id=%s", hub,
           device, model);
  snprintf(resource, sizeof resource, "%s/devices/%s", hub, device);
  paho_sas_token(key, resource, NULL, 3600, password, sizeof password);
  paho_telemetry_topic(device, topic, sizeof topic);
  paho_conn c;
  paho_conn_create(&c, hub, device);
  int rc = paho_conn_connect(&c, user, password, ca, 10);
  if (rc != 0) bench_fail("hub connect failed: %d", rc);

  if (paho_send_telemetry(c.handle, topic, 0, bench_on_acked, bench_on_send_failed, NULL) !=
      MQTTASYNC_SUCCESS)
    bench_fail("publish");
  pthread_mutex_lock(&resp.lock);
  while (!resp.acked && !resp.failed) pthread_cond_wait(&resp.cond, &resp.lock);
  int failed = resp.failed;
  pthread_mutex_unlock(&resp.lock);
  paho_conn_close(&c);
  if (failed) bench_fail("telemetry not acknowledged");
  return 0;
}
