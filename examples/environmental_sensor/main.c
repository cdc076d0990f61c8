/* SPDX-License-Identifier: MIT */
/*
 * The environmental sensor of the IoT Central tutorial, in C on iotc.
 *
 * Main thread: reads standard input (Q/q + Enter quits), waits for SIGINT/SIGTERM, and sends a
 * telemetry message every interval. Commands and writable properties arrive on the client's
 * own callback thread (device.c), and so does delayed work (iotc_client_schedule()).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "iotc/client.h"
#include "iotc/log.h"
#include "options.h"

static int wake_pipe[2] = {-1, -1};
static iotc_client *volatile connecting; /* set while iotc_client_connect() may wait */

static void on_signal(int sig) {
  int saved = errno;
  iotc_client_cancel_connect(connecting); /* async-signal-safe; NULL is ignored */
  unsigned char b = (unsigned char)sig;
  ssize_t n = write(wake_pipe[1], &b, 1);
  (void)n; /* a full pipe already holds a wake-up */
  errno = saved;
}

static int install_signals(void) {
  if (pipe(wake_pipe) != 0) return -1;
  for (int i = 0; i < 2; i++) {
    fcntl(wake_pipe[i], F_SETFL, fcntl(wake_pipe[i], F_GETFL) | O_NONBLOCK);
    fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) return -1;
  sa.sa_handler = SIG_IGN;
  return sigaction(SIGPIPE, &sa, NULL);
}

