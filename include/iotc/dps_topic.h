/* SPDX-License-Identifier: MIT */
/**
 * @file dps_topic.h
 * @brief DPS over MQTT: the user name, the topics and the response-topic parser.
 *
 * Pure functions: no allocation, no I/O, reentrant, safe from any thread.
 *
 * Builders take `(..., char *buf, size_t size, size_t *out_len)`: they compute the length first;
 * when @p size is too small they return IOTC_ERR_BUFFER_TOO_SMALL, set `*out_len` (nullable) to
 * the length needed without the NUL, and write nothing. On success the output is NUL-terminated
 * and `*out_len` is its length.
 *
 * Identifiers are checked, not escaped, where escaping would change their meaning to DPS:
 * an ID scope is 1–64 letters or digits; a registration id is 1–128 of letters, digits and
 * `-._:`. Request ids and operation ids are percent-encoded (RFC 3986) into the topic's query.
 */
#ifndef IOTC_DPS_TOPIC_H
#define IOTC_DPS_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** api-version of the DPS MQTT user name. */
#define IOTC_DPS_MQTT_API_VERSION "2019-03-31"

/** The one subscription DPS over MQTT needs. */
#define IOTC_DPS_TOPIC_RESPONSE_FILTER "$dps/registrations/res/#"

/** Longest ID scope accepted (bytes, without the NUL). */
#define IOTC_DPS_ID_SCOPE_MAX 64
/** Longest registration id accepted (bytes, without the NUL). */
#define IOTC_DPS_REGISTRATION_ID_MAX 128

/** @brief True if @p id_scope is a well-formed ID scope (NULL: false). */
bool iotc_dps_id_scope_is_valid(const char *id_scope);

/** @brief True if @p registration_id is a well-formed registration id (NULL: false). */
bool iotc_dps_registration_id_is_valid(const char *registration_id);

/**
 * @brief MQTT user name: `{id_scope}/registrations/{registration_id}/api-version=2019-03-31`.
 * @param id_scope borrowed
 * @param registration_id borrowed (also the MQTT client id)
 * @param[out] buf where the NUL-terminated result is written (NULL with @p size 0: length only)
 * @param size size of @p buf in bytes
 * @param[out] out_len nullable: the length written, or needed on IOTC_ERR_BUFFER_TOO_SMALL
 * @retval IOTC_OK
 * @retval IOTC_ERR_INVALID_ARG NULL buffer, or an ill-formed scope or registration id
 * @retval IOTC_ERR_BUFFER_TOO_SMALL
 */
IOTC_NODISCARD iotc_result iotc_dps_topic_username(const char *id_scope,
                                                   const char *registration_id, char *buf,
                                                   size_t size, size_t *out_len);

/**
 * @brief Register request topic: `$dps/registrations/PUT/iotdps-register/?$rid={rid}`.
 * @param rid request id, borrowed, non-empty, at most 128 bytes; percent-encoded
 * @param[out] buf where the NUL-terminated result is written (NULL with @p size 0: length only)
 * @param size size of @p buf in bytes
 * @param[out] out_len nullable: the length written, or needed on IOTC_ERR_BUFFER_TOO_SMALL
 * @retval IOTC_OK, IOTC_ERR_INVALID_ARG, IOTC_ERR_BUFFER_TOO_SMALL
 */
IOTC_NODISCARD iotc_result iotc_dps_topic_register(const char *rid, char *buf, size_t size,
                                                   size_t *out_len);

/**
 * @brief Operation-status query topic:
 *        `$dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={id}`.
 * @param rid request id as for iotc_dps_topic_register()
 * @param operation_id the operationId DPS returned, borrowed, non-empty, at most 256 bytes
 * @param[out] buf where the NUL-terminated result is written (NULL with @p size 0: length only)
 * @param size size of @p buf in bytes
 * @param[out] out_len nullable: the length written, or needed on IOTC_ERR_BUFFER_TOO_SMALL
 * @retval IOTC_OK, IOTC_ERR_INVALID_ARG, IOTC_ERR_BUFFER_TOO_SMALL
 */
IOTC_NODISCARD iotc_result iotc_dps_topic_operation_status(const char *rid,
                                                           const char *operation_id, char *buf,
                                                           size_t size, size_t *out_len);

/** The largest retry-after, in seconds, a response reports; larger values read as this one. */
#define IOTC_DPS_RETRY_AFTER_MAX_S 999999999u

/** A parsed `$dps/registrations/res/...` topic. Views point into the parsed topic. */
typedef struct iotc_dps_topic_response {
  int status;               /**< 100–999, e.g. 200, 202, 401, 429 */
  const char *rid;          /**< value of `$rid` as it appears in the topic (not decoded) */
  size_t rid_len;           /**< length of rid in bytes */
  bool has_retry_after;     /**< a `retry-after` parameter was present */
  uint32_t retry_after_s;   /**< its value in seconds (0 when absent), at most
                                 IOTC_DPS_RETRY_AFTER_MAX_S */
} iotc_dps_topic_response;

/**
 * @brief Parse `$dps/registrations/res/{status}/?$rid={rid}[&retry-after={s}][&...]`.
 * @param topic borrowed; need not be NUL-terminated; @p out views stay valid while it is
 * @param topic_len its length
 * @param[out] out the parsed parts, views into @p topic
 * @retval IOTC_OK
 * @retval IOTC_ERR_NO_MATCH    not a DPS response topic (another feature's topic)
 * @retval IOTC_ERR_MALFORMED   a DPS response topic with a bad status, no `$rid`, or a
 *                              `retry-after` that is not a run of digits (a larger number
 *                              than IOTC_DPS_RETRY_AFTER_MAX_S reads as that maximum)
 * @retval IOTC_ERR_INVALID_ARG NULL topic or out
 */
IOTC_NODISCARD iotc_result iotc_dps_topic_parse_response(const char *topic, size_t topic_len,
                                                         iotc_dps_topic_response *out);

#ifdef __cplusplus
}
#endif
#endif
