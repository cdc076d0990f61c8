/* SPDX-License-Identifier: MIT */
/**
 * @file dps.h
 * @brief Device provisioning (Azure IoT Hub Device Provisioning Service, as used by IoT Central).
 *
 * One blocking call registers a device with DPS and returns the hub it was assigned to:
 *
 * @code
 * const char *group_key_base64 = getenv("IOTC_GROUP_KEY");
 * iotc_dps_config cfg;
 * iotc_dps_config_init(&cfg);
 * cfg.id_scope = "0ne00ABCDEF";
 * cfg.registration_id = "thermostat-1";
 * cfg.credential = IOTC_DPS_CREDENTIAL_GROUP_KEY;
 * cfg.key = group_key_base64;
 * cfg.model_id = "dtmi:com:example:Thermostat;1";
 *
 * iotc_dps_registration reg;
 * iotc_error err;
 * iotc_result r = iotc_dps_register(&cfg, &reg, &err);
 * if (r == IOTC_OK) {
 *   printf("%s on %s\n", reg.device_id, reg.assigned_hub);
 *   iotc_dps_registration_clear(&reg);
 * } else {
 *   fprintf(stderr, "%s (DPS %d)\n", err.message, err.service_code);
 * }
 * @endcode
 *
 * To cancel from another thread, use the handle form: iotc_dps_create(), iotc_dps_run() on one
 * thread, iotc_dps_cancel() from any other, then iotc_dps_destroy() once iotc_dps_run() returned.
 *
 * Transports: MQTT over TLS (port 8883, Paho MQTTAsync) or HTTPS REST (port 443, libcurl).
 * libcurl (libcurl.so.4, Debian package libcurl4) is loaded on the first HTTPS request, so a
 * program that provisions over MQTT and uploads no file never loads it, nor needs it installed.
 * Credentials: an individual enrollment key, an enrollment-group key (the device key is derived
 * from it with iotc_derive_device_key()), or an X.509 certificate and private key (PEM files,
 * mutual TLS). The server certificate and host name are always verified.
 *
 * Polling honours the service's retry-after hint (default 2 s when absent, capped by
 * iotc_dps_config::max_poll_interval_ms; any number of digits on both transports, values above
 * IOTC_DPS_RETRY_AFTER_MAX_S of dps_topic.h reading as that maximum). 429 and 5xx answers are
 * retried with back-off and jitter. Whatever the hint (0 included), pauses have a floor that
 * doubles with each answer of the same kind in a row: 50 ms, 100 ms, 200 ms, ... between polls
 * while assigning, 1 s, 2 s, 4 s, ... between retries after 429/5xx, and never less than 50 ms.
 * The one exception: an explicit retry-after of 0 on the registration's first answer sends the
 * first status query at once.
 * 401, 403 and 404 fail at once; a "failed" or "disabled" registration fails with the
 * service's errorCode and message in ::iotc_error. When timeout_ms runs out, the result and
 * message are those of DPS's last answer, the same on both transports: IOTC_ERR_THROTTLED (429),
 * IOTC_ERR_SERVICE (5xx), or IOTC_ERR_TIMEOUT with status 202 while DPS was still assigning.
 *
 * Ownership: every string of ::iotc_dps_config is **copied** by iotc_dps_create() and
 * iotc_dps_register(); the configuration may be freed as soon as the call returns. Keys are
 * secrets: the library wipes its copies when it frees them and never logs them or puts them
 * into ::iotc_error.
 *
 * Threads: iotc_dps_register() and iotc_dps_run() block the calling thread. No user code runs
 * on any other thread, and no callback is ever made. Separate handles may run concurrently on
 * different threads. iotc_dps_cancel() is safe from any thread, including a signal-free
 * application thread while iotc_dps_run() is blocked.
 *
 * Environment (HTTP proxies): the HTTPS transport uses libcurl, which honours `https_proxy`,
 * `HTTPS_PROXY` and `no_proxy`. The MQTT transport follows the same variables as far as Paho MQTT
 * C 1.3.12 allows:
 * - `https_proxy` (or, when it is unset or empty, `HTTPS_PROXY`) names an HTTP CONNECT proxy:
 *   `[http://|https://][user:pass@]host[:port]` (port 1080 when absent, as libcurl; `@` inside
 *   the user name or password written `%40`). iotc passes it to Paho explicitly in the form
 *   Paho accepts, so `http://...`, which Paho would fail on, works.
 * - `no_proxy` (or `NO_PROXY`): comma-separated host names, domain suffixes (`.example.com`) or
 *   `*`, matched as libcurl does (ports ignored). A matching host is reached directly when the
 *   proxy comes from `HTTPS_PROXY`. When lower-case `https_proxy` is set, Paho 1.3.12 reads it
 *   by itself and cannot be told to connect directly, so the transport refuses with
 *   IOTC_ERR_NOT_SUPPORTED and a message saying so (unset `https_proxy` for the process, use
 *   `HTTPS_PROXY`, or provision over HTTPS). A set but empty `https_proxy` is refused likewise.
 * - Another scheme (`socks5://...`) gives IOTC_ERR_NOT_SUPPORTED; an unparsable value
 *   IOTC_ERR_INVALID_ARG. The variables are read at every connect; the library never edits them.
 */
