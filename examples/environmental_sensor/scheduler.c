/* SPDX-License-Identifier: MIT */
#include "scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

typedef struct job {
  struct timespec due;
  scheduler_job_fn fn;
  void *arg;
  struct job *next;
} job;

struct scheduler {
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_t thread;
  job *jobs; /* sorted by due time; equal times keep insertion order */
  bool stopping;
};

static bool before(const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void *run(void *arg) {
  scheduler *s = arg;
  pthread_mutex_lock(&s->lock);
  while (!s->stopping) {
    if (!s->jobs) {
      pthread_cond_wait(&s->wake, &s->lock);
      continue;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (before(&now, &s->jobs->due)) {
      pthread_cond_timedwait(&s->wake, &s->lock, &s->jobs->due);
      continue;
    }
    job *j = s->jobs;
    s->jobs = j->next;
    /* Jobs call into iotc and print: never under our lock. */
    pthread_mutex_unlock(&s->lock);
    j->fn(j->arg, false);
    free(j);
    pthread_mutex_lock(&s->lock);
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

int scheduler_start(scheduler **out) {
  scheduler *s = calloc(1, sizeof *s);
  if (!s) return -1;
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->wake, &attr);
  pthread_condattr_destroy(&attr);
  int rc = pthread_create(&s->thread, NULL, run, s);
  if (rc != 0) {
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
    errno = rc;
    return -1;
  }
  *out = s;
  return 0;
}

int scheduler_after(scheduler *s, uint32_t delay_ms, scheduler_job_fn fn, void *arg) {
  job *j = calloc(1, sizeof *j);
  if (!j) return -1;
  clock_gettime(CLOCK_MONOTONIC, &j->due);
  j->due.tv_sec += delay_ms / 1000;
  j->due.tv_nsec += (long)(delay_ms % 1000) * 1000000L;
  if (j->due.tv_nsec >= 1000000000L) {
    j->due.tv_sec++;
    j->due.tv_nsec -= 1000000000L;
  }
  j->fn = fn;
  j->arg = arg;
  pthread_mutex_lock(&s->lock);
  if (s->stopping) {
    pthread_mutex_unlock(&s->lock);
    free(j);
    return -1;
  }
  job **at = &s->jobs;
  while (*at && !before(&j->due, &(*at)->due)) at = &(*at)->next;
  j->next = *at;
  *at = j;
  pthread_cond_signal(&s->wake);
  pthread_mutex_unlock(&s->lock);
  return 0;
}

void scheduler_stop(scheduler *s) {
  if (!s) return;
  pthread_mutex_lock(&s->lock);
  s->stopping = true;
  job *pending = s->jobs;
  s->jobs = NULL;
  pthread_cond_signal(&s->wake);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->thread, NULL);
  while (pending) {
    job *next = pending->next;
    pending->fn(pending->arg, true);
    free(pending);
    pending = next;
  }
  pthread_cond_destroy(&s->wake);
  pthread_mutex_destroy(&s->lock);
  free(s);
}
