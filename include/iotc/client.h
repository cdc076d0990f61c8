/* SPDX-License-Identifier: MIT */
/**
 * @file client.h
 * @brief The IoT Central device client: connect (through DPS or a connection string), send
 *        telemetry, report properties, and receive commands and writable-property updates.
 *
 * @code
 * #include <iotc/iotc.h>
 * #include <stdio.h>
 * #include <stdlib.h>
 *
 * static void on_reboot(iotc_client *client, const iotc_command_request *req,
 *                       iotc_command_response *resp, void *ctx) {
 *   (void)client; (void)req; (void)ctx;
 *   resp->status = 200; // payload_json left NULL: the answer is {}
 * }
 *
 * static void on_brightness(iotc_client *client, const iotc_property_update *u, void *ctx) {
 *   (void)ctx;
 *   if (iotc_client_ack_property(client, u->component, u->name, u->value_json, 200, u->version,
 *                                "applied", NULL, NULL) != IOTC_OK) {
 *     fprintf(stderr, "could not acknowledge %s\n", u->name);
 *   }
 * }
 *
 * int main(void) {
 *   iotc_client_config cfg;
 *   iotc_client_config_init(&cfg);
 *   cfg.id_scope = "0ne00000000";
 *   cfg.device_id = "sensor-1";
 *   cfg.device_key = getenv("IOTC_DEVICE_KEY");
 *   cfg.model_id = "dtmi:com:example:Thermostat;1";
 *   iotc_client *client;
 *   iotc_error err = {0};
 *   if (iotc_client_create(&cfg, &client, &err) != IOTC_OK) {
 *     fprintf(stderr, "create: %s\n", err.message);
 *     return 1;
 *   }
 *   if (iotc_client_on_command(client, NULL, "reboot", on_reboot, NULL) != IOTC_OK ||
 *       iotc_client_on_property(client, NULL, "brightness", on_brightness, NULL) != IOTC_OK ||
 *       iotc_client_connect(client, 30000, &err) != IOTC_OK) {
 *     fprintf(stderr, "connect: %s\n", err.message);
 *     iotc_client_destroy(client);
 *     return 1;
 *   }
 *   if (iotc_client_send_telemetry(client, "{\"temp\":21.5}", NULL) != IOTC_OK) {
 *     fprintf(stderr, "telemetry not queued\n");
 *   }
 *   (void)iotc_client_disconnect(client, 5000); // waits for the message to be acknowledged
 *   iotc_client_destroy(client);
 *   return 0;
 * }
 * @endcode
 *
 * **Ownership.** Every string and buffer passed to a function here is copied before the call
 * returns, except where a parameter says otherwise. Everything passed to a callback is borrowed
 * and valid only until the callback returns: copy what you keep.
 *
 * **Threading.**
 * - Every function is safe to call from any thread, including from inside any iotc callback,
 *   except iotc_client_destroy(), which must not be called from an iotc callback (such a call
 *   is refused with an error log).
 * - iotc_client_destroy() must not overlap any other call on the same client from another
 *   thread: stop the application's threads that use the client first. The completion callbacks
 *   destroy runs may call the API; requests are then refused with IOTC_ERR_STATE.
 * - Callbacks of one client run one at a time, in order, on that client's worker: never on a
 *   Paho (MQTT library) thread, never on the thread that called an API function (except the
 *   completions iotc_client_destroy() runs), and never while iotc holds a lock.
 * - The worker is, by default, a thread of the client's own: a slow callback then delays only
 *   its own client's callbacks; other clients in the process, and the MQTT I/O of this one
 *   (keep-alive, acknowledgements), go on.
 * - With iotc_client_config::executor, the worker is whichever thread of that shared executor
 *   runs the client's round (iotc/executor.h): still one round at a time and in order, never
 *   on two executor threads at once. A slow callback holds one executor thread: its own
 *   client's later callbacks and timers wait, other clients are served by the remaining
 *   threads, and when all the executor's threads are held the callbacks and timer work of
 *   every client on it wait (their MQTT keep-alive goes on: it is Paho's).
 * - Do not block a callback for long: the client's later callbacks wait for it.
 * - iotc's threads (each client's worker or the executor's threads, and the MQTT and HTTP
 *   library threads they start) block asynchronous signals, so signal handlers run on the
 *   application's own threads.
 *
 * **HTTP proxies.** DPS (both transports) and the hub connection follow `https_proxy` /
 * `HTTPS_PROXY` and `no_proxy` / `NO_PROXY` as described in iotc/dps.h: MQTT goes through an
 * HTTP CONNECT proxy given as `http://host:port`, and a host in `no_proxy` is reached directly
 * when the proxy comes from `HTTPS_PROXY`. With lower-case `https_proxy` set and the hub or DPS
 * host in `no_proxy`, the MQTT library (Paho 1.3.12) would use the proxy anyway, so connect fails
 * with IOTC_ERR_NOT_SUPPORTED (the client gives up) and a message saying what to change.
 */
#ifndef IOTC_CLIENT_H
#define IOTC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/executor.h"
#include "iotc/persist.h"
#include "iotc/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque client handle. */
typedef struct iotc_client iotc_client;

/** A name/value pair of strings (telemetry and C2D application properties). */
typedef struct iotc_property {
  const char *name;  /**< property name, NUL-terminated */
  const char *value; /**< property value, NUL-terminated */
} iotc_property;

/* ---------------------------------------------------------------------------------------------
 * Configuration
 * ------------------------------------------------------------------------------------------- */

/** Version 2 added @ref iotc_client_config::model_file, version 3
 *  @ref iotc_client_config::liveness_timeout_ms, version 4 @ref iotc_client_config::persist_dir
 *  and the persistence fields after it, @ref iotc_client_config::transport and
 *  @ref iotc_client_config::fallback_after_ms, version 5 @ref iotc_client_config::executor.
 *  Older structs (from code built against an older iotc, which end before those fields) are
 *  still accepted: no model, the default liveness, no persistence, MQTT over TLS on 8883, a
 *  worker thread of the client's own. */