#ifndef IOTC_DPS_H
#define IOTC_DPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Value of iotc_dps_config::struct_version written by iotc_dps_config_init(). */
#define IOTC_DPS_CONFIG_VERSION 1

/** The public DPS endpoint, used when iotc_dps_config::endpoint is NULL. */
#define IOTC_DPS_DEFAULT_ENDPOINT "global.azure-devices-provisioning.net"

/** api-version used on the HTTPS transport (the MQTT transport uses 2019-03-31). */
#define IOTC_DPS_HTTPS_API_VERSION "2021-10-01"

/** Sizes (including the NUL) of the text fields of ::iotc_dps_registration. */
#define IOTC_DPS_HUB_SIZE 270       /**< 255-byte host name + ":65535" + NUL, rounded up */
#define IOTC_DPS_ID_SIZE 129        /**< device and registration ids: at most 128 characters */
#define IOTC_DPS_STATUS_SIZE 64     /**< "assigned", "initialAssignment", ... */

/** How to reach DPS. */
typedef enum iotc_dps_transport {
  IOTC_DPS_TRANSPORT_MQTT = 0,    /**< MQTT 3.1.1 over TLS (default port 8883) */
  IOTC_DPS_TRANSPORT_HTTPS = 1,   /**< REST over HTTPS (default port 443) */
  /** MQTT 3.1.1 over WebSockets over TLS (default port 443, path `/$iothub/websocket`,
   *  subprotocol `mqtt`): for networks that allow only 443. Goes through an HTTP CONNECT proxy
   *  like the other transports (`https_proxy`, see the README). */
  IOTC_DPS_TRANSPORT_MQTT_WS = 2
} iotc_dps_transport;

/** Which credential iotc_dps_config::key / cert_file / key_file hold. */
typedef enum iotc_dps_credential {
  IOTC_DPS_CREDENTIAL_NONE = 0,       /**< not set: iotc_dps_register() fails with INVALID_ARG */
  IOTC_DPS_CREDENTIAL_DEVICE_KEY = 1, /**< individual enrollment: key is the device's key */
  IOTC_DPS_CREDENTIAL_GROUP_KEY = 2,  /**< enrollment group: key is the group's key */
  IOTC_DPS_CREDENTIAL_X509 = 3        /**< cert_file and key_file: PEM device certificate and key */
} iotc_dps_credential;

/**
 * @brief What to register and how. Initialise with iotc_dps_config_init(), then set fields.
 *
 * Required: id_scope, registration_id, credential and its material.
 */
