/* SPDX-License-Identifier: MIT */
/* Test support: the emulator's ready line and its operator API, for integration tests.
 * Link: libcurl + jansson. Functions return 0 on success and print one line to stderr on failure.
 * Not thread-safe with respect to emu_load(); everything else may be called from any thread. */
#ifndef IOTC_TEST_EMU_H
#define IOTC_TEST_EMU_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct emu_info {
  int pid;
  char id_scope[80];
  char ca_file[1024];
  char api[256];       /* http://127.0.0.1:PORT */
  char dps_mqtt[256];  /* localhost:PORT */
  char dps_https[256]; /* localhost:PORT */
  char hubs[2][256];   /* localhost:PORT each */
  int hub_count;
  char group_key[128]; /* primary key of the SAS-IoT-Devices enrollment group */
} emu_info;

/* Read the ready line from the file named by $IOTC_EMULATOR_INFO. */
int emu_load(emu_info *info);

/* A device id nobody else uses: PREFIX-<pid>-<counter>-<random>. */
void emu_unique_id(const char *prefix, char *buf, size_t size);

/*
 * Call the operator API: METHOD info->api + PATH with an optional JSON body (NULL: none).
 * *http_status gets the status (nullable); *json_response (nullable) a new reference to the
 * parsed response body or NULL when it was empty or not JSON (json_decref it).
 * Returns 0 when the request completed (any status), -1 on a transport failure.
 */
int emu_api(const emu_info *info, const char *method, const char *path, const char *json_body,
            long *http_status, json_t **json_response);

/* PUT /api/devices/{id} (enabled, optional template). */
int emu_create_device(const emu_info *info, const char *device_id, const char *template_id);
/* PUT /api/deviceTemplates/{template_id} with the DTDL model in dtdl_file. 0 on success. */
int emu_put_template(const emu_info *info, const char *template_id, const char *dtdl_file);

/* A device registered straight on a hub, without DPS. */
typedef struct emu_direct_device {
  char id[128];
  char hub[256];  /* the hub it is registered on, as the emulator assigned it (host[:port]) */
  char key[128];  /* its primary key */
  char connection_string[640]; /* HostName=hub;DeviceId=id;SharedAccessKey=key */
} emu_direct_device;

/* Register a new device (unique id from prefix) on hub number @p hub (0 or 1) through
 * POST /emulator/devices/{id}/provision, and fill *out. 0 on success. */
int emu_provision_direct(const emu_info *info, const char *prefix, int hub, emu_direct_device *out);

/* Give the device an individual symmetric key (PUT .../attestation) and return it. */
int emu_set_device_key(const emu_info *info, const char *device_id, char *key, size_t size);

/* The device's primary symmetric key (GET .../attestation). */
int emu_device_key(const emu_info *info, const char *device_id, char *key, size_t size);

/* Issue an X.509 device certificate (CN = device_id) and write DIR/<id>.cert.pem and
 * DIR/<id>.key.pem; their paths go to cert_path and key_path (each at least 1024 bytes). */
int emu_issue_cert(const emu_info *info, const char *device_id, const char *dir, char *cert_path,
                   char *key_path);

/* Wire-log entries of one device (NULL: all) after sequence number since, as a new JSON array. */
json_t *emu_wire(const emu_info *info, const char *device_id, long since);

/* Count wire entries of the device whose "type" equals type and, if non-NULL, whose "topic" or
 * "url" starts with prefix; "dir" must equal dir unless dir is NULL. */
int emu_wire_count(const emu_info *info, const char *device_id, const char *dir, const char *type,
                   const char *prefix);

/* Wire-log entries of the device after sequence number @p since whose "svc" starts with @p svc
 * ("dps", "dps-mqtt", "dps-https", "hub"); -1 when the log cannot be read. */
int emu_wire_svc_count(const emu_info *info, const char *device_id, long since, const char *svc);

/* The newest wire-log sequence number of the device (0 when none, -1 when unreadable). */
long emu_wire_last(const emu_info *info, const char *device_id);

/*
 * Start an emulator of this test's own: node iotc-emulator.mjs --parent-pid <this pid> ARGS...
 * (args: NULL-terminated, nullable), on ephemeral ports with certificates of its own. Waits up
 * to 30 s for its ready line and fills *info from it; info->pid is the child to stop with
 * emu_stop(), which the caller must do (also when the test fails: call it from a teardown).
 * Returns 0, or -1 (nothing left running).
 */
int emu_start(const char *const *args, emu_info *info);

/* Stop an emulator started by emu_start() by its pid (SIGTERM, SIGKILL after 5 s) and reap it;
 * sets info->pid to 0. No-op when info->pid is 0. */
void emu_stop(emu_info *info);

/* An emulator of the test's own whose certificate names only 127.0.0.1 (so a client dialling
 * "localhost" meets a host name mismatch) and whose DPS answers retry-after 0: started and stopped
 * as cmocka group or test setup and teardown (state unused); it is emu_ip_only meanwhile. */
extern emu_info emu_ip_only;
int emu_ip_only_start(void **state);
int emu_ip_only_stop(void **state);

/* POST /emulator/faults with the given JSON object; 0 when the emulator accepted it. */
int emu_fault(const emu_info *info, const char *json_fault);

#endif
