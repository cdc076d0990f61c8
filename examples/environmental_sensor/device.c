/* SPDX-License-Identifier: MIT */
#include "device.h"

#include "iotc/upload.h"
#include "sensor_log.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

enum { KIND_STRING, KIND_INTEGER };

/* ---- writable properties: acknowledged later, as the tutorial does after asyncio.sleep() ---- */

typedef struct pending_ack {
  const sensor_property *prop;
  int64_t version;
  int status;
  const char *description;
  char value_json[]; /* copied: the update is borrowed */
} pending_ack;

static bool is_valid(const sensor_property *prop, const char *value_json) {
  if (prop->kind == KIND_INTEGER) {
    int64_t v;
    return iotc_value_int(value_json, &v) == IOTC_OK;
  }
  char text[8];
  size_t len = 0;
  iotc_result r = iotc_value_string(value_json, text, sizeof text, &len);
  return r == IOTC_OK || r == IOTC_ERR_BUFFER_TOO_SMALL;
}

/* A JSON string without its quotes, for printing; other values as they are. */
static void print_value(const char *value_json) {
  char text[512];
  size_t len = 0;
  sensor_say("%s", iotc_value_string(value_json, text, sizeof text, &len) == IOTC_OK ? text
                                                                                : value_json);
}

static void on_ack_done(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  const sensor_property *prop = ctx;
  if (result != IOTC_OK)
    sensor_say("Acknowledging %s failed: %s\n", prop->name, iotc_strerror(result));
}

/* Runs on the client's worker when the delay is over (IOTC_OK), or when the client is destroyed
 * first (IOTC_ERR_SHUTDOWN): either way exactly once, so it frees the ack. */
static void send_ack(iotc_client *client, iotc_result result, void *arg) {
  pending_ack *ack = arg;
  if (result == IOTC_OK) {
    if (ack->status == 200) {
      sensor_say("Setting %s value ", ack->prop->name);
      print_value(ack->value_json);
      sensor_say(" - %" PRId64 "\n", ack->version);
    } else {
      sensor_say("Refusing %s value %s - %" PRId64 ": %s\n", ack->prop->name, ack->value_json,
             ack->version, ack->description);
    }
    iotc_result r = iotc_client_ack_property(client, NULL, ack->prop->name,
                                             ack->value_json, ack->status, ack->version,
                                             ack->description, on_ack_done, (void *)ack->prop);
    if (r != IOTC_OK) sensor_say("Acknowledging %s failed: %s\n", ack->prop->name, iotc_strerror(r));
  } else {
    sensor_say("Not acknowledging %s - %" PRId64 ": quitting\n", ack->prop->name, ack->version);
  }
  free(ack);
}

static void on_writable(iotc_client *client, const iotc_property_update *update, void *ctx) {
  const sensor_property *prop = ctx;
  size_t len = strlen(update->value_json);
  pending_ack *ack = malloc(sizeof *ack + len + 1);
  if (!ack) {
    sensor_say("Out of memory: %s - %" PRId64 " not handled\n", prop->name, update->version);
    return;
  }
  ack->prop = prop;
  ack->version = update->version;
  memcpy(ack->value_json, update->value_json, len + 1);
  uint32_t delay = prop->ack_delay_ms;
  if (is_valid(prop, update->value_json)) {
    ack->status = 200;
    ack->description = "completed";
  } else {
    /* The model says what the value must be; refuse anything else at once. */
    ack->status = 400;
    ack->description = prop->kind == KIND_INTEGER ? "brightness must be an integer"
                                                  : "name must be a string";
    delay = 0;
  }
  if (iotc_client_schedule(client, delay, send_ack, ack, NULL) != IOTC_OK) {
    sensor_say("Not acknowledging %s - %" PRId64 ": quitting\n", prop->name, update->version);
    free(ack);
  }
}

/* ---- commands ---------------------------------------------------------------------------- */

