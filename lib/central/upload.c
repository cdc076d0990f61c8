/* SPDX-License-Identifier: MIT */
/* File uploads (iotc/upload.h). Each client has a small pool of upload threads fed by a queue;
 * the worker is never involved, so telemetry and commands go on during an upload. One upload:
 * ask the hub for a SAS URI, write the blob (one Put Blob, or Put Block per block then Put Block
 * List) retrying what may pass (5xx, 429, timeouts, dropped connections) and renewing an expired
 * SAS, then always notify the hub. Callbacks run on the upload thread with no lock held.
 * Locking: an uploads' state has its own mu, taken after the client's mu (never before it). */
#include "central/upload.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "central/client_internal.h"
#include "net/https.h"
#include "common/log.h"
#include "common/secret.h"
#include "hub/file_upload.h"
#include "iotc/sas.h"
#include "iotc/upload.h"

#define DEFAULT_STALL_MS 60000u
#define DEFAULT_RETRIES 5u
#define CONNECT_TIMEOUT_MS 30000L
#define SAS_RENEWALS 3u       /* fresh SAS URIs one upload may ask for after expiries */
#define BACKOFF_FIRST_MS 500u
#define BACKOFF_MAX_MS 8000u
#define RETRY_AFTER_MAX_S 30u
#define SHUTDOWN_TIMEOUT_MS 3000L /* the notification sent while the client is destroyed */

enum { SRC_FILE, SRC_BUFFER, SRC_STREAM };

typedef struct job {
  struct job *next;
  uint64_t id;
  atomic_int cancel; /* 0, or the result to end with (IOTC_ERR_CANCELLED, IOTC_ERR_SHUTDOWN) */
  int kind;
  int fd;
  const uint8_t *data;
  iotc_upload_read_fn read;
  void *read_ctx;
  uint64_t size; /* IOTC_UPLOAD_SIZE_UNKNOWN: a stream of unknown length */
  char *name;    /* as asked for, under {deviceId}/ */
  char *content_type;
  char hub[IOTC_DPS_HUB_SIZE];
  char device_id[IOTC_DPS_ID_SIZE];
  size_t block_size;
  uint64_t max_size;
  uint32_t stall_ms, max_retries;
  iotc_upload_progress_fn on_progress;
  iotc_upload_done_fn on_done;
  void *ctx;
} job;

struct iotc__uploads {
  pthread_mutex_t mu;
  pthread_cond_t cv; /* threads wait here for work; cancelled back-offs wake here too */
  job *head, *tail;
  size_t queued;
  job *running[IOTC_UPLOAD_THREADS];
  pthread_t threads[IOTC_UPLOAD_THREADS];
  size_t nthreads, idle;
  bool quit;
  uint64_t next_id;
  iotc_client *client;
};

/* ---- the API ------------------------------------------------------------------------------- */

void iotc_upload_options_init(iotc_upload_options *opts) {
  if (opts == NULL) {
    return;
  }
  memset(opts, 0, sizeof *opts);
  opts->struct_version = IOTC_UPLOAD_OPTIONS_VERSION;
}

__attribute__((format(printf, 3, 4))) static iotc_result fail(iotc_error *err, iotc_result r,
                                                               const char *fmt, ...) {
  if (err != NULL) {
    iotc_error_clear(err);
    err->result = r;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return r;
}

static void free_job(job *j) {
  if (j->fd >= 0) {
    close(j->fd);
  }
  free(j->name);
  free(j->content_type);
  free(j);
}

/* Why IoT Hub or Azure Storage would refuse @p name (stored as {deviceId}/{name}), or NULL. */
static const char *blob_name_problem(const char *name, size_t id_len) {
  size_t n = strlen(name);
  if (n == 0) {
    return "is empty";
  }
  if (n + id_len + 1 > IOTC_UPLOAD_BLOB_NAME_MAX) {
    return "is longer than 1024 characters with the device id in front";
  }
  size_t segments = 1;
  const char *seg = name;
  for (const char *p = name;; ++p) {
    unsigned char ch = (unsigned char)*p;
    if (ch == '/' || ch == '\0') {
      size_t len = (size_t)(p - seg);
      if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) {
        return "has an empty, \".\" or \"..\" path segment";
      }
      if (ch == '\0') {
        break;
      }
      ++segments;
      seg = p + 1;
    } else if (ch < 0x20 || ch == 0x7f || ch == '\\') {
      return "holds a control character or a backslash";
    }
  }
  if (segments + 1 > 254) {
    return "has more than 253 path segments";
  }
  if (name[n - 1] == '.') {
    return "ends with a dot";
  }
  json_t *utf8 = json_string(name); /* NULL: not UTF-8 (IoT Hub reads the name as JSON text) */
  json_decref(utf8);
  return utf8 ? NULL : "is not valid UTF-8";
}

static void *upload_main(void *arg);

/* The client's uploads, created on first use (mu held). */
static iotc__uploads *uploads_locked(iotc_client *c) {
  if (c->uploads == NULL) {
    iotc__uploads *u = calloc(1, sizeof *u);
    if (u == NULL) {
      return NULL;
    }
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    u->client = c;
    c->uploads = u;
  }
  return c->uploads;
}

