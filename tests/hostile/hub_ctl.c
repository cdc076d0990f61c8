/* SPDX-License-Identifier: MIT */
/* Test support for the hostile hub: see hub_ctl.h. */
#include "hub_ctl.h"

#include "emu.h"
#include "iotc/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define HUB_LINE_MAX (16u << 20)

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line from the server into a new string, waiting at most until @p deadline_ms. */
static char *read_line(hub_ctl *h, long long deadline_ms) {
  for (int rounds = 0; rounds < 1000000; rounds++) {
    char *nl = h->len ? memchr(h->buf, '\n', h->len) : NULL;
    if (nl) {
      size_t n = (size_t)(nl - h->buf);
      char *line = malloc(n + 1);
      if (line == NULL) return NULL;
      memcpy(line, h->buf, n);
      line[n] = '\0';
      memmove(h->buf, nl + 1, h->len - n - 1);
      h->len -= n + 1;
      return line;
    }
    long long left = deadline_ms - now_ms();
    if (left <= 0) break;
    if (h->len + 65536 > h->cap) {
      size_t cap = h->cap ? h->cap * 2 : 1 << 16;
      char *b = cap <= HUB_LINE_MAX ? realloc(h->buf, cap) : NULL;
      if (b == NULL) break;
      h->buf = b;
      h->cap = cap;
    }
    struct pollfd p = {h->from_fd, POLLIN, 0};
    int rc = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
    if (rc < 0 && errno != EINTR) break;
    if (rc <= 0) continue;
    ssize_t got = read(h->from_fd, h->buf + h->len, h->cap - h->len);
    if (got <= 0) break;
    h->len += (size_t)got;
  }
  fprintf(stderr, "hub: no answer from the hostile hub\n");
  return NULL;
}

int hub_start(hub_ctl *h) {
  memset(h, 0, sizeof *h);
  h->to_fd = h->from_fd = -1;
  char parent[32];
  snprintf(parent, sizeof parent, "%ld", (long)getpid());
  const char *argv[] = {IOTC_HUB_NODE, IOTC_HUB_SCRIPT, "--parent-pid", parent, NULL};
  int in[2], out[2];
  if (pipe(in) != 0) return -1;
  if (pipe(out) != 0) {
    close(in[0]);
    close(in[1]);
    return -1;
  }
  for (int i = 0; i < 2; i++) {
    fcntl(in[i], F_SETFD, FD_CLOEXEC);
    fcntl(out[i], F_SETFD, FD_CLOEXEC);
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, IOTC_HUB_NODE, &fa, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  close(out[1]);
  h->to_fd = in[1];
  h->from_fd = out[0];
  if (rc != 0) {
    fprintf(stderr, "hub: cannot start %s: %s\n", IOTC_HUB_NODE, strerror(rc));
    hub_stop(h);
    return -1;
  }
  h->pid = (int)pid;
  signal(SIGPIPE, SIG_IGN); /* a dead server is seen as a failed write, not a killed test */
  char *line = read_line(h, now_ms() + HUB_WAIT_MS);
  json_t *ready = line ? json_loads(line, 0, NULL) : NULL;
  free(line);
  const char *ca = json_string_value(json_object_get(ready, "caFile"));
  h->port = (int)json_integer_value(json_object_get(ready, "port"));
  if (!json_is_true(json_object_get(ready, "ready")) || ca == NULL || h->port <= 0 ||
      strlen(ca) >= sizeof h->ca_file) {
    fprintf(stderr, "hub: %s gave no ready line\n", IOTC_HUB_SCRIPT);
    json_decref(ready);
    hub_stop(h);
    return -1;
  }
  snprintf(h->ca_file, sizeof h->ca_file, "%s", ca);
  snprintf(h->address, sizeof h->address, "localhost:%d", h->port);
  json_decref(ready);
  return 0;
}

void hub_stop(hub_ctl *h) {
  if (h->to_fd >= 0) close(h->to_fd);
  if (h->from_fd >= 0) close(h->from_fd);
  h->to_fd = h->from_fd = -1;
  free(h->buf);
  h->buf = NULL;
  h->len = h->cap = 0;
  emu_info e = {.pid = h->pid}; /* the same stop as the emulator's: SIGTERM, then SIGKILL */
  h->pid = 0;
  emu_stop(&e);
}

static json_t *vcmd(hub_ctl *h, const char *fmt, va_list ap) {
  char line[65536];
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  if (n < 0 || (size_t)n >= sizeof line - 1 || h->to_fd < 0) {
    fprintf(stderr, "hub: command too long or no server\n");
    return NULL;
  }
  line[n++] = '\n';
  for (int off = 0; off < n;) {
    ssize_t w = write(h->to_fd, line + off, (size_t)(n - off));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      fprintf(stderr, "hub: the hostile hub is gone\n");
      return NULL;
    }
    off += (int)w;
  }
  /* a "wait" command answers within its own timeout (<= HUB_WAIT_MS) */
  char *answer = read_line(h, now_ms() + 2 * HUB_WAIT_MS);
  json_t *j = answer ? json_loads(answer, 0, NULL) : NULL;
  free(answer);
  return j;
}

