/* SPDX-License-Identifier: MIT */
/* Allocation-failure injection for the unit-test programs, which are linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup: every call from
 * an object linked in statically (libiotc.a and the test itself) comes here, and jansson's
 * allocations too, through json_set_alloc_funcs(), except while jansson parses (json_loadb and
 * json_loads are wrapped too): jansson 2.14's lexer ignores a failed buffer grow (lex_save drops
 * the byte) and can then read past its buffer, a crash inside jansson that no caller can
 * prevent. Shared libraries (libc, Paho, OpenSSL, curl, cmocka) are not affected.
 *
 *   IOTC_ALLOC_FAIL_AT=N     the Nth allocation (counting from 1) returns NULL with ENOMEM,
 *                            once; its call stack goes to stderr, so a run names its site
 *   IOTC_ALLOC_COUNT_FILE=F  at exit, the number of allocations made is written to F
 *   IOTC_ALLOC_SITES_FILE=F  at exit, for each allocation site (the first two calling frames
 *                            inside this program: the call of malloc or of a jansson function
 *                            in the library or test, and its caller), the number of its first
 *                            allocation, one a line; failing those numbers fails every site once
 *
 * Without either variable the wrappers only count. tests/unit/alloc_failures.sh drives it.
 * A program can also fail every allocation made in a function it names: alloc_fail_in(). */
#include "alloc_fail.h"

#include <errno.h>
#include <execinfo.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

/* Present in ASan/UBSan builds only: a symbolized stack with file and line. */
extern void __sanitizer_print_stack_trace(void) __attribute__((weak));

static atomic_ulong calls;
static unsigned long fail_at; /* 0: never */
static int record_sites;

/* Sites seen so far, with the number of their first allocation (bounded: a program of ours has
 * a few hundred at most; beyond the table, sites are not recorded and the count says so). */
#define MAX_SITES 8192
static struct site {
  uintptr_t at, caller;
  unsigned long first;
} sites[MAX_SITES];
static size_t site_count, sites_dropped;
static pthread_mutex_t sites_mu = PTHREAD_MUTEX_INITIALIZER;
extern const char __executable_start[], etext[];

static int in_program(void *pc) {
  return (const char *)pc >= __executable_start && (const char *)pc < etext;
}

/* The first three frames inside the program are this function, should_fail() and the __wrap_
 * function (none is inlined); shared libraries (jansson, the sanitizer's backtrace) are skipped,
 * so the next two are the calling site and its caller. */
__attribute__((noinline)) static void calling_frames(uintptr_t found[2]) {
  void *frames[32];
  int depth = backtrace(frames, 32);
  found[0] = found[1] = 0;
  for (int i = 0, seen = 0; i < depth && seen < 5; i++) {
    if (!in_program(frames[i])) continue;
    if (seen >= 3) found[seen - 3] = (uintptr_t)frames[i];
    seen++;
  }
}

static void record_site(unsigned long n, const uintptr_t found[2]) {
  pthread_mutex_lock(&sites_mu);
  size_t i = 0;
  while (i < site_count && (sites[i].at != found[0] || sites[i].caller != found[1])) i++;
  if (i == site_count) {
    if (site_count < MAX_SITES) {
      sites[site_count++] = (struct site){found[0], found[1], n};
    } else {
      sites_dropped++;
    }
  }
  pthread_mutex_unlock(&sites_mu);
}

/* ---- failing by function: alloc_fail_in() ---- */

/* Present in sanitized builds only: the function name of a code address. */
extern void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out, size_t out_size)
    __attribute__((weak));

static atomic_int failing_in; /* 1: fail_in[] names a function */
static char fail_in[128];
static atomic_ulong failed_in;
/* Code addresses already symbolized (a program has a few hundred sites): 1 when in fail_in. */
#define MAX_PCS 1024
static struct pc_match {
  uintptr_t pc;
  int match;
} pcs[MAX_PCS];
static size_t pc_count;

static int pc_in_function(uintptr_t pc) { /* sites_mu held */
  for (size_t i = 0; i < pc_count; i++) {
    if (pcs[i].pc == pc) return pcs[i].match;
  }
  char name[256] = "";
  __sanitizer_symbolize_pc((void *)(pc - 1), "%f", name, sizeof name); /* pc: a return address */
  int match = strcmp(name, fail_in) == 0;
  if (pc_count < MAX_PCS) pcs[pc_count++] = (struct pc_match){pc, match};
  return match;
}

