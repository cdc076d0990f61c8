/* SPDX-License-Identifier: MIT */
/* The iotc_value_* readers applications call on the JSON values handed to their callbacks. */
#include "fuzz.h"
#include "iotc/client.h"

/* Applications call these from their callbacks, on the client worker's stack. */
static void *run(void *arg) {
  const char *text = arg;
  int64_t i = 0;
  double d = 0;
  bool b = false;
  FUZZ_IGNORE(iotc_value_int(text, &i));
  FUZZ_IGNORE(iotc_value_double(text, &d));
  FUZZ_IGNORE(iotc_value_bool(text, &b));
  size_t need = 0;
  char small[8];
  iotc_result r = iotc_value_string(text, small, sizeof small, &need);
  if (r == IOTC_OK) {
    FUZZ_ASSERT(need < sizeof small && memchr(small, '\0', need + 1) != NULL);
  } else if (r == IOTC_ERR_BUFFER_TOO_SMALL) {
    char *buf = malloc(need + 1);
    FUZZ_ASSERT(buf != NULL);
    size_t n = 0;
    FUZZ_ASSERT(iotc_value_string(text, buf, need + 1, &n) == IOTC_OK && n == need);
    free(buf);
  }
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_strdup(data, size);
  fuzz_on_worker_stack(run, text);
  free(text);
  return 0;
}