#define IOTC_CLIENT_CONFIG_VERSION 5

/**
 * How the client reaches DPS and the hub (see "Transports and proxies" in the README).
 * Every transport verifies the server certificate and host name, and goes through the HTTP
 * CONNECT proxy named by `https_proxy` / `HTTPS_PROXY` (with `user:password@`) unless
 * `no_proxy` excludes the host.
 */
typedef enum iotc_transport {
  IOTC_TRANSPORT_MQTT = 0,    /**< MQTT 3.1.1 over TLS, port 8883 (the default) */
  /** MQTT 3.1.1 over WebSockets over TLS, port 443, path `/$iothub/websocket`, subprotocol
   *  `mqtt` (`?iothub-no-client-cert=true` with SAS keys): for networks that allow only 443 */
  IOTC_TRANSPORT_MQTT_WS = 1,
  /** Try MQTT on 8883; when it does not connect within iotc_client_config::fallback_after_ms
   *  (refused, reset, or no answer), use MQTT over WebSockets on 443 at once. The working
   *  transport is remembered in iotc_client_config::cache_file, so the next start goes straight
   *  to it. The status callback says which one is used (iotc_status_info::transport). */
  IOTC_TRANSPORT_AUTO = 2
} iotc_transport;

/**
 * @brief Name of a transport, for logs and messages: "mqtt", "mqtt-ws", "auto".
 * @param transport any value
 * @return static text, never NULL; "unknown transport" for a value not in ::iotc_transport
 * @note Thread-safe.
 */
const char *iotc_transport_str(iotc_transport transport);

/**
 * @brief How to reach IoT Central, and how the client behaves. Initialise with
 *        iotc_client_config_init(), then set fields. All strings are copied by
 *        iotc_client_create().
 *
 * Identity, one of:
 * - DPS: @ref id_scope + @ref device_id + exactly one credential: @ref device_key (individual
 *   enrollment), @ref group_key (enrollment group: the device key is derived), or
 *   @ref cert_file + @ref key_file (X.509).
 * - Direct: @ref connection_string (`HostName=…;DeviceId=…;SharedAccessKey=…`); DPS is skipped.
 *
 * **Device model** (@ref model_file). The DTDL JSON of the device template, as IoT Central
 * exports and imports it: one interface, or an array of interfaces whose root (the one no other
 * uses) refers to component interfaces by `@id`; DTDL v2 or v3. Supported: every primitive
 * schema (v3's too), Enum, Object, Map, Array, geospatial schemas, inline schemas and
 * `schemas` entries referenced by `@id`, `extends`; semantic types and units are ignored, and so
 * are relationships and IoT Central cloud properties. When @ref model_id is NULL the root
 * interface's `@id` is announced. With a model the client refuses what the model does not allow:
 * - a writable-property update whose name is not a writable property of its (component's)
 *   interface, or whose value does not match the schema, is acknowledged at once with ac=400,
 *   av=the desired version and an `ad` that says why ("brightness: expected integer, got
 *   string"); the handler is not called;
 * - a command not in the interface is answered 404, one whose payload does not match the
 *   request schema 400 (with the reason), and its handler is not called;
 * - iotc_client_report_property(), _report_properties(), _ack_property(),
 *   _set_property_default(), _complete_command() (checked against the command's response
 *   schema, if any) and _send_telemetry() (every member of the JSON object must be a telemetry
 *   of the interface, with a JSON content type) return IOTC_ERR_INVALID_ARG and log why;
 *   nothing is sent.
 * Cost: each telemetry message is parsed once more (a DOM of the payload) to be checked, about
 * as much CPU as building the JSON again; without a model the telemetry path does no such work.
 */
