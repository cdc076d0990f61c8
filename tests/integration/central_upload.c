/* SPDX-License-Identifier: MIT */
/* File upload (iotc/upload.h) against the emulator's hub and its Azurite storage: sizes from 0
 * bytes to a large blocked upload, each one checked byte for byte through the operator API; an
 * expired SAS and storage 503s mid-upload (resumed), cancel, disconnect and destroy during an
 * upload, and every bad input, each with a clear result and the notification the hub got.
 * IOTC_UPLOAD_LARGE_MIB sets the size of the large upload (default 256). Throughput is printed,
 * never asserted. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "central.h"
#include "iotc/upload.h"

/* ---- recording one upload's outcome ---------------------------------------------------------- */

typedef struct outcome {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done; /* times on_done ran */
  iotc_result result;
  iotc_error error;
  char blob_name[1100];
  uint64_t bytes;
  bool notified;
  uint64_t progress_calls, last_sent, last_total;
  bool partial; /* a call with 0 < sent < total: progress inside one request */
  /* test hooks run from on_progress (on the upload thread) */
  uint32_t sleep_after_first_ms;
  iotc_client *cancel_client;
  uint64_t cancel_id;
  bool cancel_on_progress;
} outcome;

static void outcome_init(outcome *o) {
  memset(o, 0, sizeof *o);
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
}

static void outcome_destroy(outcome *o) {
  pthread_mutex_destroy(&o->mu);
  pthread_cond_destroy(&o->cv);
}

static void on_progress(void *ctx, uint64_t sent, uint64_t total) {
  outcome *o = ctx;
  pthread_mutex_lock(&o->mu);
  o->progress_calls++;
  o->last_sent = sent;
  o->last_total = total;
  if (sent > 0 && sent < total) o->partial = true;
  bool first_block = sent > 0 && o->sleep_after_first_ms > 0;
  uint32_t nap = first_block ? o->sleep_after_first_ms : 0;
  if (first_block) o->sleep_after_first_ms = 0;
  bool cancel = sent > 0 && o->cancel_on_progress;
  if (cancel) o->cancel_on_progress = false;
  pthread_mutex_unlock(&o->mu);
  if (nap) central_sleep_ms(nap); /* lets the first SAS expire between two blocks */
  if (cancel) assert_int_equal(iotc_client_upload_cancel(o->cancel_client, o->cancel_id), IOTC_OK);
}

static void on_done(void *ctx, const iotc_upload_result *r) {
  outcome *o = ctx;
  pthread_mutex_lock(&o->mu);
  o->done++;
  o->result = r->result;
  o->error = *r->error;
  snprintf(o->blob_name, sizeof o->blob_name, "%s", r->blob_name);
  o->bytes = r->bytes;
  o->notified = r->notified;
  pthread_cond_broadcast(&o->cv);
  pthread_mutex_unlock(&o->mu);
}

/* Wait (bounded) until on_done ran; returns its result. */
static iotc_result outcome_wait(outcome *o, uint32_t limit_ms) {
  uint64_t until = central_now_ms() + limit_ms;
  pthread_mutex_lock(&o->mu);
  while (o->done == 0 && central_now_ms() < until) {
    pthread_mutex_unlock(&o->mu);
    central_sleep_ms(20);
    pthread_mutex_lock(&o->mu);
  }
  int done = o->done;
  iotc_result r = o->result;
  pthread_mutex_unlock(&o->mu);
  assert_int_equal(done, 1);
  return r;
}

static void options(iotc_upload_options *opts, outcome *o, const char *name) {
  iotc_upload_options_init(opts);
  opts->blob_name = name;
  opts->on_progress = on_progress;
  opts->on_done = on_done;
  opts->user_context = o;
}

/* ---- the data and what the operator sees ------------------------------------------------------ */

static uint8_t pattern(uint64_t i) { return (uint8_t)((i * 131u) ^ (i >> 11) ^ (i >> 19)); }

static void fill(uint8_t *buf, uint64_t offset, size_t len) {
  for (size_t k = 0; k < len; ++k) buf[k] = pattern(offset + k);
}

typedef struct compare {
  uint64_t at;
  bool same;
} compare;

static size_t compare_body(char *data, size_t size, size_t nmemb, void *ctx) {
  compare *c = ctx;
  for (size_t k = 0; k < size * nmemb; ++k) {
    if ((uint8_t)data[k] != pattern(c->at + k)) c->same = false;
  }
  c->at += size * nmemb;
  return size * nmemb;
}

