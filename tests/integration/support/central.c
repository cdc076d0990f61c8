/* SPDX-License-Identifier: MIT */
/* Test support for the IoT Central client tests. */
#include "central.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static emu_info info;
static pthread_once_t info_once = PTHREAD_ONCE_INIT;
static int info_rc = -1;

static void load_info(void) { info_rc = emu_load(&info); }

const emu_info *central_emu(void) {
  pthread_once(&info_once, load_info);
  if (info_rc != 0) {
    fprintf(stderr, "central: no emulator (run through ctest)\n");
    exit(1);
  }
  return &info;
}

uint64_t central_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void central_sleep_ms(uint32_t ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

int central_device_new(const char *prefix, central_device *out) {
  return central_device_of_template(prefix, NULL, out);
}

int central_device_of_template(const char *prefix, const char *template_id, central_device *out) {
  const emu_info *emu = central_emu();
  memset(out, 0, sizeof *out);
  emu_unique_id(prefix, out->id, sizeof out->id);
  /* Without a template the device takes its model id from its DPS registration, as in IoT Central. */
  if (emu_create_device(emu, out->id, template_id) != 0) return -1;
  return emu_device_key(emu, out->id, out->key, sizeof out->key);
}

void central_config(const central_device *dev, iotc_client_config *cfg) {
  central_group_config(dev->id, cfg);
  cfg->group_key = NULL;
  cfg->device_key = dev->key;
}

void central_group_config(const char *device_id, iotc_client_config *cfg) {
  const emu_info *emu = central_emu();
  iotc_client_config_init(cfg);
  cfg->id_scope = emu->id_scope;
  cfg->device_id = device_id;
  cfg->group_key = emu->group_key;
  cfg->dps_endpoint = emu->dps_mqtt;
  cfg->ca_file = emu->ca_file;
  cfg->model_id = "dtmi:com:example:iotc:EnvironmentalSensor;1";
  cfg->reconnect_min_ms = 100;
  cfg->reconnect_max_ms = 2000;
}

iotc_client *central_client(const iotc_client_config *cfg) {
  iotc_client *client = NULL;
  iotc_error err;
  iotc_result r = iotc_client_create(cfg, &client, &err);
  if (r != IOTC_OK) {
    fprintf(stderr, "central: iotc_client_create: %s: %s\n", iotc_strerror(r), err.message);
    return NULL;
  }
  return client;
}

iotc_client *central_offline_client(const char *device_id) {
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.id_scope = "0ne00000000";
  cfg.device_id = device_id;
  cfg.device_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  cfg.dps_endpoint = "127.0.0.1:1";
  cfg.ca_file = central_emu()->ca_file;
  return central_client(&cfg);
}

iotc_client *central_new(const char *prefix, central_device *dev) {
  if (central_device_new(prefix, dev) != 0) return NULL;
  iotc_client_config cfg;
  central_config(dev, &cfg);
  return central_client(&cfg);
}

int central_connect(iotc_client *client) {
  iotc_error err;
  iotc_error_clear(&err);
  iotc_result r = iotc_client_connect(client, CENTRAL_WAIT_MS, &err);
  if (r != IOTC_OK) {
    fprintf(stderr, "central: connect: %s: %s (status %d, code %d) %s\n", iotc_strerror(r),
            err.message, err.status, err.service_code, err.transport);
    return -1;
  }
  return 0;
}

static json_t *get_path(const char *path, bool quiet) {
  long status = 0;
  json_t *body = NULL;
  if (emu_api(central_emu(), "GET", path, NULL, &status, &body) != 0) return NULL;
  if (status < 200 || status > 299) {
    if (!quiet) {
      char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
      fprintf(stderr, "central: GET %s -> %ld %s\n", path, status, text ? text : "");
      free(text);
    }
    json_decref(body);
    return NULL;
  }
  return body;
}

json_t *central_get(const char *path_fmt, ...) {
  char path[1024];
  va_list ap;
  va_start(ap, path_fmt);
  vsnprintf(path, sizeof path, path_fmt, ap);
  va_end(ap);
  return get_path(path, false);
}

json_t *central_poll(const char *path, bool (*ready)(json_t *body, void *ctx), void *ctx, bool *ok) {
  uint64_t deadline = central_now_ms() + CENTRAL_WAIT_MS;
  json_t *body = NULL;
  *ok = false;
  for (;;) {
    json_decref(body);
    body = get_path(path, true);
    if (body && ready(body, ctx)) {
      *ok = true;
      return body;
    }
    if (central_now_ms() >= deadline) {
      char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
      fprintf(stderr, "central: gave up waiting on %s; last: %s\n", path, text ? text : "(none)");
      free(text);
      return body;
    }
    central_sleep_ms(100);
  }
}

static int wait_query(const char *device_id, const char *query) {
  char path[1024];
  snprintf(path, sizeof path, "/emulator/devices/%s/wait?%s&timeoutMs=%d", device_id, query,
           CENTRAL_WAIT_MS);
  long status = 0;
  json_t *body = NULL;
  if (emu_api(central_emu(), "GET", path, NULL, &status, &body) != 0) return -1;
  json_decref(body);
  if (status != 200) {
    fprintf(stderr, "central: %s: %ld\n", path, status);
    return -1;
  }
  return 0;
}

int central_wait_subscribed(const char *device_id, const char *filter) {
  char query[512] = "subscribed=";
  size_t n = strlen(query);
  for (const char *p = filter; *p && n + 4 < sizeof query; p++) {
    if (*p == '$' || *p == '#' || *p == '/' || *p == '+')
      n += (size_t)snprintf(query + n, sizeof query - n, "%%%02X", (unsigned char)*p);
    else
      query[n++] = *p;
  }
  query[n] = '\0';
  return wait_query(device_id, query);
}

int central_wait_connected(const char *device_id, bool connected) {
  return wait_query(device_id, connected ? "connected=true" : "connected=false");
}

json_t *central_messages(const char *device_id) {
  json_t *all = json_array();
  long since = 0;
  for (;;) {
    json_t *page = central_get("/emulator/devices/%s/messages?since=%ld&limit=100000", device_id, since);
    if (!page) {
      json_decref(all);
      return NULL;
    }
    json_t *value = json_object_get(page, "value");
    json_array_extend(all, value);
    size_t got = json_array_size(value);
    long next = (long)json_integer_value(json_object_get(page, "next"));
    json_decref(page);
    if (got == 0 || next == since) return all;
    since = next;
  }
}

typedef struct count_ctx {
  size_t count;
} count_ctx;

static bool has_count(json_t *body, void *ctx) {
  return json_array_size(json_object_get(body, "value")) >= ((count_ctx *)ctx)->count;
}

json_t *central_wait_messages(const char *device_id, size_t count) {
  char path[512];
  snprintf(path, sizeof path, "/emulator/devices/%s/messages?since=0&limit=100000", device_id);
  count_ctx ctx = {count};
  bool ok = false;
  json_t *body = central_poll(path, has_count, &ctx, &ok);
  json_t *value = ok ? json_incref(json_object_get(body, "value")) : NULL;
  json_decref(body);
  return value;
}

json_t *central_command(const char *device_id, const char *component, const char *name,
                        const char *body_json, long *http_status) {
  char path[1024];
  if (component)
    snprintf(path, sizeof path, "/api/devices/%s/components/%s/commands/%s", device_id, component, name);
  else
    snprintf(path, sizeof path, "/api/devices/%s/commands/%s", device_id, name);
  json_t *body = NULL;
  *http_status = 0;
  if (emu_api(central_emu(), "POST", path, body_json, http_status, &body) != 0) return NULL;
  return body ? body : json_object();
}

long central_command_code(const char *device_id, const char *component, const char *name,
                          const char *body_json) {
  long status = 0;
  json_t *r = central_command(device_id, component, name, body_json, &status);
  json_t *code = json_object_get(r, "responseCode");
  long result = json_is_integer(code) ? (long)json_integer_value(code) : -status;
  json_decref(r);
  return result;
}

long central_patch(const char *device_id, const char *component, const char *json_object) {
  char path[1024];
  if (component)
    snprintf(path, sizeof path, "/api/devices/%s/components/%s/properties", device_id, component);
  else
    snprintf(path, sizeof path, "/api/devices/%s/properties", device_id);
  long status = 0;
  json_t *body = NULL;
  if (emu_api(central_emu(), "PATCH", path, json_object, &status, &body) != 0) return -1;
  if (status < 200 || status > 299) {
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    fprintf(stderr, "central: PATCH %s -> %ld %s\n", path, status, text ? text : "");
    free(text);
  }
  json_decref(body);
  return status;
}

json_t *central_properties(const char *device_id, const char *component) {
  if (component) return central_get("/api/devices/%s/components/%s/properties", device_id, component);
  return central_get("/api/devices/%s/properties", device_id);
}

static bool value_is(json_t *body, void *ctx) {
  json_t *v = json_object_get(body, "value");
  return json_is_integer(v) && json_integer_value(v) == *(json_int_t *)ctx;
}

int central_wait_telemetry(const char *device_id, const char *name, json_int_t value) {
  char path[1024];
  snprintf(path, sizeof path, "/api/devices/%s/telemetry/%s", device_id, name);
  bool ok = false;
  json_decref(central_poll(path, value_is, &value, &ok));
  return ok ? 0 : -1;
}

iotc_result central_send_telemetry_wait(iotc_client *client, const char *json) {
  central_results done;
  central_results_init(&done);
  iotc_telemetry_options o;
  central_telemetry_options(&o, &done);
  iotc_result r = iotc_client_send_telemetry(client, json, &o);
  if (r == IOTC_OK) r = central_results_nth(&done, 1);
  central_results_destroy(&done);
  return r;
}

int central_telemetry_round_trip(iotc_client *client, const char *device_id, int seq) {
  char json[64];
  snprintf(json, sizeof json, "{\"seq\":%d}", seq);
  iotc_result r = central_send_telemetry_wait(client, json);
  if (r != IOTC_OK) {
    fprintf(stderr, "central: telemetry seq=%d: %s\n", seq, iotc_strerror(r));
    return -1;
  }
  return central_wait_telemetry(device_id, "seq", seq); /* the PUBACK may come before the store */
}

static bool acked(json_t *body, void *ctx) {
  json_t *m = json_object_get(json_object_get(body, "$metadata"), (const char *)ctx);
  json_t *av = json_object_get(m, "ackVersion");
  json_t *dv = json_object_get(m, "desiredVersion");
  return json_is_integer(av) && json_is_integer(dv) &&
         json_integer_value(av) >= json_integer_value(dv);
}

json_t *central_wait_ack(const char *device_id, const char *component, const char *name) {
  char path[1024];
  if (component)
    snprintf(path, sizeof path, "/api/devices/%s/components/%s/properties", device_id, component);
  else
    snprintf(path, sizeof path, "/api/devices/%s/properties", device_id);
  bool ok = false;
  json_t *body = central_poll(path, acked, (void *)name, &ok);
  if (!ok) {
    json_decref(body);
    return NULL;
  }
  return body;
}

int central_silent_listener(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}
