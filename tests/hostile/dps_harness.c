/* SPDX-License-Identifier: MIT */
/* Starts and stops the hostile DPS; see dps_harness.h. */
#include "dps_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Read up to the first newline from fd, in chunks, within about timeout_ms (100 ms polls). */
static int read_ready_line(int fd, char *buf, size_t size, int timeout_ms) {
  size_t len = 0;
  for (int waited = 0; waited < timeout_ms && len + 1 < size;) {
    struct pollfd pfd = {fd, POLLIN, 0};
    int ready = poll(&pfd, 1, 100);
    if (ready == 0) {
      waited += 100;
      continue;
    }
    ssize_t n = ready > 0 ? read(fd, buf + len, size - 1 - len) : -1;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    len += (size_t)n;
    buf[len] = '\0';
    if (strchr(buf, '\n') != NULL) return 0;
  }
  return -1;
}

int dps_hostile_start(const char *script_json, dps_hostile *h) {
  memset(h, 0, sizeof *h);
  static unsigned serial;
  snprintf(h->log_file, sizeof h->log_file, "%s/dps-%ld-%u.log", IOTC_HOSTILE_STATE,
           (long)getpid(), ++serial);
  unlink(h->log_file);
  char parent[32];
  snprintf(parent, sizeof parent, "%ld", (long)getpid());
  /* One certificate directory per test program: parallel programs never write the same files. */
  const char *certs = getenv("IOTC_HOSTILE_CERTS");
  const char *argv[] = {IOTC_HOSTILE_NODE, IOTC_HOSTILE_DPS_SCRIPT, "--certs",
                        certs ? certs : IOTC_HOSTILE_STATE "/certs", "--log", h->log_file, "--parent-pid",
                        parent, "--script", script_json, NULL};
  int out[2];
  if (pipe(out) != 0) return -1;
  fcntl(out[0], F_SETFD, FD_CLOEXEC);
  fcntl(out[1], F_SETFD, FD_CLOEXEC);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  int rc = posix_spawn(&h->pid, IOTC_HOSTILE_NODE, &fa, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    h->pid = 0;
    fprintf(stderr, "dps_hostile: cannot start node: %s\n", strerror(rc));
    return -1;
  }
  char line[2048];
  int ok = read_ready_line(out[0], line, sizeof line, 30000);
  close(out[0]);
  const char *https = ok == 0 ? strstr(line, "\"https\":") : NULL;
  const char *mqtt = ok == 0 ? strstr(line, "\"mqtt\":") : NULL;
  const char *ca = ok == 0 ? strstr(line, "\"ca\":\"") : NULL;
  if (https == NULL || mqtt == NULL || ca == NULL) {
    fprintf(stderr, "dps_hostile: no ready line from %s\n", IOTC_HOSTILE_DPS_SCRIPT);
    dps_hostile_stop(h);
    return -1;
  }
  h->https_port = atoi(https + 8);
  h->mqtt_port = atoi(mqtt + 7);
  snprintf(h->ca_file, sizeof h->ca_file, "%.*s", (int)strcspn(ca + 6, "\""), ca + 6);
  return 0;
}

void dps_hostile_stop(dps_hostile *h) {
  if (h == NULL || h->pid <= 0) return;
  pid_t pid = h->pid;
  h->pid = 0;
  kill(pid, SIGTERM);
  for (int i = 0; i < 500; ++i) { /* 5 s in steps of 10 ms */
    pid_t r = waitpid(pid, NULL, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) {
      unlink(h->log_file);
      return;
    }
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  unlink(h->log_file);
}

int dps_hostile_count(const dps_hostile *h, const char *kind) {
  FILE *f = fopen(h->log_file, "r");
  if (f == NULL) return 0;
  char want[64];
  snprintf(want, sizeof want, "{\"kind\":\"%s\"", kind);
  char line[4096];
  int n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, want, strlen(want)) == 0) ++n;
  }
  fclose(f);
  return n;
}

void dps_hostile_config(dps_hostile *h, iotc_dps_transport t, iotc_dps_config *cfg) {
  static char endpoint[64];
  iotc_dps_config_init(cfg);
  snprintf(endpoint, sizeof endpoint, "localhost:%d",
           t == IOTC_DPS_TRANSPORT_MQTT ? h->mqtt_port : h->https_port);
  cfg->id_scope = "0ne00HOSTILE";
  cfg->registration_id = "hostile-device";
  cfg->transport = t;
  cfg->endpoint = endpoint;
  cfg->credential = IOTC_DPS_CREDENTIAL_DEVICE_KEY;
  cfg->key = "aG9zdGlsZS10ZXN0LWtleS0zMi1ieXRlcy1sb25nISE=";
  cfg->ca_file = h->ca_file;
}