/* The blob's content as the operator API serves it equals the pattern's first @p size bytes. */
static void assert_content(const char *device_id, const char *name, uint64_t size) {
  CURL *h = curl_easy_init();
  assert_non_null(h);
  char *escaped = curl_easy_escape(h, name, 0);
  char url[2048];
  snprintf(url, sizeof url, "%s/api/devices/%s/files/%s", central_emu()->api, device_id, escaped);
  curl_free(escaped);
  compare c = {0, true};
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, compare_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 300L);
  assert_int_equal(curl_easy_perform(h), CURLE_OK);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(h);
  assert_int_equal(status, 200);
  assert_int_equal(c.at, size);
  assert_true(c.same);
}

/* The operator's entry of the device's file @p name (a new reference), or NULL. */
static json_t *file_entry(const char *device_id, const char *name) {
  json_t *list = central_get("/api/devices/%s/files", device_id);
  assert_non_null(list);
  json_t *found = NULL;
  size_t i;
  json_t *f;
  json_array_foreach(json_object_get(list, "value"), i, f) {
    if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0 && found == NULL) {
      found = json_incref(f);
    }
  }
  json_decref(list);
  return found;
}

/* The operator sees @p name with @p size bytes and a success notification. */
static void assert_stored(const char *device_id, const char *name, uint64_t size) {
  json_t *f = file_entry(device_id, name);
  assert_non_null(f);
  assert_true(json_is_true(json_object_get(f, "exists")));
  assert_int_equal(json_integer_value(json_object_get(f, "size")), size);
  json_t *n = json_object_get(f, "notification");
  assert_true(json_is_true(json_object_get(n, "isSuccess")));
  assert_int_equal(json_integer_value(json_object_get(n, "statusCode")), 201);
  json_decref(f);
}

/* The hub got a failure notification for @p name. */
static void assert_failure_notified(const char *device_id, const char *name) {
  json_t *f = file_entry(device_id, name);
  assert_non_null(f);
  json_t *n = json_object_get(f, "notification");
  assert_true(json_is_object(n));
  assert_true(json_is_false(json_object_get(n, "isSuccess")));
  printf("  notification: %lld %s\n", (long long)json_integer_value(json_object_get(n, "statusCode")),
         json_string_value(json_object_get(n, "statusDescription")));
  json_decref(f);
}

static iotc_client *connected(central_device *dev, const char *prefix) {
  iotc_client *c = central_new(prefix, dev);
  assert_non_null(c);
  assert_int_equal(central_connect(c), 0);
  return c;
}