static void on_log(iotc_log_level level, const char *message, void *ctx) {
  (void)ctx;
  fprintf(stderr, "iotc %s: %s\n", iotc_log_level_name(level), message);
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads what is available on stdin; returns true when the user asked to quit (Q, q or EOF). */
static bool stdin_says_quit(char *line, size_t size, size_t *used) {
  ssize_t n = read(STDIN_FILENO, line + *used, size - 1 - *used);
  if (n < 0) return errno != EINTR && errno != EAGAIN;
  if (n == 0) {
    printf("End of input\n");
    return true;
  }
  *used += (size_t)n;
  for (;;) {
    char *nl = memchr(line, '\n', *used);
    if (!nl) {
      if (*used == size - 1) *used = 0; /* an over-long line is not a command */
      return false;
    }
    *nl = '\0';
    char *text = line;
    while (*text == ' ' || *text == '\t') text++;
    size_t len = strlen(text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
      text[--len] = '\0';
    if (strcmp(text, "Q") == 0 || strcmp(text, "q") == 0) return true;
    printf("Press Q to quit\n");
    size_t rest = *used - (size_t)(nl + 1 - line);
    memmove(line, nl + 1, rest);
    *used = rest;
  }
}

/* Sends telemetry every interval until Q, end of input, a signal, --count or --duration. */
static void run(sensor_device *dev, const sensor_options *opts) {
  char line[256];
  size_t used = 0;
  bool stdin_open = opts->read_stdin;
  uint64_t start = now_ms();
  uint64_t next = start;
  uint64_t sent = 0;
  for (;;) {
    uint64_t now = now_ms();
    if (opts->duration_s && now - start >= (uint64_t)opts->duration_s * 1000u) {
      printf("Ran for %" PRIu32 " s\n", opts->duration_s);
      return;
    }
    if (now >= next) {
      if (opts->count && sent == opts->count) {
        printf("Sent %" PRIu64 " messages\n", sent);
        return;
      }
      iotc_result r = sensor_device_send_telemetry(dev);
      if (r != IOTC_OK) printf("Telemetry not queued: %s\n", iotc_strerror(r));
      else sent++;
      next += opts->interval_ms;
      if (next < now) next = now + opts->interval_ms; /* we were late: do not burst */
      continue;
    }
    uint64_t wait = next - now;
    if (opts->duration_s) {
      uint64_t end = start + (uint64_t)opts->duration_s * 1000u;
      if (end - now < wait) wait = end - now;
    }
    struct pollfd fds[2] = {{.fd = wake_pipe[0], .events = POLLIN},
                            {.fd = STDIN_FILENO, .events = POLLIN}};
    int rc = poll(fds, stdin_open ? 2 : 1, (int)wait);
    if (rc < 0 && errno != EINTR) {
      perror("poll");
      return;
    }
    if (rc > 0 && fds[0].revents) {
      unsigned char sig = 0;
      if (read(wake_pipe[0], &sig, 1) == 1)
        printf("Received %s\n", sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal");
      return;
    }
    if (rc > 0 && stdin_open && fds[1].revents) {
      if (stdin_says_quit(line, sizeof line, &used)) return;
    }
  }
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  sensor_options opts;
  int parsed = sensor_options_parse(&opts, argc, argv);
  if (parsed == 1) return 0;
  if (parsed != 0) return 2;
  if (opts.log_enabled) iotc_log_set_handler(on_log, opts.log_level, NULL);
  if (install_signals() != 0) {
    perror("environmental_sensor: signals");
    return 1;
  }

  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.id_scope = opts.id_scope;
  cfg.device_id = opts.device_id;
  cfg.device_key = opts.device_key;
  cfg.group_key = opts.group_key;
  cfg.connection_string = opts.connection_string;
  cfg.dps_endpoint = opts.dps_endpoint;
  cfg.dps_over_https = opts.dps_over_https;
  cfg.ca_file = opts.ca_file;
  cfg.model_id = opts.model_id;
  cfg.cache_file = opts.cache_file;
  cfg.persist_dir = opts.persist_dir; /* messages a crash interrupted are sent first */

  iotc_client *client = NULL;
  iotc_error err;
  iotc_result r = iotc_client_create(&cfg, &client, &err);
  if (r != IOTC_OK) {
    fprintf(stderr, "environmental_sensor: the configuration was refused: %s\n", err.message);
    return 2;
  }
  iotc_persist_stats ps;
  if (opts.persist_dir && iotc_client_get_persist_stats(client, &ps) == IOTC_OK)
    printf("Store and forward in %s: %llu messages from an earlier run are sent first\n",
           opts.persist_dir, (unsigned long long)ps.recovered);
  sensor_device dev;
  r = sensor_device_attach(&dev, client);
  if (r != IOTC_OK) {
    fprintf(stderr, "environmental_sensor: handlers: %s\n", iotc_strerror(r));
    iotc_client_destroy(client);
    return 1;
  }

  if (opts.connection_string)
    printf("Connecting with a connection string (model %s)\n", opts.model_id);
  else
    printf("Device %s, ID scope %s, DPS %s over %s, %s key, model %s\n", opts.device_id,
           opts.id_scope, opts.dps_endpoint ? opts.dps_endpoint : "global.azure-devices-provisioning.net",
           opts.dps_over_https ? "HTTPS" : "MQTT", opts.group_key ? "group" : "device",
           opts.model_id);
  connecting = client; /* a signal now cancels the connect instead of waiting it out */
  r = iotc_client_connect(client, opts.connect_timeout_s * 1000u, &err);
  connecting = NULL;
  int status = 0;
  if (r == IOTC_ERR_CANCELLED) {
    printf("Connect cancelled: quitting\n");
    status = -1;
  } else if (r == IOTC_ERR_TIMEOUT) {
    printf("Not connected yet (%s): still trying; telemetry waits in the queue\n",
           err.message[0] ? err.message : iotc_strerror(r));
  } else if (r != IOTC_OK) {
    printf("Device could not connect: %s\n", err.message[0] ? err.message : iotc_strerror(r));
    status = 1;
  }

  if (status == 0) {
    r = sensor_device_report_startup(&dev);
    if (r != IOTC_OK) printf("Startup properties not queued: %s\n", iotc_strerror(r));
    printf("Sending telemetry from the provisioned device every %g seconds\n",
           opts.interval_ms / 1000.0);
    if (opts.read_stdin) printf("Press Q to quit\n");
    run(&dev, &opts);
    printf("Quitting...\n");
  }

  /* Delayed work still pending is completed as cancelled by iotc_client_destroy() below. */
  iotc_result closed = iotc_client_disconnect(client, 5000);
  iotc_client_stats stats;
  if (iotc_client_get_stats(client, &stats) == IOTC_OK)
    printf("Telemetry sent: %" PRIu64 ", failed: %" PRIu64 ", resent: %" PRIu64
           "; commands: %" PRIu64 "; property updates: %" PRIu64 "; connects: %" PRIu64 "\n",
           stats.telemetry_sent, stats.telemetry_failed, stats.telemetry_resent,
           stats.commands_received, stats.properties_received, stats.connects);
  if (closed != IOTC_OK && status == 0)
    printf("Disconnected with messages still queued: %s\n", iotc_strerror(closed));
  if (status < 0) status = 0; /* cancelled by the user */
  iotc_client_destroy(client);
  close(wake_pipe[0]);
  close(wake_pipe[1]);
  return status;
}