typedef struct iotc_client_config {
  int struct_version;            /**< IOTC_CLIENT_CONFIG_VERSION */

  const char *id_scope;          /**< DPS ID scope of the IoT Central application */
  const char *device_id;         /**< device id = DPS registration id */
  const char *device_key;        /**< base64 device key (individual enrollment, or already derived) */
  const char *group_key;         /**< base64 enrollment-group key (SAS-IoT-Devices) */
  const char *cert_file;         /**< X.509 device certificate, PEM file (CN = device id) */
  const char *key_file;          /**< private key of @ref cert_file, PEM file */
  const char *connection_string; /**< device connection string; skips DPS */

  const char *dps_endpoint;      /**< host[:port]; NULL: global.azure-devices-provisioning.net */
  bool dps_over_https;           /**< provision over HTTPS (REST) instead of MQTT */
  const char *model_id;          /**< DTMI announced to DPS and in the MQTT username; nullable */
  const char *ca_file;           /**< PEM trust bundle; NULL: the Azure roots built into iotc */
  const char *cache_file;        /**< remembers the assigned hub so restarts skip DPS; nullable */

  uint32_t sas_ttl_s;            /**< SAS token lifetime; renewed at ~80 %. Default 3600 */
  uint16_t keepalive_s;          /**< MQTT keep-alive. Default 60 */
  uint32_t connect_timeout_ms;   /**< one provisioning or connect attempt, 1 to 3600000. Default 30000 */
  uint32_t reconnect_min_ms;     /**< first reconnect back-off (full jitter). Default 1000 */
  uint32_t reconnect_max_ms;     /**< back-off cap. Default 60000 */
  uint32_t reprovision_after;    /**< re-provision after this many failed reconnects; 0 never. Default 5 */
  uint32_t give_up_after;        /**< stop after this many failed attempts in a row; 0 never. Default 0 */
  /** messages waiting to be sent (offline or beyond the window): telemetry, reported properties
   *  and property acknowledgements together. Default 1000 */
  size_t queue_capacity;
  uint16_t max_inflight;         /**< QoS 1 publishes awaiting PUBACK. Default 32 */
  /** DTDL device model (the IoT Central device template) the client enforces; nullable.
   *  See "Device model" below. Read once by iotc_client_create(). (struct_version 2) */
  const char *model_file;
  /** Liveness: how long an answer the client waits for may be missing before the connection is
   *  declared dead (the oldest unacknowledged telemetry PUBACK, the answer to the twin GET, or
   *  the answer to a reported PATCH). Then the client closes the connection and reconnects with back-off, and the status
   *  callback gets IOTC_STATUS_DISCONNECTED with reason IOTC_ERR_TIMEOUT and a message saying
   *  which answer was missing. This catches hubs that keep a connection open without answering
   *  (MQTT's keep-alive counts any incoming byte as life). It is checked every quarter of the
   *  limit, so a stall is detected at most 1.25 × this after the request was sent. A reported
   *  PATCH gets 3 attempts: when the third goes unanswered, its on_done gets IOTC_ERR_TIMEOUT.
   *  Must be > 0. Default 60000. (struct_version 3) */
  uint32_t liveness_timeout_ms;
  /** Store and forward (see persist.h and the README, "Store and forward"): a directory (created
   *  if missing, mode 0700; its parent must exist) where every accepted QoS 1 telemetry message
   *  and reported property waits until the hub acknowledges it, so a crash, a kill or a power
   *  cut loses none; the next client on the directory sends them first, in order. One client
   *  per directory: a second one is refused with IOTC_ERR_LOCKED. NULL: in memory only, as
   *  before. With a directory, those messages are bounded by @ref persist_max_bytes instead of
   *  @ref queue_capacity, and are held in memory too. (struct_version 4) */
  const char *persist_dir;
  /** Most bytes the directory's log may take (at least 65536). Default 64 MiB.
   *  (struct_version 4) */
  uint64_t persist_max_bytes;
  /** When a message reaches the disk. Default IOTC_PERSIST_SYNC_EACH. (struct_version 4) */
  iotc_persist_durability persist_durability;
  /** IOTC_PERSIST_SYNC_INTERVAL: the interval, 1 to 3600000 ms. Default 1000.
   *  (struct_version 4) */
  uint32_t persist_sync_interval_ms;
  /** What a send does when @ref persist_max_bytes is reached. Default IOTC_PERSIST_REFUSE_NEW.
   *  (struct_version 4) */
  iotc_persist_full_policy persist_full_policy;
  /** How to reach DPS and the hub. Default IOTC_TRANSPORT_MQTT. DPS uses the same transport
   *  unless @ref dps_over_https is set (HTTPS is on 443 already). An explicit port in a host
   *  name (`host:port`) is used whatever the transport. (struct_version 4) */
  iotc_transport transport;
  /** IOTC_TRANSPORT_AUTO: how long one MQTT attempt on 8883 may take before the client falls
   *  back to 443 (at most @ref connect_timeout_ms). A refused or reset connection falls back at
   *  once; a network that drops packets silently (no answer at all) costs this long.
   *  1 to 3600000. Default 10000. (struct_version 4) */
  uint32_t fallback_after_ms;
  /** The shared executor whose threads run this client's rounds (see iotc/executor.h); NULL:
   *  a worker thread of the client's own (the default). Borrowed: the executor refuses to be
   *  destroyed while this client exists, so it stays valid for the client's whole life; it
   *  must be a live executor when the client is created (a destroyed one is freed memory, as
   *  with any handle). (struct_version 5) */
  iotc_executor *executor;
} iotc_client_config;

/** @brief Fill @p cfg with the defaults above (NULL is ignored). */
void iotc_client_config_init(iotc_client_config *cfg);

/**
 * @brief Create a client (no network activity yet). Everything that can be checked without the
 *        network is checked here, so a mistake in the configuration shows now, with a message
 *        naming the field, not as a failure at connect.
 * @param cfg copied; NULL is refused (identity is required)
 * @param[out] out_client the new client, to be released with iotc_client_destroy(); NULL on
 *             failure
 * @param[out] err on failure, what is wrong in words (`err->message`, e.g. "device_key is not
 *             valid base64", "ca_file '/etc/x.pem' cannot be read: No such file or directory",
 *             "model_file 'm.json': contents[3].schema: unknown schema 'foo'"), readable without
 *             turning logging on; nullable. Never contains a key.
 * @retval IOTC_OK
 * @retval IOTC_ERR_INVALID_ARG missing or contradictory identity (none, or more than one), a key
 *         that is not base64, a device id, ID scope, DPS endpoint (`host[:port]`, port 1-65535)
 *         or connection-string HostName that is not well-formed, bad limits (zero, or
 *         connect_timeout_ms over one hour), a model file that is not DTDL or uses what is not
 *         supported
 * @retval IOTC_ERR_IO the model file, ca_file, cert_file or key_file cannot be read, or no
 *         ca_file is given and the Azure roots bundle is missing, or persist_dir cannot be
 *         created, read or written (the message names it and the system's reason)
 * @retval IOTC_ERR_LOCKED another client (in this or another process) uses persist_dir
 * @retval IOTC_ERR_NO_SPACE persist_dir's file system is full while a torn write is repaired
 * @retval IOTC_ERR_NO_MEMORY
 * @code
 * iotc_client_config cfg;
 * iotc_client_config_init(&cfg);
 * cfg.id_scope = "0ne00000000";
 * cfg.device_id = "sensor-1";
 * cfg.device_key = getenv("IOTC_DEVICE_KEY");
 * iotc_client *client;
 * iotc_error err;
 * if (iotc_client_create(&cfg, &client, &err) != IOTC_OK) {
 *   fprintf(stderr, "iotc_client_create: %s\n", err.message); // e.g. which field is wrong
 *   return 1;
 * }
 * iotc_client_destroy(client);
 * return 0;
 * @endcode
 */
IOTC_NODISCARD iotc_result iotc_client_create(const iotc_client_config *cfg,
                                              iotc_client **out_client, iotc_error *err);