static void fault(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fault(const char *fmt, ...) {
  char json[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(json, sizeof json, fmt, ap);
  va_end(ap);
  assert_int_equal(emu_fault(central_emu(), json), 0);
}

static char g_dir[] = "/tmp/iotc-upload-XXXXXX";

static void write_file(const char *path, uint64_t size) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  uint8_t buf[65536];
  for (uint64_t off = 0; off < size; off += sizeof buf) {
    size_t n = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
    fill(buf, off, n);
    assert_int_equal(fwrite(buf, 1, n, f), n);
  }
  assert_int_equal(fclose(f), 0);
}

/* ---- sizes ----------------------------------------------------------------------------------- */

static void upload_file_of(iotc_client *c, const central_device *dev, uint64_t size,
                           const char *name) {
  char path[256];
  snprintf(path, sizeof path, "%s/%s", g_dir, name);
  write_file(path, size);
  outcome o;
  outcome_init(&o);
  iotc_upload_options opts;
  options(&opts, &o, NULL); /* the file's own name */
  opts.content_type = "text/plain";
  uint64_t id = 0;
  iotc_error err;
  uint64_t t0 = central_now_ms();
  assert_int_equal(iotc_client_upload_file(c, path, &opts, &id, &err), IOTC_OK);
  assert_true(id != 0);
  iotc_result r = outcome_wait(&o, 120000);
  if (r != IOTC_OK) fprintf(stderr, "upload: %s\n", o.error.message);
  assert_int_equal(r, IOTC_OK);
  char want[300];
  snprintf(want, sizeof want, "%s/%s", dev->id, name);
  assert_string_equal(o.blob_name, want);
  assert_int_equal(o.bytes, size);
  assert_true(o.notified);
  assert_int_equal(o.last_sent, size);
  printf("  %llu bytes in %llu ms\n", (unsigned long long)size,
         (unsigned long long)(central_now_ms() - t0));
  assert_stored(dev->id, name, size);
  assert_content(dev->id, name, size);
  unlink(path);
  outcome_destroy(&o);
}

static void files_of_0_1_and_5_mib_bytes_arrive_intact(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = connected(&dev, "upload-sizes");
  upload_file_of(c, &dev, 0, "empty.log");
  upload_file_of(c, &dev, 1, "one.bin");
  upload_file_of(c, &dev, 5u * 1024u * 1024u, "five.bin"); /* two blocks of 4 MiB */
  iotc_client_destroy(c);
}

static void a_buffer_uploads_in_one_put_blob(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = connected(&dev, "upload-buffer");
  static uint8_t data[100000];
  fill(data, 0, sizeof data);
  outcome o;
  outcome_init(&o);
  iotc_upload_options opts;
  options(&opts, &o, "dumps/core one.bin"); /* a folder and a space */
  assert_int_equal(iotc_client_upload_buffer(c, data, sizeof data, &opts, NULL, NULL), IOTC_OK);
  assert_int_equal(outcome_wait(&o, 60000), IOTC_OK);
  assert_stored(dev.id, "dumps/core one.bin", sizeof data);
  assert_content(dev.id, "dumps/core one.bin", sizeof data);
  outcome_destroy(&o);
  iotc_client_destroy(c);
}

typedef struct stream_src {
  uint64_t at, size;
} stream_src;

static iotc_result read_pattern(void *ctx, void *buf, size_t size, size_t *got) {
  stream_src *s = ctx;
  size_t n = s->size - s->at < size ? (size_t)(s->size - s->at) : size;
  fill(buf, s->at, n);
  s->at += n;
  *got = n;
  return IOTC_OK;
}

static void a_large_stream_of_unknown_size_goes_in_blocks(void **state) {
  (void)state;
  const char *env = getenv("IOTC_UPLOAD_LARGE_MIB");
  uint64_t mib = env ? strtoull(env, NULL, 10) : 256;
  central_device dev;
  iotc_client *c = connected(&dev, "upload-large");
  stream_src src = {0, mib * 1024u * 1024u};
  outcome o;
  outcome_init(&o);
  iotc_upload_options opts;
  options(&opts, &o, "large.bin");
  uint64_t t0 = central_now_ms();
  assert_int_equal(iotc_client_upload_stream(c, IOTC_UPLOAD_SIZE_UNKNOWN, read_pattern, &src,
                                             &opts, NULL, NULL),
                   IOTC_OK);
  iotc_result r = outcome_wait(&o, 900000);
  uint64_t ms = central_now_ms() - t0;
  if (r != IOTC_OK) fprintf(stderr, "upload: %s\n", o.error.message);
  assert_int_equal(r, IOTC_OK);
  assert_int_equal(o.bytes, src.size);
  assert_int_equal(o.last_total, 0); /* not known in advance */
  printf("  %llu MiB in %llu ms: %.1f MiB/s (%llu progress calls)\n", (unsigned long long)mib,
         (unsigned long long)ms, ms ? (double)mib * 1000.0 / (double)ms : 0.0,
         (unsigned long long)o.progress_calls);
  assert_stored(dev.id, "large.bin", src.size);
  assert_content(dev.id, "large.bin", src.size);
  outcome_destroy(&o);
  iotc_client_destroy(c);
}

/* An X.509 device authenticates its upload requests with its client certificate (no SAS). */
static void an_x509_device_uploads_with_its_certificate(void **state) {
  (void)state;
  const emu_info *emu = central_emu();
  char id[128], cert[1024], key[1024];
  emu_unique_id("upload-x509", id, sizeof id);
  assert_int_equal(emu_issue_cert(emu, id, g_dir, cert, key), 0);
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.id_scope = emu->id_scope;
  cfg.device_id = id;
  cfg.cert_file = cert;
  cfg.key_file = key;
  cfg.dps_endpoint = emu->dps_mqtt;
  cfg.ca_file = emu->ca_file;
  iotc_client *c = central_client(&cfg);
  assert_int_equal(central_connect(c), 0);
  static uint8_t data[70000];
  fill(data, 0, sizeof data);
  outcome o;
  outcome_init(&o);
  iotc_upload_options opts;
  options(&opts, &o, "x509.bin");
  opts.block_size = IOTC_UPLOAD_BLOCK_MIN; /* two blocks */
  assert_int_equal(iotc_client_upload_buffer(c, data, sizeof data, &opts, NULL, NULL), IOTC_OK);
  iotc_result r = outcome_wait(&o, 60000);
  if (r != IOTC_OK) fprintf(stderr, "upload: %s\n", o.error.message);
  assert_int_equal(r, IOTC_OK);
  assert_stored(id, "x509.bin", sizeof data);
  assert_content(id, "x509.bin", sizeof data);
  outcome_destroy(&o);
  iotc_client_destroy(c);
}

/* ---- faults mid-upload ----------------------------------------------------------------------- */

static void an_expired_sas_is_renewed_and_the_upload_resumes(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = connected(&dev, "upload-sas");
  fault("{\"kind\":\"sasExpiry\",\"deviceId\":\"%s\",\"seconds\":1}", dev.id);
  static uint8_t data[3u * 65536u];
  fill(data, 0, sizeof data);
  outcome o;
  outcome_init(&o);
  o.sleep_after_first_ms = 2500; /* the first SAS expires before the second block */
  iotc_upload_options opts;
  options(&opts, &o, "resumed.bin");
  opts.block_size = IOTC_UPLOAD_BLOCK_MIN;
  assert_int_equal(iotc_client_upload_buffer(c, data, sizeof data, &opts, NULL, NULL), IOTC_OK);
  iotc_result r = outcome_wait(&o, 60000);
  if (r != IOTC_OK) fprintf(stderr, "upload: %s\n", o.error.message);
  assert_int_equal(r, IOTC_OK);
  /* storage refused the old SAS once (403), and the hub handed out a second one */
  json_t *wire = emu_wire(central_emu(), dev.id, 0);
  size_t i, refusals = 0, sas_requests = 0;
  json_t *e;
  json_array_foreach(wire, i, e) {
    const char *svc = json_string_value(json_object_get(e, "svc"));
    const char *url = json_string_value(json_object_get(e, "url"));
    if (svc && strcmp(svc, "storage") == 0 && json_integer_value(json_object_get(e, "status")) == 403) refusals++;
    if (url && strstr(url, "/files") && !strstr(url, "notifications")) sas_requests++;
  }
  json_decref(wire);
  printf("  storage refusals %zu, SAS requests %zu\n", refusals, sas_requests);
  assert_int_equal(refusals, 1);
  assert_int_equal(sas_requests, 2);
  assert_stored(dev.id, "resumed.bin", sizeof data);
  assert_content(dev.id, "resumed.bin", sizeof data);
  outcome_destroy(&o);
  iotc_client_destroy(c);
}

static void storage_503s_and_dropped_connections_are_retried(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = connected(&dev, "upload-503");
  fault("{\"kind\":\"storageFail\",\"deviceId\":\"%s\",\"operation\":\"block\",\"count\":2,"
        "\"retryAfter\":0}", dev.id);
  fault("{\"kind\":\"storageDrop\",\"deviceId\":\"%s\",\"operation\":\"blocklist\"}", dev.id);
  static uint8_t data[2u * 65536u + 7u];
  fill(data, 0, sizeof data);
  outcome o;
  outcome_init(&o);
  iotc_upload_options opts;
  options(&opts, &o, "retried.bin");
  opts.block_size = IOTC_UPLOAD_BLOCK_MIN;
  assert_int_equal(iotc_client_upload_buffer(c, data, sizeof data, &opts, NULL, NULL), IOTC_OK);
  assert_int_equal(outcome_wait(&o, 60000), IOTC_OK);
  /* both faults fired: two 503s on blocks, one connection closed on the block list */
  json_t *wire = emu_wire(central_emu(), dev.id, 0);
  size_t i, busy = 0, dropped = 0;
  json_t *e;
  json_array_foreach(wire, i, e) {
    const char *svc = json_string_value(json_object_get(e, "svc"));
    if (!svc || strcmp(svc, "storage") != 0) continue;
    if (json_integer_value(json_object_get(e, "status")) == 503) busy++;
    if (strcmp(json_string_value(json_object_get(e, "type")), "CLOSED") == 0) dropped++;
  }
  json_decref(wire);
  assert_int_equal(busy, 2);
  assert_int_equal(dropped, 1);
  assert_stored(dev.id, "retried.bin", sizeof data);
  assert_content(dev.id, "retried.bin", sizeof data);
  outcome_destroy(&o);
  iotc_client_destroy(c);
}

/* Start an upload of @p data that is expected to fail with @p want; the hub was told. */
static void upload_fails(iotc_client *c, const central_device *dev, const char *name,
                         iotc_result want, const char *message_part, bool notified) {
  static uint8_t data[200000];
  fill(data, 0, sizeof data);
  outcome o;
  outcome_init(&o);
  iotc_upload_options opts;
  options(&opts, &o, name);
  opts.block_size = IOTC_UPLOAD_BLOCK_MIN;
  opts.max_retries = 1;
  assert_int_equal(iotc_client_upload_buffer(c, data, sizeof data, &opts, NULL, NULL), IOTC_OK);
  iotc_result r = outcome_wait(&o, 60000);
  printf("  %s: %s: %s\n", name, iotc_strerror(r), o.error.message);
  assert_int_equal(r, want);
  assert_int_equal(o.error.result, want);
  assert_non_null(strstr(o.error.message, message_part));
  if (notified) assert_failure_notified(dev->id, name);
  outcome_destroy(&o);
}

static void faults_give_clear_results_and_the_hub_is_told(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = connected(&dev, "upload-faults");
  /* storage keeps failing */
  fault("{\"kind\":\"storageFail\",\"deviceId\":\"%s\",\"operation\":\"block\",\"count\":20,"
        "\"retryAfter\":0}", dev.id);
  upload_fails(c, &dev, "busy.bin", IOTC_ERR_SERVICE, "HTTP 503 ServerBusy after 2 attempts", true);
  emu_api(central_emu(), "DELETE", "/emulator/faults", NULL, NULL, NULL);
  /* storage refuses for good in the middle (a 4xx is not retried) */
  fault("{\"kind\":\"storageFail\",\"deviceId\":\"%s\",\"operation\":\"blocklist\",\"status\":400}", dev.id);
  upload_fails(c, &dev, "refused.bin", IOTC_ERR_SERVICE, "Put Block List: HTTP 400", true);
  /* the application has no storage */
  fault("{\"kind\":\"uploadNotConfigured\",\"deviceId\":\"%s\"}", dev.id);
  upload_fails(c, &dev, "nowhere.bin", IOTC_ERR_NOT_SUPPORTED, "no storage account", false);
  /* the notification endpoint fails: the file is there, the result says the hub was not told */
  fault("{\"kind\":\"notifyFail\",\"deviceId\":\"%s\",\"count\":10}", dev.id);
  upload_fails(c, &dev, "untold.bin", IOTC_ERR_SERVICE, "did not take the upload notification", false);
  emu_api(central_emu(), "DELETE", "/emulator/faults", NULL, NULL, NULL);
  json_t *f = file_entry(dev.id, "untold.bin");
  assert_non_null(f);
  assert_true(json_is_true(json_object_get(f, "exists")));
  assert_true(json_is_null(json_object_get(f, "notification")));
  json_decref(f);
  /* a name the hub refuses though it passed the local checks is reported as the hub said */
  iotc_client_destroy(c);
}

/* ---- cancel, disconnect, destroy ------------------------------------------------------------- */

static void a_cancel_mid_upload_stops_it_and_tells_the_hub(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = connected(&dev, "upload-cancel");
  static uint8_t data[6u * 65536u];
  fill(data, 0, sizeof data);
  outcome o;
  outcome_init(&o);
  iotc_upload_options opts;
  options(&opts, &o, "cancelled.bin");
  opts.block_size = IOTC_UPLOAD_BLOCK_MIN;
  uint64_t id = 0;
  o.cancel_client = c;
  pthread_mutex_lock(&o.mu);
  assert_int_equal(iotc_client_upload_buffer(c, data, sizeof data, &opts, &id, NULL), IOTC_OK);
  o.cancel_id = id;
  o.cancel_on_progress = true; /* after the first block */
  pthread_mutex_unlock(&o.mu);
  assert_int_equal(outcome_wait(&o, 60000), IOTC_ERR_CANCELLED);
  assert_true(o.notified);
  assert_true(o.last_sent < sizeof data);
  assert_failure_notified(dev.id, "cancelled.bin");
  assert_int_equal(iotc_client_upload_cancel(c, id), IOTC_ERR_NOT_FOUND); /* finished */
  outcome_destroy(&o);
  iotc_client_destroy(c);
}

/* A cancel while a block is on its way (storage stalls it) ends the upload at once. */
static void a_cancel_mid_block_aborts_the_request(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = connected(&dev, "upload-midblock");
  fault("{\"kind\":\"storageStall\",\"deviceId\":\"%s\",\"operation\":\"block\",\"delayMs\":60000}",
        dev.id);
  static uint8_t data[2u * 65536u];
  fill(data, 0, sizeof data);
  outcome o;
  outcome_init(&o);
  iotc_upload_options opts;
  options(&opts, &o, "stalled.bin");
  opts.block_size = IOTC_UPLOAD_BLOCK_MIN;
  uint64_t id = 0;
  assert_int_equal(iotc_client_upload_buffer(c, data, sizeof data, &opts, &id, NULL), IOTC_OK);
  /* wait until the first block is stalled in storage (the wire log says so) */
  bool stalled = false;
  uint64_t until = central_now_ms() + 30000;
  while (!stalled && central_now_ms() < until) {
    json_t *wire = emu_wire(central_emu(), dev.id, 0);
    size_t i;
    json_t *e;
    json_array_foreach(wire, i, e) {
      const char *why = json_string_value(json_object_get(e, "reason"));
      if (why && strstr(why, "stalled")) stalled = true;
    }
    json_decref(wire);
    if (!stalled) central_sleep_ms(20);
  }
  assert_true(stalled);
  central_sleep_ms(200); /* the block's bytes are on their way */
  uint64_t t0 = central_now_ms();
  assert_int_equal(iotc_client_upload_cancel(c, id), IOTC_OK);
  assert_int_equal(outcome_wait(&o, 10000), IOTC_ERR_CANCELLED); /* long before the stall ends */
  printf("  cancelled mid-block: on_done %llu ms after the cancel\n",
         (unsigned long long)(central_now_ms() - t0));
  assert_true(o.notified);
  assert_failure_notified(dev.id, "stalled.bin");
  outcome_destroy(&o);
  iotc_client_destroy(c);
}

/* A large request reports progress while its bytes move, not only when it is stored. */
static void progress_moves_inside_one_large_request(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = connected(&dev, "upload-progress");
  /* storage holds the request for 1.5 s: curl reports the bytes already sent meanwhile */
  fault("{\"kind\":\"storageStall\",\"deviceId\":\"%s\",\"operation\":\"put\",\"delayMs\":1500}",
        dev.id);
  size_t size = 16u * 1024u * 1024u;
  uint8_t *data = malloc(size);
  assert_non_null(data);
  fill(data, 0, size);
  outcome o;
  outcome_init(&o);
  iotc_upload_options opts;
  options(&opts, &o, "one-request.bin");
  opts.block_size = size; /* one Put Blob */
  assert_int_equal(iotc_client_upload_buffer(c, data, size, &opts, NULL, NULL), IOTC_OK);
  assert_int_equal(outcome_wait(&o, 60000), IOTC_OK);
  printf("  %llu progress calls for one request\n", (unsigned long long)o.progress_calls);
  assert_true(o.partial);
  assert_int_equal(o.last_sent, size);
  assert_stored(dev.id, "one-request.bin", size);
  outcome_destroy(&o);
  free(data);
  iotc_client_destroy(c);
}

typedef struct endless {
  atomic_int reads;
} endless;

static iotc_result read_slowly(void *ctx, void *buf, size_t size, size_t *got) {
  endless *e = ctx;
  atomic_fetch_add(&e->reads, 1);
  central_sleep_ms(50);
  size_t n = size < 4096 ? size : 4096;
  memset(buf, 'x', n);
  *got = n;
  return IOTC_OK;
}

static void disconnect_and_destroy_end_running_uploads(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = connected(&dev, "upload-stop");
  endless e1 = {0}, e2 = {0};
  outcome o1, o2;
  outcome_init(&o1);
  outcome_init(&o2);
  iotc_upload_options opts;
  options(&opts, &o1, "endless-1.log");
  opts.block_size = IOTC_UPLOAD_BLOCK_MIN;
  assert_int_equal(iotc_client_upload_stream(c, IOTC_UPLOAD_SIZE_UNKNOWN, read_slowly, &e1, &opts,
                                             NULL, NULL),
                   IOTC_OK);
  while (atomic_load(&e1.reads) < 20) central_sleep_ms(10); /* bounded by the test timeout */
  assert_int_equal(iotc_client_disconnect(c, 5000), IOTC_OK);
  assert_int_equal(outcome_wait(&o1, 30000), IOTC_ERR_CANCELLED);
  assert_true(o1.notified);
  /* reconnect, start another, and destroy the client under it */
  assert_int_equal(central_connect(c), 0);
  options(&opts, &o2, "endless-2.log");
  opts.block_size = IOTC_UPLOAD_BLOCK_MIN;
  assert_int_equal(iotc_client_upload_stream(c, IOTC_UPLOAD_SIZE_UNKNOWN, read_slowly, &e2, &opts,
                                             NULL, NULL),
                   IOTC_OK);
  while (atomic_load(&e2.reads) < 20) central_sleep_ms(10);
  iotc_client_destroy(c); /* returns once on_done ran */
  assert_int_equal(o2.done, 1);
  assert_int_equal(o2.result, IOTC_ERR_SHUTDOWN);
  assert_failure_notified(dev.id, "endless-2.log");
  outcome_destroy(&o1);
  outcome_destroy(&o2);
}

/* Streams that wait at a gate: uploads that stay running until the test opens it. */
typedef struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool open;
  int reading; /* streams waiting at the gate now */
} gate;

