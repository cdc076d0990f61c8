/* SPDX-License-Identifier: MIT */
/* Helpers shared by the benchmark programs (raw Paho and iotc): arguments, clocks, CPU and memory
 * of the process, the telemetry payload, the device list, and the one JSON result line. None of
 * this is library code: the raw Paho programs must stay free of iotc. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/** The value after `--name` in argv, or @p fallback. */
const char *bench_arg(int argc, char **argv, const char *name, const char *fallback);
/** The value after `--name` as a positive integer; exits with a message when missing or bad. */
long bench_arg_long(int argc, char **argv, const char *name, long fallback);
/** The value after `--name`; exits with a message when it is missing. */
const char *bench_arg_required(int argc, char **argv, const char *name);

/** Monotonic seconds. */
double bench_now(void);
/** Wall-clock milliseconds since the epoch (compared with the harness's own clock). */
double bench_unix_ms(void);
/** user + system CPU seconds of the whole process (all threads). */
double bench_cpu_seconds(void);
/** Resident set size of the process in KiB (VmRSS). */
long bench_rss_kib(void);
/** Sleeps @p seconds. */
void bench_sleep(double seconds);

/** Size of the telemetry payload every implementation sends. */
#define BENCH_PAYLOAD_SIZE 200
/** Writes the @p seq-th telemetry payload: a JSON object of exactly BENCH_PAYLOAD_SIZE bytes. */
void bench_payload(char out[BENCH_PAYLOAD_SIZE + 1], uint32_t seq);

/** One device of a device list file: lines of `hub device_id device_key`. */
typedef struct bench_device {
  char hub[128];
  char id[128];
  char key[128];
} bench_device;

/** Reads up to @p max devices; exits with a message on error. Returns the count. */
size_t bench_read_devices(const char *path, bench_device *out, size_t max);

/** Prints a failure as the JSON result line and exits 1. */
void bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/** Raises the open-file limit to its hard maximum (K connections need K descriptors). */
void bench_raise_fd_limit(void);

#endif
