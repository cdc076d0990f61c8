/**
 * @file sas.h
 * @brief Shared access signatures and IoT Central derived device keys.
 *
 * Keys are the base64 text shown by IoT Central / IoT Hub. Results are written into caller
 * buffers: each builder computes the length first and returns IOTC_ERR_BUFFER_TOO_SMALL
 * (with *out_len set to the length needed, without the NUL) and writes nothing when the buffer
 * is short; on success the output is NUL-terminated and *out_len (nullable) is its length.
 *
 * Output buffers hold secrets: wipe them when done (the library wipes its own copies).
 * Thread safety: every function here is reentrant.
 */
#ifndef IOTC_SAS_H
#define IOTC_SAS_H

#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief IoT Hub device SAS token:
 *        `SharedAccessSignature sr={url-encoded host/devices/id}&sig={url-encoded sig}&se={expiry}`.
 * @param hub_host hub host name, borrowed (`:port` is accepted and kept out of `sr`)
 * @param device_id borrowed
 * @param key_base64 device key (base64), borrowed
 * @param expiry_epoch expiry, seconds since 1970-01-01 UTC
 * @retval IOTC_OK
 * @retval IOTC_ERR_INVALID_ARG NULL or empty argument
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
 * Same parameters and results as iotc_sas_hub_token().
 */
IOTC_NODISCARD iotc_result iotc_sas_dps_token(const char *id_scope, const char *registration_id,
                                              const char *key_base64, uint64_t expiry_epoch,
                                              char *buf, size_t size, size_t *out_len);

/**
 * @brief IoT Central group-enrollment device key:
 *        base64(HMAC-SHA256(base64decode(group_key), registration_id)).
 * @retval IOTC_OK, IOTC_ERR_INVALID_ARG, IOTC_ERR_BAD_ENCODING, IOTC_ERR_BUFFER_TOO_SMALL, IOTC_ERR_CRYPTO
 */
IOTC_NODISCARD iotc_result iotc_derive_device_key(const char *group_key_base64,
                                                  const char *registration_id, char *buf,
                                                  size_t size, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