/* Put @p j in the queue (u->mu held); its id, or 0 with err filled. */
static uint64_t push_locked(iotc__uploads *u, job *j, iotc_error *err) {
  if (u->queued >= IOTC_UPLOAD_QUEUE) {
    fail(err, IOTC_ERR_QUEUE_FULL, "%d uploads already wait for their turn", IOTC_UPLOAD_QUEUE);
    return 0;
  }
  if (u->queued + 1 > u->idle && u->nthreads < IOTC_UPLOAD_THREADS) {
    if (pthread_create(&u->threads[u->nthreads], NULL, upload_main, u) == 0) {
      u->nthreads++;
    } else if (u->nthreads == 0) {
      fail(err, IOTC_ERR_NO_MEMORY, "cannot start an upload thread");
      return 0;
    }
  }
  j->id = ++u->next_id;
  if (u->tail) {
    u->tail->next = j;
  } else {
    u->head = j;
  }
  u->tail = j;
  u->queued++;
  pthread_cond_broadcast(&u->cv);
  return j->id;
}

/* Take @p j (all fields but id set) into the queue; on failure it is freed. mu is held until the
 * job is queued, so iotc__uploads_destroy() (after quit is set) never misses or frees under it. */
static iotc_result enqueue(iotc_client *c, job *j, uint64_t *out_id, iotc_error *err) {
  uint64_t id = 0;
  pthread_mutex_lock(&c->mu);
  if (c->quit) {
    fail(err, IOTC_ERR_STATE, "the client is being destroyed");
  } else if (c->hub[0] == '\0') {
    fail(err, IOTC_ERR_NOT_CONNECTED,
         "the client's IoT hub is not known yet: connect before uploading a file");
  } else {
    snprintf(j->hub, sizeof j->hub, "%s", c->hub);
    snprintf(j->device_id, sizeof j->device_id, "%s", c->device_id);
    const char *why = blob_name_problem(j->name, strlen(j->device_id));
    iotc__uploads *u = why ? NULL : uploads_locked(c);
    if (why != NULL) {
      fail(err, IOTC_ERR_INVALID_ARG, "the blob name \"%.100s\" %s", j->name, why);
    } else if (u == NULL) {
      fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
    } else {
      pthread_mutex_lock(&u->mu);
      id = push_locked(u, j, err); /* once queued, j belongs to the upload threads */
      pthread_mutex_unlock(&u->mu);
    }
  }
  pthread_mutex_unlock(&c->mu);
  if (id == 0) {
    free_job(j);
    return err->result;
  }
  if (out_id != NULL) {
    *out_id = id;
  }
  return IOTC_OK;
}

/* A job from @p opts, or NULL with err filled. */
static job *new_job(const iotc_upload_options *opts, const char *default_name, iotc_error *err) {
  iotc_upload_options d;
  if (opts == NULL) {
    iotc_upload_options_init(&d);
    opts = &d;
  }
  const char *name = opts->blob_name ? opts->blob_name : default_name;
  if (name == NULL) {
    fail(err, IOTC_ERR_INVALID_ARG, "blob_name is required for a buffer or a stream");
    return NULL;
  }
  size_t block = opts->block_size ? opts->block_size : IOTC_UPLOAD_BLOCK_DEFAULT;
  if (block < IOTC_UPLOAD_BLOCK_MIN || block > IOTC_UPLOAD_BLOCK_MAX) {
    fail(err, IOTC_ERR_INVALID_ARG, "block_size %zu is outside %u..%u bytes", block,
         IOTC_UPLOAD_BLOCK_MIN, IOTC_UPLOAD_BLOCK_MAX);
    return NULL;
  }
  const char *ct = opts->content_type ? opts->content_type : "application/octet-stream";
  if (*ct == '\0' || strpbrk(ct, "\r\n") != NULL || strlen(ct) > 255) {
    fail(err, IOTC_ERR_INVALID_ARG, "content_type must be one line of 1..255 characters");
    return NULL;
  }
  job *j = calloc(1, sizeof *j);
  if (j == NULL) {
    fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
    return NULL;
  }
  j->fd = -1;
  j->name = strdup(name);
  j->content_type = strdup(ct);
  if (j->name == NULL || j->content_type == NULL) {
    free_job(j);
    fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
    return NULL;
  }
  j->block_size = block;
  uint64_t storage_max = (uint64_t)block * IOTC_UPLOAD_MAX_BLOCKS;
  j->max_size = opts->max_size && opts->max_size < storage_max ? opts->max_size : storage_max;
  j->stall_ms = opts->request_timeout_ms ? opts->request_timeout_ms : DEFAULT_STALL_MS;
  j->max_retries = opts->max_retries ? opts->max_retries : DEFAULT_RETRIES;
  j->on_progress = opts->on_progress;
  j->on_done = opts->on_done;
  j->ctx = opts->user_context;
  return j;
}

static iotc_result check_size(job *j, iotc_error *err) {
  if (j->size != IOTC_UPLOAD_SIZE_UNKNOWN && j->size > j->max_size) {
    iotc_result r = fail(err, IOTC_ERR_TOO_LARGE,
                         "%llu bytes are more than the limit of %llu bytes%s",
                         (unsigned long long)j->size, (unsigned long long)j->max_size,
                         j->max_size == (uint64_t)j->block_size * IOTC_UPLOAD_MAX_BLOCKS
                             ? " (50000 blocks of block_size)"
                             : " (max_size)");
    free_job(j);
    return r;
  }
  return IOTC_OK;
}

