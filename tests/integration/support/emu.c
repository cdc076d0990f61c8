/* SPDX-License-Identifier: MIT */
/* Operator-API helpers for integration tests (libcurl + jansson). */
#include "emu.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void init_curl(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static void copy(char *dst, size_t size, const char *src) {
  snprintf(dst, size, "%s", src ? src : "");
}

/* Fill info from a parsed ready line; source names it in messages. */
static int from_ready_line(json_t *root, emu_info *info, const char *source) {
  memset(info, 0, sizeof *info);
  json_t *dps = json_object_get(root, "dps");
  json_t *hubs = json_object_get(root, "hubs");
  info->pid = (int)json_integer_value(json_object_get(root, "pid"));
  copy(info->id_scope, sizeof info->id_scope, json_string_value(json_object_get(root, "idScope")));
  copy(info->ca_file, sizeof info->ca_file, json_string_value(json_object_get(root, "caFile")));
  copy(info->api, sizeof info->api, json_string_value(json_object_get(root, "api")));
  copy(info->dps_mqtt, sizeof info->dps_mqtt, json_string_value(json_object_get(dps, "mqtt")));
  copy(info->dps_https, sizeof info->dps_https, json_string_value(json_object_get(dps, "https")));
  copy(info->group_key, sizeof info->group_key, json_string_value(json_object_get(root, "groupKey")));
  for (size_t i = 0; i < json_array_size(hubs) && i < 2; ++i) {
    copy(info->hubs[i], sizeof info->hubs[i], json_string_value(json_array_get(hubs, i)));
    info->hub_count = (int)i + 1;
  }
  if (!info->id_scope[0] || !info->api[0] || !info->dps_mqtt[0] || !info->ca_file[0]) {
    fprintf(stderr, "emu: %s lacks idScope, api, dps or caFile\n", source);
    return -1;
  }
  return 0;
}

int emu_load(emu_info *info) {
  memset(info, 0, sizeof *info);
  const char *path = getenv("IOTC_EMULATOR_INFO");
  if (path == NULL || *path == '\0') {
    fprintf(stderr, "emu: IOTC_EMULATOR_INFO is not set (run through ctest)\n");
    return -1;
  }
  json_error_t jerr;
  json_t *root = json_load_file(path, 0, &jerr);
  if (root == NULL) {
    fprintf(stderr, "emu: cannot read %s: %s\n", path, jerr.text);
    return -1;
  }
  int r = from_ready_line(root, info, path);
  json_decref(root);
  return r;
}

void emu_unique_id(const char *prefix, char *buf, size_t size) {
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static unsigned counter;
  pthread_mutex_lock(&lock);
  unsigned n = ++counter;
  pthread_mutex_unlock(&lock);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(buf, size, "%s-%ld-%u-%lx", prefix, (long)getpid(), n,
           (unsigned long)(ts.tv_nsec ^ (ts.tv_sec << 10)) & 0xffffful);
}

typedef struct sink {
  char *data;
  size_t len, cap;
} sink;

/* Grown by doubling: a body of many MB arrives in 16 KB pieces, and growing it piece by piece
 * copies it again each time (ASan's realloc always moves), quadratic in its size. */
static size_t on_data(char *p, size_t size, size_t n, void *ctx) {
  sink *s = ctx;
  size_t add = size * n;
  if (s->len + add + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + add + 1) cap *= 2;
    char *grown = realloc(s->data, cap);
    if (grown == NULL) {
      return 0;
    }
    s->data = grown;
    s->cap = cap;
  }
  memcpy(s->data + s->len, p, add);
  s->len += add;
  s->data[s->len] = '\0';
  return add;
}

int emu_api(const emu_info *info, const char *method, const char *path, const char *json_body,
            long *http_status, json_t **json_response) {
  pthread_once(&curl_once, init_curl);
  if (json_response) {
    *json_response = NULL;
  }
  CURL *c = curl_easy_init();
  if (c == NULL) {
    return -1;
  }
  char url[2048];
  snprintf(url, sizeof url, "%s%s", info->api, path);
  sink s = {0};
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
  if (json_body != NULL) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
  }
  CURLcode cc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if (cc != CURLE_OK) {
    fprintf(stderr, "emu: %s %s: %s\n", method, path, curl_easy_strerror(cc));
    free(s.data);
    return -1;
  }
  if (http_status) {
    *http_status = status;
  }
  if (json_response && s.len > 0) {
    *json_response = json_loadb(s.data, s.len, 0, NULL);
  }
  free(s.data);
  return 0;
}

