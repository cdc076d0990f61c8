/* SPDX-License-Identifier: MIT */
/* Test support: the HTTP CONNECT test proxy (support/auth_proxy.cjs) as a child process,
 * started on a loopback ephemeral port and stopped by its pid. */
#ifndef IOTC_TEST_PROXY_PROC_H
#define IOTC_TEST_PROXY_PROC_H

#include <sys/types.h>

typedef struct proxy_proc {
  pid_t pid; /* 0 when not running */
  int port;
  char log[300]; /* one line per CONNECT: "CONNECT host:port auth=ok|none|bad" */
} proxy_proc;

/*
 * Start the proxy, logging to DIR/proxy.log (emptied first). @p credentials ("user:password",
 * nullable: none required) reach it through its environment, never its command line; @p mode
 * (nullable: tunnel) is tunnel, 403, 502 or hangup. 0 when it listens; -1 otherwise (nothing
 * left running).
 */
int proxy_start(proxy_proc *p, const char *dir, const char *credentials, const char *mode);

/* Stop it (SIGTERM) and reap it; removes its log. No-op when not running. */
void proxy_stop(proxy_proc *p);

#endif
