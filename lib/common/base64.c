/* SPDX-License-Identifier: MIT */
#include "common/base64.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/secret.h"

/* Value of a base64 alphabet character, -1 for anything else ('=' included). */
static int digit_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

size_t iotc__base64_encoded_len(size_t in_len) { return (in_len + 2) / 3 * 4; }

iotc_result iotc__base64_encode(const unsigned char *in, size_t in_len, char *buf, size_t size,
                                size_t *out_len) {
  if ((in == NULL && in_len > 0) || buf == NULL || in_len > (size_t)INT_MAX / 4 * 3) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t need = iotc__base64_encoded_len(in_len);
  if (out_len) {
    *out_len = need;
  }
  if (need + 1 > size) {
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  if (in_len == 0) {
    buf[0] = '\0';
    return IOTC_OK;
  }
  /* EVP_EncodeBlock writes exactly 4*ceil(n/3) characters plus a NUL, no line breaks. */
  int n = EVP_EncodeBlock((unsigned char *)buf, in, (int)in_len);
  return n == (int)need ? IOTC_OK : IOTC_ERR_CRYPTO;
}

/* Validates @p in strictly and returns the decoded length through @p out_len. EVP_DecodeBlock
 * alone would accept surrounding whitespace and non-canonical padding bits. */
static bool is_canonical(const char *in, size_t in_len, size_t *out_len) {
  if (in_len % 4 != 0) {
    return false;
  }
  size_t pad = 0;
  if (in_len > 0 && in[in_len - 1] == '=') {
    pad = (in[in_len - 2] == '=') ? 2 : 1;
  }
  for (size_t i = 0; i < in_len - pad; ++i) {
    if (digit_value(in[i]) < 0) {
      return false;
    }
  }
  /* The last digit before the padding must not carry bits that decoding would drop. */
  if (pad == 1 && (digit_value(in[in_len - 2]) & 0x03) != 0) {
    return false;
  }
  if (pad == 2 && (digit_value(in[in_len - 3]) & 0x0F) != 0) {
    return false;
  }
  *out_len = in_len / 4 * 3 - pad;
  return true;
}

iotc_result iotc__base64_decode(const char *in, size_t in_len, unsigned char *buf, size_t size,
                                size_t *out_len) {
  if ((in == NULL && in_len > 0) || (buf == NULL && size > 0) || in_len > (size_t)INT_MAX) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t need = 0;
  if (!is_canonical(in, in_len, &need)) {
    return IOTC_ERR_BAD_ENCODING;
  }
  if (out_len) {
    *out_len = need;
  }
  if (need > size) {
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  if (in_len == 0) {
    return IOTC_OK;
  }
  /* EVP_DecodeBlock writes 3 bytes per quad, padding included, so the last quad goes through
   * a local buffer: a caller buffer of exactly the decoded length is never overrun. */
  size_t head = in_len - 4;
  if (head > 0 && EVP_DecodeBlock(buf, (const unsigned char *)in, (int)head) != (int)(head / 4 * 3)) {
    iotc__wipe(buf, head / 4 * 3);
    return IOTC_ERR_CRYPTO;
  }
  unsigned char last[3];
  iotc_result rc = IOTC_OK;
  if (EVP_DecodeBlock(last, (const unsigned char *)in + head, 4) != 3) {
    iotc__wipe(buf, head / 4 * 3);
    rc = IOTC_ERR_CRYPTO;
  } else {
    memcpy(buf + head / 4 * 3, last, need - head / 4 * 3);
  }
  iotc__wipe(last, sizeof last);
  return rc;
}