/* emu_api expecting a 2xx; prints the response otherwise. */
static int api_ok(const emu_info *info, const char *method, const char *path, const char *body,
                  json_t **out) {
  long status = 0;
  json_t *resp = NULL;
  if (emu_api(info, method, path, body, &status, &resp) != 0) {
    return -1;
  }
  if (status < 200 || status > 299) {
    char *text = resp ? json_dumps(resp, JSON_COMPACT) : NULL;
    fprintf(stderr, "emu: %s %s -> %ld %s\n", method, path, status, text ? text : "");
    free(text);
    json_decref(resp);
    return -1;
  }
  if (out) {
    *out = resp;
  } else {
    json_decref(resp);
  }
  return 0;
}

int emu_put_template(const emu_info *info, const char *template_id, const char *dtdl_file) {
  json_error_t jerr;
  json_t *model = json_load_file(dtdl_file, 0, &jerr);
  if (model == NULL) {
    fprintf(stderr, "emu: cannot read %s: %s\n", dtdl_file, jerr.text);
    return -1;
  }
  char *text = json_dumps(model, JSON_COMPACT);
  json_decref(model);
  CURL *c = curl_easy_init();
  char *escaped = c ? curl_easy_escape(c, template_id, 0) : NULL;
  int r = -1;
  if (text && escaped) {
    char path[1024];
    snprintf(path, sizeof path, "/api/deviceTemplates/%s", escaped);
    r = api_ok(info, "PUT", path, text, NULL);
  }
  curl_free(escaped);
  if (c) curl_easy_cleanup(c);
  free(text);
  return r;
}

int emu_create_device(const emu_info *info, const char *device_id, const char *template_id) {
  char path[512];
  snprintf(path, sizeof path, "/api/devices/%s", device_id);
  json_t *body = json_pack("{s:s,s:b}", "displayName", device_id, "enabled", 1);
  if (template_id) {
    json_object_set_new(body, "template", json_string(template_id));
  }
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  int r = api_ok(info, "PUT", path, text, NULL);
  free(text);
  return r;
}

static int key_of(json_t *att, char *key, size_t size) {
  const char *k = json_string_value(json_object_get(json_object_get(att, "symmetricKey"), "primaryKey"));
  if (k == NULL || strlen(k) >= size) {
    return -1;
  }
  copy(key, size, k);
  return 0;
}

int emu_set_device_key(const emu_info *info, const char *device_id, char *key, size_t size) {
  char path[512];
  snprintf(path, sizeof path, "/api/devices/%s/attestation", device_id);
  json_t *att = NULL;
  if (api_ok(info, "PUT", path, "{\"type\":\"symmetricKey\"}", &att) != 0) {
    return -1;
  }
  int r = key_of(att, key, size);
  json_decref(att);
  return r == 0 ? 0 : emu_device_key(info, device_id, key, size);
}

int emu_device_key(const emu_info *info, const char *device_id, char *key, size_t size) {
  char path[512];
  snprintf(path, sizeof path, "/api/devices/%s/attestation", device_id);
  json_t *att = NULL;
  if (api_ok(info, "GET", path, NULL, &att) != 0) {
    return -1;
  }
  int r = key_of(att, key, size);
  json_decref(att);
  if (r != 0) {
    fprintf(stderr, "emu: no symmetric key for %s\n", device_id);
  }
  return r;
}

int emu_provision_direct(const emu_info *info, const char *prefix, int hub, emu_direct_device *out) {
  memset(out, 0, sizeof *out);
  emu_unique_id(prefix, out->id, sizeof out->id);
  char path[512], body[32];
  snprintf(path, sizeof path, "/emulator/devices/%s/provision", out->id);
  snprintf(body, sizeof body, "{\"hub\":%d}", hub);
  json_t *reg = NULL;
  if (api_ok(info, "POST", path, body, &reg) != 0) {
    return -1;
  }
  const char *assigned = json_string_value(json_object_get(reg, "assignedHub"));
  const char *key = json_string_value(json_object_get(reg, "primaryKey"));
  int r = assigned && key ? 0 : -1;
  if (r == 0) {
    copy(out->hub, sizeof out->hub, assigned);
    copy(out->key, sizeof out->key, key);
    snprintf(out->connection_string, sizeof out->connection_string,
             "HostName=%s;DeviceId=%s;SharedAccessKey=%s", out->hub, out->id, out->key);
  } else {
    fprintf(stderr, "emu: %s: no assignedHub or primaryKey\n", path);
  }
  json_decref(reg);
  return r;
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL || fputs(text, f) < 0) {
    if (f) {
      fclose(f);
    }
    fprintf(stderr, "emu: cannot write %s\n", path);
    return -1;
  }
  return fclose(f) == 0 ? 0 : -1;
}