static void on_blink(iotc_client *client, const iotc_command_request *request,
                     iotc_command_response *response, void *ctx) {
  (void)client;
  (void)ctx;
  char body[128];
  sensor_say("Received synchronous call to blink\n");
  int64_t seconds = 0;
  if (iotc_value_int(request->payload_json, &seconds) != IOTC_OK || seconds < 0) {
    sensor_say("blink needs a number of seconds, got %s\n", request->payload_json);
    response->status = 400;
    response->payload_json =
        "{\"description\":\"blink expects the interval in seconds, a non-negative integer\"}";
    return;
  }
  snprintf(body, sizeof body, "{\"description\":\"Blinking LED every %" PRId64 " seconds\"}",
           seconds);
  response->status = 200;
  if (iotc_command_response_set_payload(response, body) != IOTC_OK) response->status = 500;
  sensor_say("Blinking LED every %" PRId64 " seconds\n", seconds);
}

static void on_turnon(iotc_client *client, const iotc_command_request *request,
                      iotc_command_response *response, void *ctx) {
  (void)client;
  (void)request;
  (void)ctx;
  sensor_say("Turning on the LED\n");
  response->status = 200;
}

static void on_turnoff(iotc_client *client, const iotc_command_request *request,
                       iotc_command_response *response, void *ctx) {
  (void)client;
  (void)request;
  (void)ctx;
  sensor_say("Turning off the LED\n");
  response->status = 200;
}

/* The diagnostics run: three "Generating diagnostics..." steps 2 s apart, then the completion
 * is reported as the property named after the command. */
typedef struct diagnostics_run {
  sensor_device *dev;
  int step;
} diagnostics_run;

static void on_diagnostics_done(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  (void)ctx;
  if (result == IOTC_OK)
    sensor_say("Diagnostics completion acknowledged by the hub\n");
  else
    sensor_say("Reporting the diagnostics completion failed: %s\n", iotc_strerror(result));
}

static void complete_diagnostics(sensor_device *dev) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  struct tm local;
  localtime_r(&tv.tv_sec, &local);
  char when[64];
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &local);
  char value[128];
  snprintf(value, sizeof value, "\"Diagnostics run complete at %s.%06ld.\"", when,
           (long)tv.tv_usec);
  sensor_say("Sending property update to confirm command completion\n");
  iotc_result r = iotc_client_complete_command(dev->client, NULL, "rundiagnostics", value,
                                               on_diagnostics_done, NULL);
  if (r != IOTC_OK) sensor_say("Reporting the diagnostics completion failed: %s\n", iotc_strerror(r));
}

static void diagnostics_step(iotc_client *client, iotc_result result, void *arg) {
  diagnostics_run *run = arg;
  if (result != IOTC_OK) {
    sensor_say("Diagnostics run abandoned: quitting\n");
    free(run);
    return;
  }
  if (run->step == 3) {
    complete_diagnostics(run->dev);
    free(run);
    return;
  }
  sensor_say("Generating diagnostics...\n");
  run->step++;
  if (iotc_client_schedule(client, 2000, diagnostics_step, run, NULL) != IOTC_OK) free(run);
}

static void on_rundiagnostics(iotc_client *client, const iotc_command_request *request,
                              iotc_command_response *response, void *ctx) {
  (void)request;
  sensor_device *dev = ctx;
  sensor_say("Starting asynchronous diagnostics run...\n");
  response->status = 202;
  diagnostics_run *run = calloc(1, sizeof *run);
  if (run) {
    run->dev = dev;
    if (iotc_client_schedule(client, 0, diagnostics_step, run, NULL) == IOTC_OK) return;
    free(run);
  }
  response->status = 503;
  response->payload_json = "{\"description\":\"the device cannot run diagnostics now\"}";
}

/* ---- uploadlogs: the sensor's own log to the application's storage --------------------------- */

/* Runs on an upload thread once the upload ended; reports the outcome as the property named after
 * the command (the blob's name, or why it failed) and frees the snapshot. */
