/* SPDX-License-Identifier: MIT */
/* The registration loop shared by both transports: register, poll, back off, give up. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dps/dps_internal.h"
#include "dps/dps_keep_open.h"

#define DEFAULT_POLL_MS 2000u
/* Whatever the service says (retry-after 0 included), pauses have a floor that doubles with each
 * answer of the same kind in a row, so a misbehaving service cannot make us spin. */
#define FIRST_BACKOFF_MS 1000u /* after a 429 / 5xx */
#define FIRST_POLL_MS 50u      /* between status queries while DPS is assigning */
#define MIN_WAIT_MS 50u        /* even when max_poll_interval_ms is smaller */
#define MAX_DOUBLINGS 16u

/* Random extra wait of up to a quarter of @p base_ms, so a fleet does not retry in step. */
static uint64_t jitter(iotc_dps *dps, uint64_t base_ms) {
  if (base_ms < 4) {
    return 0;
  }
  dps->jitter_state = dps->jitter_state * 1103515245u + 12345u;
  return (uint64_t)((dps->jitter_state >> 8) % (unsigned)(base_ms / 4 + 1));
}

static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static uint64_t growing_floor(uint64_t first_ms, unsigned n) {
  return first_ms << (n < MAX_DOUBLINGS ? n : MAX_DOUBLINGS);
}

/* The pause before the next request: the service's hint (or @p no_hint_ms), at least the
 * growing floor, at most max_poll_ms, never below MIN_WAIT_MS. */
static uint64_t pause_ms(const iotc_dps *dps, const iotc__dps_reply *reply, uint64_t no_hint_ms,
                         uint64_t floor_ms) {
  uint64_t hint = reply->has_retry_after ? (uint64_t)reply->retry_after_s * 1000u : no_hint_ms;
  uint64_t wait = max64(hint, floor_ms);
  if (wait > dps->max_poll_ms) {
    wait = dps->max_poll_ms;
  }
  return max64(wait, MIN_WAIT_MS);
}

/* Why the deadline passed, in the terms of the last thing DPS said: @p last is the outcome of the
 * last answer (a retryable refusal, with its detail in @p last_err, or IOTC_OK while assigning),
 * @p last_status its status. */
static iotc_result out_of_time(iotc_result last, int last_status, const iotc_error *last_err,
                               iotc_error *err) {
  if (last == IOTC_ERR_THROTTLED || last == IOTC_ERR_SERVICE) {
    if (err) {
      *err = *last_err;
    }
    return last;
  }
  return iotc__dps_fail(err, IOTC_ERR_TIMEOUT, last_status,
                        "provisioning did not finish in time: DPS was still assigning the device "
                        "(last status %d)",
                        last_status);
}