static int site_in_function(const uintptr_t found[2]) {
  pthread_mutex_lock(&sites_mu);
  int match = (found[0] && pc_in_function(found[0])) || (found[1] && pc_in_function(found[1]));
  pthread_mutex_unlock(&sites_mu);
  return match;
}

bool alloc_fail_in(const char *function) {
  if (__sanitizer_symbolize_pc == NULL) return false;
  pthread_mutex_lock(&sites_mu);
  atomic_store(&failing_in, 0);
  pc_count = 0;
  if (function != NULL) {
    snprintf(fail_in, sizeof fail_in, "%s", function);
    atomic_store(&failing_in, 1);
  }
  pthread_mutex_unlock(&sites_mu);
  return true;
}

unsigned long alloc_failed_in(void) { return atomic_load(&failed_in); }

static void print_stack(void) {
  if (__sanitizer_print_stack_trace) {
    __sanitizer_print_stack_trace();
    return;
  }
  void *frames[32];
  int n = backtrace(frames, 32);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
}

/* Counts one allocation; true when this one is to fail. */
__attribute__((noinline)) static int should_fail(const char *what, size_t size) {
  unsigned long n = atomic_fetch_add(&calls, 1) + 1;
  int by_function = atomic_load(&failing_in);
  uintptr_t found[2] = {0, 0};
  if (record_sites || by_function) calling_frames(found);
  if (record_sites) record_site(n, found);
  if (by_function && site_in_function(found)) {
    atomic_fetch_add(&failed_in, 1);
    errno = ENOMEM;
    return 1;
  }
  if (fail_at == 0 || n != fail_at) return 0;
  fprintf(stderr, "alloc-fail: allocation #%lu (%s of %zu bytes) fails here:\n", n, what, size);
  print_stack();
  errno = ENOMEM;
  return 1;
}

void *__wrap_malloc(size_t size) { return should_fail("malloc", size) ? NULL : __real_malloc(size); }

void *__wrap_calloc(size_t n, size_t size) {
  return should_fail("calloc", n * size) ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size) {
  return should_fail("realloc", size) ? NULL : __real_realloc(p, size);
}

char *__wrap_strdup(const char *s) {
  return should_fail("strdup", strlen(s) + 1) ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n) {
  return should_fail("strndup", strnlen(s, n) + 1) ? NULL : __real_strndup(s, n);
}

static FILE *open_env(const char *name) {
  const char *path = getenv(name);
  return path == NULL || *path == '\0' ? NULL : fopen(path, "w");
}

static void write_counts(void) {
  FILE *f = open_env("IOTC_ALLOC_COUNT_FILE");
  if (f != NULL) {
    fprintf(f, "%lu\n", atomic_load(&calls));
    fclose(f);
  }
  f = record_sites ? open_env("IOTC_ALLOC_SITES_FILE") : NULL;
  if (f != NULL) {
    pthread_mutex_lock(&sites_mu);
    for (size_t i = 0; i < site_count; i++) fprintf(f, "%lu\n", sites[i].first);
    if (sites_dropped) fprintf(f, "# %zu allocations at sites beyond the table\n", sites_dropped);
    pthread_mutex_unlock(&sites_mu);
    fclose(f);
  }
}

/* jansson's allocations: failed like any other, but neither counted nor failed while it parses. */
static _Thread_local int parsing;

static void *jansson_malloc(size_t size) {
  return parsing ? __real_malloc(size) : __wrap_malloc(size);
}

json_t *__real_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error);
json_t *__real_json_loads(const char *input, size_t flags, json_error_t *error);

json_t *__wrap_json_loadb(const char *buffer, size_t buflen, size_t flags, json_error_t *error) {
  parsing++;
  json_t *j = __real_json_loadb(buffer, buflen, flags, error);
  parsing--;
  return j;
}

json_t *__wrap_json_loads(const char *input, size_t flags, json_error_t *error) {
  parsing++;
  json_t *j = __real_json_loads(input, flags, error);
  parsing--;
  return j;
}

__attribute__((constructor)) static void alloc_fail_init(void) {
  const char *at = getenv("IOTC_ALLOC_FAIL_AT");
  const char *sites_file = getenv("IOTC_ALLOC_SITES_FILE");
  if (at != NULL && *at != '\0') fail_at = strtoul(at, NULL, 10);
  record_sites = sites_file != NULL && *sites_file != '\0';
  json_set_alloc_funcs(jansson_malloc, free);
  atexit(write_counts);
}
