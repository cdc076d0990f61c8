/* SPDX-License-Identifier: MIT */
#include "common/hmac.h"

#include <limits.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/secret.h"

iotc_result iotc__hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                              unsigned char out[IOTC__SHA256_LEN]) {
  if ((key == NULL && key_len > 0) || (msg == NULL && msg_len > 0) || out == NULL ||
      key_len > INT_MAX) {
    return IOTC_ERR_INVALID_ARG;
  }
  /* The one-shot HMAC() is not deprecated in OpenSSL 3 and keeps no context to share between
   * threads. OpenSSL substitutes its own pointer for a NULL zero-length key or message. */
  static const unsigned char empty[1] = {0};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key_len ? key : empty, (int)key_len, msg_len ? msg : empty, msg_len, out,
           &len) == NULL ||
      len != IOTC__SHA256_LEN) {
    iotc__wipe(out, IOTC__SHA256_LEN);
    return IOTC_ERR_CRYPTO;
  }
  return IOTC_OK;
}
