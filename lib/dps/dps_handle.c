/* SPDX-License-Identifier: MIT */
/* The provisioning handle: configuration checks and copies, cancellation, small shared helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/secret.h"
#include "common/text.h"
#include "dps/dps_internal.h"
#include "dps/dps_keep_open.h"
#include "iotc/dps_topic.h"
#include "iotc/sas.h"
#include "net/clock_check.h"

#define DEFAULT_TIMEOUT_MS 90000u
#define DEFAULT_REQUEST_TIMEOUT_MS 30000u
#define DEFAULT_MAX_POLL_MS 30000u
#define MAX_HOST_LEN 253
#define SAS_LIFETIME_S 3600

void iotc_dps_config_init(iotc_dps_config *cfg) {
  if (cfg == NULL) {
    return;
  }
  memset(cfg, 0, sizeof *cfg);
  cfg->struct_version = IOTC_DPS_CONFIG_VERSION;
  cfg->transport = IOTC_DPS_TRANSPORT_MQTT;
}

void iotc_dps_registration_clear(iotc_dps_registration *reg) {
  if (reg == NULL) {
    return;
  }
  free(reg->payload_json);
  memset(reg, 0, sizeof *reg);
}

void iotc__dps_set_transport_text(iotc_error *err, const char *text) {
  if (err != NULL && text != NULL) {
    iotc__copy_text(err->transport, sizeof err->transport, text);
  }
}

void iotc__dps_reply_clear(iotc__dps_reply *reply) {
  free(reply->body);
  memset(reply, 0, sizeof *reply);
}

uint64_t iotc__dps_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct timespec iotc__dps_abstime(uint64_t at_ms) {
  struct timespec ts;
  ts.tv_sec = (time_t)(at_ms / 1000u);
  ts.tv_nsec = (long)(at_ms % 1000u) * 1000000L;
  return ts;
}

bool iotc__dps_cancelled(iotc_dps *dps) {
  pthread_mutex_lock(&dps->lock);
  bool c = dps->cancelled;
  pthread_mutex_unlock(&dps->lock);
  return c;
}

iotc_result iotc__dps_sleep_until(iotc_dps *dps, uint64_t at_ms) {
  struct timespec abs = iotc__dps_abstime(at_ms);
  pthread_mutex_lock(&dps->lock);
  while (!dps->cancelled && iotc__dps_now_ms() < at_ms) {
    if (pthread_cond_timedwait(&dps->cond, &dps->lock, &abs) == ETIMEDOUT) {
      break;
    }
  }
  bool c = dps->cancelled;
  pthread_mutex_unlock(&dps->lock);
  return c ? IOTC_ERR_CANCELLED : IOTC_OK;
}

void iotc_dps_cancel(iotc_dps *dps) {
  if (dps == NULL) {
    return;
  }
  pthread_mutex_lock(&dps->lock);
  dps->cancelled = true;
  pthread_cond_broadcast(&dps->cond);
  pthread_mutex_unlock(&dps->lock);
}

iotc_result iotc__dps_sas(const iotc_dps *dps, char **out, iotc_error *err) {
  iotc__clock_check_system(); /* a wrong clock mints tokens DPS refuses: say so up front */
  uint64_t expiry = (uint64_t)time(NULL) + SAS_LIFETIME_S;
  size_t need = 0;
  iotc_result r = iotc_sas_dps_token(dps->id_scope, dps->registration_id, dps->device_key, expiry,
                                     NULL, 0, &need);
  if (r != IOTC_ERR_BUFFER_TOO_SMALL) {
    return iotc__dps_fail(err, r == IOTC_OK ? IOTC_ERR_INTERNAL : r, 0,
                          "cannot build the SAS token (%s)", iotc_strerror(r));
  }
  char *buf = malloc(need + 1);
  if (buf == NULL) {
    return iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "out of memory");
  }
  r = iotc_sas_dps_token(dps->id_scope, dps->registration_id, dps->device_key, expiry, buf,
                         need + 1, NULL);
  if (r != IOTC_OK) {
    iotc__secret_free_n(buf, need + 1);
    return iotc__dps_fail(err, r, 0, "cannot build the SAS token (%s)", iotc_strerror(r));
  }
  *out = buf;
  return IOTC_OK;
}