typedef struct iotc_dps_config {
  int struct_version;              /**< IOTC_DPS_CONFIG_VERSION (set by iotc_dps_config_init) */
  const char *id_scope;            /**< the application's ID scope, e.g. "0ne00ABCDEF" */
  const char *registration_id;     /**< the device id: letters, digits, '-', '.', '_', ':'; ≤128 */
  iotc_dps_transport transport;    /**< default IOTC_DPS_TRANSPORT_MQTT */
  const char *endpoint;            /**< "host" or "host:port"; NULL: IOTC_DPS_DEFAULT_ENDPOINT */
  iotc_dps_credential credential;  /**< which of the next fields are used */
  const char *key;                 /**< base64 device or group key (DEVICE_KEY, GROUP_KEY) */
  const char *cert_file;           /**< X509: PEM certificate (chain) file; CN = registration_id */
  const char *key_file;            /**< X509: PEM private key file (NULL: inside cert_file) */
  const char *ca_file;             /**< PEM file of trusted roots; NULL: the built-in Azure roots */
  const char *model_id;            /**< sends {"modelId": model_id} as the payload; NULL: none */
  const char *payload_json;        /**< any JSON object as the payload (overrides model_id) */
  uint32_t timeout_ms;             /**< whole registration, polls included; 0: 90 s */
  uint32_t request_timeout_ms;     /**< one connect or request/response; 0: 30 s */
  uint32_t max_poll_interval_ms;   /**< cap on retry-after and back-off waits (pauses are never
                                        shorter than 50 ms but for the first status query
                                        after an explicit retry-after 0); 0: 30 s */
} iotc_dps_config;

/**
 * @brief What DPS answered for a successful registration.
 *
 * Caller-owned storage; the only heap member is payload_json. Release it with
 * iotc_dps_registration_clear() (safe on a zeroed or already cleared struct).
 */
typedef struct iotc_dps_registration {
  char status[IOTC_DPS_STATUS_SIZE];       /**< "assigned" */
  char substatus[IOTC_DPS_STATUS_SIZE];    /**< e.g. "initialAssignment", "" if absent */
  char assigned_hub[IOTC_DPS_HUB_SIZE];    /**< hub host name, may end in ":port" */
  char device_id[IOTC_DPS_ID_SIZE];        /**< the hub's device id */
  char registration_id[IOTC_DPS_ID_SIZE];  /**< as registered */
  char *payload_json;                      /**< echoed payload (compact JSON) or NULL; transferred */
} iotc_dps_registration;

/** Opaque provisioning handle (one registration attempt at a time). */
typedef struct iotc_dps iotc_dps;

/** @brief Fill @p cfg with defaults (all strings NULL, MQTT, defaults for times). NULL is a no-op. */
void iotc_dps_config_init(iotc_dps_config *cfg);

/**
 * @brief Register a device: create, run and destroy a handle in one call.
 * @param cfg borrowed; strings copied
 * @param[out] out filled on success (zeroed on failure); release with iotc_dps_registration_clear()
 * @param[out] err nullable; on failure, the detail (status, DPS errorCode, message,
 *                 trackingId, transport error text)
 * @retval IOTC_OK                         assigned
 * @retval IOTC_ERR_INVALID_ARG            missing or ill-formed configuration
 * @retval IOTC_ERR_IO                     a certificate, key or CA file cannot be read
 * @retval IOTC_ERR_BAD_ENCODING           a key is not valid base64
 * @retval IOTC_ERR_CONNECT                DPS could not be reached (the message names the cause:
 *                                         "name not resolved", "connection refused", ...), or
 *                                         closed the connection before answering
 * @retval IOTC_ERR_TLS                    TLS failed (untrusted server, host name mismatch, client cert)
 * @retval IOTC_ERR_UNAUTHORIZED           401/403 (bad key or certificate), CONNACK 4/5
 *                                         (err->service_code; a bare CONNACK cannot say whether
 *                                         the ID scope, device ID or credential is wrong, so the
 *                                         message names all three: HTTPS provisioning says which)
 * @retval IOTC_ERR_NOT_FOUND              404 (unknown ID scope or enrollment)
 * @retval IOTC_ERR_PROVISIONING_FAILED    status "failed" (err->service_code = DPS errorCode)
 * @retval IOTC_ERR_PROVISIONING_DISABLED  status "disabled"
 * @retval IOTC_ERR_THROTTLED              still throttled (429) when the time ran out
 * @retval IOTC_ERR_SERVICE                5xx when the time ran out, or another unexpected status
 * @retval IOTC_ERR_MALFORMED              a response is not the JSON expected, or "assigned" names a
 *                                         hub that is not a host name[:port] or a device id IoT
 *                                         Hub cannot use (the device client retries it later)
 * @retval IOTC_ERR_PROTOCOL               a response breaks the protocol (oversized, truncated, wrong topic)
 * @retval IOTC_ERR_TIMEOUT                timeout_ms elapsed (a connect that never completed says
 *                                         "cannot connect to HOST:PORT ...: timed out after N ms")
 * @retval IOTC_ERR_NOT_SUPPORTED          MQTT with proxy variables Paho cannot follow (see the file
 *                                         comment), or HTTPS without libcurl.so.4 (7.85.0 or later)
 * @retval IOTC_ERR_TRANSPORT, IOTC_ERR_HTTP, IOTC_ERR_NO_MEMORY, IOTC_ERR_CRYPTO
 */