typedef struct gated {
  gate *g;
  size_t left;
} gated;

static iotc_result read_gated(void *ctx, void *buf, size_t size, size_t *got) {
  gated *s = ctx;
  gate *g = s->g;
  pthread_mutex_lock(&g->mu);
  g->reading++;
  pthread_cond_broadcast(&g->cv);
  uint64_t until = central_now_ms() + 60000;
  while (!g->open && central_now_ms() < until) {
    pthread_mutex_unlock(&g->mu);
    central_sleep_ms(10);
    pthread_mutex_lock(&g->mu);
  }
  g->reading--;
  pthread_mutex_unlock(&g->mu);
  size_t n = s->left < size ? s->left : size;
  memset(buf, 'g', n);
  s->left -= n;
  *got = n;
  return IOTC_OK;
}

static int gate_reading(gate *g) {
  pthread_mutex_lock(&g->mu);
  int n = g->reading;
  pthread_mutex_unlock(&g->mu);
  return n;
}

/* Two uploads run at once, the rest wait (32 at most); a waiting one is cancelled at once. */
static void uploads_run_two_at_a_time_and_wait_in_a_bounded_queue(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = connected(&dev, "upload-queue");
  gate g = {.open = false};
  pthread_mutex_init(&g.mu, NULL);
  pthread_cond_init(&g.cv, NULL);
  enum { RUNNING = 3, QUEUED = IOTC_UPLOAD_QUEUE - 1 };
  gated streams[RUNNING];
  outcome running[RUNNING], queued[QUEUED];
  char name[64];
  for (int i = 0; i < RUNNING; ++i) {
    streams[i] = (gated){&g, 3000};
    outcome_init(&running[i]);
    iotc_upload_options opts;
    snprintf(name, sizeof name, "gated-%d.bin", i);
    options(&opts, &running[i], name);
    assert_int_equal(iotc_client_upload_stream(c, 3000, read_gated, &streams[i], &opts, NULL, NULL),
                     IOTC_OK);
  }
  uint64_t until = central_now_ms() + 30000;
  while (gate_reading(&g) < IOTC_UPLOAD_THREADS && central_now_ms() < until) central_sleep_ms(10);
  assert_int_equal(gate_reading(&g), IOTC_UPLOAD_THREADS);
  central_sleep_ms(300); /* the third stays queued: no thread is free */
  assert_int_equal(gate_reading(&g), IOTC_UPLOAD_THREADS);
  /* one queued already; QUEUED more fill the queue, the next is refused */
  uint64_t ids[QUEUED];
  static const char one[] = "1";
  for (int i = 0; i < QUEUED; ++i) {
    outcome_init(&queued[i]);
    iotc_upload_options opts;
    snprintf(name, sizeof name, "queued-%d.bin", i);
    options(&opts, &queued[i], name);
    assert_int_equal(iotc_client_upload_buffer(c, one, 1, &opts, &ids[i], NULL), IOTC_OK);
  }
  iotc_error err;
  iotc_upload_options opts;
  iotc_upload_options_init(&opts);
  opts.blob_name = "one-too-many.bin";
  iotc_result full = iotc_client_upload_buffer(c, one, 1, &opts, NULL, &err);
  printf("  %s: %s\n", iotc_strerror(full), err.message);
  assert_int_equal(full, IOTC_ERR_QUEUE_FULL);
  for (int i = 0; i < QUEUED; ++i) assert_int_equal(iotc_client_upload_cancel(c, ids[i]), IOTC_OK);
  pthread_mutex_lock(&g.mu);
  g.open = true;
  pthread_mutex_unlock(&g.mu);
  for (int i = 0; i < RUNNING; ++i) {
    assert_int_equal(outcome_wait(&running[i], 60000), IOTC_OK);
    assert_int_equal(running[i].bytes, 3000);
    outcome_destroy(&running[i]);
  }
  for (int i = 0; i < QUEUED; ++i) {
    assert_int_equal(outcome_wait(&queued[i], 60000), IOTC_ERR_CANCELLED);
    assert_false(queued[i].notified); /* never started: the hub knows nothing of it */
    outcome_destroy(&queued[i]);
  }
  iotc_client_destroy(c);
  pthread_mutex_destroy(&g.mu);
  pthread_cond_destroy(&g.cv);
}

