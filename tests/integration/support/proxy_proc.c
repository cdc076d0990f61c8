/* SPDX-License-Identifier: MIT */
#include "proxy_proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int proxy_start(proxy_proc *p, const char *dir, const char *credentials, const char *mode) {
  memset(p, 0, sizeof *p);
  snprintf(p->log, sizeof p->log, "%s/proxy.log", dir);
  unlink(p->log);
  int fds[2];
  if (pipe(fds) != 0) return -1;
  char ppid[32];
  snprintf(ppid, sizeof ppid, "%d", (int)getpid());
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    if (credentials) setenv("PROXY_CREDENTIALS", credentials, 1);
    if (mode) setenv("PROXY_MODE", mode, 1);
    execlp(IOTC_EMU_NODE, "node", IOTC_TEST_PROXY_SCRIPT, p->log, ppid, (char *)NULL);
    _exit(127);
  }
  p->pid = pid;
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  char line[64] = "";
  int ok = f && fgets(line, sizeof line, f) && sscanf(line, "PORT %d", &p->port) == 1;
  if (f) fclose(f);
  if (!ok) {
    fprintf(stderr, "proxy_start: the test proxy did not start\n");
    proxy_stop(p);
    return -1;
  }
  return 0;
}

void proxy_stop(proxy_proc *p) {
  if (p->pid > 0) {
    kill(p->pid, SIGTERM);
    waitpid(p->pid, NULL, 0);
    p->pid = 0;
  }
  if (p->log[0]) unlink(p->log);
}
