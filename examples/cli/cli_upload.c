/* SPDX-License-Identifier: MIT */
/* iotc upload: connect as a device, upload one file to the application's storage (with a
 * progress bar when stderr is a terminal), and print where it was stored, as JSON. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "iotc/iotc.h"

enum {
  OPT_ID_SCOPE,
  OPT_DEVICE_ID,
  OPT_KEY,
  OPT_GROUP_KEY,
  OPT_CERT,
  OPT_CERT_KEY,
  OPT_ENDPOINT,
  OPT_CA_FILE,
  OPT_BLOB_NAME,
  OPT_CONTENT_TYPE,
  OPT_BLOCK_SIZE,
  OPT_FILE,
  OPT_COUNT
};

typedef struct waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  bool bar;               /* draw a progress bar on stderr */
  iotc_result result;
  char message[IOTC_ERROR_MESSAGE_SIZE];
  char blob_name[1100];
  unsigned long long bytes;
  bool notified;
} waiter;

static void on_progress(void *ctx, uint64_t sent, uint64_t total) {
  waiter *w = ctx;
  if (!w->bar) {
    return;
  }
  enum { WIDTH = 40 };
  int filled = total ? (int)((double)sent / (double)total * WIDTH) : WIDTH;
  char bar[WIDTH + 1];
  for (int i = 0; i < WIDTH; ++i) {
    bar[i] = i < filled ? '#' : '.';
  }
  bar[WIDTH] = '\0';
  fprintf(stderr, "\r[%s] %6.1f MiB", bar, (double)sent / (1024.0 * 1024.0));
  if (total) {
    fprintf(stderr, " of %.1f MiB", (double)total / (1024.0 * 1024.0));
  }
  fflush(stderr);
}