/**
 * @brief Stop the client and free it. Every pending operation completes before it returns, on
 *        the caller's thread: with IOTC_OK when the hub acknowledged it already, else with
 *        IOTC_ERR_SHUTDOWN. Wipes keys and tokens. NULL is a no-op.
 * With an executor (iotc_client_config::executor), the client leaves it: taken out of its
 * queue when its round waits there, and, when a round of it is running on an executor thread,
 * destroy waits for that round (and so its callback) to end first.
 * @pre Not called from an iotc callback (refused with an error log) and not concurrently with
 *      any other call on @p client. Call iotc_client_disconnect() first for a graceful close.
 */
void iotc_client_destroy(iotc_client *client);

/* ---------------------------------------------------------------------------------------------
 * Connection
 * ------------------------------------------------------------------------------------------- */

/** Connection states reported to the status callback; iotc_status_str() names them. */
typedef enum iotc_connection_status {
  IOTC_STATUS_PROVISIONING = 0,   /**< registering with DPS */
  IOTC_STATUS_CONNECTING = 1,     /**< connecting to the hub */
  IOTC_STATUS_CONNECTED = 2,      /**< connected, subscribed; the twin is being reconciled */
  IOTC_STATUS_DISCONNECTED = 3,   /**< connection lost or closed; reason says why */
  IOTC_STATUS_RECONNECTING = 4,   /**< waiting retry_in_ms before the next attempt */
  IOTC_STATUS_REPROVISIONING = 5, /**< the hub refused the device: asking DPS again */
  IOTC_STATUS_GAVE_UP = 6         /**< permanent failure; the client stays down until iotc_client_connect() */
} iotc_connection_status;

/**
 * @brief Name of a connection status, for logs and messages: "provisioning", "connecting",
 *        "connected", "disconnected", "reconnecting", "reprovisioning", "gave up".
 * @param status any value
 * @return static text, never NULL; "unknown status" for a value not in ::iotc_connection_status
 * @note Thread-safe; callable from any callback.
 */
const char *iotc_status_str(iotc_connection_status status);

/** What the status callback receives (borrowed). */
typedef struct iotc_status_info {
  iotc_connection_status status; /**< the state the client is in now */
  iotc_result reason;    /**< why we got here (IOTC_OK when connected) */
  const char *message;   /**< human-readable detail, never NULL, never a secret */
  const char *hub;       /**< hub host[:port] when known, else "" */
  uint32_t attempt;      /**< consecutive failed attempts so far */
  uint32_t retry_in_ms;  /**< RECONNECTING: delay before the next attempt */
  /** Messages recovered from @ref iotc_client_config::persist_dir when the client was created
   *  (they are sent first); 0 without persistence. The first status of the client also says so
   *  in @ref message. */
  uint64_t recovered;
  /** The transport of this attempt or connection: IOTC_TRANSPORT_MQTT or _MQTT_WS (never
   *  AUTO). With IOTC_TRANSPORT_AUTO, the switch to 443 is a status with transport MQTT_WS and
   *  a reason other than IOTC_OK whose message says why and after how long: RECONNECTING
   *  (retry_in_ms 0) at the hub, PROVISIONING during registration. */
  iotc_transport transport;
} iotc_status_info;

/**
 * A status callback (client worker thread): @p info is borrowed for the call;
 * @p user_context is the pointer given to iotc_client_on_status().
 */
typedef void (*iotc_status_fn)(iotc_client *client, const iotc_status_info *info,
                               void *user_context);

/**
 * @brief Start the client: provision (unless a connection string or a valid cache says where to
 *        go), connect, subscribe, and fetch the twin. From then on the client keeps itself
 *        connected (reconnect with back-off, SAS renewal, re-provisioning) until
 *        iotc_client_disconnect() or iotc_client_destroy().
 * @param client the client
 * @param timeout_ms how long to wait for the first connection; 0 returns IOTC_OK at once and
 *                   connects in the background (watch the status callback). Called from an iotc
 *                   callback it never waits (as with 0).
 * @param[out] err detail on failure; nullable
 * @retval IOTC_OK connected
 * @retval IOTC_ERR_TIMEOUT not connected yet; the client keeps trying in the background
 * @retval IOTC_ERR_UNAUTHORIZED, IOTC_ERR_PROVISIONING_FAILED, IOTC_ERR_PROVISIONING_DISABLED,
 *         IOTC_ERR_NOT_FOUND, IOTC_ERR_TLS, IOTC_ERR_NOT_SUPPORTED (proxy variables, see above),
 *         ... permanent failure: the client gave up
 * @retval IOTC_ERR_CANCELLED iotc_client_cancel_connect() was called: the client is stopped
 *         (as after iotc_client_disconnect() with a timeout of 0) and may be connected again
 * @retval IOTC_ERR_STATE already started
 */
IOTC_NODISCARD iotc_result iotc_client_connect(iotc_client *client, uint32_t timeout_ms,
                                               iotc_error *err);

/**
 * @brief Cancel the iotc_client_connect() that is waiting (on any thread): it returns
 *        IOTC_ERR_CANCELLED within about 20 ms (it looks for the request that often), and the
 *        client stops trying (a DPS request or MQTT connect in progress is abandoned, in the
 *        background: over HTTPS that can take up to a second, and a later connect() or
 *        iotc_client_destroy() waits for it). When no
 *        connect() is waiting, the request applies to the next one, which then returns
 *        IOTC_ERR_CANCELLED at once.
 *
 * **Async-signal-safe**: it only sets an atomic flag, so it may be called from a signal
 * handler, for Ctrl-C during a connect:
 * @code
 * #include <iotc/iotc.h>
 * #include <signal.h>
 * #include <stdio.h>
 *
 * static iotc_client *volatile g_client;
 * static void on_sigint(int sig) { (void)sig; iotc_client_cancel_connect(g_client); }
 *
 * static int connect_or_cancel(iotc_client *client) {
 *   g_client = client;
 *   signal(SIGINT, on_sigint);                                  // before connecting
 *   iotc_error err;
 *   iotc_result r = iotc_client_connect(client, 30000, &err);  // IOTC_ERR_CANCELLED after Ctrl-C
 *   signal(SIGINT, SIG_DFL);
 *   g_client = NULL;                                            // before the client is destroyed
 *   if (r != IOTC_OK) fprintf(stderr, "connect: %s\n", err.message);
 *   return r == IOTC_OK ? 0 : 1;
 * }
 *
 * int main(void) { return connect_or_cancel(NULL) == 1 ? 0 : 1; }
 * @endcode
 * @param client NULL is ignored
 * @note Thread-safe and async-signal-safe. It must not race iotc_client_destroy(): clear the
 *       pointer a signal handler uses (and block the signal) before destroying the client.
 */
