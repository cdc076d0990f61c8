/* SPDX-License-Identifier: MIT */
#include "bench_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

const char *bench_arg(int argc, char **argv, const char *name, const char *fallback) {
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return fallback;
}

const char *bench_arg_required(int argc, char **argv, const char *name) {
  const char *v = bench_arg(argc, argv, name, NULL);
  if (!v) bench_fail("missing argument %s", name);
  return v;
}

long bench_arg_long(int argc, char **argv, const char *name, long fallback) {
  const char *v = bench_arg(argc, argv, name, NULL);
  if (!v) return fallback;
  char *end = NULL;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno || end == v || *end || n < 0) bench_fail("bad value for %s: %s", name, v);
  return n;
}

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_unix_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double bench_cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

long bench_rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmRSS:", 6) == 0) {
      kib = strtol(line + 6, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kib;
}

void bench_sleep(double seconds) {
  if (seconds <= 0) return;
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void bench_payload(char out[BENCH_PAYLOAD_SIZE + 1], uint32_t seq) {
  /* {"temperature":21.5,"humidity":48.25,"seq":"00000001","pad":"xx…x"} padded to the size */
  int n = snprintf(out, BENCH_PAYLOAD_SIZE + 1,
                   "{\"temperature\":21.5,\"humidity\":48.25,\"seq\":\"%08u\",\"pad\":\"", seq);
  while (n < BENCH_PAYLOAD_SIZE - 2) out[n++] = 'x';
  out[n++] = '"';
  out[n++] = '}';
  out[n] = '\0';
}

size_t bench_read_devices(const char *path, bench_device *out, size_t max) {
  FILE *f = fopen(path, "r");
  if (!f) bench_fail("cannot open device list %s: %s", path, strerror(errno));
  size_t n = 0;
  while (n < max && fscanf(f, "%127s %127s %127s", out[n].hub, out[n].id, out[n].key) == 3) n++;
  fclose(f);
  return n;
}

void bench_fail(const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  for (char *p = msg; *p; p++) {
    if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) *p = ' ';
  }
  printf("{\"ok\":false,\"error\":\"%s\"}\n", msg);
  fflush(stdout);
  exit(1);
}

void bench_raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}
