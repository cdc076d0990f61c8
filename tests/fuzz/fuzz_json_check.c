/* The client's one-pass JSON checker, and the reported-property builders fed what it accepts. */
#include "central/json.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char kind = 0;
  const char *why = iotc__json_check((const char *)data, size, &kind);
  if (why != NULL || memchr(data, '\0', size) != NULL) return 0;
  /* Accepted: whatever the builders make of it must pass the checker again. */
  char *text = fuzz_strdup(data, size);
  size_t n = 0;
  char *out = kind == '{' ? iotc__json_reported_many("comp", text, &n)
                          : iotc__json_reported_one("comp", "name", text, &n);
  FUZZ_ASSERT(out != NULL && strlen(out) == n);
  FUZZ_ASSERT(iotc__json_check(out, n, NULL) == NULL);
  free(out);
  out = iotc__json_ack(NULL, "name", text, 200, 7, "done", &n);
  FUZZ_ASSERT(out != NULL && iotc__json_check(out, n, NULL) == NULL);
  free(out);
  free(text);
  return 0;
}