json_t *hub_cmd(hub_ctl *h, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  json_t *j = vcmd(h, fmt, ap);
  va_end(ap);
  return j;
}

int hub_do(hub_ctl *h, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  json_t *j = vcmd(h, fmt, ap);
  va_end(ap);
  int ok = json_is_true(json_object_get(j, "ok")) ? 0 : -1;
  if (ok != 0) {
    const char *e = json_string_value(json_object_get(j, "error"));
    fprintf(stderr, "hub: command refused: %s\n", e ? e : "no answer");
  }
  json_decref(j);
  return ok;
}

long hub_wait(hub_ctl *h, const char *key, long at_least) {
  json_t *j = hub_cmd(h, "{\"op\":\"wait\",\"key\":\"%s\",\"atLeast\":%ld,\"timeoutMs\":%d}", key,
                      at_least, HUB_WAIT_MS);
  long v = json_is_true(json_object_get(j, "ok")) ? (long)json_integer_value(json_object_get(j, "value"))
                                                  : -1;
  if (v < 0) fprintf(stderr, "hub: %s did not reach %ld\n", key, at_least);
  json_decref(j);
  return v;
}

static json_t *stats(hub_ctl *h) {
  json_t *j = hub_cmd(h, "{\"op\":\"stats\"}");
  json_t *s = json_incref(json_object_get(j, "stats"));
  json_decref(j);
  return s;
}

long hub_stat(hub_ctl *h, const char *key) {
  json_t *s = stats(h);
  json_t *v = json_object_get(s, key);
  long r = json_is_integer(v) ? (long)json_integer_value(v) : -1;
  json_decref(s);
  return r;
}

json_t *hub_log(hub_ctl *h, const char *key) {
  json_t *s = stats(h);
  json_t *v = json_incref(json_object_get(s, key));
  json_decref(s);
  return v;
}

void hub_client_config(const hub_ctl *h, const char *device_id, char *cs, size_t cs_size,
                       iotc_client_config *cfg) {
  snprintf(cs, cs_size, "HostName=%s;DeviceId=%s;SharedAccessKey=aG9zdGlsZSBodWIga2V5IGZvciB0ZXN0cw==",
           h->address, device_id);
  iotc_client_config_init(cfg);
  cfg->connection_string = cs;
  cfg->ca_file = h->ca_file;
  cfg->connect_timeout_ms = 5000;
  cfg->reconnect_min_ms = 100;
  cfg->reconnect_max_ms = 500;
}

iotc_result hub_send(iotc_client *client, const char *json, central_results *d) {
  iotc_telemetry_options o;
  central_telemetry_options(&o, d);
  return iotc_client_send_telemetry(client, json, &o);
}

hub_test *hub_test_new(const char *device_id) {
  /* HUB_TEST_LOG=0..3 shows the library's log lines up to that level (debugging a test) */
  const char *lv = getenv("HUB_TEST_LOG");
  if (lv && *lv >= '0' && *lv <= '3') {
    iotc_log_set_handler(central_log_to_stderr, (iotc_log_level)(*lv - '0'), NULL);
  }
  hub_test *t = calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  if (hub_start(&t->hub) != 0) {
    free(t);
    return NULL;
  }
  central_statuses_init(&t->log);
  hub_client_config(&t->hub, device_id, t->cs, sizeof t->cs, &t->cfg);
  return t;
}

iotc_client *hub_test_client(hub_test *t) {
  if (iotc_client_create(&t->cfg, &t->client, NULL) != IOTC_OK ||
      iotc_client_on_status(t->client, central_on_status, &t->log) != IOTC_OK) {
    fprintf(stderr, "hub: the client could not be created\n");
    iotc_client_destroy(t->client);
    t->client = NULL;
  }
  return t->client;
}

void hub_test_free(hub_test *t) {
  if (t == NULL) return;
  iotc_client_destroy(t->client);
  hub_stop(&t->hub);
  central_statuses_destroy(&t->log);
  free(t);
}