IOTC_NODISCARD iotc_result iotc_dps_register(const iotc_dps_config *cfg,
                                             iotc_dps_registration *out, iotc_error *err);

/**
 * @brief Validate and copy @p cfg into a new handle. Nothing is sent yet.
 * @param cfg borrowed; strings copied
 * @param[out] out the handle; release with iotc_dps_destroy()
 * @param[out] err nullable detail
 * @retval IOTC_OK, IOTC_ERR_INVALID_ARG, IOTC_ERR_BAD_ENCODING, IOTC_ERR_NO_MEMORY, IOTC_ERR_CRYPTO
 */
IOTC_NODISCARD iotc_result iotc_dps_create(const iotc_dps_config *cfg, iotc_dps **out,
                                           iotc_error *err);

/**
 * @brief Run the registration on the calling thread until it ends, fails, times out or is
 *        cancelled. May be called again after it returned (a fresh attempt).
 * @pre No other iotc_dps_run() on the same handle is in progress.
 * @return as iotc_dps_register(), plus IOTC_ERR_CANCELLED after iotc_dps_cancel()
 * @note Every network resource (Paho client, curl handle) is released before it returns, so a
 *       hub connection opened next is not slowed down by a lingering provisioning client.
 */
IOTC_NODISCARD iotc_result iotc_dps_run(iotc_dps *dps, iotc_dps_registration *out,
                                        iotc_error *err);

/**
 * @brief Ask a running (or the next) iotc_dps_run() to stop as soon as possible; it then returns
 *        IOTC_ERR_CANCELLED. Safe from any thread; NULL is a no-op. Cleared when iotc_dps_run()
 *        returns.
 */
void iotc_dps_cancel(iotc_dps *dps);

/** @brief Free the handle (wiping its keys). NULL is a no-op. @pre iotc_dps_run() has returned. */
void iotc_dps_destroy(iotc_dps *dps);

/** @brief Free payload_json and zero @p reg. NULL is a no-op. */
void iotc_dps_registration_clear(iotc_dps_registration *reg);

/**
 * @brief The trust bundle used when no CA file is named: the roots Azure's IoT endpoints chain
 *        to (DigiCert Global Root G2, Microsoft RSA Root Certificate Authority 2017, DigiCert
 *        Global Root G3), compiled into the library, so they work wherever it is installed or
 *        moved to.
 *
 * The MQTT library (Paho) reads its trust store from a file name only, so the first call puts
 * the roots into a sealed anonymous memory file (memfd) of this process and returns its path,
 * "/proc/self/fd/N": nothing is written to disk and no other process can change it. libcurl
 * (DPS over HTTPS) reads the same path. The descriptor is close-on-exec and stays open for the
 * life of the process; if the application closes it, the next call makes a new one.
 * Thread-safe.
 * @return a path in static storage (valid in this process only; copy it before another thread
 *         could call this again), or NULL when memfd_create() fails or /proc is not mounted
 *         (logged as an error; then name a CA file).
 */
const char *iotc_dps_default_ca_file(void);

#ifdef __cplusplus
}
#endif
#endif