static iotc_result run(iotc_dps *dps, const iotc__dps_transport *t, void *state,
                       uint64_t deadline, iotc_dps_registration *out, iotc_error *err) {
  char *operation_id = NULL;
  unsigned failures = 0;
  unsigned polls = 0;
  iotc_result r = IOTC_OK;
  /* The last answer, to report when the time runs out during the next request. */
  iotc_result last = IOTC_OK;
  int last_status = 0;
  iotc_error last_err;
  iotc_error_clear(&last_err);
  for (;;) {
    iotc__dps_reply reply = {0};
    r = t->request(dps, state, operation_id, deadline, &reply, err);
    if (r != IOTC_OK) {
      if (r == IOTC_ERR_TIMEOUT && last_status != 0 && iotc__dps_now_ms() >= deadline) {
        r = out_of_time(last, last_status, &last_err, err);
      }
      break;
    }
    IOTC_LOGD("dps: %s answered %d", operation_id ? "poll" : "register", reply.status);
    bool done = false;
    bool retryable = false;
    char *next_op = NULL;
    r = iotc__dps_interpret(&reply, &done, &next_op, &retryable, out, err);
    uint64_t wait_ms;
    if (r == IOTC_OK && done) {
      iotc__dps_reply_clear(&reply);
      break;
    }
    if (r == IOTC_OK) {
      /* An explicit retry-after 0 on the register's 202 is taken at its word once: the first
       * status query goes at once; the floor applies from its answer on. */
      bool at_once = operation_id == NULL && reply.has_retry_after && reply.retry_after_s == 0;
      free(operation_id);
      operation_id = next_op;
      failures = 0;
      wait_ms = at_once ? 0
                        : pause_ms(dps, &reply, DEFAULT_POLL_MS, growing_floor(FIRST_POLL_MS, polls++));
    } else if (retryable) {
      /* 429 / 5xx: the same request again, after retry-after or the back-off, the longer. */
      uint64_t base = pause_ms(dps, &reply, 0, growing_floor(FIRST_BACKOFF_MS, failures++));
      wait_ms = base + jitter(dps, base);
      if (wait_ms > max64(dps->max_poll_ms, MIN_WAIT_MS)) {
        wait_ms = base;
      }
      IOTC_LOGW("dps: %s; retrying in %llu ms", err ? err->message : "refused",
                (unsigned long long)wait_ms);
    } else {
      iotc__dps_reply_clear(&reply);
      break;
    }
    last = r;
    last_status = reply.status;
    if (err) {
      last_err = *err;
    }
    iotc__dps_reply_clear(&reply);
    if (iotc__dps_now_ms() + wait_ms >= deadline) {
      r = out_of_time(last, last_status, &last_err, err);
      break;
    }
    r = iotc__dps_sleep_until(dps, iotc__dps_now_ms() + wait_ms);
    if (r != IOTC_OK) {
      r = iotc__dps_fail(err, r, 0, "provisioning was cancelled");
      break;
    }
  }
  free(operation_id);
  return r;
}

iotc_result iotc_dps_run(iotc_dps *dps, iotc_dps_registration *out, iotc_error *err) {
  iotc_error_clear(err);
  if (out != NULL) {
    memset(out, 0, sizeof *out);
  }
  if (dps == NULL || out == NULL) {
    return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0, "handle or result is NULL");
  }
  const iotc__dps_transport *t = dps->transport != IOTC_DPS_TRANSPORT_HTTPS /* MQTT, MQTT_WS */
                                     ? iotc__dps_mqtt_transport()
                                     : iotc__dps_https_transport();
  iotc__dps_close_kept(dps);
  uint64_t deadline = iotc__dps_now_ms() + dps->timeout_ms;
  void *state = NULL;
  iotc_result r;
  if (iotc__dps_cancelled(dps)) {
    r = iotc__dps_fail(err, IOTC_ERR_CANCELLED, 0, "provisioning was cancelled");
  } else {
    r = t->open(dps, &state, deadline, err);
    if (r == IOTC_OK) {
      r = run(dps, t, state, deadline, out, err);
    }
    if (r == IOTC_OK && dps->keep_open) {
      dps->open_transport = t;
      dps->open_state = state;
    } else {
      t->close(dps, state);
    }
  }
  if (r != IOTC_OK) {
    iotc_dps_registration_clear(out);
    IOTC_LOGI("dps: registration of %s failed: %s", dps->registration_id,
              err ? err->message : iotc_strerror(r));
  }
  pthread_mutex_lock(&dps->lock);
  dps->cancelled = false;
  pthread_mutex_unlock(&dps->lock);
  return r;
}

iotc_result iotc_dps_register(const iotc_dps_config *cfg, iotc_dps_registration *out,
                              iotc_error *err) {
  if (out != NULL) {
    memset(out, 0, sizeof *out);
  }
  if (out == NULL) {
    return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0, "result is NULL");
  }
  iotc_dps *dps = NULL;
  iotc_result r = iotc_dps_create(cfg, &dps, err);
  if (r == IOTC_OK) {
    r = iotc_dps_run(dps, out, err);
  }
  iotc_dps_destroy(dps);
  return r;
}
