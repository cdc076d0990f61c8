/* SPDX-License-Identifier: MIT */
/* DPS response topics as received. */
#include "fuzz.h"
#include "iotc/dps_topic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  iotc_dps_topic_response r;
  if (iotc_dps_topic_parse_response(s, size, &r) == IOTC_OK) {
    FUZZ_ASSERT(r.status >= 100 && r.status <= 999);
    FUZZ_ASSERT(r.rid_len > 0 && r.rid >= s && r.rid + r.rid_len <= s + size);
    FUZZ_ASSERT(r.has_retry_after || r.retry_after_s == 0);
    FUZZ_ASSERT(r.retry_after_s < 1000000000u);
  }
  return 0;
}
