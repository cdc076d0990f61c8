/* SPDX-License-Identifier: MIT */
/* A complete IoT Central device in one page: provisions with a device key, answers a command,
 * applies a writable property, and sends telemetry every 2 seconds until Ctrl-C. */
#include <iotc/iotc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static iotc_client *volatile client_to_cancel;
/* Ctrl-C quits the send loop, and cancels the connect while it waits (async-signal-safe). */
static void on_sigint(int sig) {
  (void)sig;
  stop = 1;
  iotc_client_cancel_connect(client_to_cancel);
}

/* Connection status, in words: "connected", "reconnecting (connection lost): ...". */
static void on_status(iotc_client *client, const iotc_status_info *info, void *ctx) {
  (void)client; (void)ctx;
  fprintf(stderr, "%s (%s): %s\n", iotc_status_str(info->status), iotc_strerror(info->reason),
          info->message);
}

/* Commands: answer at once with a status and a JSON payload (a literal outlives the handler;
 * text built here goes through iotc_command_response_set_payload(), which copies it). */
static void on_reboot(iotc_client *client, const iotc_command_request *req,
                      iotc_command_response *resp, void *ctx) {
  (void)client; (void)ctx;
  printf("reboot requested, payload %s\n", req->payload_json);
  resp->status = 200;
  resp->payload_json = "{\"accepted\":true}";
}

/* Writable properties: apply, then acknowledge with the desired version. */
static void on_interval(iotc_client *client, const iotc_property_update *u, void *ctx) {
  (void)ctx;
  int64_t seconds;
  bool ok = iotc_value_int(u->value_json, &seconds) == IOTC_OK && seconds > 0;
  if (ok) printf("interval set to %lld s\n", (long long)seconds);
  if (iotc_client_ack_property(client, u->component, u->name, u->value_json, ok ? 200 : 400,
                               u->version, ok ? "applied" : "must be a positive integer", NULL,
                               NULL) != IOTC_OK) {
    fprintf(stderr, "could not acknowledge %s\n", u->name);
  }
}

int main(void) {
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.id_scope = getenv("IOTC_ID_SCOPE");
  cfg.device_id = getenv("IOTC_DEVICE_ID");
  cfg.device_key = getenv("IOTC_DEVICE_KEY");
  cfg.dps_endpoint = getenv("IOTC_DPS_ENDPOINT"); /* NULL: Azure's global endpoint */
  cfg.ca_file = getenv("IOTC_CA_FILE");           /* NULL: the Azure roots built into iotc */
  cfg.model_id = "dtmi:com:example:Quickstart;1";

  iotc_client *client;
  iotc_error err;
  iotc_result r = iotc_client_create(&cfg, &client, &err);
  if (r != IOTC_OK) { /* err.message names the field, e.g. "device_key is not valid base64" */
    fprintf(stderr, "configuration: %s (set IOTC_ID_SCOPE, IOTC_DEVICE_ID, IOTC_DEVICE_KEY)\n",
            err.message);
    return 2;
  }
  client_to_cancel = client;
  signal(SIGINT, on_sigint); /* before connecting: Ctrl-C cancels a connect that hangs */
  if ((r = iotc_client_on_status(client, on_status, NULL)) != IOTC_OK ||
      (r = iotc_client_on_command(client, NULL, "reboot", on_reboot, NULL)) != IOTC_OK ||
      (r = iotc_client_on_property(client, NULL, "interval", on_interval, NULL)) != IOTC_OK ||
      (r = iotc_client_connect(client, 30000, &err)) != IOTC_OK) {
    fprintf(stderr, "connect: %s: %s\n", iotc_strerror(r), err.message);
    client_to_cancel = NULL;
    iotc_client_destroy(client);
    return r == IOTC_ERR_CANCELLED ? 0 : 1;
  }
  if (iotc_client_report_property(client, NULL, "swVersion", "\"1.0.0\"", NULL, NULL) != IOTC_OK) {
    fprintf(stderr, "could not report swVersion\n");
  }

  for (int i = 0; !stop; i++) {
    char json[64];
    snprintf(json, sizeof json, "{\"temp\":%d}", 20 + i % 5);
    if (iotc_client_send_telemetry(client, json, NULL) != IOTC_OK) break;
    sleep(2);
  }
  (void)iotc_client_disconnect(client, 5000); /* waits for queued messages to be acknowledged */
  client_to_cancel = NULL; /* the handler must not reach a destroyed client */
  iotc_client_destroy(client);
  return 0;
}