void iotc_client_cancel_connect(iotc_client *client);

/**
 * @brief Wait up to @p timeout_ms for queued QoS 1 messages and reported properties to be
 *        acknowledged, then close the connection. Called between connections (back-off,
 *        provisioning, reconnecting) with something queued, the client keeps connecting and then
 *        flushes, until the deadline; with nothing queued it closes at once. What is still
 *        queued stays queued (a later iotc_client_connect() sends it) and is failed with
 *        IOTC_ERR_SHUTDOWN by destroy.
 * Called from an iotc callback it does not wait: the close happens after the callback returns.
 * It returns at most 1 s after @p timeout_ms (the MQTT close gets what is left of the timeout,
 * up to 1 s). When a callback of this client is still running then, it returns
 * IOTC_ERR_TIMEOUT and the close completes as soon as that callback returns.
 * @retval IOTC_OK everything acknowledged and closed
 * @retval IOTC_ERR_TIMEOUT messages still queued, or not closed yet (a callback still running)
 */
iotc_result iotc_client_disconnect(iotc_client *client, uint32_t timeout_ms);

/** @brief Is the client connected to its hub right now? */
bool iotc_client_is_connected(const iotc_client *client);

/** @brief The hub (host[:port]) and device id in use; "" when not known yet. Copied out. */
IOTC_NODISCARD iotc_result iotc_client_get_hub(const iotc_client *client, char *hub, size_t hub_size,
                                               char *device_id, size_t device_id_size);

/**
 * @brief The transport the client uses now, or will try next: IOTC_TRANSPORT_MQTT or
 *        IOTC_TRANSPORT_MQTT_WS (with IOTC_TRANSPORT_AUTO, the one that connected or is tried).
 * @param client nullable: IOTC_TRANSPORT_MQTT
 * @note Thread-safe; callable from any callback.
 */
iotc_transport iotc_client_get_transport(const iotc_client *client);

/** Counters, for monitoring and tests. */
typedef struct iotc_client_stats {
  uint64_t telemetry_sent;      /**< accepted by the hub (PUBACK, or written for QoS 0) */
  uint64_t telemetry_failed;    /**< completed with an error */
  uint64_t telemetry_resent;    /**< QoS 1 publishes sent again after a connection drop */
  uint64_t reported_sent;       /**< reported-property PATCHes acknowledged */
  uint64_t commands_received;   /**< commands handed to a handler (direct and queued) */
  uint64_t properties_received; /**< writable-property updates handed to a handler */
  uint64_t connects;            /**< successful connections (first + reconnects) */
  uint64_t provisionings;       /**< successful DPS registrations */
  size_t queued;                /**< messages waiting now (telemetry + reported) */
  /** Work dropped for lack of memory, each with a log line saying what: inbound messages,
   *  desired-property patches and values, C2D messages, commands (answered 503 when they can
   *  be), property defaults not reported, command responses, and telemetry messages (their
   *  callback gets IOTC_ERR_NO_MEMORY). Added in 0.2.0 (the struct grew: rebuild against this header). */
  uint64_t dropped_no_memory;
} iotc_client_stats;

/**
 * @brief Copy the client's counters into @p out_stats (a consistent snapshot).
 * @retval IOTC_ERR_INVALID_ARG @p client or @p out_stats is NULL
 */
IOTC_NODISCARD iotc_result iotc_client_get_stats(const iotc_client *client,
                                                 iotc_client_stats *out_stats);

/**
 * @brief Copy the client's persistence counters into @p out_stats (all zero without
 *        @ref iotc_client_config::persist_dir).
 * @retval IOTC_ERR_INVALID_ARG @p client or @p out_stats is NULL
 */
IOTC_NODISCARD iotc_result iotc_client_get_persist_stats(const iotc_client *client,
                                                         iotc_persist_stats *out_stats);

/** @brief Status callback (NULL removes it). Replaces the previous one atomically. */
IOTC_NODISCARD iotc_result iotc_client_on_status(iotc_client *client, iotc_status_fn fn,
                                                 void *user_context);

/* ---------------------------------------------------------------------------------------------
 * Telemetry
 * ------------------------------------------------------------------------------------------- */

/** Completion of one message (IOTC_OK once the hub acknowledged it at QoS 1, or it was written at
 *  QoS 0), and of a callback scheduled with iotc_client_schedule(). */
typedef void (*iotc_done_fn)(iotc_client *client, iotc_result result, void *user_context);

/** Value of iotc_telemetry_options::struct_version written by iotc_telemetry_options_init(). */
#define IOTC_TELEMETRY_OPTIONS_VERSION 1
/** Per-message options; initialise with iotc_telemetry_options_init(). Strings are copied. */
typedef struct iotc_telemetry_options {
  int struct_version;                /**< IOTC_TELEMETRY_OPTIONS_VERSION */
  const char *component;             /**< `$.sub`; NULL for the root component */
  const iotc_property *properties;   /**< custom application properties; borrowed, copied */
  size_t property_count;             /**< number of entries in @ref properties */
  const char *content_type;          /**< `$.ct`; default "application/json" */
  const char *content_encoding;      /**< `$.ce`; default "utf-8" */
  const char *message_id;            /**< `$.mid`; nullable */
  const char *correlation_id;        /**< `$.cid`; nullable */
  bool creation_time;                /**< add `iothub-creation-time-utc` (now, ms precision) */
  int qos;                           /**< 0 or 1; default 1 */
  iotc_done_fn on_done;              /**< nullable; IOTC_ERR_NO_MEMORY: no memory to send */
  void *user_context;                /**< passed to on_done */
} iotc_telemetry_options;

