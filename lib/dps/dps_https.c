/* SPDX-License-Identifier: MIT */
/* DPS over HTTPS (libcurl): PUT .../register, then GET .../operations/{id}, on one easy handle so
 * the TLS connection is reused. curl runs on the calling thread; a progress callback turns
 * iotc_dps_cancel() into an aborted transfer. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/https.h"
#include "common/secret.h"
#include "dps/dps_internal.h"
#include "dps/retry_after.h"
#include "iotc/version.h"
#include "net/clock_check.h"
#include "net/net_diag.h"

typedef struct https_state {
  iotc_dps *dps;
  const iotc__curl_api *lib;
  CURL *curl;
  char errbuf[CURL_ERROR_SIZE];
  /* Per-request response, filled by the write and header callbacks. */
  char *body;
  size_t body_len;
  bool oversized;
  bool has_retry_after;
  uint32_t retry_after_s;
  bool has_date; /* the response's Date header, for the clock check */
  int64_t date;
} https_state;

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx) {
  https_state *st = ctx;
  size_t n = size * nmemb;
  if (st->body_len + n > IOTC__DPS_MAX_RESPONSE) {
    st->oversized = true;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  char *grown = realloc(st->body, st->body_len + n + 1);
  if (grown == NULL) {
    return 0;
  }
  memcpy(grown + st->body_len, data, n);
  st->body = grown;
  st->body_len += n;
  st->body[st->body_len] = '\0';
  return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx) {
  https_state *st = ctx;
  size_t n = size * nmemb;
  static const char date[] = "date:";
  if (n > sizeof date - 1 && strncasecmp(data, date, sizeof date - 1) == 0) {
    size_t i = sizeof date - 1;
    while (i < n && (data[i] == ' ' || data[i] == '\t')) {
      ++i;
    }
    st->has_date = iotc__http_date_parse(data + i, n - i, &st->date);
    return n;
  }
  const char *digits;
  size_t count;
  uint32_t v = 0; /* an HTTP-date instead of seconds is ignored: the default pause applies */
  if (iotc__https_header_digits(data, n, "retry-after", &digits, &count) &&
      iotc__dps_retry_after_parse(digits, count, &v)) {
    st->has_retry_after = true;
    st->retry_after_s = v;
  }
  return n;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
  (void)dltotal;
  (void)dlnow;
  (void)ultotal;
  (void)ulnow;
  https_state *st = ctx;
  return iotc__dps_cancelled(st->dps) ? 1 : 0;
}

static iotc_result https_open(iotc_dps *dps, void **state, uint64_t deadline, iotc_error *err) {
  (void)deadline;
  iotc_result code;
  const char *why;
  const iotc__curl_api *lib = iotc__https_curl(&code, &why);
  if (lib == NULL) {
    return iotc__dps_fail(err, code, 0, "%s", why);
  }
  https_state *st = calloc(1, sizeof *st);
  if (st == NULL) {
    return iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "out of memory");
  }
  st->dps = dps;
  st->lib = lib;
  *state = st;
  st->curl = lib->easy_init();
  if (st->curl == NULL) {
    return iotc__dps_fail(err, IOTC_ERR_HTTP, 0, "cannot create a libcurl handle");
  }
  CURL *c = st->curl;
  iotc__https_tls tls = {.ca_file = dps->ca_file};
  if (dps->credential == IOTC_DPS_CREDENTIAL_X509) {
    tls.cert_file = dps->cert_file;
    tls.key_file = dps->key_file;
  }
  iotc__https_setup(c, &tls, st->errbuf);
  st->lib->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  st->lib->easy_setopt(c, CURLOPT_WRITEDATA, st);
  st->lib->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  st->lib->easy_setopt(c, CURLOPT_HEADERDATA, st);
  st->lib->easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  st->lib->easy_setopt(c, CURLOPT_XFERINFODATA, st);
  st->lib->easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  return IOTC_OK;
}

