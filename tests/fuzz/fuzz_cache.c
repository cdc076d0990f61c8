/* SPDX-License-Identifier: MIT */
/* The provisioning cache file, as read back from disk. */
#include <stdio.h>
#include <unistd.h>

#include "central/cache.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char path[96];
  if (path[0] == '\0') {
    const char *dir = getenv("TMPDIR");
    snprintf(path, sizeof path, "%.40s/iotc-fuzz-cache-%ld", dir ? dir : "/tmp", (long)getpid());
  }
  FILE *f = fopen(path, "wb");
  FUZZ_ASSERT(f != NULL);
  FUZZ_ASSERT(fwrite(data, 1, size, f) == size);
  fclose(f);
  char hub[64], device_id[32];
  memset(hub, 0x5A, sizeof hub);
  memset(device_id, 0x5A, sizeof device_id);
  iotc_result r = iotc__cache_read(path, "0ne00000001", "dev1", hub, sizeof hub, device_id,
                                   sizeof device_id, NULL);
  FUZZ_ASSERT(r == IOTC_OK || r == IOTC_ERR_NOT_FOUND || r == IOTC_ERR_MALFORMED);
  if (r == IOTC_OK) {
    FUZZ_ASSERT(memchr(hub, '\0', sizeof hub) && memchr(device_id, '\0', sizeof device_id));
    FUZZ_ASSERT(*hub && *device_id);
  }
  unlink(path);
  return 0;
}