static void on_done(void *ctx, const iotc_upload_result *r) {
  waiter *w = ctx;
  pthread_mutex_lock(&w->mu);
  w->result = r->result;
  snprintf(w->message, sizeof w->message, "%s", r->error->message);
  snprintf(w->blob_name, sizeof w->blob_name, "%s", r->blob_name);
  w->bytes = (unsigned long long)r->bytes;
  w->notified = r->notified;
  w->done = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static bool fill_config(const char *name, const cli_option *o, iotc_client_config *cfg) {
  iotc_client_config_init(cfg);
  if (o[OPT_ID_SCOPE].value == NULL || o[OPT_DEVICE_ID].value == NULL) {
    cli_usage_error(name, "missing --%s", o[OPT_ID_SCOPE].value ? "device-id" : "id-scope");
    return false;
  }
  int given = (o[OPT_KEY].value != NULL) + (o[OPT_GROUP_KEY].value != NULL) +
              (o[OPT_CERT].value != NULL);
  if (given != 1) {
    cli_usage_error(name, "give exactly one of --key, --group-key or --cert");
    return false;
  }
  cfg->id_scope = o[OPT_ID_SCOPE].value;
  cfg->device_id = o[OPT_DEVICE_ID].value;
  cfg->device_key = o[OPT_KEY].value;
  cfg->group_key = o[OPT_GROUP_KEY].value;
  cfg->cert_file = o[OPT_CERT].value;
  cfg->key_file = o[OPT_CERT_KEY].value ? o[OPT_CERT_KEY].value : o[OPT_CERT].value;
  cfg->dps_endpoint = o[OPT_ENDPOINT].value;
  cfg->ca_file = o[OPT_CA_FILE].value;
  return true;
}

/* The FILE operand is the last argument; the options before it are parsed as usual. */
static int split_file(int argc, char **argv, const char **file) {
  *file = NULL;
  if (argc >= 2 && argv[argc - 1][0] != '-' &&
      (argc == 2 || strncmp(argv[argc - 2], "--", 2) != 0 || strchr(argv[argc - 2], '=') ||
       strcmp(argv[argc - 2], "--") == 0)) {
    *file = argv[argc - 1];
    return argc - 1;
  }
  return argc;
}

int cli_upload(int argc, char **argv) {
  cli_option options[OPT_COUNT] = {
      [OPT_ID_SCOPE] = {"id-scope", "SCOPE", "ID scope of the IoT Central application", NULL},
      [OPT_DEVICE_ID] = {"device-id", "ID", "device ID", NULL},
      [OPT_KEY] = {"key", "KEY", "device key, base64", NULL},
      [OPT_GROUP_KEY] = {"group-key", "KEY", "enrollment group key, base64 (SAS-IoT-Devices)",
                         NULL},
      [OPT_CERT] = {"cert", "FILE", "X.509 device certificate, PEM (CN = device ID)", NULL},
      [OPT_CERT_KEY] = {"cert-key", "FILE", "private key of --cert, PEM (default: in --cert)",
                        NULL},
      [OPT_ENDPOINT] = {"dps-endpoint", "HOST[:PORT]",
                        "DPS endpoint (default " IOTC_DPS_DEFAULT_ENDPOINT ")", NULL},
      [OPT_CA_FILE] = {"ca-file", "FILE", "trusted roots, PEM (default: Azure's roots)", NULL},
      [OPT_BLOB_NAME] = {"blob-name", "NAME", "name in storage, under the device ID (default: "
                         "the file's name)", NULL},
      [OPT_CONTENT_TYPE] = {"content-type", "TYPE", "the blob's content type (default "
                            "application/octet-stream)", NULL},
      [OPT_BLOCK_SIZE] = {"block-size", "BYTES", "bytes per request (default 4194304)", NULL},
      [OPT_FILE] = {"file", "FILE", "the file to upload (or give it last, without --file)", NULL},
  };
  const cli_spec spec = {
      "upload",
      "--id-scope SCOPE --device-id ID --key KEY [OPTIONS] FILE\n"
      "--id-scope SCOPE --device-id ID --cert FILE [--cert-key FILE] [OPTIONS] FILE",
      "Connect as the device and upload FILE to the IoT Central application's storage account\n"
      "(its file uploads must be configured), then print one JSON object:\n"
      "{\"blobName\":\"ID/NAME\",\"bytes\":N}. A progress bar is drawn on stderr when it is a\n"
      "terminal. Exit status 1 when the upload fails, 2 for bad usage or input.",
      options,
      OPT_COUNT,
  };
  const char *file = NULL;
  int n = split_file(argc, argv, &file);
  int code = CLI_EXIT_OK;
  if (!cli_parse(&spec, n, argv, &code)) {
    return code;
  }
  if (file != NULL && options[OPT_FILE].value != NULL) {
    cli_usage_error(spec.name, "give FILE once: last, or with --file");
    return CLI_EXIT_USAGE;
  }
  file = file ? file : options[OPT_FILE].value;
  if (file == NULL) {
    cli_usage_error(spec.name, "missing FILE");
    return CLI_EXIT_USAGE;
  }
  iotc_upload_options up;
  iotc_upload_options_init(&up);
  if (options[OPT_BLOCK_SIZE].value != NULL) {
    uint64_t b = 0;
    if (!cli_parse_u64(options[OPT_BLOCK_SIZE].value, &b) || b < IOTC_UPLOAD_BLOCK_MIN ||
        b > IOTC_UPLOAD_BLOCK_MAX) {
      cli_usage_error(spec.name, "--block-size must be %u to %u bytes", IOTC_UPLOAD_BLOCK_MIN,
                      IOTC_UPLOAD_BLOCK_MAX);
      return CLI_EXIT_USAGE;
    }
    up.block_size = (size_t)b;
  }
  iotc_client_config cfg;
  if (!fill_config(spec.name, options, &cfg)) {
    return CLI_EXIT_USAGE;
  }
  iotc_client *client = NULL;
  iotc_error err;
  iotc_error_clear(&err);
  iotc_result rc = iotc_client_create(&cfg, &client, &err);
  if (rc != IOTC_OK) {
    cli_error(spec.name, "%s", err.message);
    return rc == IOTC_ERR_INVALID_ARG || rc == IOTC_ERR_IO ? CLI_EXIT_USAGE : CLI_EXIT_REFUSED;
  }
  rc = iotc_client_connect(client, 90000, &err);
  if (rc != IOTC_OK) {
    cli_error(spec.name, "cannot connect: %s", err.message);
    iotc_client_destroy(client);
    return CLI_EXIT_REFUSED;
  }
  waiter w;
  memset(&w, 0, sizeof w);
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  w.bar = isatty(STDERR_FILENO) != 0;
  up.blob_name = options[OPT_BLOB_NAME].value;
  up.content_type = options[OPT_CONTENT_TYPE].value;
  up.on_progress = on_progress;
  up.on_done = on_done;
  up.user_context = &w;
  rc = iotc_client_upload_file(client, file, &up, NULL, &err);
  if (rc == IOTC_OK) {
    pthread_mutex_lock(&w.mu);
    while (!w.done) {
      pthread_cond_wait(&w.cv, &w.mu); /* on_done runs exactly once */
    }
    pthread_mutex_unlock(&w.mu);
    if (w.bar) {
      fputc('\n', stderr);
    }
    rc = w.result;
    if (rc == IOTC_OK) {
      printf("{\"blobName\":");
      cli_put_json_string(w.blob_name);
      printf(",\"bytes\":%llu}\n", w.bytes);
      code = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
    } else {
      cli_error(spec.name, "%s", w.message);
      code = CLI_EXIT_REFUSED;
    }
  } else {
    cli_error(spec.name, "%s", err.message);
    code = rc == IOTC_ERR_INVALID_ARG || rc == IOTC_ERR_NOT_FOUND || rc == IOTC_ERR_IO ||
                   rc == IOTC_ERR_TOO_LARGE
               ? CLI_EXIT_USAGE
               : CLI_EXIT_REFUSED;
  }
  if (iotc_client_disconnect(client, 5000) != IOTC_OK) {
    cli_error(spec.name, "the disconnect timed out");
  }
  iotc_client_destroy(client);
  pthread_cond_destroy(&w.cv);
  pthread_mutex_destroy(&w.mu);
  return code;
}
