/* SPDX-License-Identifier: MIT */
/* Cloud-to-device messages (c2d.c): a message with a method-name property is a queued command
 * (run through commands.c, unanswered); any other goes to the application's C2D handler with
 * its property bag decoded. Locking: worker only; the handler is read under mu. */
#include <stdlib.h>
#include <string.h>

#include "central/client_internal.h"
#include "common/json.h"
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

/* The property bag as name/value strings (sizes first, then buffers that fit); false when
 * memory ran out. Undecodable properties are left out with a log line. */
static bool decode_bag(iotc_hub_view bag, iotc_property **props_out, char **text_out,
                       size_t *count_out) {
  iotc_hub_bag_sizes n = {0, 0, 0};
  iotc_result r = iotc_hub_property_bag_decode(bag, NULL, 0, NULL, 0, &n);
  iotc_hub_property *pairs = n.count ? calloc(n.count, sizeof *pairs) : NULL;
  iotc_property *props = n.count ? calloc(n.count, sizeof *props) : NULL;
  char *text = malloc(n.text_len + 1);
  if ((n.count && (pairs == NULL || props == NULL)) || text == NULL) {
    free(pairs);
    free(props);
    free(text);
    return false;
  }
  if (r == IOTC_ERR_BUFFER_TOO_SMALL) {
    r = iotc_hub_property_bag_decode(bag, pairs, n.count, text, n.text_len + 1, &n);
  }
  size_t count = r == IOTC_OK ? n.count : 0;
  for (size_t i = 0; i < count; i++) props[i] = (iotc_property){pairs[i].key, pairs[i].value};
  free(pairs);
  if (n.skipped) {
    IOTC_LOGW("a cloud-to-device message carries %zu properties that cannot be decoded: left out",
              n.skipped);
  }
  *props_out = props;
  *text_out = text;
  *count_out = count;
  return true;
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
    } else {
      iotc__count_dropped(c, 1);
      IOTC_LOGE("a queued command '%.*s' dropped: out of memory", (int)n, name);
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
  iotc_property *props = NULL;
  char *text = NULL;
  size_t count = 0;
  if (!decode_bag(m->properties, &props, &text, &count)) {
    iotc__count_dropped(c, 1);
    IOTC_LOGE("a cloud-to-device message dropped: out of memory");
    return;
  }
  iotc_c2d_message msg = {ev->payload, ev->payload_len, props, count};
  atomic_store(&c->in_handler, true);
  fn(c, &msg, fctx);
  atomic_store(&c->in_handler, false);
  free(props);
  free(text);
}

void iotc__c2d_on_message(iotc_client *c, iotc__event *ev, const iotc_hub_c2d_message *m) {
  process_c2d(c, ev, m);
}