/* The same causes read as the MQTT transport words them (dps_mqtt.c). */
static iotc_result curl_failure(https_state *st, CURLcode cc, const char *what, iotc_error *err) {
  iotc_result r;
  const iotc_dps *dps = st->dps;
  switch (cc) {
  case CURLE_ABORTED_BY_CALLBACK:
    return iotc__dps_fail(err, IOTC_ERR_CANCELLED, 0, "provisioning was cancelled");
  case CURLE_WRITE_ERROR: {
    long status = 0; /* the headers came: the status is known, as over MQTT */
    st->lib->easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &status);
    r = st->oversized ? iotc__dps_fail(err, IOTC_ERR_PROTOCOL, (int)status,
                                       "DPS sent a response larger than %d bytes",
                                       IOTC__DPS_MAX_RESPONSE)
                      : iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "out of memory");
    break;
  }
  case CURLE_COULDNT_RESOLVE_HOST:
    r = iotc__dps_fail(err, IOTC_ERR_CONNECT, 0, "cannot connect to %s:%d over HTTPS: %s",
                       dps->host, dps->port, "name not resolved");
    break;
  case CURLE_COULDNT_RESOLVE_PROXY:
    r = iotc__dps_fail(err, IOTC_ERR_CONNECT, 0, "cannot connect to %s:%d over HTTPS: %s",
                       dps->host, dps->port, "proxy name not resolved");
    break;
  case CURLE_COULDNT_CONNECT: {
    long os_errno = 0;
    st->lib->easy_getinfo(st->curl, CURLINFO_OS_ERRNO, &os_errno);
    r = iotc__dps_fail(err, IOTC_ERR_CONNECT, 0, "cannot connect to %s:%d over HTTPS: %s",
                       dps->host, dps->port,
                       os_errno ? iotc__connect_errno_text((int)os_errno) : "connect failed");
    break;
  }
  case CURLE_OPERATION_TIMEDOUT: {
    long sent = 0; /* nothing sent: the connection (new, not reused) never came up */
    st->lib->easy_getinfo(st->curl, CURLINFO_REQUEST_SIZE, &sent);
    double total_s = 0;
    st->lib->easy_getinfo(st->curl, CURLINFO_TOTAL_TIME, &total_s);
    r = sent == 0
            ? iotc__dps_fail(err, IOTC_ERR_TIMEOUT, 0,
                             "cannot connect to %s:%d over HTTPS: timed out after %lu ms",
                             dps->host, dps->port, (unsigned long)(total_s * 1000.0))
            : iotc__dps_fail(err, IOTC_ERR_TIMEOUT, 0, "DPS did not answer the %s in time", what);
    break;
  }
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR: {
    long proxy_code = 0; /* the proxy's answer to CONNECT, when one refused the tunnel */
    st->lib->easy_getinfo(st->curl, CURLINFO_HTTP_CONNECTCODE, &proxy_code);
    if (proxy_code >= 300) {
      r = iotc__dps_fail(err, IOTC_ERR_CONNECT, 0,
                         "the proxy refused the tunnel to %s:%d: HTTP %ld%s", dps->host, dps->port,
                         proxy_code,
                         proxy_code == 407 ? " Proxy Authentication Required (check the user name "
                                             "and password in https_proxy)" : "");
    } else {
      r = iotc__dps_fail(err, IOTC_ERR_CONNECT, 0, "DPS closed the connection");
    }
    break;
  }
  case CURLE_PARTIAL_FILE:
    r = iotc__dps_fail(err, IOTC_ERR_PROTOCOL, 0, "DPS sent a truncated response");
    break;
  default:
    r = iotc__https_tls_failure(cc)
            ? iotc__dps_fail(err, IOTC_ERR_TLS, 0, "TLS with %s:%d failed", dps->host, dps->port)
            : iotc__dps_fail(err, IOTC_ERR_HTTP, 0, "the HTTPS request to DPS failed");
    break;
  }
  if (err != NULL) {
    snprintf(err->transport, sizeof err->transport, "curl %d: %.200s", (int)cc,
             st->errbuf[0] ? st->errbuf : st->lib->easy_strerror(cc));
  }
  return r;
}

