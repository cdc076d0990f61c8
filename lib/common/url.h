/* SPDX-License-Identifier: MIT */
/* RFC 3986 percent-encoding (pure: no allocation, no I/O). */
#ifndef IOTC_COMMON_URL_H
#define IOTC_COMMON_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "iotc/result.h"

/** True for RFC 3986 unreserved characters: ALPHA / DIGIT / "-" / "." / "_" / "~". */
bool iotc__url_is_unreserved(char c);

/** Value of the hex digit @p c (either case), or -1. */
int iotc__url_hex_value(char c);

/** Length of @p in once percent-encoded (without NUL). */
size_t iotc__url_encoded_len(const char *in, size_t in_len);

/**
 * Percent-encode every byte outside the unreserved set (space becomes %20, never '+').
 * Writes the NUL. IOTC_ERR_BUFFER_TOO_SMALL (with *out_len = needed length without NUL) and
 * nothing written when @p size is short. @p out_len is nullable.
 */
IOTC_NODISCARD iotc_result iotc__url_encode(const char *in, size_t in_len, char *buf, size_t size,
                                            size_t *out_len);

/**
 * Percent-encode @p in at @p dst, which the caller sized with iotc__url_encoded_len(); no NUL.
 * Returns the position after the last byte written.
 */
char *iotc__url_encode_to(const char *in, size_t in_len, char *dst);

/** iotc__url_encode_to() for a NUL-terminated @p in (one pass, no strlen); no NUL written. */
char *iotc__url_encode_str_to(const char *in, char *dst);

/**
 * Decode %XX sequences ('+' stays '+'). IOTC_ERR_BAD_ENCODING for a truncated or non-hex escape
 * or a NUL, raw or encoded; IOTC_ERR_BUFFER_TOO_SMALL as above. Decoding never grows the text, so a
 * buffer of in_len + 1 always suffices. Writes the NUL.
 */
IOTC_NODISCARD iotc_result iotc__url_decode(const char *in, size_t in_len, char *buf, size_t size,
                                            size_t *out_len);

#endif