/** @brief Fill @p opts with the defaults and the current struct_version. NULL is a no-op. */
void iotc_telemetry_options_init(iotc_telemetry_options *opts);

/**
 * @brief Queue one telemetry message. Returns at once; the message goes out in order, now or
 *        after the next (re)connect. QoS 1 messages interrupted by a connection drop are sent again.
 * @param client the client
 * @param json NUL-terminated text, copied: with a JSON content type (the default) a JSON object,
 *        the only telemetry IoT Central reads (`[1,2]` or `42` are refused)
 * @param opts nullable (defaults)
 * @retval IOTC_OK queued; on_done reports the outcome
 * @retval IOTC_ERR_INVALID_ARG NULL/empty payload, not a JSON object (for a JSON content type),
 *         bad names, refused by the device model
 * @retval IOTC_ERR_TOO_LARGE larger than IoT Hub accepts (256 KiB with its topic)
 * @retval IOTC_ERR_QUEUE_FULL queue_capacity reached, or persist_max_bytes with
 *         IOTC_PERSIST_REFUSE_NEW; nothing was queued
 * @retval IOTC_ERR_NO_SPACE, IOTC_ERR_IO persist_dir could not take the message (the reason is in
 *         iotc_persist_stats::last_error); nothing was queued, nothing accepted before is lost
 * @retval IOTC_ERR_STATE the client gave up or is being destroyed
 */
IOTC_NODISCARD iotc_result iotc_client_send_telemetry(iotc_client *client, const char *json,
                                                      const iotc_telemetry_options *opts);

/* ---------------------------------------------------------------------------------------------
 * Reported properties
 * ------------------------------------------------------------------------------------------- */

/**
 * @brief Report one property: `{"name": value}`, or for a component
 *        `{"component": {"__t": "c", "name": value}}`. Reported PATCHes go one at a time, in order;
 *        the rest wait in the queue (also across reconnects).
 * @param client the client
 * @param component nullable (root)
 * @param name the property name, copied
 * @param value_json JSON text of the value, copied
 * @param on_done nullable; IOTC_OK once the hub answered 2xx
 * @param user_context passed to @p on_done
 */
IOTC_NODISCARD iotc_result iotc_client_report_property(iotc_client *client, const char *component,
                                                       const char *name, const char *value_json,
                                                       iotc_done_fn on_done, void *user_context);

/**
 * @brief Report several properties at once: @p json_object is `{"name": value, ...}`. Each
 *        member name follows the rule iotc_client_report_property() applies to its name (a
 *        DTDL name: no `$`, `/`, `#`, ...); one bad name refuses the whole object, and nothing
 *        is sent.
 * @param client the client
 * @param component nullable (root)
 * @param json_object a JSON object of the properties, copied
 * @param on_done nullable; IOTC_OK once the hub answered 2xx
 * @param user_context passed to @p on_done
 * @retval IOTC_OK queued
 * @retval IOTC_ERR_INVALID_ARG not a JSON object, a bad member name or component (logged with
 *         the name), refused by the device model
 * @retval IOTC_ERR_TOO_LARGE larger than IoT Hub's 32 KiB for a reported document
 * @retval IOTC_ERR_QUEUE_FULL queue_capacity reached, or persist_max_bytes with
 *         IOTC_PERSIST_REFUSE_NEW; nothing was queued
 * @retval IOTC_ERR_NO_SPACE, IOTC_ERR_IO persist_dir could not take the message (the reason is in
 *         iotc_persist_stats::last_error); nothing was queued, nothing accepted before is lost
 * @retval IOTC_ERR_STATE the client gave up or is being destroyed
 */
IOTC_NODISCARD iotc_result iotc_client_report_properties(iotc_client *client, const char *component,
                                                         const char *json_object,
                                                         iotc_done_fn on_done, void *user_context);

/* ---------------------------------------------------------------------------------------------
 * Writable properties
 * ------------------------------------------------------------------------------------------- */

/** A desired (writable) property value received from the service (borrowed). */
typedef struct iotc_property_update {
  const char *component;   /**< NULL for the root component */
  const char *name;        /**< the property name */
  const char *value_json;  /**< the value as JSON text (the `{"value":…}` wrapper removed) */
  /** desired `$version`: acknowledge with av = this. For a live patch it is the `$version` in
   *  the patch body (the service's), else the `$version` in its topic, else -1 (unknown). Live
   *  patches reach the handler in arrival order whatever their version; only the patches that
   *  arrive while the twin is being fetched at (re)connect are skipped when not newer than it. */
  int64_t version;
  bool at_startup;         /**< from the twin fetched at (re)connect, not from a live patch */
} iotc_property_update;

/**
 * A writable-property handler (client worker thread): @p update is borrowed for the call;
 * acknowledge with iotc_client_ack_property(), now or later.
 */
typedef void (*iotc_property_fn)(iotc_client *client, const iotc_property_update *update,
                                 void *user_context);

/**
 * @brief Handler for one writable property (@p name) of @p component (NULL: root). NULL @p fn
 *        removes it. Updates for properties with no handler go to the catch-all; with neither,
 *        they are acknowledged with ac=404-style status so the operator sees them refused.
 */
IOTC_NODISCARD iotc_result iotc_client_on_property(iotc_client *client, const char *component,
                                                   const char *name, iotc_property_fn fn,
                                                   void *user_context);

/** @brief Catch-all handler for writable properties without their own handler. */
IOTC_NODISCARD iotc_result iotc_client_on_any_property(iotc_client *client, iotc_property_fn fn,
                                                       void *user_context);

