/* SPDX-License-Identifier: MIT */
/* Base64 decoding (keys from connection strings and configuration), and round trips. */
#include "common/base64.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  size_t need = 0;
  iotc_result r = iotc__base64_decode(s, size, NULL, 0, &need);
  if (r == IOTC_OK || r == IOTC_ERR_BUFFER_TOO_SMALL) {
    FUZZ_ASSERT(need <= size / 4 * 3);
    unsigned char *out = malloc(need ? need : 1);
    FUZZ_ASSERT(out != NULL);
    size_t n = 0;
    FUZZ_ASSERT(iotc__base64_decode(s, size, out, need, &n) == IOTC_OK && n == need);
    /* canonical text: encoding the bytes gives the same text back */
    char *enc = malloc(size + 1);
    FUZZ_ASSERT(enc != NULL);
    size_t elen = 0;
    FUZZ_ASSERT(iotc__base64_encode(out, n, enc, size + 1, &elen) == IOTC_OK);
    FUZZ_ASSERT(elen == size && memcmp(enc, s, size) == 0);
    free(enc);
    free(out);
  } else {
    FUZZ_ASSERT(r == IOTC_ERR_BAD_ENCODING);
  }
  return 0;
}