iotc_result iotc_client_upload_file(iotc_client *client, const char *path,
                                    const iotc_upload_options *opts, uint64_t *out_id,
                                    iotc_error *err) {
  iotc_error local; /* the reason is needed inside even when the caller wants none */
  if (err == NULL) {
    err = &local;
  }
  if (client == NULL || path == NULL || *path == '\0') {
    return fail(err, IOTC_ERR_INVALID_ARG, "client and path are required");
  }
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return fail(err, e == ENOENT || e == ENOTDIR ? IOTC_ERR_NOT_FOUND : IOTC_ERR_IO,
                "cannot open %.150s: %s", path, strerror(e));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    bool dir = S_ISDIR(st.st_mode);
    close(fd);
    return fail(err, IOTC_ERR_INVALID_ARG, "%.150s is %s", path,
                dir ? "a directory, not a file" : "not a regular file");
  }
  job *j = new_job(opts, *base ? base : NULL, err);
  if (j == NULL) {
    close(fd);
    return err->result;
  }
  j->kind = SRC_FILE;
  j->fd = fd;
  j->size = (uint64_t)st.st_size;
  iotc_result r = check_size(j, err);
  return r != IOTC_OK ? r : enqueue(client, j, out_id, err);
}

iotc_result iotc_client_upload_buffer(iotc_client *client, const void *data, size_t size,
                                      const iotc_upload_options *opts, uint64_t *out_id,
                                      iotc_error *err) {
  iotc_error local; /* the reason is needed inside even when the caller wants none */
  if (err == NULL) {
    err = &local;
  }
  if (client == NULL || (data == NULL && size > 0)) {
    return fail(err, IOTC_ERR_INVALID_ARG, "client is required, and data unless size is 0");
  }
  job *j = new_job(opts, NULL, err);
  if (j == NULL) {
    return err->result;
  }
  j->kind = SRC_BUFFER;
  j->data = data;
  j->size = size;
  iotc_result r = check_size(j, err);
  return r != IOTC_OK ? r : enqueue(client, j, out_id, err);
}

iotc_result iotc_client_upload_stream(iotc_client *client, uint64_t size,
                                      iotc_upload_read_fn read, void *read_context,
                                      const iotc_upload_options *opts, uint64_t *out_id,
                                      iotc_error *err) {
  iotc_error local; /* the reason is needed inside even when the caller wants none */
  if (err == NULL) {
    err = &local;
  }
  if (client == NULL || read == NULL) {
    return fail(err, IOTC_ERR_INVALID_ARG, "client and read are required");
  }
  job *j = new_job(opts, NULL, err);
  if (j == NULL) {
    return err->result;
  }
  j->kind = SRC_STREAM;
  j->read = read;
  j->read_ctx = read_context;
  j->size = size;
  iotc_result r = check_size(j, err);
  return r != IOTC_OK ? r : enqueue(client, j, out_id, err);
}

/* Mark every queued and running upload with @p why; true when @p id (0: all) was found. */
static bool cancel_locked(iotc__uploads *u, uint64_t id, iotc_result why) {
  bool found = false;
  for (job *j = u->head; j; j = j->next) {
    if (id == 0 || j->id == id) {
      int expected = 0;
      found |= atomic_compare_exchange_strong(&j->cancel, &expected, (int)why);
    }
  }
  for (size_t i = 0; i < IOTC_UPLOAD_THREADS; ++i) {
    job *j = u->running[i];
    if (j != NULL && (id == 0 || j->id == id)) {
      int expected = 0;
      found |= atomic_compare_exchange_strong(&j->cancel, &expected, (int)why);
    }
  }
  pthread_cond_broadcast(&u->cv);
  return found;
}

static iotc__uploads *uploads_of(iotc_client *c) {
  pthread_mutex_lock(&c->mu);
  iotc__uploads *u = c->uploads;
  pthread_mutex_unlock(&c->mu);
  return u;
}

