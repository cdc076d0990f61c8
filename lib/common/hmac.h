/* SPDX-License-Identifier: MIT */
/* HMAC-SHA256 (OpenSSL). */
#ifndef IOTC_COMMON_HMAC_H
#define IOTC_COMMON_HMAC_H

#include <stddef.h>

#include "iotc/result.h"

#define IOTC__SHA256_LEN 32

/**
 * HMAC-SHA256 of @p msg under @p key into @p out (32 bytes). An empty key or message is allowed.
 * IOTC_ERR_INVALID_ARG for NULL with a non-zero length or a NULL @p out; IOTC_ERR_CRYPTO when
 * OpenSSL fails (then @p out is zeroed).
 */
IOTC_NODISCARD iotc_result iotc__hmac_sha256(const void *key, size_t key_len, const void *msg,
                                             size_t msg_len, unsigned char out[IOTC__SHA256_LEN]);

#endif
