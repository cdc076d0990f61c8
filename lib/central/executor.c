/* SPDX-License-Identifier: MIT */
/* The shared executor's threads and its public API (iotc/executor.h): each thread takes a
 * ready client from the queues (exec_queue.c), runs one round of it (worker.c), and hands it
 * back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "central/client_internal.h"
#include "central/executor.h"
#include "common/log.h"

/* The executor whose thread this is: destroy cannot join the thread it runs on. */
static _Thread_local const iotc_executor *current_executor;

static void fail(iotc_error *err, iotc_result r, const char *msg) {
  IOTC_LOGE("%s", msg);
  if (err) {
    err->result = r;
    snprintf(err->message, sizeof err->message, "%s", msg);
  }
}

static void *executor_main(void *arg) {
  iotc_executor *ex = arg;
  current_executor = ex;
  iotc_client *c;
  while ((c = iotc__executor_take(ex)) != NULL) {
    uint64_t wait_ms;
    bool worked = iotc__worker_run_once(c, &wait_ms);
    iotc__executor_done(ex, c, worked, wait_ms);
  }
  return NULL;
}

void iotc_executor_config_init(iotc_executor_config *cfg) {
  if (cfg == NULL) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->struct_version = IOTC_EXECUTOR_CONFIG_VERSION;
  cfg->threads = 2;
}

/* Stop and join the first @p started threads, then free @p ex (no client attached). */
static void stop_and_free(iotc_executor *ex, size_t started) {
  iotc__executor_stop(ex);
  for (size_t i = 0; i < started; i++) pthread_join(ex->thread[i], NULL);
  iotc__executor_fini(ex);
  free(ex->thread);
  free(ex);
}

iotc_result iotc_executor_create(const iotc_executor_config *cfg, iotc_executor **out,
                                 iotc_error *err) {
  iotc_error_clear(err);
  char msg[IOTC_ERROR_MESSAGE_SIZE];
  if (out == NULL) {
    fail(err, IOTC_ERR_INVALID_ARG, "iotc_executor_create: out_executor is NULL");
    return IOTC_ERR_INVALID_ARG;
  }
  *out = NULL;
  if (cfg == NULL) {
    fail(err, IOTC_ERR_INVALID_ARG, "iotc_executor_create: cfg is NULL");
    return IOTC_ERR_INVALID_ARG;
  }
  if (cfg->struct_version != IOTC_EXECUTOR_CONFIG_VERSION) {
    snprintf(msg, sizeof msg, "iotc_executor_create: cfg->struct_version %d is unknown: "
             "initialise the config with iotc_executor_config_init()", cfg->struct_version);
    fail(err, IOTC_ERR_INVALID_ARG, msg);
    return IOTC_ERR_INVALID_ARG;
  }
  if (cfg->threads < 1 || cfg->threads > IOTC_EXECUTOR_THREADS_MAX) {
    snprintf(msg, sizeof msg, "iotc_executor_create: threads is %u; it must be 1 to %d",
             (unsigned)cfg->threads, IOTC_EXECUTOR_THREADS_MAX);
    fail(err, IOTC_ERR_INVALID_ARG, msg);
    return IOTC_ERR_INVALID_ARG;
  }
  iotc_executor *ex = calloc(1, sizeof *ex);
  pthread_t *threads = calloc(cfg->threads, sizeof *threads);
  if (ex == NULL || threads == NULL) {
    free(ex);
    free(threads);
    fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
    return IOTC_ERR_NO_MEMORY;
  }
  ex->thread = threads;
  ex->threads = cfg->threads;
  iotc__executor_init(ex);
  for (size_t i = 0; i < ex->threads; i++) {
    int e = iotc__worker_thread_start(&ex->thread[i], executor_main, ex);
    if (e != 0) {
      stop_and_free(ex, i);
      snprintf(msg, sizeof msg, "cannot start the executor's thread %zu: %s", i + 1, strerror(e));
      fail(err, IOTC_ERR_NO_MEMORY, msg);
      return IOTC_ERR_NO_MEMORY;
    }
  }
  *out = ex;
  return IOTC_OK;
}

iotc_result iotc_executor_destroy(iotc_executor *ex, iotc_error *err) {
  iotc_error_clear(err);
  if (ex == NULL) return IOTC_OK;
  char msg[IOTC_ERROR_MESSAGE_SIZE];
  if (current_executor == ex) { /* it would join itself */
    fail(err, IOTC_ERR_STATE, "iotc_executor_destroy: called from a callback on the executor's "
         "own thread; refused, the executor is kept");
    return IOTC_ERR_STATE;
  }
  size_t attached = iotc__executor_attached(ex);
  if (attached) {
    snprintf(msg, sizeof msg, "iotc_executor_destroy: %zu client(s) still attached: destroy "
             "them first; refused, the executor is kept", attached);
    fail(err, IOTC_ERR_STATE, msg);
    return IOTC_ERR_STATE;
  }
  stop_and_free(ex, ex->threads);
  return IOTC_OK;
}