iotc_result iotc_client_upload_cancel(iotc_client *client, uint64_t id) {
  if (client == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  iotc__uploads *u = uploads_of(client);
  if (u == NULL || id == 0) {
    return IOTC_ERR_NOT_FOUND;
  }
  pthread_mutex_lock(&u->mu);
  bool found = cancel_locked(u, id, IOTC_ERR_CANCELLED);
  pthread_mutex_unlock(&u->mu);
  return found ? IOTC_OK : IOTC_ERR_NOT_FOUND;
}

void iotc__uploads_cancel_all(iotc_client *c) {
  iotc__uploads *u = uploads_of(c);
  if (u != NULL) {
    pthread_mutex_lock(&u->mu);
    cancel_locked(u, 0, IOTC_ERR_CANCELLED);
    pthread_mutex_unlock(&u->mu);
  }
}

bool iotc__uploads_on_thread(iotc_client *c) {
  iotc__uploads *u = uploads_of(c);
  bool on = false;
  if (u != NULL) {
    pthread_mutex_lock(&u->mu);
    for (size_t i = 0; i < u->nthreads; ++i) {
      on |= pthread_equal(pthread_self(), u->threads[i]) != 0;
    }
    pthread_mutex_unlock(&u->mu);
  }
  return on;
}

void iotc__uploads_destroy(iotc_client *c) {
  iotc__uploads *u = uploads_of(c);
  if (u == NULL) {
    return;
  }
  pthread_mutex_lock(&u->mu);
  u->quit = true;
  cancel_locked(u, 0, IOTC_ERR_SHUTDOWN);
  size_t n = u->nthreads;
  pthread_mutex_unlock(&u->mu);
  /* Each thread completes the queued uploads (with IOTC_ERR_SHUTDOWN) before it ends. */
  for (size_t i = 0; i < n; ++i) {
    pthread_join(u->threads[i], NULL);
  }
  pthread_mutex_lock(&c->mu);
  c->uploads = NULL;
  pthread_mutex_unlock(&c->mu);
  pthread_cond_destroy(&u->cv);
  pthread_mutex_destroy(&u->mu);
  free(u);
}

/* ---- one upload, on an upload thread -------------------------------------------------------- */

typedef struct run {
  iotc__uploads *u;
  iotc_client *c;
  job *j;
  const iotc__curl_api *lib;
  CURL *curl;
  char errbuf[CURL_ERROR_SIZE];
  iotc__https_response resp;
  iotc__blob_sas sas; /* the current SAS URI; correlation_id NULL: none yet */
  uint32_t renewals;
  uint8_t *block;     /* the block being sent (owned unless it points into a buffer) */
  bool block_owned;
  uint64_t sent;
  int storage_status; /* the last status storage answered, for the notification */
  uint64_t last_progress_ms; /* when on_progress last ran */
} run;

static bool aborted(void *ctx) { return atomic_load(&((run *)ctx)->j->cancel) != 0; }

#define PROGRESS_EVERY_MS 250u

/* Progress inside a request (a large block), at most every PROGRESS_EVERY_MS. */
static void sending(void *ctx, uint64_t sent) {
  run *r = ctx;
  uint64_t now = iotc__now_ms();
  if (r->j->on_progress == NULL || now - r->last_progress_ms < PROGRESS_EVERY_MS) {
    return;
  }
  r->last_progress_ms = now;
  r->j->on_progress(r->j->ctx, r->sent + sent,
                    r->j->size == IOTC_UPLOAD_SIZE_UNKNOWN ? 0 : r->j->size);
}

static iotc_result cancelled(run *r, iotc_error *err) {
  iotc_result why = (iotc_result)atomic_load(&r->j->cancel);
  return fail(err, why, why == IOTC_ERR_SHUTDOWN ? "the client is shutting down"
                                                  : "the upload was cancelled");
}

/* Sleep @p ms unless the upload is cancelled first. */
static void pause_ms(run *r, uint32_t ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000u;
  ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&r->u->mu);
  while (atomic_load(&r->j->cancel) == 0) {
    if (pthread_cond_timedwait(&r->u->cv, &r->u->mu, &ts) != 0) {
      break;
    }
  }
  pthread_mutex_unlock(&r->u->mu);
}

static iotc_result transport_failure(run *r, CURLcode cc, const char *what, iotc_error *err) {
  iotc_result res;
  switch (cc) {
  case CURLE_ABORTED_BY_CALLBACK:
    return cancelled(r, err);
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
    res = fail(err, IOTC_ERR_CONNECT, "cannot connect for the %s", what);
    break;
  case CURLE_OPERATION_TIMEDOUT:
    res = fail(err, IOTC_ERR_TIMEOUT, "the %s stalled: no byte moved for %u ms", what,
               (unsigned)r->j->stall_ms);
    break;
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
    res = fail(err, IOTC_ERR_CONNECT, "the connection dropped during the %s", what);
    break;
  default:
    res = iotc__https_tls_failure(cc) ? fail(err, IOTC_ERR_TLS, "TLS failed for the %s", what)
                                      : fail(err, IOTC_ERR_HTTP, "the %s failed in libcurl", what);
    break;
  }
  if (err != NULL) {
    snprintf(err->transport, sizeof err->transport, "curl %d: %.200s", (int)cc,
             r->errbuf[0] ? r->errbuf : r->lib->easy_strerror(cc));
  }
  return res;
}

static bool retryable_curl(CURLcode cc) {
  return cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_COULDNT_CONNECT || cc == CURLE_GOT_NOTHING ||
         cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR || cc == CURLE_PARTIAL_FILE;
}

/* One request, retried with back-off while it fails in a way that may pass. IOTC_OK means an
 * answer came (r->resp: any status but 429 and 5xx, or those after the last retry). */