static iotc_result https_request(iotc_dps *dps, void *state, const char *operation_id,
                                 uint64_t deadline, iotc__dps_reply *reply, iotc_error *err) {
  https_state *st = state;
  CURL *c = st->curl;
  bool v6 = strchr(dps->host, ':') != NULL;
  char url[1024];
  int n;
  if (operation_id == NULL) {
    n = snprintf(url, sizeof url, "https://%s%s%s:%d/%s/registrations/%s/register?api-version=%s",
                 v6 ? "[" : "", dps->host, v6 ? "]" : "", dps->port, dps->id_scope,
                 dps->registration_id, IOTC_DPS_HTTPS_API_VERSION);
  } else {
    char *escaped = st->lib->easy_escape(c, operation_id, 0);
    if (escaped == NULL) {
      return iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "out of memory");
    }
    n = snprintf(url, sizeof url,
                 "https://%s%s%s:%d/%s/registrations/%s/operations/%s?api-version=%s",
                 v6 ? "[" : "", dps->host, v6 ? "]" : "", dps->port, dps->id_scope,
                 dps->registration_id, escaped, IOTC_DPS_HTTPS_API_VERSION);
    st->lib->free(escaped);
  }
  if (n < 0 || (size_t)n >= sizeof url) {
    return iotc__dps_fail(err, IOTC_ERR_INVALID_ARG, 0, "the DPS URL is too long");
  }

  struct curl_slist *headers = NULL;
  char *auth = NULL;
  char *sas = NULL;
  iotc_result r = IOTC_OK;
  if (dps->credential != IOTC_DPS_CREDENTIAL_X509) {
    r = iotc__dps_sas(dps, &sas, err);
    if (r != IOTC_OK) {
      return r;
    }
    size_t len = strlen("Authorization: ") + strlen(sas) + 1;
    auth = malloc(len);
    if (auth == NULL) {
      iotc__secret_free(sas);
      return iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "out of memory");
    }
    snprintf(auth, len, "Authorization: %s", sas);
    iotc__secret_free(sas);
  }
  struct curl_slist *h = st->lib->slist_append(NULL, "Accept: application/json");
  headers = h;
  if (h) {
    h = st->lib->slist_append(headers, "Content-Type: application/json; charset=utf-8");
  }
  if (h && auth) {
    h = st->lib->slist_append(headers, auth);
  }
  if (h == NULL) {
    iotc__https_free_headers(headers);
    iotc__secret_free(auth);
    return iotc__dps_fail(err, IOTC_ERR_NO_MEMORY, 0, "out of memory");
  }

  uint64_t now = iotc__dps_now_ms();
  uint64_t until = now + dps->request_timeout_ms;
  if (until > deadline) {
    until = deadline;
  }
  long timeout_ms = until > now ? (long)(until - now) : 1L;
  st->lib->easy_setopt(c, CURLOPT_URL, url);
  st->lib->easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  st->lib->easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  st->lib->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  if (operation_id == NULL) {
    st->lib->easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
    st->lib->easy_setopt(c, CURLOPT_POSTFIELDS, dps->request_body);
    st->lib->easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(dps->request_body));
  } else {
    st->lib->easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    st->lib->easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  st->errbuf[0] = '\0';
  st->body = NULL;
  st->body_len = 0;
  st->oversized = false;
  st->has_retry_after = false;
  st->retry_after_s = 0;
  st->has_date = false;

  CURLcode cc = st->lib->easy_perform(c);
  st->lib->easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  iotc__https_free_headers(headers);
  iotc__secret_free(auth);
  if (cc != CURLE_OK) {
    free(st->body);
    st->body = NULL;
    return curl_failure(st, cc, operation_id ? "status query" : "registration", err);
  }
  if (st->has_date) {
    iotc__clock_check_server(st->date);
  }
  long status = 0;
  st->lib->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  reply->status = (int)status;
  reply->has_retry_after = st->has_retry_after;
  reply->retry_after_s = st->retry_after_s;
  reply->body = st->body;
  reply->body_len = st->body_len;
  st->body = NULL;
  return IOTC_OK;
}

static void https_close(iotc_dps *dps, void *state) {
  (void)dps;
  https_state *st = state;
  if (st == NULL) {
    return;
  }
  if (st->curl != NULL) {
    st->lib->easy_cleanup(st->curl);
  }
  free(st->body);
  free(st);
}

const iotc__dps_transport *iotc__dps_https_transport(void) {
  static const iotc__dps_transport t = {.open = https_open, .request = https_request, .close = https_close};
  return &t;
}