/* "host", "host:port" or "[v6]:port" into host and port (default_port when absent). */
static iotc_result parse_endpoint(const char *endpoint, int default_port, char **host, int *port) {
  const char *h = endpoint;
  size_t hlen;
  const char *rest;
  if (endpoint[0] == '[') {
    const char *close = strchr(endpoint, ']');
    if (close == NULL) {
      return IOTC_ERR_INVALID_ARG;
    }
    h = endpoint + 1;
    hlen = (size_t)(close - h);
    rest = close + 1;
    for (size_t i = 0; i < hlen; ++i) {
      char c = h[i];
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
            c == ':' || c == '.')) {
        return IOTC_ERR_INVALID_ARG;
      }
    }
  } else {
    hlen = strcspn(endpoint, ":");
    rest = endpoint + hlen;
    for (size_t i = 0; i < hlen; ++i) {
      char c = h[i];
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            c == '-' || c == '.')) {
        return IOTC_ERR_INVALID_ARG;
      }
    }
  }
  if (hlen == 0 || hlen > MAX_HOST_LEN) {
    return IOTC_ERR_INVALID_ARG;
  }
  *port = default_port;
  if (*rest == ':') {
    char *end = NULL;
    errno = 0;
    long p = strtol(rest + 1, &end, 10);
    if (rest[1] < '0' || rest[1] > '9' || errno != 0 || *end != '\0' || p < 1 || p > 65535) {
      return IOTC_ERR_INVALID_ARG;
    }
    *port = (int)p;
  } else if (*rest != '\0') {
    return IOTC_ERR_INVALID_ARG;
  }
  *host = malloc(hlen + 1);
  if (*host == NULL) {
    return IOTC_ERR_NO_MEMORY;
  }
  memcpy(*host, h, hlen);
  (*host)[hlen] = '\0';
  return IOTC_OK;
}

static char *dup_or_null(const char *s, bool *oom) {
  if (s == NULL) {
    return NULL;
  }
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d == NULL) {
    *oom = true;
    return NULL;
  }
  memcpy(d, s, n);
  return d;
}

static iotc_result check_readable(const char *what, const char *path, iotc_error *err) {
  if (path == NULL || path[0] == '\0') {
    return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0, "%s is missing", what);
  }
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return iotc__dps_fail(err, IOTC_ERR_IO, 0, "cannot read %s '%s': %s", what, path,
                          strerror(errno));
  }
  fclose(f);
  return IOTC_OK;
}

static iotc_result check_config(const iotc_dps_config *cfg, iotc_error *err) {
  if (cfg == NULL) {
    return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0, "configuration is NULL");
  }
  if (cfg->struct_version != IOTC_DPS_CONFIG_VERSION) {
    return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0,
                          "configuration struct_version %d is not %d (use iotc_dps_config_init)",
                          cfg->struct_version, IOTC_DPS_CONFIG_VERSION);
  }
  if (!iotc_dps_id_scope_is_valid(cfg->id_scope)) {
    return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0,
                          "id_scope must be 1-64 letters or digits");
  }
  if (!iotc_dps_registration_id_is_valid(cfg->registration_id)) {
    return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0,
                          "registration_id must be 1-128 letters, digits, '-', '.', '_' or ':'");
  }
  if (cfg->transport != IOTC_DPS_TRANSPORT_MQTT && cfg->transport != IOTC_DPS_TRANSPORT_HTTPS &&
      cfg->transport != IOTC_DPS_TRANSPORT_MQTT_WS) {
    return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0, "unknown transport %d",
                          (int)cfg->transport);
  }
  switch (cfg->credential) {
  case IOTC_DPS_CREDENTIAL_DEVICE_KEY:
  case IOTC_DPS_CREDENTIAL_GROUP_KEY:
    if (cfg->key == NULL || cfg->key[0] == '\0') {
      return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0, "a key is needed for this credential");
    }
    break;
  case IOTC_DPS_CREDENTIAL_X509: {
    iotc_result r = check_readable("the certificate file", cfg->cert_file, err);
    if (r == IOTC_OK && cfg->key_file != NULL) {
      r = check_readable("the private key file", cfg->key_file, err);
    }
    if (r != IOTC_OK) {
      return r;
    }
    break;
  }
  default:
    return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0,
                          "no credential: set a device key, a group key or an X.509 certificate");
  }
  if (cfg->ca_file != NULL) {
    return check_readable("the CA file", cfg->ca_file, err);
  }
  if (iotc_dps_default_ca_file() == NULL) {
    return iotc__dps_fail(err, IOTC_ERR_IO, 0,
                          "no CA file named, and the built-in Azure roots need "
                          "memfd_create() and /proc: name a CA file");
  }
  return IOTC_OK;
}

void iotc__dps_keep_open(iotc_dps *dps) { dps->keep_open = true; }

void iotc__dps_close_kept(iotc_dps *dps) {
  if (dps->open_transport == NULL) return;
  dps->open_transport->close(dps, dps->open_state);
  dps->open_transport = NULL;
  dps->open_state = NULL;
}

void iotc_dps_destroy(iotc_dps *dps) {
  if (dps == NULL) {
    return;
  }
  iotc__dps_close_kept(dps);
  free(dps->id_scope);
  free(dps->registration_id);
  free(dps->host);
  iotc__secret_free(dps->device_key);
  free(dps->cert_file);
  free(dps->key_file);
  free(dps->ca_file);
  free(dps->request_body);
  pthread_cond_destroy(&dps->cond);
  pthread_mutex_destroy(&dps->lock);
  free(dps);
}

