/* SPDX-License-Identifier: MIT */
/* The shared libcurl set-up, and libcurl itself loaded on first use (see https.h). */
#include "net/https.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/secret.h"
#include "iotc/version.h"

#define CURL_SONAME "libcurl.so.4"
/* CURLOPT_PROTOCOLS_STR, which keeps every transfer to https, came with 7.85.0. */
#define CURL_MIN_VERSION 0x075500
#define CURL_MIN_VERSION_TEXT "7.85.0"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static iotc__curl_api api;
static bool api_ready;
static iotc_result load_code = IOTC_ERR_INTERNAL;
static char load_why[320];

static const struct {
  const char *name;
  size_t offset;
} curl_symbols[] = {
    {"curl_easy_init", offsetof(iotc__curl_api, easy_init)},
    {"curl_easy_cleanup", offsetof(iotc__curl_api, easy_cleanup)},
    {"curl_easy_setopt", offsetof(iotc__curl_api, easy_setopt)},
    {"curl_easy_getinfo", offsetof(iotc__curl_api, easy_getinfo)},
    {"curl_easy_perform", offsetof(iotc__curl_api, easy_perform)},
    {"curl_easy_strerror", offsetof(iotc__curl_api, easy_strerror)},
    {"curl_easy_escape", offsetof(iotc__curl_api, easy_escape)},
    {"curl_free", offsetof(iotc__curl_api, free)},
    {"curl_slist_append", offsetof(iotc__curl_api, slist_append)},
    {"curl_slist_free_all", offsetof(iotc__curl_api, slist_free_all)},
    {"curl_version_info", offsetof(iotc__curl_api, version_info)},
    {"curl_global_init", offsetof(iotc__curl_api, global_init)},
};

_Static_assert(sizeof(void *) == sizeof(void (*)(void)), "dlsym() returns functions as void *");

/* Loaded once and never unloaded: libcurl keeps global state from curl_global_init() on. */
static void load_curl(void) {
  load_code = IOTC_ERR_NOT_SUPPORTED;
  void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    const char *e = dlerror();
    snprintf(load_why, sizeof load_why,
             "HTTPS needs libcurl, which cannot be loaded (install the libcurl4 package): %.180s",
             e != NULL ? e : CURL_SONAME ": not found");
    return;
  }
  iotc__curl_api loaded;
  for (size_t i = 0; i < sizeof curl_symbols / sizeof curl_symbols[0]; ++i) {
    void *fn = dlsym(lib, curl_symbols[i].name);
    if (fn == NULL) {
      snprintf(load_why, sizeof load_why, "HTTPS needs libcurl, and " CURL_SONAME " has no %s",
               curl_symbols[i].name);
      dlclose(lib);
      return;
    }
    memcpy((char *)&loaded + curl_symbols[i].offset, &fn, sizeof fn);
  }
  const curl_version_info_data *v = loaded.version_info(CURLVERSION_NOW);
  if (v == NULL || v->version_num < CURL_MIN_VERSION) {
    snprintf(load_why, sizeof load_why,
             "HTTPS needs libcurl " CURL_MIN_VERSION_TEXT " or later; this one is %.40s",
             v != NULL && v->version != NULL ? v->version : "older");
    dlclose(lib);
    return;
  }
  if (loaded.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    load_code = IOTC_ERR_HTTP;
    snprintf(load_why, sizeof load_why, "libcurl failed to initialise");
    return;
  }
  api = loaded;
  api_ready = true;
  load_code = IOTC_OK;
}

const iotc__curl_api *iotc__https_curl(iotc_result *code, const char **why) {
  pthread_once(&curl_once, load_curl);
  if (api_ready) {
    return &api;
  }
  *code = load_code;
  *why = load_why;
  return NULL;
}

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

void iotc__https_setup(CURL *c, const iotc__https_tls *tls, char *errbuf) {
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  api.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  api.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  api.easy_setopt(c, CURLOPT_CAINFO, tls->ca_file);
  api.easy_setopt(c, CURLOPT_CAPATH, NULL); /* only the named roots, not the system store */
  if (tls->cert_file != NULL) {
    api.easy_setopt(c, CURLOPT_SSLCERT, tls->cert_file);
    api.easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    api.easy_setopt(c, CURLOPT_SSLKEY, tls->key_file);
    api.easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  api.easy_setopt(c, CURLOPT_USERAGENT, "iotc/" IOTC_VERSION_STRING);
}

void iotc__https_free_headers(struct curl_slist *headers) {
  if (headers == NULL) {
    return;
  }
  for (struct curl_slist *h = headers; h != NULL; h = h->next) {
    iotc__wipe(h->data, strlen(h->data));
  }
  api.slist_free_all(headers);
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
  api.easy_setopt(c, CURLOPT_URL, req->url);
  api.easy_setopt(c, CURLOPT_HTTPHEADER, req->headers);
  api.easy_setopt(c, CURLOPT_POST, 1L);
  api.easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
  api.easy_setopt(c, CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
  api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
  api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
  api.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  api.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, req->stall_s);
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  api.easy_setopt(c, CURLOPT_WRITEDATA, resp);
  api.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  api.easy_setopt(c, CURLOPT_HEADERDATA, resp);
  api.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  api.easy_setopt(c, CURLOPT_XFERINFODATA, (void *)req);
  api.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  CURLcode cc = api.easy_perform(c);
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
  api.easy_setopt(c, CURLOPT_URL, "");
  api.easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  api.easy_setopt(c, CURLOPT_POSTFIELDS, "");
  return cc;
}