static void on_logs_uploaded(void *ctx, const iotc_upload_result *r) {
  sensor_device *dev = *(sensor_device **)ctx;
  char value[1400];
  if (r->result == IOTC_OK) {
    sensor_say("Uploaded the log as %s (%llu bytes)\n", r->blob_name,
               (unsigned long long)r->bytes);
    snprintf(value, sizeof value, "{\"blobName\":\"%s\",\"bytes\":%llu}", r->blob_name,
             (unsigned long long)r->bytes);
  } else {
    sensor_say("Uploading the log failed: %s\n", r->error->message);
    char why[300];
    size_t n = 0;
    for (const char *p = r->error->message; *p && n + 2 < sizeof why; ++p) {
      if (*p == '"' || *p == '\\') why[n++] = '\'';
      else if ((unsigned char)*p >= 0x20) why[n++] = *p;
    }
    why[n] = '\0';
    snprintf(value, sizeof value, "{\"error\":\"%s\"}", why);
  }
  iotc_result c = iotc_client_complete_command(dev->client, NULL, "uploadlogs", value, NULL, NULL);
  if (c != IOTC_OK) sensor_say("Reporting the upload failed: %s\n", iotc_strerror(c));
  free(ctx);
}

static void on_uploadlogs(iotc_client *client, const iotc_command_request *request,
                          iotc_command_response *response, void *ctx) {
  (void)request;
  sensor_device *dev = ctx;
  sensor_say("Uploading the device log...\n");
  size_t len = 0;
  char *snapshot = sensor_log_snapshot(&len);
  /* one allocation: the device pointer, then the log text the upload reads until it ends */
  char *hold = snapshot ? malloc(sizeof dev + len + 1) : NULL;
  if (hold) {
    memcpy(hold, &dev, sizeof dev);
    memcpy(hold + sizeof dev, snapshot, len);
  }
  free(snapshot);
  char name[96];
  time_t now = time(NULL);
  struct tm utc;
  gmtime_r(&now, &utc);
  strftime(name, sizeof name, "logs/sensor-%Y%m%dT%H%M%SZ.log", &utc);
  iotc_upload_options opts;
  iotc_upload_options_init(&opts);
  opts.blob_name = name;
  opts.content_type = "text/plain; charset=utf-8";
  opts.on_done = on_logs_uploaded;
  opts.user_context = hold;
  iotc_error err;
  iotc_result r = hold ? iotc_client_upload_buffer(client, hold + sizeof dev, len, &opts, NULL, &err)
                       : IOTC_ERR_NO_MEMORY;
  if (r == IOTC_OK) {
    response->status = 202;
    return;
  }
  free(hold);
  sensor_say("Cannot upload the log: %s\n", hold ? err.message : "out of memory");
  response->status = r == IOTC_ERR_NOT_SUPPORTED ? 501 : 503;
  response->payload_json = r == IOTC_ERR_NOT_SUPPORTED
                               ? "{\"description\":\"file upload is not configured\"}"
                               : "{\"description\":\"the device cannot upload now\"}";
}

/* ---- connection status --------------------------------------------------------------------- */

static void on_status(iotc_client *client, const iotc_status_info *info, void *ctx) {
  (void)client;
  sensor_device *dev = ctx;
  switch (info->status) {
  case IOTC_STATUS_PROVISIONING:
    sensor_say("Registering the device with DPS...\n");
    break;
  case IOTC_STATUS_CONNECTING:
    if (dev->last_status == IOTC_STATUS_PROVISIONING ||
        dev->last_status == IOTC_STATUS_REPROVISIONING)
      sensor_say("Registration result: assigned to %s\n", info->hub);
    sensor_say("Connecting to %s over %s...\n", info->hub, iotc_transport_str(info->transport));
    break;
  case IOTC_STATUS_CONNECTED:
    sensor_say("Device connected successfully to %s over %s\n", info->hub,
           iotc_transport_str(info->transport));
    break;
  case IOTC_STATUS_DISCONNECTED:
    sensor_say("Disconnected: %s (%s)\n", info->message, iotc_strerror(info->reason));
    break;
  case IOTC_STATUS_RECONNECTING:
    if (info->retry_in_ms == 0 && info->transport == IOTC_TRANSPORT_MQTT_WS) {
      sensor_say("%s\n", info->message); /* the automatic fallback to 443 */
      break;
    }
    sensor_say("Reconnecting in %" PRIu32 " ms (attempt %" PRIu32 ", %s)\n", info->retry_in_ms,
           info->attempt + 1, iotc_strerror(info->reason));
    break;
  case IOTC_STATUS_REPROVISIONING:
    sensor_say("The hub refused the device: registering with DPS again (%s)\n", info->message);
    break;
  case IOTC_STATUS_GAVE_UP:
    sensor_say("Device could not connect: %s (%s)\n", info->message, iotc_strerror(info->reason));
    break;
  default: /* a status added in a later iotc */
    sensor_say("Connection status %s: %s\n", iotc_status_str(info->status), info->message);
    break;
  }
  dev->last_status = (int)info->status;
}

