/* SPDX-License-Identifier: MIT */
/* Device connection strings. */
#include "central/conn_string.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_strdup(data, size);
  iotc__conn_string cs;
  const char *why = NULL;
  if (iotc__conn_string_parse(text, &cs, &why) == IOTC_OK) {
    FUZZ_ASSERT(*cs.host && *cs.device_id && *cs.key);
    FUZZ_ASSERT(strlen(cs.host) + strlen(cs.device_id) + strlen(cs.key) < size);
  } else {
    FUZZ_ASSERT(why != NULL && cs.host == NULL && cs.device_id == NULL && cs.key == NULL);
  }
  iotc__conn_string_clear(&cs);
  free(text);
  return 0;
}
