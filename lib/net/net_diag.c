/* SPDX-License-Identifier: MIT */
/* TCP connect diagnostics: name resolution and connect errors in words. */
#include "net/net_diag.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *iotc__connect_errno_text(int err) {
  switch (err) {
  case ECONNREFUSED: return "connection refused";
  case ETIMEDOUT: return "timed out";
  case EHOSTUNREACH: return "host unreachable";
  case ENETUNREACH: return "network unreachable";
  case ECONNRESET: return "connection reset";
  case EADDRNOTAVAIL: return "address not available";
  default: return strerror(err);
  }
}

static void say(char *why, size_t size, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void say(char *why, size_t size, const char *fmt, ...) {
  if (why == NULL || size == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, size, fmt, ap);
  va_end(ap);
}

int iotc__tcp_connect(const char *host, int port, uint64_t until_ms, char *why, size_t why_size) {
  uint64_t start = now_ms();
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  struct addrinfo *res = NULL;
  int gai = getaddrinfo(host, service, &hints, &res);
  if (gai != 0) {
    say(why, why_size, "name not resolved (%s)",
        gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
    return -1;
  }
  int fd = -1;
  int last = ETIMEDOUT;
  for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = errno;
      continue;
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    int soerr = rc == 0 ? 0 : errno;
    if (rc != 0 && errno == EINPROGRESS) {
      uint64_t now = now_ms();
      struct pollfd pfd = {fd, POLLOUT, 0};
      socklen_t sl = sizeof soerr;
      soerr = ETIMEDOUT;
      if (now < until_ms && poll(&pfd, 1, (int)(until_ms - now)) == 1) {
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
      }
    }
    if (soerr != 0) {
      last = soerr;
      close(fd);
      fd = -1;
      continue;
    }
    fcntl(fd, F_SETFL, flags);
  }
  freeaddrinfo(res);
  if (fd < 0) {
    if (last == ETIMEDOUT) {
      say(why, why_size, "timed out after %lu ms", (unsigned long)(now_ms() - start));
    } else {
      say(why, why_size, "%s", iotc__connect_errno_text(last));
    }
  }
  return fd;
}

bool iotc__connect_cause(const char *host, int port, uint32_t timeout_ms, char *out, size_t size) {
  int fd = iotc__tcp_connect(host, port, now_ms() + timeout_ms, out, size);
  if (fd < 0) return true;
  close(fd);
  return false;
}
