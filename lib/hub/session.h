/* SPDX-License-Identifier: MIT */
/* One IoT Hub MQTT connection over Paho MQTTAsync (internal).
 *
 * A session is one Paho client used for one connection: create, connect, use, then destroy
 * (a new connection gets a new session). Its callbacks run on Paho's threads with Paho's global
 * lock held: the sink functions must only copy or hand off what they get, must not call any
 * session function, and must not take a lock that is held across a session call. Session
 * functions are called from one thread (the client's worker), except iotc__session_publish(),
 * which any thread may call while the owner guarantees the session is not being destroyed. */
#ifndef IOTC_HUB_SESSION_H
#define IOTC_HUB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

/** Where a session reports what happened (Paho threads; see above). */
typedef struct iotc__session_sink {
  void *ctx;
  /** CONNACK accepted. */
  void (*connected)(void *ctx, uint32_t gen);
  /** The connect failed: @p code > 0 is the CONNACK return code, < 0 a Paho error. */
  void (*connect_failed)(void *ctx, uint32_t gen, int code, const char *text);
  /** The subscriptions were answered: @p result is one of IOTC__SUB_*. */
  void (*subscribed)(void *ctx, uint32_t gen, int result);
  /** The connection dropped. */
  void (*lost)(void *ctx, uint32_t gen);
  /** iotc__session_disconnect() finished. */
  void (*disconnected)(void *ctx, uint32_t gen);
  /** A message arrived; the data is valid only during the call. */
  void (*message)(void *ctx, uint32_t gen, const char *topic, size_t topic_len,
                  const void *payload, size_t payload_len);
} iotc__session_sink;

/**
 * A publish whose completion matters: embed it in the caller's record; @c done runs on a Paho
 * thread (or inside iotc__session_destroy()) with rc 0 when done, else the Paho error code.
 */
typedef struct iotc__session_op {
  void (*done)(struct iotc__session_op *op, int rc);
} iotc__session_op;

typedef struct iotc__session_config {
  const char *hub;          /* host[:port] (8883, or 443 over WebSockets, when absent) */
  const char *device_id;    /* MQTT client id */
  const char *username;     /* IoT Hub username */
  const char *ca_file;      /* PEM trust bundle */
  const char *cert_file;    /* X.509 client certificate (nullable) */
  const char *key_file;     /* its key (nullable) */
  uint16_t keepalive_s;
  uint32_t connect_timeout_ms;
  uint16_t max_inflight;
  uint32_t gen;             /* passed back to the sink */
  bool websocket;           /* MQTT over WebSockets (port 443 when absent) instead of 8883 */
} iotc__session_config;

/** How the subscriptions were answered. */
enum {
  IOTC__SUB_OK = 0,
  IOTC__SUB_REFUSED = 1,   /* a SUBACK refused one (0x80), or the SUBSCRIBE failed */
  IOTC__SUB_MALFORMED = 2  /* a SUBACK whose codes do not answer its SUBSCRIBE */
};

/** Longest hub host name a session keeps (DNS names are at most 253). */
#define IOTC__SESSION_HOST_SIZE 256

/** Paho return code meaning "in-flight publish abandoned at a drop": send again. */
#define IOTC__SESSION_RC_INCOMPLETE (-11)
/** Paho return code for a publish refused because the client is disconnected. */
#define IOTC__SESSION_RC_DISCONNECTED (-3)

typedef struct iotc__session iotc__session;

/**
 * Create the Paho client for one connection. The proxy variables are read here (see
 * common/proxy.h): IOTC_ERR_NOT_SUPPORTED or IOTC_ERR_INVALID_ARG when they ask for something
 * Paho 1.3.12 cannot do; that is permanent for this process.
 * @param why static reason on failure
 */
iotc_result iotc__session_create(const iotc__session_config *cfg, const iotc__session_sink *sink,
                                 iotc__session **out, const char **why);

/** Start connecting with @p password (NULL for X.509). The result comes to the sink. */
iotc_result iotc__session_connect(iotc__session *s, const char *password);

/** Subscribe to methods, twin responses, desired patches and C2D for @p device_id. */
iotc_result iotc__session_subscribe(iotc__session *s, const char *device_id);

/**
 * Publish. @p op non-NULL asks for op->done exactly once when the returned result is IOTC_OK
 * (also for QoS 0, after the write). On an error nothing is reported.
 */
iotc_result iotc__session_publish(iotc__session *s, const char *topic, const void *payload,
                                  size_t payload_len, int qos, iotc__session_op *op);

/** Start closing (in-flight QoS 1 get up to @p timeout_ms); sink->disconnected follows. */
iotc_result iotc__session_disconnect(iotc__session *s, uint32_t timeout_ms);

/**
 * After a connect that failed without a CONNACK: true when TLS was the cause, with OpenSSL's
 * reason in @p out (untrusted or expired server certificate, host name mismatch, refused client
 * certificate). Repeats the handshake on the calling thread, so it blocks up to the connect
 * timeout. False when TLS was not the problem (unreachable, closed).
 */
bool iotc__session_tls_failure(iotc__session *s, char *out, size_t size);

/**
 * Why a connect failed before MQTT: "name not resolved", "connection refused", "timed out after
 * N ms"..., over WebSockets a refused upgrade ("HTTP/1.1 403 ..."), through a proxy what the
 * proxy answered ("... 407 Proxy Authentication Required"). Repeats the TCP connect (and the
 * upgrade, or the CONNECT) on the calling thread, up to the connect timeout. False when none
 * of those failed (then TLS may have: iotc__session_tls_failure()).
 */
bool iotc__session_connect_cause(iotc__session *s, char *out, size_t size);

/**
 * Free the Paho client. Publishes still pending are reported to their op->done with
 * IOTC__SESSION_RC_INCOMPLETE during this call, on the calling thread. NULL is a no-op.
 */
void iotc__session_destroy(iotc__session *s);

#endif