static iotc_result exchange(run *r, const char *what, const char *method, const char *url,
                            struct curl_slist *headers, const void *body, size_t len,
                            uint32_t retries, long stall_ms, bool last_word, bool data,
                            iotc_error *err) {
  iotc__https_request req = {.method = method,
                             .url = url,
                             .headers = headers,
                             .body = body,
                             .body_len = len,
                             .stall_s = (stall_ms + 999) / 1000,
                             .connect_timeout_ms = stall_ms < CONNECT_TIMEOUT_MS ? stall_ms
                                                                                : CONNECT_TIMEOUT_MS,
                             /* the last word to the hub goes out even after a cancel */
                             .aborted = last_word ? NULL : aborted,
                             .aborted_ctx = r,
                             .sending = data ? sending : NULL};
  for (uint32_t attempt = 0;; ++attempt) {
    if (atomic_load(&r->j->cancel) != 0 && !last_word) {
      return cancelled(r, err);
    }
    r->errbuf[0] = '\0';
    CURLcode cc = iotc__https_perform(r->curl, &req, &r->resp);
    bool again;
    if (cc != CURLE_OK) {
      if (cc == CURLE_ABORTED_BY_CALLBACK || !retryable_curl(cc) || attempt >= retries) {
        return transport_failure(r, cc, what, err);
      }
      again = true;
    } else {
      again = r->resp.status == 429 || r->resp.status >= 500;
      if (!again || attempt >= retries) {
        return IOTC_OK;
      }
    }
    uint32_t ms = BACKOFF_FIRST_MS << (attempt < 5 ? attempt : 5);
    if (ms > BACKOFF_MAX_MS) {
      ms = BACKOFF_MAX_MS;
    }
    if (cc == CURLE_OK && r->resp.has_retry_after) {
      uint32_t s = r->resp.retry_after_s < RETRY_AFTER_MAX_S ? r->resp.retry_after_s
                                                              : RETRY_AFTER_MAX_S;
      ms = s * 1000u;
    }
    IOTC_LOGW("upload %llu: the %s failed (%s %ld), retrying in %u ms",
              (unsigned long long)r->j->id, what, cc != CURLE_OK ? "curl" : "HTTP",
              cc != CURLE_OK ? (long)cc : r->resp.status, (unsigned)ms);
    pause_ms(r, ms);
  }
}

/* The hub's request headers: JSON, and a fresh SAS unless the identity is X.509. */
static struct curl_slist *hub_headers(run *r, iotc_error *err) {
  struct curl_slist *h = r->lib->slist_append(NULL, "Accept: application/json");
  struct curl_slist *all = h;
  if (h) {
    h = r->lib->slist_append(all, "Content-Type: application/json; charset=utf-8");
  }
  if (h) {
    h = r->lib->slist_append(all, "Expect:");
  }
  if (h && !r->c->x509) {
    uint64_t expiry = (uint64_t)time(NULL) + (r->c->sas_ttl_s ? r->c->sas_ttl_s : 3600u);
    size_t len = 0;
    iotc_result s = iotc_sas_hub_token(r->j->hub, r->j->device_id, r->c->device_key, expiry,
                                       NULL, 0, &len);
    char *auth = s == IOTC_ERR_BUFFER_TOO_SMALL ? malloc(len + 16) : NULL;
    if (auth == NULL) {
      iotc__https_free_headers(all);
      fail(err, s == IOTC_ERR_BUFFER_TOO_SMALL ? IOTC_ERR_NO_MEMORY : s,
           "cannot sign the file upload request");
      return NULL;
    }
    memcpy(auth, "Authorization: ", 15);
    s = iotc_sas_hub_token(r->j->hub, r->j->device_id, r->c->device_key, expiry, auth + 15,
                           len + 1, NULL);
    h = s == IOTC_OK ? r->lib->slist_append(all, auth) : NULL;
    iotc__secret_free(auth);
  }
  if (h == NULL) {
    iotc__https_free_headers(all);
    fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
    return NULL;
  }
  return all;
}

/* POST to the hub's files endpoint (or its notifications); IOTC_OK with r->resp on an answer. */
static iotc_result hub_post(run *r, bool notify, const char *body, uint32_t retries,
                            long stall_ms, iotc_error *err) {
  bool last_word = notify && atomic_load(&r->j->cancel) != 0;
  char *url = iotc__file_upload_url(r->j->hub, r->j->device_id, notify);
  struct curl_slist *headers = url ? hub_headers(r, err) : NULL;
  iotc_result res;
  if (url == NULL || headers == NULL) {
    res = url == NULL ? fail(err, IOTC_ERR_NO_MEMORY, "out of memory") : err->result;
  } else {
    res = exchange(r, notify ? "upload notification to IoT hub" : "SAS URI request to IoT hub",
                   "POST", url, headers, body, strlen(body), retries, stall_ms, last_word, false, err);
  }
  iotc__https_free_headers(headers);
  free(url);
  return res;
}