/* ---- bad input: refused before anything starts ------------------------------------------------ */

static void expect(iotc_result got, iotc_result want, const iotc_error *err, const char *part) {
  printf("  %s: %s\n", iotc_strerror(got), err->message);
  assert_int_equal(got, want);
  assert_int_equal(err->result, want);
  assert_non_null(strstr(err->message, part));
}

static void bad_input_is_refused_with_a_reason(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = central_new("upload-bad", &dev);
  assert_non_null(c);
  iotc_error err;
  char path[256];
  snprintf(path, sizeof path, "%s/small.txt", g_dir);
  write_file(path, 10);
  /* the hub is not known before the first connect */
  expect(iotc_client_upload_file(c, path, NULL, NULL, &err), IOTC_ERR_NOT_CONNECTED, &err,
         "connect");
  assert_int_equal(central_connect(c), 0);
  char missing[300];
  snprintf(missing, sizeof missing, "%s/missing.txt", g_dir);
  expect(iotc_client_upload_file(c, missing, NULL, NULL, &err), IOTC_ERR_NOT_FOUND, &err,
         "missing.txt");
  expect(iotc_client_upload_file(c, g_dir, NULL, NULL, &err), IOTC_ERR_INVALID_ARG, &err,
         "directory");
  if (geteuid() != 0) { /* root reads any file */
    char locked[300];
    snprintf(locked, sizeof locked, "%s/locked.txt", g_dir);
    write_file(locked, 10);
    assert_int_equal(chmod(locked, 0), 0);
    expect(iotc_client_upload_file(c, locked, NULL, NULL, &err), IOTC_ERR_IO, &err,
           "Permission denied");
  }
  iotc_upload_options opts;
  iotc_upload_options_init(&opts);
  const char *bad_names[] = {"", "a//b", "../up", "dir/.", "x.", "tab\there", "back\\slash",
                             "bad\xc3(utf8"};
  for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; ++i) {
    opts.blob_name = bad_names[i];
    expect(iotc_client_upload_file(c, path, &opts, NULL, &err), IOTC_ERR_INVALID_ARG, &err,
           "blob name");
  }
  char longname[1100];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  opts.blob_name = longname;
  expect(iotc_client_upload_file(c, path, &opts, NULL, &err), IOTC_ERR_INVALID_ARG, &err,
         "longer than 1024");
  opts.blob_name = NULL;
  opts.max_size = 5;
  expect(iotc_client_upload_file(c, path, &opts, NULL, &err), IOTC_ERR_TOO_LARGE, &err,
         "max_size");
  opts.max_size = 0;
  opts.block_size = 1000;
  expect(iotc_client_upload_file(c, path, &opts, NULL, &err), IOTC_ERR_INVALID_ARG, &err,
         "block_size");
  opts.block_size = 0;
  opts.content_type = "text/plain\r\nX-Evil: 1";
  expect(iotc_client_upload_file(c, path, &opts, NULL, &err), IOTC_ERR_INVALID_ARG, &err,
         "content_type");
  expect(iotc_client_upload_buffer(c, "x", 1, NULL, NULL, &err), IOTC_ERR_INVALID_ARG, &err,
         "blob_name is required");
  expect(iotc_client_upload_buffer(c, NULL, 1, NULL, NULL, &err), IOTC_ERR_INVALID_ARG, &err,
         "data");
  expect(iotc_client_upload_stream(c, 10, NULL, NULL, NULL, NULL, &err), IOTC_ERR_INVALID_ARG,
         &err, "read");
  expect(iotc_client_upload_file(NULL, path, NULL, NULL, &err), IOTC_ERR_INVALID_ARG, &err,
         "client");
  assert_int_equal(iotc_client_upload_cancel(c, 12345), IOTC_ERR_NOT_FOUND);
  assert_int_equal(iotc_client_upload_cancel(NULL, 1), IOTC_ERR_INVALID_ARG);
  iotc_client_destroy(c);
}

