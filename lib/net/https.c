/* SPDX-License-Identifier: MIT */
/* The shared libcurl set-up (see https.h). */
#include "net/https.h"

#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "common/secret.h"
#include "iotc/version.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void init_curl(void) { curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); }

bool iotc__https_tls_failure(CURLcode cc) {
  switch (cc) {
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_CLIENTCERT:
    return true;
  default:
    return false;
  }
}

bool iotc__https_init(void) {
  pthread_once(&curl_once, init_curl);
  return curl_init_result == CURLE_OK;
}

void iotc__https_setup(CURL *c, const iotc__https_tls *tls, char *errbuf) {
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_CAINFO, tls->ca_file);
  curl_easy_setopt(c, CURLOPT_CAPATH, NULL); /* only the named roots, not the system store */
  if (tls->cert_file != NULL) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, tls->cert_file);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY, tls->key_file);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_easy_setopt(c, CURLOPT_USERAGENT, "iotc/" IOTC_VERSION_STRING);
}

void iotc__https_free_headers(struct curl_slist *headers) {
  for (struct curl_slist *h = headers; h != NULL; h = h->next) {
    iotc__wipe(h->data, strlen(h->data));
  }
  curl_slist_free_all(headers);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx) {
  iotc__https_response *r = ctx;
  size_t n = size * nmemb;
  size_t room = sizeof r->body - 1 - r->body_len;
  size_t take = n < room ? n : room;
  memcpy(r->body + r->body_len, data, take);
  r->body_len += take;
  r->body[r->body_len] = '\0';
  return n; /* the rest is dropped: only the start (an error's code and text) is read */
}

bool iotc__https_header_digits(const char *data, size_t n, const char *name, const char **digits,
                               size_t *count) {
  size_t len = strlen(name);
  if (n <= len || strncasecmp(data, name, len) != 0 || data[len] != ':') {
    return false;
  }
  size_t i = len + 1;
  while (i < n && (data[i] == ' ' || data[i] == '\t')) {
    ++i;
  }
  size_t start = i;
  while (i < n && data[i] >= '0' && data[i] <= '9') {
    ++i;
  }
  size_t end = i;
  while (i < n && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n')) {
    ++i;
  }
  if (end == start || i != n) {
    return false;
  }
  *digits = data + start;
  *count = end - start;
  return true;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx) {
  iotc__https_response *r = ctx;
  size_t n = size * nmemb;
  const char *digits;
  size_t count;
  if (iotc__https_header_digits(data, n, "retry-after", &digits, &count)) {
    uint32_t v = 0;
    for (size_t i = 0; i < count && v < 86400u; ++i) {
      v = v * 10u + (uint32_t)(digits[i] - '0');
    }
    r->has_retry_after = true; /* an HTTP-date is ignored: the caller's own pause applies */
    r->retry_after_s = v;
  }
  return n;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
  (void)dltotal;
  (void)dlnow;
  (void)ultotal;
  const iotc__https_request *req = ctx;
  if (req->sending != NULL && ulnow > 0) {
    req->sending(req->aborted_ctx, (uint64_t)ulnow);
  }
  return req->aborted != NULL && req->aborted(req->aborted_ctx) ? 1 : 0;
}

CURLcode iotc__https_perform(CURL *c, const iotc__https_request *req, iotc__https_response *resp) {
  memset(resp, 0, sizeof *resp);
  curl_easy_setopt(c, CURLOPT_URL, req->url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, req->headers);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, req->stall_s);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)req);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  CURLcode cc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
  curl_easy_setopt(c, CURLOPT_URL, "");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
  return cc;
}
