/* SPDX-License-Identifier: MIT */
/* Percent-decoding, and encode/decode round trips. */
#include "common/url.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  char *buf = malloc(size + 1);
  FUZZ_ASSERT(buf != NULL);
  size_t n = 0;
  iotc_result r = iotc__url_decode(s, size, buf, size + 1, &n);
  if (r == IOTC_OK) {
    FUZZ_ASSERT(n <= size && buf[n] == '\0' && memchr(buf, '\0', n) == NULL);
    /* a short buffer is refused with the needed length and nothing written */
    if (n > 0) {
      size_t need = 0;
      buf[0] = 'x';
      FUZZ_ASSERT(iotc__url_decode(s, size, buf, n, &need) == IOTC_ERR_BUFFER_TOO_SMALL);
      FUZZ_ASSERT(need == n && buf[0] == 'x');
    }
  } else {
    FUZZ_ASSERT(r == IOTC_ERR_BAD_ENCODING);
  }
  /* encode(any bytes) decodes back to them, unless they hold a NUL (which decode refuses) */
  size_t elen = iotc__url_encoded_len(s, size);
  char *enc = malloc(elen + 1), *dec = malloc(elen + 1);
  FUZZ_ASSERT(enc != NULL && dec != NULL);
  size_t got = 0;
  FUZZ_ASSERT(iotc__url_encode(s, size, enc, elen + 1, &got) == IOTC_OK && got == elen);
  r = iotc__url_decode(enc, elen, dec, elen + 1, &got);
  if (memchr(s, '\0', size) == NULL) {
    FUZZ_ASSERT(r == IOTC_OK && got == size && memcmp(dec, s, size) == 0);
  } else {
    FUZZ_ASSERT(r == IOTC_ERR_BAD_ENCODING);
  }
  free(enc);
  free(dec);
  free(buf);
  return 0;
}