/* Ask the hub for a SAS URI of the blob (a new one replaces r->sas). */
static iotc_result ask_sas(run *r, iotc_error *err) {
  char *body = iotc__file_upload_request_body(r->j->name);
  if (body == NULL) {
    return fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
  }
  iotc_result res = hub_post(r, false, body, r->j->max_retries, (long)r->j->stall_ms, err);
  free(body);
  if (res != IOTC_OK) {
    return res;
  }
  long st = r->resp.status;
  if (st == 200 || st == 201) {
    iotc__blob_sas fresh;
    const char *why = NULL;
    res = iotc__blob_sas_parse(r->resp.body, r->resp.body_len, &fresh, &why);
    iotc__wipe(r->resp.body, r->resp.body_len);
    if (res != IOTC_OK) {
      return fail(err, res, "%s", why);
    }
    iotc__blob_sas_clear(&r->sas);
    r->sas = fresh;
    return IOTC_OK;
  }
  char code[64], text[160];
  iotc__file_upload_error(r->resp.body, code, sizeof code, text, sizeof text);
  if (st == 400 && strcmp(code, "InvalidStorageEndpointOrBlob") == 0) {
    res = fail(err, IOTC_ERR_NOT_SUPPORTED,
               "file upload is not configured: the IoT Central application (its IoT hub) has "
               "no storage account for uploads (hub: %s)", text);
  } else if (st == 400) {
    res = fail(err, IOTC_ERR_INVALID_ARG, "IoT hub refused the blob name \"%.100s\": %s",
               r->j->name, text);
  } else if (st == 401) {
    res = fail(err, IOTC_ERR_UNAUTHORIZED, "IoT hub refused the device's credentials: %s",
               text);
  } else if (st == 403) {
    res = fail(err, IOTC_ERR_THROTTLED, "IoT hub refused another upload for now: %s", text);
  } else if (st == 404) {
    res = fail(err, IOTC_ERR_NOT_FOUND, "IoT hub does not know the device: %s", text);
  } else if (st == 429) {
    res = fail(err, IOTC_ERR_THROTTLED, "IoT hub kept throttling the SAS URI request: %s", text);
  } else {
    res = fail(err, IOTC_ERR_SERVICE, "IoT hub answered the SAS URI request with HTTP %ld: %s",
               st, text);
  }
  if (err != NULL) {
    err->status = (int)st;
  }
  return res;
}

/* A Storage request with the current SAS; an expired SAS (403) is renewed and the request sent
 * again. IOTC_OK when storage stored it (201). */
static iotc_result storage_put(run *r, const char *what, const char *query,
                               const char *const *extra, const void *body, size_t len,
                               iotc_error *err) {
  for (;;) {
    char *url = iotc__blob_url(&r->sas, query);
    struct curl_slist *headers = NULL;
    bool ok = url != NULL;
    static const char *const base[] = {"x-ms-version: " IOTC__STORAGE_VERSION, "Expect:"};
    for (size_t i = 0; ok && i < 2; ++i) {
      struct curl_slist *h = r->lib->slist_append(headers, base[i]);
      ok = h != NULL;
      headers = h ? h : headers;
    }
    for (size_t i = 0; ok && extra[i]; ++i) {
      struct curl_slist *h = r->lib->slist_append(headers, extra[i]);
      ok = h != NULL;
      headers = h ? h : headers;
    }
    iotc_result res = ok ? exchange(r, what, "PUT", url, headers, body, len, r->j->max_retries,
                                    (long)r->j->stall_ms, false, true, err)
                         : fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
    r->lib->slist_free_all(headers);
    if (url != NULL) {
      iotc__secret_free(url);
    }
    if (res != IOTC_OK) {
      return res;
    }
    long st = r->resp.status;
    r->storage_status = (int)st;
    if (st == 201) {
      return IOTC_OK;
    }
    char code[64];
    iotc__blob_error_code(r->resp.body, code, sizeof code);
    if (st == 403 && r->renewals < SAS_RENEWALS) {
      /* Expired (or otherwise refused) SAS: the blocks already stored stay with the blob. */
      r->renewals++;
      IOTC_LOGW("upload %llu: storage refused the SAS (%s) at the %s; asking IoT hub for a new one",
                (unsigned long long)r->j->id, code[0] ? code : "403", what);
      res = ask_sas(r, err);
      if (res != IOTC_OK) {
        return res;
      }
      continue;
    }
    if (st == 429 || st >= 500) {
      res = fail(err, IOTC_ERR_SERVICE, "storage kept failing the %s: HTTP %ld%s%s after %u "
                 "attempts", what, st, code[0] ? " " : "", code, (unsigned)r->j->max_retries + 1);
    } else {
      res = fail(err, st == 413 ? IOTC_ERR_TOO_LARGE : IOTC_ERR_SERVICE,
                 "storage refused the %s: HTTP %ld%s%s", what, st, code[0] ? " " : "", code);
    }
    if (err != NULL) {
      err->status = (int)st;
    }
    return res;
  }
}

/* Read up to @p want bytes of the source into r->block (or point into the buffer); *got 0: end. */
static iotc_result read_block(run *r, uint64_t offset, size_t want, size_t *got, iotc_error *err) {
  job *j = r->j;
  *got = 0;
  if (j->kind == SRC_BUFFER) {
    uint64_t left = j->size - offset;
    *got = left < want ? (size_t)left : want;
    r->block = j->data ? (uint8_t *)(uintptr_t)(j->data + offset) : NULL;
    return IOTC_OK;
  }
  while (*got < want) {
    if (j->kind == SRC_FILE) {
      ssize_t n = pread(j->fd, r->block + *got, want - *got, (off_t)(offset + *got));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        return fail(err, IOTC_ERR_IO, "reading the file failed: %s", strerror(errno));
      }
      if (n == 0) {
        break;
      }
      *got += (size_t)n;
    } else {
      size_t n = 0;
      iotc_result res = j->read(j->read_ctx, r->block + *got, want - *got, &n);
      if (res != IOTC_OK) {
        return fail(err, res, "the read callback failed: %s", iotc_strerror(res));
      }
      if (n > want - *got) {
        return fail(err, IOTC_ERR_IO, "the read callback returned more than it was asked for");
      }
      if (n == 0) {
        break;
      }
      *got += n;
    }
  }
  return IOTC_OK;
}

