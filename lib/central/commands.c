/* SPDX-License-Identifier: MIT */
/* Commands (see commands.h): a method request is checked (its $rid answerable, its name and
 * payload well formed, the device model), its handler runs on the worker, and its response is
 * queued for responses.c; a handler may answer later, also after a reconnect.
 * Locking: worker only, except `pending`, under mu (the API answers late responses). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central/client_internal.h"
#include "common/json.h"
#include "central/model_client.h"
#include "central/stack_check.h"
#include "common/log.h"
#include "iotc/hub_topic.h"

#define PENDING_CMD_MAX_AGE_MS (5u * 60u * 1000u)

void iotc__commands_respond(iotc_client *c, const char *rid, int status, const char *payload) {
  iotc__resp_queue(c, rid, status, payload);
  if (iotc__conn_can_send(&c->conn)) iotc__resp_pump(c, c->conn.session);
}

void iotc__commands_refuse(iotc_client *c, const char *rid, int status, const char *message) {
  iotc__sbuf b = {0};
  iotc__sbuf_adds(&b, "{\"message\":");
  iotc__sbuf_add_json_string(&b, message);
  iotc__sbuf_adds(&b, "}");
  char *p = iotc__sbuf_take(&b, NULL);
  iotc__commands_respond(c, rid, status, p ? p : "{}");
  free(p);
}

static iotc_command_fn find_command(iotc_client *c, const char *comp, const char *name,
                                    void **out_ctx) {
  iotc_command_fn fn = NULL;
  pthread_mutex_lock(&c->mu);
  c->stats.commands_received++;
  const iotc__handler *h = iotc__handler_find(&c->cmd_handlers, comp, name);
  if (h) {
    fn = (iotc_command_fn)h->fn;
    *out_ctx = h->ctx;
  } else {
    fn = c->any_cmd;
    *out_ctx = c->any_cmd_ctx;
  }
  pthread_mutex_unlock(&c->mu);
  return fn;
}

/* False when out of memory: without its record the response would never be sent. */
static bool add_pending_cmd(iotc_client *c, const char *rid) {
  size_t n = strlen(rid);
  iotc__pending_cmd *p = malloc(sizeof *p + n + 1);
  if (p == NULL) return false;
  memcpy(p->rid, rid, n + 1);
  p->created_ms = iotc__client_now(c);
  pthread_mutex_lock(&c->mu);
  /* forget requests the service has long given up on */
  for (iotc__pending_cmd **pp = &c->commands.pending; *pp;) {
    if (p->created_ms - (*pp)->created_ms > PENDING_CMD_MAX_AGE_MS) {
      iotc__pending_cmd *old = *pp;
      *pp = old->next;
      free(old);
    } else {
      pp = &(*pp)->next;
    }
  }
  p->next = c->commands.pending;
  c->commands.pending = p;
  pthread_mutex_unlock(&c->mu);
  return true;
}

char *iotc__view_dup(iotc_hub_view v) {
  if (v.ptr == NULL) return NULL;
  char *s = malloc(v.len + 1);
  if (s) {
    memcpy(s, v.ptr, v.len);
    s[v.len] = '\0';
  }
  return s;
}

/* Send what the handler put in @p resp; @p dangling: its payload points into a returned frame. */
static void answer_command(iotc_client *c, const char *rid, const char *name,
                           const iotc_command_response *resp, bool dangling) {
  const char *out = resp->payload_json ? resp->payload_json : "{}";
  if (dangling) {
    IOTC_LOGE("command '%s': the handler's payload_json points into its own stack frame, which "
              "is gone when iotc reads it; use iotc_command_response_set_payload(), which copies "
              "it; answering 500", name);
    iotc__commands_refuse(c, rid, 500, "the device produced an invalid response");
    return;
  }
  if (iotc__json_check(out, strlen(out), NULL) != NULL) {
    IOTC_LOGE("command '%s': the handler's response is not valid JSON; answering 500", name);
    iotc__commands_refuse(c, rid, 500, "the device produced an invalid response");
    return;
  }
  int status = resp->status;
  if (status < 100 || status > 999) {
    IOTC_LOGE("command '%s': the handler's status %d is not HTTP-like; answering 500", name,
              status);
    iotc__commands_refuse(c, rid, 500, "the device produced an invalid status");
    return;
  }
  iotc__commands_respond(c, rid, status, out);
}