/**
 * @brief Acknowledge a writable property: reports `{"value": value_json, "ac": status,
 *        "av": version, "ad": description}` (under the component, with `"__t":"c"`). Callable at
 *        once from the handler or later from any thread.
 * @param client the client
 * @param component nullable (root)
 * @param name the property name, copied
 * @param value_json the value applied, as JSON text, copied
 * @param status `ac`: 200 applied, 202 in progress, 400 refused, ...
 * @param version `av`: the `$version` of the desired value acknowledged (@ref
 *        iotc_property_update::version); 0 for a value the service never asked for (a default).
 *        A version newer than any desired version this client has handed to a handler is
 *        refused (IOTC_ERR_INVALID_ARG, logged): the service would ignore it.
 * @param description `ad`, nullable
 * @param on_done nullable; IOTC_OK once the hub answered 2xx
 * @param user_context passed to @p on_done
 * @retval IOTC_ERR_QUEUE_FULL queue_capacity reached (shared with telemetry and reports), or
 *         persist_max_bytes with IOTC_PERSIST_REFUSE_NEW
 * @retval IOTC_ERR_NO_SPACE, IOTC_ERR_IO persist_dir could not take it (see
 *         iotc_persist_stats::last_error)
 */
IOTC_NODISCARD iotc_result iotc_client_ack_property(iotc_client *client, const char *component,
                                                    const char *name, const char *value_json,
                                                    int status, int64_t version,
                                                    const char *description, iotc_done_fn on_done,
                                                    void *user_context);

/**
 * @brief Declare a default for a writable property: at each connect, when the twin holds no
 *        desired value for it and no acknowledgement, iotc reports it with ac=203, av=0.
 */
IOTC_NODISCARD iotc_result iotc_client_set_property_default(iotc_client *client,
                                                            const char *component, const char *name,
                                                            const char *value_json);

/* ---------------------------------------------------------------------------------------------
 * Commands
 * ------------------------------------------------------------------------------------------- */

/** A command invocation (borrowed). */
typedef struct iotc_command_request {
  const char *component;    /**< NULL for the root component */
  const char *name;         /**< the command name */
  const char *payload_json; /**< request payload as JSON text ("null" when none) */
  size_t payload_len;       /**< length of payload_json in bytes */
  const char *request_id;   /**< for iotc_client_respond_command(); NULL when queued */
  bool queued;              /**< an offline (C2D) command: no response is sent */
} iotc_command_request;

/**
 * @brief Filled by the command handler. iotc reads it after the handler has returned, so
 *        everything it points to must outlive the handler.
 *
 * Text built in the handler (a stack buffer, a formatted string) is handed over with
 * iotc_command_response_set_payload(), which copies it:
 * @code
 * #include <iotc/iotc.h>
 * #include <stdio.h>
 * #include <time.h>
 *
 * static void on_uptime(iotc_client *client, const iotc_command_request *req,
 *                       iotc_command_response *resp, void *ctx) {
 *   (void)client; (void)req; (void)ctx;
 *   char body[128];
 *   snprintf(body, sizeof body, "{\"uptime\":%ld}", (long)clock() / CLOCKS_PER_SEC);
 *   if (iotc_command_response_set_payload(resp, body) != IOTC_OK) { // copied: body may go away
 *     resp->status = 500;
 *   }
 * }
 *
 * int main(void) { return iotc_client_on_command(NULL, NULL, "uptime", on_uptime, NULL) == IOTC_OK; }
 * @endcode
 * Assigning @ref iotc_command_response::payload_json directly is for text that stays valid after the handler returns
 * (a string literal, static or heap memory the application keeps). A direct assignment that
 * points into the handler's own, returned stack frame is detected where iotc can see it (the
 * worker thread's stack) and answered 500 with an error log, instead of sending garbage.
 */
typedef struct iotc_command_response {
  int status;               /**< HTTP-like status to answer (100-999); preset to 200 */
  /** JSON text to answer; NULL sends `{}`. Must stay valid after the handler returns (see
   *  above); iotc_command_response_set_payload() points it at iotc's own copy. */
  const char *payload_json;
  bool later;               /**< true: respond later with iotc_client_respond_command() */
  /** iotc's copy made by iotc_command_response_set_payload(), freed by iotc after the response
   *  is sent; NULL until then. Owned by iotc: never set or free it in a handler. A response an
   *  application builds itself (to test a handler) starts zeroed and is released with
   *  iotc_free() on this field. */
  char *payload_copy;
} iotc_command_response;

/**
 * @brief Set the JSON text a command handler answers with, copying it at once: the caller's
 *        buffer (e.g. on the handler's stack) may go away as soon as this returns.
 * @param response the response the handler received (or one the application zeroed itself)
 * @param payload_json JSON text, copied; NULL answers `{}`
 * @retval IOTC_OK @ref iotc_command_response::payload_json now points at iotc's copy
 * @retval IOTC_ERR_INVALID_ARG @p response is NULL or @p payload_json is not valid JSON
 *         (logged; the response is unchanged)
 * @retval IOTC_ERR_NO_MEMORY the response is unchanged
 * @note Call it from the handler, on the thread that runs it; a later call replaces the
 *       earlier copy.
 */
IOTC_NODISCARD iotc_result iotc_command_response_set_payload(iotc_command_response *response,
                                                             const char *payload_json);

/**
 * A command handler: fill @p response (or set `later`). Runs on the client's worker thread;
 * @p request is borrowed for the call (copy the request id to answer later).
 */
typedef void (*iotc_command_fn)(iotc_client *client, const iotc_command_request *request,
                                iotc_command_response *response, void *user_context);

/**
 * @brief Handler for command @p name of @p component (NULL: root). NULL @p fn removes it.
 *        Commands with no handler go to the catch-all; with neither, they are answered 404 with
 *        a message naming the command. A request whose payload is over 128 KiB (IoT Hub's own
 *        limit) is answered 413, and one whose request id no response topic can carry is
 *        refused; neither reaches a handler. Every response is sent, in order, through a queue
 *        of the client's own (also across a reconnect) for up to 5 minutes, the longest a
 *        service waits for one; older ones are discarded with an error log.
 */
