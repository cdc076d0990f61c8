/* SPDX-License-Identifier: MIT */
/* What the raw Paho programs share: SAS tokens computed with OpenSSL alone, and a blocking
 * TLS connect of one MQTTAsync client. This is the floor the library is compared with, so it
 * does only what an IoT Hub device must: no iotc code. */
#ifndef PAHO_COMMON_H
#define PAHO_COMMON_H

#include <MQTTAsync.h>
#include <pthread.h>
#include <stddef.h>

#define PAHO_HUB_API_VERSION "2021-04-12"
#define PAHO_DPS_API_VERSION "2019-03-31"

/** Percent-encodes @p in (RFC 3986 unreserved characters kept). */
void paho_url_encode(const char *in, char *out, size_t size);

/**
 * `SharedAccessSignature sr=<enc(resource)>&sig=<enc(b64(HMAC-SHA256(b64dec(key), enc(resource)\nse)))>&se=<se>[&skn=<skn>]`.
 * Exits on a bad key.
 */
void paho_sas_token(const char *key_b64, const char *resource, const char *skn, long ttl_s,
                    char *out, size_t size);

/** A client whose connect the caller waits for. */
typedef struct paho_conn {
  MQTTAsync handle;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int done;   /* the connect attempt finished */
  int rc;     /* 0 connected, else Paho's failure code */
} paho_conn;

/** Creates the client (no persistence) for `ssl://host:port`. Exits on failure. */
void paho_conn_create(paho_conn *c, const char *host_port, const char *client_id);

/**
 * Connects over TLS (server certificate and host name verified against @p ca_file only), MQTT
 * 3.1.1, clean session, and waits for the outcome. Returns 0 or Paho's code.
 */
int paho_conn_connect(paho_conn *c, const char *user, const char *password, const char *ca_file,
                      int max_inflight);

/**
 * Fills connect options for TLS (server certificate and host name verified against @p ca_file
 * only), MQTT 3.1.1 and a clean session. The strings are borrowed until MQTTAsync_connect().
 */
void paho_connect_options(MQTTAsync_connectOptions *o, MQTTAsync_SSLOptions *ssl, const char *user,
                          const char *password, const char *ca_file, int max_inflight);

/** `devices/{id}/messages/events/` with the content type and encoding IoT Central wants. */
void paho_telemetry_topic(const char *device_id, char *out, size_t size);

/** Publishes telemetry payload @p seq at QoS 1; Paho's return code. */
int paho_send_telemetry(MQTTAsync handle, const char *topic, unsigned seq,
                        MQTTAsync_onSuccess *on_success, MQTTAsync_onFailure *on_failure,
                        void *context);

/** Disconnects (bounded) and destroys the client. */
void paho_conn_close(paho_conn *c);

#endif