static iotc_result init_sync(iotc_dps *dps) {
  pthread_condattr_t attr;
  if (pthread_condattr_init(&attr) != 0) {
    return IOTC_ERR_NO_MEMORY;
  }
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(&dps->cond, &attr);
  pthread_condattr_destroy(&attr);
  if (rc != 0) {
    return IOTC_ERR_NO_MEMORY;
  }
  if (pthread_mutex_init(&dps->lock, NULL) != 0) {
    pthread_cond_destroy(&dps->cond);
    return IOTC_ERR_NO_MEMORY;
  }
  return IOTC_OK;
}

static iotc_result device_key(const iotc_dps_config *cfg, char **out, iotc_error *err) {
  if (cfg->credential == IOTC_DPS_CREDENTIAL_X509) {
    *out = NULL;
    return IOTC_OK;
  }
  if (cfg->credential == IOTC_DPS_CREDENTIAL_DEVICE_KEY) {
    /* Validate it now rather than at the first request. */
    char probe[8];
    iotc_result r = iotc_sas_dps_token(cfg->id_scope, cfg->registration_id, cfg->key, 1, probe,
                                       sizeof probe, NULL);
    if (r != IOTC_OK && r != IOTC_ERR_BUFFER_TOO_SMALL) {
      return iotc__dps_fail(err, r, 0, "the device key is unusable (%s)", iotc_strerror(r));
    }
    *out = iotc__secret_dup(cfg->key);
  } else {
    char derived[IOTC_DERIVED_KEY_SIZE];
    iotc_result r =
        iotc_derive_device_key(cfg->key, cfg->registration_id, derived, sizeof derived, NULL);
    if (r != IOTC_OK) {
      iotc__wipe(derived, sizeof derived);
      return iotc__dps_fail(err, r, 0, "the group key is unusable (%s)", iotc_strerror(r));
    }
    *out = iotc__secret_dup(derived);
    iotc__wipe(derived, sizeof derived);
  }
  return *out ? IOTC_OK : iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "out of memory");
}

static iotc_result create(const iotc_dps_config *cfg, iotc_dps **out, iotc_error *err);

iotc_result iotc_dps_create(const iotc_dps_config *cfg, iotc_dps **out, iotc_error *err) {
  /* The reason goes to the log too, for callers that pass no err. */
  iotc_error local;
  iotc_error *e = err ? err : &local;
  iotc_result r = create(cfg, out, e);
  if (r != IOTC_OK) {
    IOTC_LOGE("iotc_dps_create: %s", e->message);
  }
  return r;
}

static iotc_result create(const iotc_dps_config *cfg, iotc_dps **out, iotc_error *err) {
  iotc_error_clear(err);
  if (out == NULL) {
    return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0, "out is NULL");
  }
  *out = NULL;
  iotc_result r = check_config(cfg, err);
  if (r != IOTC_OK) {
    return r;
  }
  iotc_dps *dps = calloc(1, sizeof *dps);
  if (dps == NULL || init_sync(dps) != IOTC_OK) {
    free(dps);
    return iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "out of memory");
  }
  dps->transport = cfg->transport;
  dps->credential = cfg->credential;
  dps->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
  dps->request_timeout_ms = cfg->request_timeout_ms ? cfg->request_timeout_ms
                                                    : DEFAULT_REQUEST_TIMEOUT_MS;
  dps->max_poll_ms = cfg->max_poll_interval_ms ? cfg->max_poll_interval_ms : DEFAULT_MAX_POLL_MS;
  dps->jitter_state = (unsigned)iotc__dps_now_ms() ^ (unsigned)(uintptr_t)dps;
  bool oom = false;
  dps->id_scope = dup_or_null(cfg->id_scope, &oom);
  dps->registration_id = dup_or_null(cfg->registration_id, &oom);
  dps->cert_file = dup_or_null(cfg->cert_file, &oom);
  dps->key_file = dup_or_null(cfg->key_file ? cfg->key_file : cfg->cert_file, &oom);
  dps->ca_file = dup_or_null(cfg->ca_file ? cfg->ca_file : iotc_dps_default_ca_file(), &oom);
  if (oom) {
    iotc_dps_destroy(dps);
    return iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "out of memory");
  }
  if (cfg->credential != IOTC_DPS_CREDENTIAL_X509) {
    free(dps->cert_file);
    free(dps->key_file);
    dps->cert_file = dps->key_file = NULL;
  }
  int default_port = cfg->transport == IOTC_DPS_TRANSPORT_MQTT ? 8883 : 443;
  r = parse_endpoint(cfg->endpoint ? cfg->endpoint : IOTC_DPS_DEFAULT_ENDPOINT, default_port,
                     &dps->host, &dps->port);
  if (r != IOTC_OK) {
    iotc_dps_destroy(dps);
    return iotc__dps_fail(err, r, 0, "endpoint must be host or host:port (port 1-65535)");
  }
  r = device_key(cfg, &dps->device_key, err);
  if (r == IOTC_OK) {
    r = iotc__dps_request_body(cfg->registration_id, cfg->model_id, cfg->payload_json,
                               &dps->request_body, err);
  }
  if (r != IOTC_OK) {
    iotc_dps_destroy(dps);
    return r;
  }
  *out = dps;
  return IOTC_OK;
}