IOTC_NODISCARD iotc_result iotc_client_on_command(iotc_client *client, const char *component,
                                                  const char *name, iotc_command_fn fn,
                                                  void *user_context);

/**
 * @brief Catch-all handler for commands that have no handler of their own. NULL @p fn removes
 *        it.
 */
IOTC_NODISCARD iotc_result iotc_client_on_any_command(iotc_client *client, iotc_command_fn fn,
                                                      void *user_context);

/**
 * @brief Respond later to a command whose handler set `later`. Any thread.
 * @param client the client
 * @param request_id copied from the request
 * @param status the response status (200, 400, ...)
 * @param payload_json nullable ({})
 * @retval IOTC_ERR_NOT_FOUND no pending command with that id (answered already or expired)
 */
IOTC_NODISCARD iotc_result iotc_client_respond_command(iotc_client *client, const char *request_id,
                                                       int status, const char *payload_json);

/**
 * @brief Complete a long-running command (answered 202 earlier): reports the property named
 *        after the command, `{"<name>": {"value": value_json}}` (under its component).
 */
IOTC_NODISCARD iotc_result iotc_client_complete_command(iotc_client *client, const char *component,
                                                        const char *name, const char *value_json,
                                                        iotc_done_fn on_done, void *user_context);

/* ---------------------------------------------------------------------------------------------
 * Cloud-to-device messages (other than queued commands)
 * ------------------------------------------------------------------------------------------- */

/** A cloud-to-device message; everything is borrowed for the duration of the callback. */
typedef struct iotc_c2d_message {
  const void *payload;             /**< the message body (any bytes, not NUL-terminated) */
  size_t payload_len;              /**< its length in bytes */
  const iotc_property *properties; /**< decoded application and system properties */
  size_t property_count;           /**< number of entries in properties */
} iotc_c2d_message;

/** A cloud-to-device message handler (client worker thread). */
typedef void (*iotc_c2d_fn)(iotc_client *client, const iotc_c2d_message *message,
                            void *user_context);

/**
 * @brief Handler for cloud-to-device messages that are not queued commands. NULL @p fn removes
 *        it; messages without a handler are logged and discarded, and so are messages over
 *        64 KiB (IoT Hub's own C2D limit), which never reach the handler.
 */
IOTC_NODISCARD iotc_result iotc_client_on_c2d(iotc_client *client, iotc_c2d_fn fn,
                                              void *user_context);

/* ---------------------------------------------------------------------------------------------
 * Work later, on the client's thread
 * ------------------------------------------------------------------------------------------- */

/**
 * @brief Run @p fn on the client's worker thread, like any iotc callback, about @p delay_ms
 *        from now: for a delayed acknowledgement, the steps of a long-running command, a
 *        retry, without a thread or timer of the application's own.
 *
 * @p fn is called exactly once, with the result saying why:
 * - IOTC_OK: the delay passed; it runs on the worker (never under an iotc lock), after the
 *   callbacks before it. Callbacks due at the same time run in the order they were scheduled.
 * - IOTC_ERR_CANCELLED: iotc_client_cancel_scheduled() removed it first; it runs on the worker.
 * - IOTC_ERR_SHUTDOWN: iotc_client_destroy() found it pending; it runs on the thread calling
 *   destroy, before destroy returns (so @p user_context can be freed there).
 * Scheduled callbacks run whether or not the client is connected. A callback may schedule
 * again (also with no delay: each round of the worker runs only what was due when it began).
 * @param client the client
 * @param delay_ms at least this long, from now (0: as soon as the worker is free)
 * @param fn called once as above; not NULL
 * @param user_context passed to @p fn (borrowed: it must stay valid until @p fn ran)
 * @param[out] out_id the id for iotc_client_cancel_scheduled() (never 0); nullable
 * @retval IOTC_OK scheduled
 * @retval IOTC_ERR_INVALID_ARG @p client or @p fn is NULL
 * @retval IOTC_ERR_STATE the client is being destroyed; @p fn will not be called
 * @retval IOTC_ERR_NO_MEMORY @p fn will not be called
 * @note Thread-safe; callable from any thread and from any iotc callback.
 */
IOTC_NODISCARD iotc_result iotc_client_schedule(iotc_client *client, uint32_t delay_ms,
                                                iotc_done_fn fn, void *user_context,
                                                uint64_t *out_id);

/**
 * @brief Cancel a scheduled callback that has not started: it is called soon with
 *        IOTC_ERR_CANCELLED, on the worker thread, instead of IOTC_OK.
 * @param client the client
 * @param id from iotc_client_schedule()
 * @retval IOTC_OK cancelled: the callback will learn it
 * @retval IOTC_ERR_NOT_FOUND no such pending callback (it ran, is running, or was cancelled)
 * @retval IOTC_ERR_INVALID_ARG @p client is NULL
 * @note Thread-safe; callable from any thread and from any iotc callback.
 */
IOTC_NODISCARD iotc_result iotc_client_cancel_scheduled(iotc_client *client, uint64_t id);

/* ---------------------------------------------------------------------------------------------
 * Reading JSON values handed to callbacks
 * ------------------------------------------------------------------------------------------- */

/** @brief Parse @p value_json as an integer. IOTC_ERR_INVALID_ARG if it is not one. */
IOTC_NODISCARD iotc_result iotc_value_int(const char *value_json, int64_t *out);
/** @brief Parse @p value_json as a number. */
IOTC_NODISCARD iotc_result iotc_value_double(const char *value_json, double *out);
/** @brief Parse @p value_json as true/false. */
IOTC_NODISCARD iotc_result iotc_value_bool(const char *value_json, bool *out);
/** @brief Parse @p value_json as a string into @p buf (builder rules: no partial write). */
IOTC_NODISCARD iotc_result iotc_value_string(const char *value_json, char *buf, size_t size,
                                             size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