int emu_issue_cert(const emu_info *info, const char *device_id, const char *dir, char *cert_path,
                   char *key_path) {
  char path[512];
  snprintf(path, sizeof path, "/emulator/devices/%s/x509", device_id);
  json_t *r = NULL;
  if (api_ok(info, "POST", path, "{}", &r) != 0) {
    return -1;
  }
  const char *cert = json_string_value(json_object_get(r, "cert"));
  const char *key = json_string_value(json_object_get(r, "key"));
  snprintf(cert_path, 1024, "%s/%s.cert.pem", dir, device_id);
  snprintf(key_path, 1024, "%s/%s.key.pem", dir, device_id);
  int rc = cert && key && write_file(cert_path, cert) == 0 && write_file(key_path, key) == 0 ? 0 : -1;
  json_decref(r);
  return rc;
}

json_t *emu_wire(const emu_info *info, const char *device_id, long since) {
  char path[512];
  if (device_id) {
    snprintf(path, sizeof path, "/emulator/wire?since=%ld&limit=100000&deviceId=%s", since, device_id);
  } else {
    snprintf(path, sizeof path, "/emulator/wire?since=%ld&limit=100000", since);
  }
  json_t *r = NULL;
  if (api_ok(info, "GET", path, NULL, &r) != 0) {
    return NULL;
  }
  json_t *value = json_incref(json_object_get(r, "value"));
  json_decref(r);
  return json_is_array(value) ? value : (json_decref(value), NULL);
}

static int starts_with(const char *s, const char *prefix) {
  return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* What a wire-log entry must be to be counted (NULL fields: anything). */
typedef struct wire_match {
  const char *dir, *type, *prefix, *svc;
} wire_match;

static int wire_matches(json_t *e, const wire_match *m) {
  const char *t = json_string_value(json_object_get(e, "type"));
  const char *d = json_string_value(json_object_get(e, "dir"));
  if ((m->type && (t == NULL || strcmp(t, m->type) != 0)) ||
      (m->dir && (d == NULL || strcmp(d, m->dir) != 0))) {
    return 0;
  }
  if (m->prefix && !starts_with(json_string_value(json_object_get(e, "topic")), m->prefix) &&
      !starts_with(json_string_value(json_object_get(e, "url")), m->prefix)) {
    return 0;
  }
  return m->svc == NULL || starts_with(json_string_value(json_object_get(e, "svc")), m->svc);
}

static int wire_count(const emu_info *info, const char *device_id, long since, const wire_match *m) {
  json_t *w = emu_wire(info, device_id, since);
  if (w == NULL) {
    return -1;
  }
  int n = 0;
  size_t i;
  json_t *e;
  json_array_foreach(w, i, e) {
    n += wire_matches(e, m);
  }
  json_decref(w);
  return n;
}

int emu_wire_count(const emu_info *info, const char *device_id, const char *dir, const char *type,
                   const char *prefix) {
  wire_match m = {dir, type, prefix, NULL};
  return wire_count(info, device_id, 0, &m);
}

int emu_wire_svc_count(const emu_info *info, const char *device_id, long since, const char *svc) {
  wire_match m = {NULL, NULL, NULL, svc};
  return wire_count(info, device_id, since, &m);
}

long emu_wire_last(const emu_info *info, const char *device_id) {
  json_t *w = emu_wire(info, device_id, 0);
  if (w == NULL) {
    return -1;
  }
  long last = 0;
  size_t i;
  json_t *e;
  json_array_foreach(w, i, e) {
    long seq = (long)json_integer_value(json_object_get(e, "seq"));
    if (seq > last) {
      last = seq;
    }
  }
  json_decref(w);
  return last;
}

int emu_fault(const emu_info *info, const char *json_fault) {
  return api_ok(info, "POST", "/emulator/faults", json_fault, NULL);
}

/* Read one line from fd into buf before the monotonic deadline; 0 on success. */
static int read_line(int fd, char *buf, size_t size, const struct timespec *deadline) {
  size_t len = 0;
  while (len + 1 < size) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (deadline->tv_sec - now.tv_sec) * 1000L + (deadline->tv_nsec - now.tv_nsec) / 1000000L;
    struct pollfd pfd = {fd, POLLIN, 0};
    if (ms <= 0 || poll(&pfd, 1, (int)ms) != 1) return -1;
    ssize_t n = read(fd, buf + len, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1) return -1;
    if (buf[len] == '\n') break;
    ++len;
  }
  buf[len] = '\0';
  return len > 0 ? 0 : -1;
}

