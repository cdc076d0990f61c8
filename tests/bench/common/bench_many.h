/* SPDX-License-Identifier: MIT */
/* K devices in one process: the schedule the *-many programs share. Connects the devices of a
 * list in steps (--steps 100,1000) with at most --connect-window connects under way; each
 * connected device sends one message at once and then one every --period seconds; after each
 * step it runs --window-ms longer and samples RSS and CPU. Prints one JSON line. */
#ifndef BENCH_MANY_H
#define BENCH_MANY_H

#include <stddef.h>
#include <stdint.h>

#include "bench_util.h"

typedef struct bench_many_ops {
  /** Allocates room for @p max devices (before any connect); exits on failure. */
  void (*init)(size_t max);
  /** Starts connecting device @p i; reports with bench_many_connected(). */
  void (*connect)(size_t i, const bench_device *dev, const char *ca_file);
  /** Sends one message from connected device @p i; reports with bench_many_sent(). */
  void (*send)(size_t i, uint32_t seq);
  /** Closes and frees devices 0..n-1 (the numbers are taken by then). */
  void (*close_all)(size_t n);
} bench_many_ops;

/** Runs the whole program; returns the exit status. */
int bench_many_main(int argc, char **argv, const bench_many_ops *ops);

/** Device @p i connected (@p ok) or failed; from any thread, once per device. */
void bench_many_connected(size_t i, int ok);

/** A message completed; from any thread. */
void bench_many_sent(int ok);

#endif
