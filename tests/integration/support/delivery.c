/* SPDX-License-Identifier: MIT */
/* Test support: a numbered telemetry stream. */
#include "delivery.h"

#include <stdio.h>
#include <stdlib.h>

int delivery_check(const char *device_id, size_t expected, delivery *out) {
  *out = (delivery){.expected = expected, .in_order = true};
  json_t *messages = central_messages(device_id);
  if (!messages) return -1;
  unsigned char *seen = calloc(expected ? expected : 1, 1);
  long last_first = -1;
  size_t i;
  json_t *m;
  json_array_foreach(messages, i, m) {
    json_t *n = json_object_get(json_object_get(m, "json"), "n");
    if (!json_is_integer(n)) continue; /* not part of the stream */
    out->received++;
    json_int_t v = json_integer_value(n);
    if (v < 0 || (size_t)v >= expected) {
      fprintf(stderr, "delivery: unexpected n=%lld\n", (long long)v);
      out->unexpected++;
      continue;
    }
    if (seen[v]) {
      out->duplicates++;
      continue;
    }
    seen[v] = 1;
    out->distinct++;
    if (v < last_first) {
      fprintf(stderr, "delivery: n=%lld arrived after n=%ld\n", (long long)v, last_first);
      out->in_order = false;
    }
    last_first = (long)v;
  }
  for (size_t k = 0; k < expected; k++) {
    if (!seen[k]) {
      if (out->missing < 10) fprintf(stderr, "delivery: n=%zu never arrived\n", k);
      out->missing++;
    }
  }
  fprintf(stderr, "delivery: %zu sent, %zu received, %zu distinct, %zu duplicates, %zu missing, %s\n",
          expected, out->received, out->distinct, out->duplicates, out->missing,
          out->in_order ? "in order" : "OUT OF ORDER");
  free(seen);
  json_decref(messages);
  return 0;
}

void delivery_send(iotc_client *client, size_t first, size_t count, uint32_t pace_ms,
                   central_results *results) {
  iotc_telemetry_options opts;
  iotc_telemetry_options_init(&opts);
  opts.qos = 1;
  opts.on_done = central_on_done;
  opts.user_context = results;
  for (size_t i = first; i < first + count; i++) {
    char json[64];
    snprintf(json, sizeof json, "{\"n\":%zu}", i);
    iotc_result r = iotc_client_send_telemetry(client, json, &opts);
    if (r != IOTC_OK) {
      fprintf(stderr, "delivery: n=%zu not queued: %s\n", i, iotc_strerror(r));
      central_on_done(client, r, results);
    }
    if (pace_ms) central_sleep_ms(pace_ms);
  }
}