/* Run the handler for one command; @p rid NULL for a queued (C2D) command. */
void iotc__commands_run(iotc_client *c, const char *comp, const char *name, const char *payload,
                        size_t payload_len, const char *rid) {
  char why[IOTC__MODEL_WHY_SIZE];
  int refusal = iotc__client_model_command(c, comp, name, payload, payload_len, why);
  if (refusal) {
    IOTC_LOGW("command '%s%s%s': %s: answering %d", comp ? comp : "", comp ? "*" : "", name, why,
              refusal);
    if (rid) iotc__commands_refuse(c, rid, refusal, why);
    return;
  }
  void *fctx = NULL;
  iotc_command_fn fn = find_command(c, comp, name, &fctx);
  if (fn == NULL) {
    char msg[200];
    snprintf(msg, sizeof msg, "unknown command '%s%s%s': the device has no handler for it",
             comp ? comp : "", comp ? "*" : "", name);
    IOTC_LOGW("%s", msg);
    if (rid) iotc__commands_refuse(c, rid, 404, msg);
    return;
  }
  if (rid && !add_pending_cmd(c, rid)) {
    iotc__count_dropped(c, 1);
    IOTC_LOGE("command '%s' dropped: out of memory (answering 503; its handler is not run)", name);
    iotc__commands_refuse(c, rid, 503, "the device is out of memory");
    return;
  }
  iotc_command_request req = {comp, name, payload, payload_len, rid, rid == NULL};
  iotc_command_response resp = {200, NULL, false, NULL};
  atomic_store(&c->in_handler, true);
  fn(c, &req, &resp, fctx);
  atomic_store(&c->in_handler, false);
  /* Checked before anything else runs: a later call could reuse the handler's frame. */
  bool dangling = resp.payload_json != NULL && resp.payload_json != resp.payload_copy &&
                  iotc__points_into_dead_frame(resp.payload_json, c->stack_lo, c->stack_hi,
                                               __builtin_frame_address(0));
  if (rid != NULL && !resp.later && iotc__pending_cmd_take(c, rid)) { /* else answered already */
    answer_command(c, rid, name, &resp, dangling);
  }
  free(resp.payload_copy);
}

void iotc__commands_on_request(iotc_client *c, const iotc__event *ev) {
  iotc_hub_method_request m;
  iotc_result pr = iotc_hub_topic_method_parse(ev->topic, ev->topic_len, &m);
  char *rid = pr == IOTC_OK || pr == IOTC_ERR_MALFORMED ? iotc__view_dup(m.request_id) : NULL;
  char *comp = NULL, *name = NULL;
  char probe[IOTC_HUB_REQUEST_ID_MAX + 48];
  if (rid && iotc_hub_topic_method_response(200, rid, probe, sizeof probe, NULL) != IOTC_OK) {
    /* No response could carry this id: running the handler would do work nobody hears of. */
    IOTC_LOGW("refusing a command whose $rid cannot be answered (empty, over %d characters, or "
              "not printable ASCII): its handler is not run", IOTC_HUB_REQUEST_ID_MAX);
    free(rid);
    return;
  }
  if ((pr == IOTC_OK || pr == IOTC_ERR_MALFORMED) && m.request_id.ptr != NULL && rid == NULL) {
    iotc__count_dropped(c, 1);
    IOTC_LOGE("a command dropped: out of memory (no copy of its request id to answer it)");
    return;
  }
  if (rid == NULL) { /* nothing to answer to: the service times the request out */
    IOTC_LOGW("ignoring a method request topic without a usable $rid");
    return;
  }
  /* A request the service is waiting for is always answered, even when it makes no sense. */
  if (pr != IOTC_OK || m.command.ptr == NULL) {
    IOTC_LOGW("a method request with a malformed name: answering 400");
    iotc__commands_refuse(c, rid, 400, "malformed command name: expected 'command' or 'component*command'");
    goto out;
  }
  comp = iotc__view_dup(m.component);
  name = iotc__view_dup(m.command);
  if (name == NULL || (m.component.ptr && comp == NULL)) {
    iotc__count_dropped(c, 1);
    IOTC_LOGE("a command dropped: out of memory (answering 503)");
    iotc__commands_refuse(c, rid, 503, "the device is out of memory");
    goto out;
  }
  const char *payload = ev->payload;
  size_t plen = ev->payload_len;
  if (plen == 0) {
    payload = "null";
    plen = 4;
  } else if (iotc__json_check(payload, plen, NULL) != NULL) {
    IOTC_LOGW("command '%s': the request payload is not valid JSON; answering 400", name);
    iotc__commands_refuse(c, rid, 400, "the command payload is not valid JSON");
    goto out;
  }
  iotc__commands_run(c, comp, name, payload, plen, rid);
out:
  free(rid);
  free(comp);
  free(name);
}

/* ---- hooks ------------------------------------------------------------------------------ */

static void on_teardown(iotc_client *c) {
  iotc__resp_completions(c); /* responses the drop interrupted go back in the queue */
}

const iotc__feature iotc__commands_feature = {NULL, on_teardown, NULL, NULL, NULL, NULL};