int emu_start(const char *const *args, emu_info *info) {
  memset(info, 0, sizeof *info);
  char parent[32];
  snprintf(parent, sizeof parent, "%ld", (long)getpid());
  const char *argv[40] = {IOTC_EMU_NODE, IOTC_EMU_SCRIPT, "--parent-pid", parent};
  size_t argc = 4;
  for (; args != NULL && args[argc - 4] != NULL; ++argc) {
    if (argc + 1 >= sizeof argv / sizeof argv[0]) {
      fprintf(stderr, "emu: too many emulator arguments\n");
      return -1;
    }
    argv[argc] = args[argc - 4];
  }
  argv[argc] = NULL;
  int out[2];
  if (pipe(out) != 0) return -1;
  fcntl(out[0], F_SETFD, FD_CLOEXEC); /* the child keeps only its stdout end, as fd 1 */
  fcntl(out[1], F_SETFD, FD_CLOEXEC);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, IOTC_EMU_NODE, &fa, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    fprintf(stderr, "emu: cannot start %s: %s\n", IOTC_EMU_NODE, strerror(rc));
    return -1;
  }
  info->pid = (int)pid;
  struct timespec deadline;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += 30;
  char line[4096];
  int ok = read_line(out[0], line, sizeof line, &deadline);
  close(out[0]);
  json_t *root = ok == 0 ? json_loads(line, 0, NULL) : NULL;
  if (root == NULL || !json_is_true(json_object_get(root, "ready")) ||
      from_ready_line(root, info, "emu_start's ready line") != 0) {
    fprintf(stderr, "emu: %s %s gave no ready line\n", IOTC_EMU_NODE, IOTC_EMU_SCRIPT);
    json_decref(root);
    info->pid = (int)pid; /* the process to stop, whatever it printed */
    emu_stop(info);
    return -1;
  }
  json_decref(root);
  info->pid = (int)pid; /* our child, which is the emulator itself */
  return 0;
}

void emu_stop(emu_info *info) {
  if (info == NULL || info->pid <= 0) return;
  pid_t pid = (pid_t)info->pid;
  info->pid = 0;
  kill(pid, SIGTERM);
  /* It stops within a second; give it five before SIGKILL. */
  for (int i = 0; i < 500; ++i) {
    pid_t r = waitpid(pid, NULL, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return;
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

emu_info emu_ip_only;

int emu_ip_only_start(void **state) {
  (void)state;
  static const char *const args[] = {"--server-names", "127.0.0.1", "--retry-after", "0", NULL};
  return emu_start(args, &emu_ip_only);
}

int emu_ip_only_stop(void **state) {
  (void)state;
  emu_stop(&emu_ip_only);
  return 0;
}

int emu_websocket_connects(const emu_info *info, const char *device_id, const char *svc_prefix) {
  json_t *w = emu_wire(info, device_id, 0);
  if (w == NULL) return -1;
  int n = 0;
  size_t i;
  json_t *e;
  json_array_foreach(w, i, e) {
    const char *t = json_string_value(json_object_get(e, "type"));
    n += t && strcmp(t, "CONNECT") == 0 &&
         starts_with(json_string_value(json_object_get(e, "svc")), svc_prefix) &&
         json_is_true(json_object_get(e, "websocket"));
  }
  json_decref(w);
  return n;
}

int emu_wait_telemetry(const emu_info *info, const char *device_id, const char *name,
                       long long value) {
  char path[512];
  snprintf(path, sizeof path, "/api/devices/%s/telemetry/%s", device_id, name);
  for (int i = 0; i < 200; i++) { /* 10 s: the PUBACK may come before the store */
    long status = 0;
    json_t *body = NULL;
    if (emu_api(info, "GET", path, NULL, &status, &body) != 0) return -1;
    bool seen = status == 200 && json_integer_value(json_object_get(body, "value")) == value;
    json_decref(body);
    if (seen) return 0;
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
  }
  return -1;
}