/* ---- startup properties and telemetry ------------------------------------------------------- */

static void on_startup_reported(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  (void)ctx;
  if (result == IOTC_OK)
    sensor_say("Startup properties acknowledged by the hub\n");
  else
    sensor_say("Reporting the startup properties failed: %s\n", iotc_strerror(result));
}

iotc_result sensor_device_report_startup(sensor_device *dev) {
  /* The tutorial reports 'ARM' and the string 'true'; report the real architecture, and state
   * as the boolean the model declares. */
  struct utsname un;
  const char *arch = uname(&un) == 0 ? un.machine : "unknown";
  char json[256];
  snprintf(json, sizeof json,
           "{\"state\":true,\"processorArchitecture\":\"%.64s\",\"swVersion\":\"1.0.0\"}", arch);
  sensor_say("Send reported properties on startup\n");
  return iotc_client_report_properties(dev->client, NULL, json, on_startup_reported, NULL);
}

static void on_telemetry_done(iotc_client *client, iotc_result result, void *ctx) {
  (void)client;
  char *payload = ctx;
  if (result == IOTC_OK)
    sensor_say("Sent message: %s\n", payload);
  else
    sensor_say("Message %s was not sent: %s\n", payload, iotc_strerror(result));
  free(payload);
}

iotc_result sensor_device_send_telemetry(sensor_device *dev) {
  /* Python's randrange(1, 75) and randrange(30, 99): the end is excluded. */
  int temp = 1 + (int)(rand_r(&dev->seed) % 74);
  int humid = 30 + (int)(rand_r(&dev->seed) % 69);
  char json[64];
  int len = snprintf(json, sizeof json, "{\"temp\":%d,\"humid\":%d}", temp, humid);
  char *copy = malloc((size_t)len + 1);
  if (!copy) return IOTC_ERR_NO_MEMORY;
  memcpy(copy, json, (size_t)len + 1);
  iotc_telemetry_options opts;
  iotc_telemetry_options_init(&opts);
  opts.on_done = on_telemetry_done;
  opts.user_context = copy;
  iotc_result r = iotc_client_send_telemetry(dev->client, json, &opts);
  if (r != IOTC_OK) free(copy);
  return r;
}

/* ---- wiring ------------------------------------------------------------------------------- */

iotc_result sensor_device_attach(sensor_device *dev, iotc_client *client) {
  memset(dev, 0, sizeof *dev);
  dev->client = client;
  dev->seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
  dev->last_status = -1;
  dev->properties[0] = (sensor_property){dev, "name", 1000, KIND_STRING};
  dev->properties[1] = (sensor_property){dev, "brightness", 5000, KIND_INTEGER};

  iotc_result r = iotc_client_on_status(client, on_status, dev);
  for (size_t i = 0; r == IOTC_OK && i < 2; i++)
    r = iotc_client_on_property(client, NULL, dev->properties[i].name, on_writable,
                                &dev->properties[i]);
  if (r == IOTC_OK) r = iotc_client_on_command(client, NULL, "blink", on_blink, dev);
  if (r == IOTC_OK) r = iotc_client_on_command(client, NULL, "turnon", on_turnon, dev);
  if (r == IOTC_OK) r = iotc_client_on_command(client, NULL, "turnoff", on_turnoff, dev);
  if (r == IOTC_OK)
    r = iotc_client_on_command(client, NULL, "rundiagnostics", on_rundiagnostics, dev);
  if (r == IOTC_OK) r = iotc_client_on_command(client, NULL, "uploadlogs", on_uploadlogs, dev);
  return r;
}