/* A stream of known size must end there: one more read has to return nothing. */
static iotc_result stream_ends(run *r, iotc_error *err) {
  job *j = r->j;
  if (j->kind != SRC_STREAM || j->size == IOTC_UPLOAD_SIZE_UNKNOWN) {
    return IOTC_OK;
  }
  uint8_t probe;
  size_t n = 0;
  iotc_result res = j->read(j->read_ctx, &probe, 1, &n);
  if (res != IOTC_OK) {
    return fail(err, res, "the read callback failed: %s", iotc_strerror(res));
  }
  return n == 0 ? IOTC_OK
                : fail(err, IOTC_ERR_IO, "the stream is longer than the %llu bytes announced",
                       (unsigned long long)j->size);
}

static void progress(run *r) {
  r->last_progress_ms = iotc__now_ms();
  if (r->j->on_progress != NULL) {
    r->j->on_progress(r->j->ctx, r->sent,
                      r->j->size == IOTC_UPLOAD_SIZE_UNKNOWN ? 0 : r->j->size);
  }
}

/* Write the blob: one Put Blob when it fits in a block, otherwise blocks and the list. */
static iotc_result transfer(run *r, iotc_error *err) {
  job *j = r->j;
  char ct[300], blob_ct[320];
  snprintf(ct, sizeof ct, "Content-Type: %s", j->content_type);
  snprintf(blob_ct, sizeof blob_ct, "x-ms-blob-content-type: %s", j->content_type);
  if (j->kind != SRC_BUFFER) {
    r->block = malloc(j->block_size + 1);
    r->block_owned = true;
    if (r->block == NULL) {
      return fail(err, IOTC_ERR_NO_MEMORY, "out of memory for a block of %zu bytes",
                  j->block_size);
    }
  }
  bool known = j->size != IOTC_UPLOAD_SIZE_UNKNOWN;
  uint32_t index = 0;
  for (;;) {
    size_t want = j->block_size;
    if (known && j->size - r->sent < want) {
      want = (size_t)(j->size - r->sent);
    }
    size_t got = 0;
    /* Reading one byte past a whole-size single block tells a stream that goes on. */
    iotc_result res = read_block(r, r->sent, want, &got, err);
    if (res != IOTC_OK) {
      return res;
    }
    if (known && got < want) {
      return fail(err, IOTC_ERR_IO, "the %s ended after %llu of %llu bytes",
                  j->kind == SRC_FILE ? "file" : "stream",
                  (unsigned long long)(r->sent + got), (unsigned long long)j->size);
    }
    if (!known && r->sent + got > j->max_size) {
      return fail(err, IOTC_ERR_TOO_LARGE, "the stream is longer than the limit of %llu bytes",
                  (unsigned long long)j->max_size);
    }
    bool single = index == 0 && ((known && j->size <= j->block_size) || (!known && got == 0));
    if (single) {
      const char *const extra[] = {"x-ms-blob-type: BlockBlob", ct, NULL};
      res = stream_ends(r, err);
      if (res != IOTC_OK) {
        return res;
      }
      res = storage_put(r, "Put Blob", "", extra, r->block, got, err);
      if (res == IOTC_OK) {
        r->sent = got;
      }
      return res;
    }
    if (got == 0) {
      break; /* the end of a stream of unknown length */
    }
    if (index >= IOTC_UPLOAD_MAX_BLOCKS) {
      return fail(err, IOTC_ERR_TOO_LARGE, "more than %u blocks", IOTC_UPLOAD_MAX_BLOCKS);
    }
    char id[IOTC__BLOCK_ID_SIZE], query[96], what[48];
    iotc__blob_block_id(index, id);
    char *escaped = r->lib->easy_escape(r->curl, id, 0);
    if (escaped == NULL) {
      return fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
    }
    snprintf(query, sizeof query, "&comp=block&blockid=%s", escaped);
    r->lib->free(escaped);
    snprintf(what, sizeof what, "Put Block %u", (unsigned)index + 1);
    const char *const extra[] = {"Content-Type: application/octet-stream", NULL};
    res = storage_put(r, what, query, extra, r->block, got, err);
    if (res != IOTC_OK) {
      return res;
    }
    r->sent += got;
    index++;
    progress(r);
    if (known && r->sent == j->size) {
      res = stream_ends(r, err);
      if (res != IOTC_OK) {
        return res;
      }
      break;
    }
  }
  size_t len = 0;
  char *xml = iotc__blob_block_list(index, &len);
  if (xml == NULL) {
    return fail(err, IOTC_ERR_NO_MEMORY, "out of memory");
  }
  const char *const extra[] = {"Content-Type: application/xml", blob_ct, NULL};
  iotc_result res = storage_put(r, "Put Block List", "&comp=blocklist", extra, xml, len, err);
  free(xml);
  return res;
}

