/* SPDX-License-Identifier: MIT */
/* Command responses: queued by the worker and handed to Paho a few at a time, so a burst of
 * commands never overflows Paho's buffer and no response is dropped. A response whose write a
 * connection drop interrupted is sent again on the next connection; one still unsent when the
 * service has long given up on the request (PENDING_CMD_MAX_AGE_MS) is discarded with an error
 * log. Everything here runs on the worker (or in destroy), except resp_done on Paho threads. */
#include <stdlib.h>
#include <string.h>

#include "central/client_internal.h"
#include "common/log.h"
#include "iotc/hub_topic.h"

/* Responses handed to Paho and not yet written: well inside Paho's buffer (max_inflight + 64). */
#define RESP_WINDOW 16u
#define RESP_MAX_AGE_MS (5u * 60u * 1000u) /* IoT Hub's longest method timeout */

/* Paho thread (or inside iotc__session_destroy()): hand the completion to the worker. */
static void resp_done(iotc__session_op *base, int rc) {
  iotc__resp *r = (iotc__resp *)base;
  iotc_client *c = r->client;
  r->rc = rc;
  iotc__resp *head = atomic_load(&c->commands.resp_done);
  do {
    r->done_next = head;
  } while (!atomic_compare_exchange_weak(&c->commands.resp_done, &head, r));
  iotc__wake_from_paho(c);
}

void iotc__resp_queue(iotc_client *c, const char *rid, int status, const char *payload) {
  char topic[IOTC_HUB_REQUEST_ID_MAX + 48];
  size_t topic_len = 0;
  if (iotc_hub_topic_method_response(status, rid, topic, sizeof topic, &topic_len) != IOTC_OK) {
    IOTC_LOGE("cannot answer the command: its request id is not usable in a topic");
    return;
  }
  size_t len = strlen(payload);
  iotc__resp *r = malloc(sizeof *r + topic_len + 1 + len + 1);
  if (r == NULL) {
    iotc__count_dropped(c, 1);
    IOTC_LOGE("the command response (%d) is lost: out of memory", status);
    return;
  }
  memset(r, 0, sizeof *r);
  r->base.done = resp_done;
  r->client = c;
  r->created_ms = iotc__client_now(c);
  r->status = status;
  memcpy(r->data, topic, topic_len + 1);
  r->payload = r->data + topic_len + 1;
  memcpy(r->payload, payload, len + 1);
  r->payload_len = len;
  iotc__queue_push_back(&c->commands.resp, &r->link);
}

static iotc__resp *resp_of(iotc__link *l) { return IOTC__ENTRY(l, iotc__resp, link); }

bool iotc__resp_sendable(const iotc_client *c) {
  return c->commands.resp.head != NULL && c->commands.resp_out < RESP_WINDOW &&
         !c->commands.resp_refused;
}

static void push_front(iotc_client *c, iotc__resp *r) {
  iotc__queue_push_front(&c->commands.resp, &r->link);
}

void iotc__resp_pump(iotc_client *c, iotc__session *s) {
  uint64_t now = iotc__client_now(c);
  while (c->commands.resp.head && c->commands.resp_out < RESP_WINDOW) {
    iotc__resp *r = resp_of(iotc__queue_pop_front(&c->commands.resp));
    if (now - r->created_ms > RESP_MAX_AGE_MS) {
      IOTC_LOGE("the command response (%d) was not sent within 5 minutes: the service has given "
                "up on the request; discarded", r->status);
      free(r);
      continue;
    }
    c->commands.resp_out++;
    if (c->io->session_publish(s, r->data, r->payload, r->payload_len, 0, &r->base) != IOTC_OK) {
      c->commands.resp_out--;
      push_front(c, r); /* the connection is going away: sent on the next one */
      c->commands.resp_refused = true; /* until a completion or the next connection */
      return;
    }
  }
}

void iotc__resp_completions(iotc_client *c) {
  iotc__resp *done = atomic_exchange(&c->commands.resp_done, NULL); /* newest first */
  if (done || c->conn.session == NULL) c->commands.resp_refused = false;
  while (done) {
    iotc__resp *r = done;
    done = r->done_next;
    c->commands.resp_out--;
    if (r->rc == 0) {
      free(r);
    } else {
      push_front(c, r); /* interrupted by a drop: first on the next connection, in order */
    }
  }
}

void iotc__resp_free_all(iotc_client *c) {
  iotc__resp_completions(c);
  size_t n = 0;
  iotc__link *l;
  while ((l = iotc__queue_pop_front(&c->commands.resp)) != NULL) {
    free(resp_of(l));
    n++;
  }
  if (n) IOTC_LOGW("%zu command responses were not sent: the client was destroyed", n);
}

bool iotc__resp_all_written(const iotc_client *c) {
  return c->commands.resp.head == NULL && c->commands.resp_out == 0;
}
