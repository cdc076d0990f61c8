/* SPDX-License-Identifier: MIT */
/* DPS registration and operation-status answers: the first byte picks the HTTP status,
 * the rest is the body. */
#include <stdbool.h>

#include "dps/dps_internal.h"
#include "fuzz.h"

/* The client provisions from its worker thread: run on a stack of that size. */
static void *run(void *arg) {
  const iotc__dps_reply *reply = arg;
  bool done = true, retryable = true;
  char *operation_id = (char *)1;
  iotc_dps_registration reg;
  memset(&reg, 0xA5, sizeof reg);
  iotc_error err;
  memset(&err, 0xA5, sizeof err);
  iotc_result r = iotc__dps_interpret(reply, &done, &operation_id, &retryable, &reg, &err);
  if (r == IOTC_OK && done) {
    FUZZ_ASSERT(operation_id == NULL);
    FUZZ_ASSERT(strlen(reg.assigned_hub) > 0 && strlen(reg.device_id) > 0);
    iotc_dps_registration_clear(&reg);
  } else if (r == IOTC_OK) {
    FUZZ_ASSERT(operation_id != NULL && strlen(operation_id) > 0);
  } else {
    FUZZ_ASSERT(!done && operation_id == NULL);
    FUZZ_ASSERT(memchr(err.message, '\0', sizeof err.message) != NULL);
  }
  free(operation_id);
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int statuses[] = {200, 202, 400, 401, 403, 404, 429, 500, 503, 204};
  int status = 200;
  if (size >= 1) {
    status = statuses[data[0] % (sizeof statuses / sizeof statuses[0])];
    data++;
    size--;
  }
  char *body = fuzz_strdup(data, size);
  iotc__dps_reply reply = {.status = status, .body = body, .body_len = size};
  fuzz_on_worker_stack(run, &reply);
  free(body);
  return 0;
}
