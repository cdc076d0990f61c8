/* SPDX-License-Identifier: MIT */
/**
 * @file result.h
 * @brief The single result type of iotc, its text, and the detailed error record.
 *
 * Ownership vocabulary used in every iotc header:
 * - **borrowed**: the pointer stays owned by whoever passed it; the receiver reads it only
 *   during the call (or, for callback arguments, only until the callback returns).
 * - **copied**: the library copies what it is given before the call returns; the caller may
 *   free or reuse its buffer at once.
 * - **transferred**: ownership moves to the receiver, who frees it with the function named
 *   (memory returned by iotc is released with iotc_free()).
 *
 * Thread safety: everything in this header is safe to call from any thread.
 */
#ifndef IOTC_RESULT_H
#define IOTC_RESULT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
/** Marks a function whose result must be checked (the compiler warns when it is ignored). */
#define IOTC_NODISCARD __attribute__((warn_unused_result))
/** Marks a function that will be removed: since @p version, use what @p msg says instead. */
#define IOTC_DEPRECATED(version, msg) __attribute__((deprecated("since " #version ": " msg)))
#else
#define IOTC_NODISCARD
#define IOTC_DEPRECATED(version, msg)
#endif

/**
 * @brief Result of every fallible iotc call. Zero is success, errors are negative.
 * @note Append-only: values are never renumbered. Service status codes (HTTP-like status,
 *       DPS errorCode) are reported separately, in ::iotc_error.
 */
typedef enum iotc_result {
  IOTC_OK = 0,                    /**< success */
  IOTC_ERR_INVALID_ARG = -1,      /**< NULL, empty, oversized or ill-formed argument */
  IOTC_ERR_BUFFER_TOO_SMALL = -2, /**< output buffer too small; the size needed is reported */
  IOTC_ERR_NO_MATCH = -3,         /**< parser: the input belongs to another feature */
  IOTC_ERR_MALFORMED = -4,        /**< input from the service or a file is not well-formed */
  IOTC_ERR_NO_MEMORY = -5,        /**< allocation failed */
  IOTC_ERR_BAD_ENCODING = -6,     /**< not valid base64, percent-encoding or UTF-8 */
  IOTC_ERR_CRYPTO = -7,           /**< HMAC/TLS primitive failed */
  IOTC_ERR_IO = -8,               /**< a file could not be read or written */
  IOTC_ERR_TLS = -9,              /**< TLS handshake failed or the server certificate was refused */
  IOTC_ERR_CONNECT = -10,         /**< the endpoint could not be reached */
  IOTC_ERR_TIMEOUT = -11,         /**< the operation did not finish in time */
  IOTC_ERR_CANCELLED = -12,       /**< cancelled by the application */
  IOTC_ERR_UNAUTHORIZED = -13,    /**< credentials refused (401/403, CONNACK 4/5) */
  IOTC_ERR_NOT_FOUND = -14,       /**< the service does not know the device or resource (404) */
  IOTC_ERR_THROTTLED = -15,       /**< the service kept throttling (429) */
  IOTC_ERR_SERVICE = -16,         /**< the service failed (5xx) or answered with an unexpected status */
  IOTC_ERR_PROVISIONING_FAILED = -17, /**< DPS registration status "failed" */
  IOTC_ERR_PROVISIONING_DISABLED = -18, /**< DPS registration status "disabled" */
  IOTC_ERR_PROTOCOL = -19,        /**< the service broke the protocol */
  IOTC_ERR_QUEUE_FULL = -20,      /**< the offline/outgoing queue is full */
  IOTC_ERR_NOT_CONNECTED = -21,   /**< the operation needs a connection */
  IOTC_ERR_STATE = -22,           /**< not allowed in the object's current state */
  IOTC_ERR_TOO_LARGE = -23,       /**< payload or message larger than the service accepts */
  IOTC_ERR_TRANSPORT = -24,       /**< the MQTT library reported an error */
  IOTC_ERR_HTTP = -25,            /**< the HTTP library reported an error */
  IOTC_ERR_SHUTDOWN = -26,        /**< the client is shutting down; the operation was abandoned */
  IOTC_ERR_NOT_SUPPORTED = -27,   /**< not supported by this build or configuration */
  IOTC_ERR_INTERNAL = -28,        /**< an internal invariant failed (a bug: please report) */
  IOTC_ERR_EXPIRED = -29,         /**< a token, request or command expired */
  IOTC_ERR_CONNECTION_LOST = -30, /**< an established connection was lost (the client reconnects) */
  IOTC_ERR_LOCKED = -31,          /**< a resource (a persist directory) is in use by another client */
  IOTC_ERR_NO_SPACE = -32         /**< the file system is full (ENOSPC, or the file size limit) */
} iotc_result;

/**
 * @brief Short English text for @p result, in static storage.
 * @return Never NULL; unknown codes give "unknown error".
 */
const char *iotc_strerror(iotc_result result);

/** Sizes of the text fields of ::iotc_error. */
#define IOTC_ERROR_MESSAGE_SIZE 256 /**< iotc_error::message and iotc_error::transport */
#define IOTC_ERROR_ID_SIZE 64 /**< iotc_error::tracking_id, with the NUL */

/**
 * @brief Detail of a failed multi-step operation (provisioning, connect), caller-owned.
 *
 * Pass a pointer to one where an API accepts `iotc_error *err` (NULL is allowed). On failure
 * every field is set; fields without a value are 0 or "". It never contains keys, SAS
 * signatures or passwords.
 */
typedef struct iotc_error {
  iotc_result result;      /**< same value the call returned */
  int status;              /**< HTTP-like status from the service (401, 429, ...), 0 if none */
  int service_code;        /**< DPS/IoT Hub errorCode (e.g. 401002), 0 if none; CONNACK code for MQTT refusals */
  char message[IOTC_ERROR_MESSAGE_SIZE];   /**< what went wrong, including the service's message */
  char tracking_id[IOTC_ERROR_ID_SIZE];    /**< service trackingId, "" if none */
  char transport[IOTC_ERROR_MESSAGE_SIZE]; /**< underlying curl/Paho/TLS error text, "" if none */
} iotc_error;

/** @brief Clear @p err (NULL is allowed). */
void iotc_error_clear(iotc_error *err);

/**
 * @brief Free memory that iotc returned as **transferred**. NULL is allowed.
 */
void iotc_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
