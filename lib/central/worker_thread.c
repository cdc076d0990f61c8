/* SPDX-License-Identifier: MIT */
/* The threads that run clients' rounds (a client's own worker, or an executor's): how they are
 * started, and which client's round the calling thread runs, so the API knows when it is
 * called from a client's own callback (and must not wait for the worker). */
#include <signal.h>

#include "central/client_internal.h"

#define WORKER_STACK_SIZE (256 * 1024)

/* The client whose round this thread runs now (its own worker: always). */
static _Thread_local const iotc_client *running;

void iotc__worker_running(const iotc_client *c) { running = c; }

bool iotc__on_worker(const iotc_client *c) {
  if (c->threadless) return pthread_equal(pthread_self(), c->worker);
  return running == c;
}

int iotc__worker_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
  /* The worker, and the MQTT and HTTP threads it starts, inherit a mask that blocks the
   * asynchronous signals: the application's handlers run on the application's threads. */
  sigset_t blocked, old_mask;
  sigfillset(&blocked);
  static const int faults[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};
  for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) sigdelset(&blocked, faults[i]);
  pthread_sigmask(SIG_BLOCK, &blocked, &old_mask);
  int e = pthread_create(thread, &attr, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  pthread_attr_destroy(&attr);
  return e;
}