/* Tell the hub how the upload ended; true when it accepted. */
static bool notify(run *r, iotc_result result, const iotc_error *why, iotc_error *nerr) {
  int status = result == IOTC_OK ? 201
               : result == IOTC_ERR_CANCELLED || result == IOTC_ERR_SHUTDOWN
                   ? 499
                   : (r->storage_status >= 400 ? r->storage_status : 500);
  char *body = iotc__file_upload_notify_body(
      r->sas.correlation_id, result == IOTC_OK, status,
      result == IOTC_OK ? "stored" : (why && why->message[0] ? why->message : iotc_strerror(result)));
  if (body == NULL) {
    fail(nerr, IOTC_ERR_NO_MEMORY, "out of memory");
    return false;
  }
  bool shutting = atomic_load(&r->j->cancel) != 0;
  iotc_result res = hub_post(r, true, body, shutting ? 0 : 3,
                             shutting ? SHUTDOWN_TIMEOUT_MS : (long)r->j->stall_ms, nerr);
  free(body);
  if (res == IOTC_OK && r->resp.status / 100 == 2) {
    return true;
  }
  if (res == IOTC_OK) {
    char code[64], text[160];
    iotc__file_upload_error(r->resp.body, code, sizeof code, text, sizeof text);
    fail(nerr, IOTC_ERR_SERVICE, "HTTP %ld %s", r->resp.status, text);
    nerr->status = (int)r->resp.status;
  }
  return false;
}

static void run_job(iotc__uploads *u, job *j) {
  iotc_client *c = u->client;
  run r = {.u = u, .c = c, .j = j};
  iotc_error err;
  iotc_error_clear(&err);
  iotc_result res = IOTC_OK;
  const char *why;
  if (atomic_load(&j->cancel) != 0) {
    res = cancelled(&r, &err);
  } else if ((r.lib = iotc__https_curl(&res, &why)) == NULL) {
    res = fail(&err, res, "%s", why);
  } else if ((r.curl = r.lib->easy_init()) == NULL) {
    res = fail(&err, IOTC_ERR_HTTP, "cannot create a libcurl handle");
  } else {
    iotc__https_tls tls = {.ca_file = c->ca_file};
    if (c->x509) {
      tls.cert_file = c->cert_file;
      tls.key_file = c->key_file;
    }
    iotc__https_setup(r.curl, &tls, r.errbuf);
    progress(&r);
    res = ask_sas(&r, &err);
    if (res == IOTC_OK) {
      res = transfer(&r, &err);
    }
  }
  bool notified = false;
  if (r.sas.correlation_id != NULL) {
    iotc_error nerr;
    iotc_error_clear(&nerr);
    notified = notify(&r, res, &err, &nerr);
    if (!notified && res == IOTC_OK) {
      res = fail(&err, nerr.result == IOTC_OK ? IOTC_ERR_SERVICE : nerr.result,
                 "the file was stored as %.100s, but IoT hub did not take the upload "
                 "notification: %.100s", r.sas.blob_name, nerr.message);
      err.status = nerr.status;
    } else if (!notified) {
      IOTC_LOGW("upload %llu: IoT hub did not take the failure notification: %s",
                (unsigned long long)j->id, nerr.message);
    }
  }
  if (res == IOTC_OK) {
    progress(&r);
    iotc_error_clear(&err);
    IOTC_LOGI("upload %llu: stored %s (%llu bytes)", (unsigned long long)j->id, r.sas.blob_name,
              (unsigned long long)r.sent);
  } else {
    err.result = res;
    IOTC_LOGW("upload %llu: %s", (unsigned long long)j->id, err.message);
  }
  if (r.curl != NULL) {
    r.lib->easy_cleanup(r.curl);
  }
  if (r.block_owned) {
    free(r.block);
  }
  if (j->on_done != NULL) {
    iotc_upload_result out = {.id = j->id,
                              .result = res,
                              .error = &err,
                              .blob_name = r.sas.blob_name ? r.sas.blob_name : "",
                              .bytes = res == IOTC_OK ? r.sent : 0,
                              .notified = notified};
    j->on_done(j->ctx, &out);
  }
  iotc__blob_sas_clear(&r.sas);
}

static void *upload_main(void *arg) {
  iotc__uploads *u = arg;
  pthread_mutex_lock(&u->mu);
  for (;;) {
    while (u->head == NULL && !u->quit) {
      u->idle++;
      pthread_cond_wait(&u->cv, &u->mu);
      u->idle--;
    }
    job *j = u->head;
    if (j == NULL) {
      break; /* quit, and nothing left to complete */
    }
    u->head = j->next;
    if (u->head == NULL) {
      u->tail = NULL;
    }
    u->queued--;
    size_t slot = 0;
    while (u->running[slot] != NULL) {
      ++slot; /* at most IOTC_UPLOAD_THREADS run, one per thread */
    }
    u->running[slot] = j;
    pthread_mutex_unlock(&u->mu);
    run_job(u, j);
    pthread_mutex_lock(&u->mu);
    u->running[slot] = NULL;
    free_job(j);
  }
  pthread_mutex_unlock(&u->mu);
  return NULL;
}