/* A stream of @p actual bytes announced as @p announced fails with IOTC_ERR_IO and @p why. */
static void stream_mismatch(iotc_client *c, const central_device *dev, const char *name,
                            uint64_t actual, uint64_t announced, const char *why) {
  stream_src src = {0, actual};
  outcome o;
  outcome_init(&o);
  iotc_upload_options opts;
  options(&opts, &o, name);
  opts.block_size = IOTC_UPLOAD_BLOCK_MIN;
  assert_int_equal(iotc_client_upload_stream(c, announced, read_pattern, &src, &opts, NULL, NULL),
                   IOTC_OK);
  assert_int_equal(outcome_wait(&o, 60000), IOTC_ERR_IO);
  printf("  %s: %s\n", name, o.error.message);
  assert_non_null(strstr(o.error.message, why));
  assert_failure_notified(dev->id, name);
  outcome_destroy(&o);
}

static void a_stream_shorter_or_longer_than_announced_fails(void **state) {
  (void)state;
  central_device dev;
  iotc_client *c = connected(&dev, "upload-mismatch");
  stream_mismatch(c, &dev, "short.bin", 100000, 200000, "ended after 100000 of 200000 bytes");
  stream_mismatch(c, &dev, "long-one.bin", 100000, 50000, "longer than the 50000 bytes");
  stream_mismatch(c, &dev, "long-blocks.bin", 100000, 70000, "longer than the 70000 bytes");
  iotc_client_destroy(c);
}

static int make_dir(void **state) {
  (void)state;
  return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_dir(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bad_input_is_refused_with_a_reason),
      cmocka_unit_test(files_of_0_1_and_5_mib_bytes_arrive_intact),
      cmocka_unit_test(a_buffer_uploads_in_one_put_blob),
      cmocka_unit_test(a_large_stream_of_unknown_size_goes_in_blocks),
      cmocka_unit_test(an_x509_device_uploads_with_its_certificate),
      cmocka_unit_test(an_expired_sas_is_renewed_and_the_upload_resumes),
      cmocka_unit_test(storage_503s_and_dropped_connections_are_retried),
      cmocka_unit_test(faults_give_clear_results_and_the_hub_is_told),
      cmocka_unit_test(a_cancel_mid_upload_stops_it_and_tells_the_hub),
      cmocka_unit_test(a_cancel_mid_block_aborts_the_request),
      cmocka_unit_test(progress_moves_inside_one_large_request),
      cmocka_unit_test(a_stream_shorter_or_longer_than_announced_fails),
      cmocka_unit_test(disconnect_and_destroy_end_running_uploads),
      cmocka_unit_test(uploads_run_two_at_a_time_and_wait_in_a_bounded_queue),
  };
  return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
