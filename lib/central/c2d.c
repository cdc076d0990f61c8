/* SPDX-License-Identifier: MIT */
/* Cloud-to-device messages (c2d.c): a message with a method-name property is a queued command
 * (run through commands.c, unanswered); any other goes to the application's C2D handler with
 * its property bag decoded. Locking: worker only; the handler is read under mu. */
#include <stdlib.h>
#include <string.h>

#include "central/client_internal.h"
#include "central/json.h"
#include "common/log.h"
#include "iotc/hub_topic.h"

/* Payload of a queued command as JSON: raw JSON stays, `@` (no parameter) becomes null,
 * anything else becomes a JSON string. */
static char *queued_payload(const char *p, size_t n) {
  if (n == 0 || (n == 1 && p[0] == '@')) return strdup("null");
  if (memchr(p, '\0', n) == NULL && iotc__json_check(p, n, NULL) == NULL) return strdup(p);
  char *raw = malloc(n + 1);
  if (raw == NULL) return NULL;
  memcpy(raw, p, n);
  raw[n] = '\0';
  iotc__sbuf b = {0};
  iotc__sbuf_add_json_string(&b, raw);
  free(raw);
  return iotc__sbuf_take(&b, NULL);
}

static void process_c2d(iotc_client *c, iotc__event *ev, const iotc_hub_c2d_message *m) {
  if (m->method_name.ptr) {
    char name[256];
    size_t n = 0;
    iotc_hub_view comp = {0}, cmd = {0};
    if (iotc_hub_property_decode(m->method_name, name, sizeof name, &n) != IOTC_OK ||
        iotc_hub_command_name_split((iotc_hub_view){name, n}, &comp, &cmd) != IOTC_OK) {
      IOTC_LOGW("ignoring a queued command with a malformed method-name");
      return;
    }
    char *comp_s = iotc__view_dup(comp), *cmd_s = iotc__view_dup(cmd);
    char *payload = queued_payload(ev->payload, ev->payload_len);
    if (cmd_s && payload && (comp.ptr == NULL || comp_s)) {
      iotc__commands_run(c, comp_s, cmd_s, payload, strlen(payload), NULL);
    }
    free(comp_s);
    free(cmd_s);
    free(payload);
    return;
  }
  pthread_mutex_lock(&c->mu);
  iotc_c2d_fn fn = c->c2d_fn;
  void *fctx = c->c2d_ctx;
  pthread_mutex_unlock(&c->mu);
  if (fn == NULL) {
    IOTC_LOGI("a cloud-to-device message arrived and no C2D handler is set: discarded");
    return;
  }
  /* decode the property bag into name/value strings */
  size_t count = 0;
  iotc_hub_property_iter it;
  iotc_hub_property_view pv;
  if (iotc_hub_property_iter_init(&it, m->properties) == IOTC_OK) {
    iotc_result r;
    while ((r = iotc_hub_property_next(&it, &pv)) != IOTC_ERR_NO_MATCH && r != IOTC_ERR_INVALID_ARG) {
      if (r == IOTC_OK) count++;
    }
  }
  iotc_property *props = count ? calloc(count, sizeof *props) : NULL;
  char *text = malloc(m->properties.len * 2 + 2); /* decoded keys and values never grow */
  size_t used = 0, i = 0;
  if ((count && props == NULL) || text == NULL) {
    free(props);
    free(text);
    return;
  }
  if (count && iotc_hub_property_iter_init(&it, m->properties) == IOTC_OK) {
    iotc_result r;
    while (i < count &&
           (r = iotc_hub_property_next(&it, &pv)) != IOTC_ERR_NO_MATCH && r != IOTC_ERR_INVALID_ARG) {
      if (r != IOTC_OK) continue;
      size_t kn = 0, vn = 0;
      char *k = text + used;
      if (iotc_hub_property_decode(pv.key, k, pv.key.len + 1, &kn) != IOTC_OK) continue;
      char *v = k + kn + 1;
      if (iotc_hub_property_decode(pv.value, v, pv.value.len + 1, &vn) != IOTC_OK) continue;
      used += kn + 1 + vn + 1;
      props[i].name = k;
      props[i].value = v;
      i++;
    }
  }
  iotc_c2d_message msg = {ev->payload, ev->payload_len, props, i};
  atomic_store(&c->in_handler, true);
  fn(c, &msg, fctx);
  atomic_store(&c->in_handler, false);
  free(props);
  free(text);
}

void iotc__c2d_on_message(iotc_client *c, iotc__event *ev, const iotc_hub_c2d_message *m) {
  process_c2d(c, ev, m);
}
