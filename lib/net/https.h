/* SPDX-License-Identifier: MIT */
/* The libcurl set-up every HTTPS request of the library shares (DPS over HTTPS, file uploads):
 * libcurl loaded with dlopen() on the first HTTPS request, never for MQTT-only use (its
 * dependency tree is about 4 MiB of a process's memory), one global initialisation, https only,
 * no redirects, the server's certificate and host name always verified against the named roots
 * only (not the system store), the client certificate for X.509 identities, and the user agent.
 * A proxy comes from libcurl's own reading of https_proxy / no_proxy, as for every HTTPS request
 * of the library. <curl/curl.h> gives the types and constants only: every call goes through the
 * table iotc__https_curl() returns. */
#ifndef IOTC_NET_HTTPS_H
#define IOTC_NET_HTTPS_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

typedef struct iotc__https_tls {
  const char *ca_file;   /* PEM roots the server must chain to; required */
  const char *cert_file; /* client certificate (PEM), NULL: none */
  const char *key_file;  /* its private key (PEM), with cert_file */
} iotc__https_tls;

/** The libcurl functions the library calls. */
typedef struct iotc__curl_api {
  CURL *(*easy_init)(void);
  void (*easy_cleanup)(CURL *c);
  CURLcode (*easy_setopt)(CURL *c, CURLoption option, ...);
  CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
  CURLcode (*easy_perform)(CURL *c);
  const char *(*easy_strerror)(CURLcode cc);
  char *(*easy_escape)(CURL *c, const char *s, int len);
  void (*free)(void *p);
  struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
  void (*slist_free_all)(struct curl_slist *list);
  curl_version_info_data *(*version_info)(CURLversion age);
  CURLcode (*global_init)(long flags);
} iotc__curl_api;

/** libcurl (libcurl.so.4) loaded and curl_global_init() done, once per process; any thread.
 *  Its functions, or NULL with @p code and @p why (static text naming libcurl) saying why:
 *  IOTC_ERR_NOT_SUPPORTED when it is not installed or too old, IOTC_ERR_HTTP when it cannot
 *  start. The same answer for the rest of the process. */
const iotc__curl_api *iotc__https_curl(iotc_result *code, const char **why);

/** True when @p cc is a TLS failure (handshake, certificates, trust). */
bool iotc__https_tls_failure(CURLcode cc);

/** Apply the shared options to @p c (after iotc__https_curl() succeeded); @p errbuf (CURL_ERROR_SIZE bytes) receives curl's text. */
void iotc__https_setup(CURL *c, const iotc__https_tls *tls, char *errbuf);

/** Free a header list after wiping each header (one may carry a SAS token); NULL: nothing. */
void iotc__https_free_headers(struct curl_slist *headers);

/** When the header line @p data (@p n bytes) is `name: digits` (any case, blanks around the
 *  digits), the digits and their count; false otherwise (an HTTP-date, another header). */
bool iotc__https_header_digits(const char *data, size_t n, const char *name, const char **digits,
                               size_t *count);

/** One request on an easy handle that iotc__https_setup() prepared. */
typedef struct iotc__https_request {
  const char *method;           /* "POST" or "PUT" */
  const char *url;              /* may carry a SAS: never logged */
  struct curl_slist *headers;   /* borrowed */
  const void *body;             /* sent as is (not copied); NULL with body_len 0 */
  size_t body_len;
  long stall_s;                 /* fail when no byte moves for this long */
  long connect_timeout_ms;
  bool (*aborted)(void *ctx);   /* polled during the transfer: true stops it */
  void *aborted_ctx;
  void (*sending)(void *ctx, uint64_t sent); /* nullable: body bytes sent so far, as they move */
} iotc__https_request;

/** The start of a response: status, Retry-After, and the first bytes of the body. */
typedef struct iotc__https_response {
  long status;                  /* 0 when no response came */
  bool has_retry_after;
  uint32_t retry_after_s;
  size_t body_len;
  char body[4096];              /* NUL-terminated; longer bodies are cut here */
} iotc__https_response;

/** Perform @p req; curl's result (CURLE_ABORTED_BY_CALLBACK once req->aborted said true). */
CURLcode iotc__https_perform(CURL *c, const iotc__https_request *req, iotc__https_response *resp);

#endif
