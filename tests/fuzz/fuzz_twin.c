/* SPDX-License-Identifier: MIT */
/* Twin documents and desired patches: parse, reconcile, look up, visit, on a stack the size of
 * the client worker's. The first byte says which names the application knows as components. */
#include "central/twin.h"
#include "fuzz.h"

static bool knows(void *ctx, const char *name) {
  unsigned mask = *(const unsigned char *)ctx;
  return (mask & 1) ? strcmp(name, "thermostat1") == 0 : (mask & 2) ? name[0] == 'c' : false;
}

static void visit(void *ctx, const iotc__twin_update *u) {
  size_t *count = ctx;
  ++*count;
  FUZZ_ASSERT(u->name != NULL && u->value_json != NULL && strlen(u->value_json) > 0);
  (void)strlen(u->name);
  if (u->component) (void)strlen(u->component);
}

typedef struct input {
  const char *s;
  size_t size;
  unsigned char mask;
} input;

static void *run(void *arg) {
  input *in = arg;
  const char *why = NULL;
  int64_t version = 0;
  iotc__twin *t = NULL;
  size_t count = 0;
  if (iotc__twin_parse(in->s, in->size, &t, &version, &why) == IOTC_OK) {
    iotc__twin_pending(t, knows, &in->mask, visit, &count);
    (void)iotc__twin_has_desired(t, NULL, "a");
    (void)iotc__twin_has_reported(t, "thermostat1", "a");
    iotc__twin_free(t);
  } else {
    FUZZ_ASSERT(t == NULL && why != NULL);
  }
  why = NULL;
  if (iotc__twin_patch(in->s, in->size, knows, &in->mask, visit, &count, -1, INT64_MIN, &version,
                       &why) != IOTC_OK) {
    FUZZ_ASSERT(why != NULL);
  }
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input in = {(const char *)data, size, 0};
  if (size >= 1) {
    in.mask = data[0];
    in.s++;
    in.size--;
  }
  fuzz_on_worker_stack(run, &in); /* the worker reconciles the twin */
  return 0;
}
