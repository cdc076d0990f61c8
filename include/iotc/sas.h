/* SPDX-License-Identifier: MIT */
/**
 * @file sas.h
 * @brief Shared access signatures and IoT Central derived device keys.
 *
 * Keys are the base64 text shown by IoT Central / IoT Hub. Results are written into caller
 * buffers: each builder computes the length first and returns IOTC_ERR_BUFFER_TOO_SMALL
 * (with *out_len set to the length needed, without the NUL) and writes nothing when the buffer
 * is short; on success the output is NUL-terminated and *out_len (nullable) is its length.
 *
 * Passing @c buf = NULL with @c size = 0 asks only for the length (IOTC_ERR_BUFFER_TOO_SMALL and
 * *out_len), after every argument, the key included, has been checked.
 *
 * Signing rule: the HMAC-SHA256 covers `{sr}\n{se}` where `{sr}` is byte for byte the value
 * written into the token: the resource percent-encoded with upper-case escapes (every byte
 * outside `A-Z a-z 0-9 - . _ ~` is escaped, so `/` is `%2F`). Services and the test emulator
 * verify the signature over `sr` as sent, whatever its escaping.
 *
 * Ownership: every pointer argument is borrowed for the duration of the call. Output buffers
 * hold secrets (a SAS token grants access until it expires, a derived key forever): wipe them
 * when done. The library wipes every intermediate copy of the key and the signature before it
 * returns, on success and on failure.
 * Thread safety: every function here is reentrant and may be called from any thread.
 */
#ifndef IOTC_SAS_H
#define IOTC_SAS_H

#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest host, ID scope, device ID or registration ID accepted, in bytes (without NUL). */
#define IOTC_SAS_MAX_FIELD_LEN 512
/** Longest base64 key text accepted (without NUL): 384 bytes of key. Azure keys are 44 or 88. */
#define IOTC_SAS_MAX_KEY_LEN 512
/** Buffer size that always holds a derived device key: 44 base64 characters plus the NUL. */
#define IOTC_DERIVED_KEY_SIZE 45

/**
 * @brief IoT Hub device SAS token:
 *        `SharedAccessSignature sr={url-encoded host/devices/id}&sig={url-encoded sig}&se={expiry}`.
 *
 * The resource is `{hub_host}/devices/{device_id}`, `hub_host` taken verbatim. A real hub is
 * always `{name}.azure-devices.net` on port 8883 and has no port in its name. When a test hub
 * (the emulator, or DPS's `assignedHub`) is `host:port`, pass `host:port` here and use the same
 * text in the MQTT username: the official Azure IoT Node SDK does exactly that against the
 * emulator (the port then appears in `sr` as `%3A{port}`), and the emulator accepts it.
 *
 * @param hub_host host name as used in the MQTT username, borrowed, 1..IOTC_SAS_MAX_FIELD_LEN
 *        bytes; `host:port` is kept whole (see above)
 * @param device_id borrowed, 1..IOTC_SAS_MAX_FIELD_LEN bytes
 * @param key_base64 device key (base64), borrowed
 * @param expiry_epoch expiry, seconds since 1970-01-01 UTC (written as `se`)
 * @param[out] buf receives the NUL-terminated token; NULL only with @p size 0
 * @param size size of @p buf in bytes
 * @param[out] out_len nullable; length of the token without the NUL (also set on
 *             IOTC_ERR_BUFFER_TOO_SMALL)
 * @retval IOTC_OK
 * @retval IOTC_ERR_INVALID_ARG NULL, empty or oversized argument
 * @retval IOTC_ERR_BAD_ENCODING key is not valid base64
 * @retval IOTC_ERR_BUFFER_TOO_SMALL
 * @retval IOTC_ERR_CRYPTO
 */
IOTC_NODISCARD iotc_result iotc_sas_hub_token(const char *hub_host, const char *device_id,
                                              const char *key_base64, uint64_t expiry_epoch,
                                              char *buf, size_t size, size_t *out_len);

/**
 * @brief DPS registration SAS token:
 *        `SharedAccessSignature sr={url-encoded scope/registrations/id}&sig=…&se=…&skn=registration`.
 *
 * Sign with the individual enrollment key, or for a group enrollment with the key from
 * iotc_derive_device_key(). Same parameters and results as iotc_sas_hub_token().
 */
IOTC_NODISCARD iotc_result iotc_sas_dps_token(const char *id_scope, const char *registration_id,
                                              const char *key_base64, uint64_t expiry_epoch,
                                              char *buf, size_t size, size_t *out_len);

/**
 * @brief IoT Central group-enrollment device key:
 *        base64(HMAC-SHA256(base64decode(group_key), registration_id)).
 *
 * The result is always 44 characters: a buffer of IOTC_DERIVED_KEY_SIZE bytes always suffices.
 * @param group_key_base64 enrollment group key (base64), borrowed
 * @param registration_id borrowed, 1..IOTC_SAS_MAX_FIELD_LEN bytes (in IoT Central, the device ID)
 * @param[out] buf receives the NUL-terminated base64 device key; NULL only with @p size 0
 * @param size size of @p buf in bytes
 * @param[out] out_len nullable; 44 on success and on IOTC_ERR_BUFFER_TOO_SMALL
 * @retval IOTC_OK
 * @retval IOTC_ERR_INVALID_ARG NULL, empty or oversized argument
 * @retval IOTC_ERR_BAD_ENCODING the group key is not valid base64
 * @retval IOTC_ERR_BUFFER_TOO_SMALL
 * @retval IOTC_ERR_CRYPTO
 */
IOTC_NODISCARD iotc_result iotc_derive_device_key(const char *group_key_base64,
                                                  const char *registration_id, char *buf,
                                                  size_t size, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
