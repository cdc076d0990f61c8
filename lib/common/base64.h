/* SPDX-License-Identifier: MIT */
/* Standard base64 (RFC 4648 section 4, '=' padding, no line breaks), strictly validated. */
#ifndef IOTC_COMMON_BASE64_H
#define IOTC_COMMON_BASE64_H

#include <stddef.h>

#include "iotc/result.h"

/** Length of the base64 text for @p in_len bytes (without NUL): 4 * ceil(in_len / 3). */
size_t iotc__base64_encoded_len(size_t in_len);

/**
 * Encode @p in_len bytes. Writes the NUL. IOTC_ERR_BUFFER_TOO_SMALL (with *out_len = needed
 * length without NUL) and nothing written when @p size is short. @p out_len is nullable.
 */
IOTC_NODISCARD iotc_result iotc__base64_encode(const unsigned char *in, size_t in_len, char *buf,
                                               size_t size, size_t *out_len);

/**
 * Decode canonical base64 text. Accepted: a length that is a multiple of 4, only the
 * characters A-Z a-z 0-9 + /, at most two '=' and only at the end, and zero bits where the
 * padding leaves some unused (so each byte string has exactly one accepted text). Anything
 * else, whitespace and the base64url alphabet included, is IOTC_ERR_BAD_ENCODING. Empty
 * input decodes to zero bytes.
 * IOTC_ERR_BUFFER_TOO_SMALL (with *out_len = bytes needed) and nothing written when @p size is
 * short; a buffer of exactly the decoded length is enough. @p out_len is nullable.
 */
IOTC_NODISCARD iotc_result iotc__base64_decode(const char *in, size_t in_len, unsigned char *buf,
                                               size_t size, size_t *out_len);

#endif
