/* SPDX-License-Identifier: MIT */
/* Provisioning end to end against the emulator: both transports, all credentials, the polling
 * and retry rules (checked from the emulator's wire log), refusals, TLS checks, cancel, timeout
 * and malformed responses. */
#include <netdb.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "emu.h"
#include "iotc/dps.h"

#define MODEL "dtmi:com:example:Thermostat;1"

static emu_info emu;
static char tmpdir[256];

static const char *endpoint(iotc_dps_transport t) {
  return t == IOTC_DPS_TRANSPORT_MQTT ? emu.dps_mqtt : emu.dps_https;
}

static const char *tname(iotc_dps_transport t) {
  return t == IOTC_DPS_TRANSPORT_MQTT ? "mqtt" : "https";
}

/* A group-key configuration for a fresh device id. */
static void base(iotc_dps_config *cfg, iotc_dps_transport t, char *id, size_t id_size) {
  emu_unique_id(tname(t), id, id_size);
  iotc_dps_config_init(cfg);
  cfg->id_scope = emu.id_scope;
  cfg->registration_id = id;
  cfg->transport = t;
  cfg->endpoint = endpoint(t);
  cfg->ca_file = emu.ca_file;
  cfg->credential = IOTC_DPS_CREDENTIAL_GROUP_KEY;
  cfg->key = emu.group_key;
  cfg->timeout_ms = 30000;
}

static void assert_assigned(const iotc_dps_registration *reg, const char *id) {
  assert_string_equal(reg->status, "assigned");
  assert_string_equal(reg->device_id, id);
  bool known_hub = false;
  for (int i = 0; i < emu.hub_count; ++i) {
    known_hub |= strcmp(reg->assigned_hub, emu.hubs[i]) == 0;
  }
  assert_true(known_hub);
}

static void register_ok(iotc_dps_config *cfg, const char *id) {
  iotc_dps_registration reg;
  iotc_error err;
  iotc_result r = iotc_dps_register(cfg, &reg, &err);
  if (r != IOTC_OK) {
    fail_msg("%s: %s (%s) %s", id, iotc_strerror(r), err.message, err.transport);
  }
  assert_assigned(&reg, id);
  if (cfg->model_id) {
    assert_non_null(reg.payload_json);
    assert_non_null(strstr(reg.payload_json, cfg->model_id));
  }
  iotc_dps_registration_clear(&reg);
}

/* Post a fault (printf-style JSON) and require the emulator to accept it. */
static void add_fault(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add_fault(const char *fmt, ...) {
  char fault[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(fault, sizeof fault, fmt, ap);
  va_end(ap);
  assert_true(n > 0 && (size_t)n < sizeof fault);
  assert_int_equal(emu_fault(&emu, fault), 0);
}

/* ---- credentials x transports ------------------------------------------------------------- */

static void device_key(iotc_dps_transport t) {
  iotc_dps_config cfg;
  char id[96];
  char key[128];
  base(&cfg, t, id, sizeof id);
  assert_int_equal(emu_create_device(&emu, id, NULL), 0);
  assert_int_equal(emu_set_device_key(&emu, id, key, sizeof key), 0);
  cfg.credential = IOTC_DPS_CREDENTIAL_DEVICE_KEY;
  cfg.key = key;
  cfg.model_id = MODEL;
  register_ok(&cfg, id);
}

static void group_key(iotc_dps_transport t) {
  iotc_dps_config cfg;
  char id[96];
  base(&cfg, t, id, sizeof id);
  cfg.payload_json = "{\"modelId\":\"" MODEL "\",\"site\":{\"floor\":3}}";
  iotc_dps_registration reg;
  iotc_error err;
  assert_int_equal(iotc_dps_register(&cfg, &reg, &err), IOTC_OK);
  assert_assigned(&reg, id);
  assert_non_null(reg.payload_json);
  assert_non_null(strstr(reg.payload_json, "\"floor\":3"));
  iotc_dps_registration_clear(&reg);
}

static void x509(iotc_dps_transport t) {
  iotc_dps_config cfg;
  char id[96];
  char cert[1024];
  char key[1024];
  base(&cfg, t, id, sizeof id);
  assert_int_equal(emu_issue_cert(&emu, id, tmpdir, cert, key), 0);
  cfg.credential = IOTC_DPS_CREDENTIAL_X509;
  cfg.key = NULL;
  cfg.cert_file = cert;
  cfg.key_file = key;
  cfg.model_id = MODEL;
  register_ok(&cfg, id);
  /* No SAS anywhere: MQTT CONNECT carries no password, HTTPS no Authorization header. */
  json_t *w = emu_wire(&emu, id, 0);
  assert_non_null(w);
  char *text = json_dumps(w, JSON_COMPACT);
  assert_null(strstr(text, "SharedAccessSignature"));
  free(text);
  json_decref(w);
}

static void a_device_key_registers_over_mqtt(void **s) { (void)s; device_key(IOTC_DPS_TRANSPORT_MQTT); }
static void a_device_key_registers_over_https(void **s) { (void)s; device_key(IOTC_DPS_TRANSPORT_HTTPS); }
static void a_group_key_registers_over_mqtt(void **s) { (void)s; group_key(IOTC_DPS_TRANSPORT_MQTT); }
static void a_group_key_registers_over_https(void **s) { (void)s; group_key(IOTC_DPS_TRANSPORT_HTTPS); }
static void an_x509_certificate_registers_over_mqtt(void **s) { (void)s; x509(IOTC_DPS_TRANSPORT_MQTT); }
static void an_x509_certificate_registers_over_https(void **s) { (void)s; x509(IOTC_DPS_TRANSPORT_HTTPS); }

/* ---- polling, throttling and back-off (from wire-log timestamps) -------------------------- */

static long long wire_ms(json_t *e) {
  const char *t = json_string_value(json_object_get(e, "time"));
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  int ms = 0;
  assert_non_null(t);
  assert_int_equal(sscanf(t, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                          &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms),
                   7);
  /* Only differences matter: a day-of-month based count is enough within one test run. */
  return ((((long long)tm.tm_mday * 24 + tm.tm_hour) * 60 + tm.tm_min) * 60 + tm.tm_sec) * 1000 + ms;
}

/* Status of an outgoing DPS answer in the wire log, 0 if the entry is not one. */
static int answer_status(json_t *e) {
  const char *dir = json_string_value(json_object_get(e, "dir"));
  const char *type = json_string_value(json_object_get(e, "type"));
  if (!dir || strcmp(dir, "out") != 0 || !type) {
    return 0;
  }
  if (strcmp(type, "HTTP") == 0) {
    return (int)json_integer_value(json_object_get(e, "status"));
  }
  const char *topic = json_string_value(json_object_get(e, "topic"));
  if (strcmp(type, "PUBLISH") == 0 && topic && strncmp(topic, "$dps/registrations/res/", 23) == 0) {
    return atoi(topic + 23);
  }
  return 0;
}

/* Is e a DPS request from the device (register or poll)? */
static bool is_request(json_t *e) {
  const char *dir = json_string_value(json_object_get(e, "dir"));
  const char *type = json_string_value(json_object_get(e, "type"));
  const char *topic = json_string_value(json_object_get(e, "topic"));
  if (!dir || strcmp(dir, "in") != 0 || !type) {
    return false;
  }
  return strcmp(type, "HTTP") == 0 ||
         (strcmp(type, "PUBLISH") == 0 && topic && strncmp(topic, "$dps/registrations/", 19) == 0);
}

/* The first request after each answer with @p status came no sooner than @p min_ms later
 * (both times from the emulator's clock); returns how many such answers there were. */
static int check_pause_after(const char *id, int status, long long min_ms) {
  json_t *w = emu_wire(&emu, id, 0);
  assert_non_null(w);
  long long answered_at = -1;
  int answers = 0;
  int checked = 0;
  size_t i;
  json_t *e;
  json_array_foreach(w, i, e) {
    if (answer_status(e) == status) {
      ++answers;
      answered_at = wire_ms(e);
    } else if (answered_at >= 0 && is_request(e)) {
      assert_true(wire_ms(e) - answered_at >= min_ms);
      answered_at = -1;
      ++checked;
    }
  }
  json_decref(w);
  /* Every such answer was followed by a request, except a last one when the client gave up. */
  assert_int_equal(checked, answers - (answered_at >= 0 ? 1 : 0));
  return answers;
}

static void throttled_then_assigned(iotc_dps_transport t, const char *operation) {
  iotc_dps_config cfg;
  char id[96];
  base(&cfg, t, id, sizeof id);
  add_fault("{\"kind\":\"dpsThrottle\",\"deviceId\":\"%s\",\"operation\":\"%s\",\"status\":429,"
           "\"retryAfter\":1,\"count\":1}",
            id, operation);
  register_ok(&cfg, id);
  /* One 429, and the retry waited for its retry-after (1 s). */
  assert_int_equal(check_pause_after(id, 429, 1000), 1);
}

static void assigning_retry_after(iotc_dps_transport t) {
  iotc_dps_config cfg;
  char id[96];
  base(&cfg, t, id, sizeof id);
  add_fault("{\"kind\":\"assignAfterPolls\",\"deviceId\":\"%s\",\"polls\":1,\"retryAfter\":1}",
            id);
  register_ok(&cfg, id);
  /* 202 to the register and to the first poll, each followed by a 1 s pause. */
  assert_int_equal(check_pause_after(id, 202, 1000), 2);
}

static void mqtt_assigning_honours_retry_after(void **s) {
  (void)s;
  assigning_retry_after(IOTC_DPS_TRANSPORT_MQTT);
}
static void https_assigning_honours_retry_after(void **s) {
  (void)s;
  assigning_retry_after(IOTC_DPS_TRANSPORT_HTTPS);
}

static void an_mqtt_register_answered_429_waits_retry_after_then_succeeds(void **s) {
  (void)s;
  throttled_then_assigned(IOTC_DPS_TRANSPORT_MQTT, "register");
}
static void an_https_poll_answered_429_waits_retry_after_then_succeeds(void **s) {
  (void)s;
  throttled_then_assigned(IOTC_DPS_TRANSPORT_HTTPS, "poll");
}
static void an_https_register_answered_503_is_retried(void **s) {
  (void)s;
  iotc_dps_config cfg;
  char id[96];
  base(&cfg, IOTC_DPS_TRANSPORT_HTTPS, id, sizeof id);
  add_fault("{\"kind\":\"dpsThrottle\",\"deviceId\":\"%s\",\"operation\":\"register\","
           "\"status\":503,\"retryAfter\":0,\"count\":2}",
            id);
  register_ok(&cfg, id);
  /* Three register requests (two refused), then one poll. */
  assert_int_equal(emu_wire_count(&emu, id, "in", "HTTP", NULL), 4);
}

static void polls_until_assigned(iotc_dps_transport t) {
  iotc_dps_config cfg;
  char id[96];
  base(&cfg, t, id, sizeof id);
  add_fault("{\"kind\":\"assignAfterPolls\",\"deviceId\":\"%s\",\"polls\":3}",
            id);
  register_ok(&cfg, id);
  const char *poll_prefix = t == IOTC_DPS_TRANSPORT_MQTT
                                ? "$dps/registrations/GET/iotdps-get-operationstatus/"
                                : NULL;
  if (poll_prefix) {
    assert_true(emu_wire_count(&emu, id, "in", "PUBLISH", poll_prefix) >= 3);
  }
}

static void mqtt_polls_the_operation_status_until_assigned(void **s) {
  (void)s;
  polls_until_assigned(IOTC_DPS_TRANSPORT_MQTT);
}
static void https_polls_the_operation_status_until_assigned(void **s) {
  (void)s;
  polls_until_assigned(IOTC_DPS_TRANSPORT_HTTPS);
}

/* ---- refusals ----------------------------------------------------------------------------- */

static void failed_registration(iotc_dps_transport t, const char *status, iotc_result want) {
  iotc_dps_config cfg;
  char id[96];
  base(&cfg, t, id, sizeof id);
  add_fault("{\"kind\":\"dpsFail\",\"deviceId\":\"%s\",\"status\":\"%s\",\"errorCode\":400209,"
           "\"errorMessage\":\"Custom allocation failed.\"}",
            id, status);
  iotc_dps_registration reg;
  iotc_error err;
  assert_int_equal(iotc_dps_register(&cfg, &reg, &err), want);
  assert_int_equal(err.result, want);
  assert_int_equal(err.service_code, 400209);
  assert_non_null(strstr(err.message, status));
  assert_null(reg.payload_json);
}

static void a_failed_registration_surfaces_the_error_code(void **s) {
  (void)s;
  failed_registration(IOTC_DPS_TRANSPORT_MQTT, "failed", IOTC_ERR_PROVISIONING_FAILED);
  failed_registration(IOTC_DPS_TRANSPORT_HTTPS, "failed", IOTC_ERR_PROVISIONING_FAILED);
  failed_registration(IOTC_DPS_TRANSPORT_HTTPS, "disabled", IOTC_ERR_PROVISIONING_DISABLED);
}

static void bad_key(iotc_dps_transport t) {
  iotc_dps_config cfg;
  char id[96];
  base(&cfg, t, id, sizeof id);
  assert_int_equal(emu_create_device(&emu, id, NULL), 0);
  cfg.credential = IOTC_DPS_CREDENTIAL_DEVICE_KEY;
  cfg.key = "c2VjcmV0LWJ1dC13cm9uZy1rZXktMDEyMzQ1Njc4OTA="; /* valid base64, wrong key */
  iotc_dps_registration reg;
  iotc_error err;
  assert_int_equal(iotc_dps_register(&cfg, &reg, &err), IOTC_ERR_UNAUTHORIZED);
  assert_int_equal(err.status, 401);
  assert_null(strstr(err.message, cfg.key));
  assert_null(strstr(err.transport, cfg.key));
  /* Exactly one attempt: no retry storm on a refused credential. */
  if (t == IOTC_DPS_TRANSPORT_MQTT) {
    assert_int_equal(emu_wire_count(&emu, id, "in", "CONNECT", NULL), 1);
  } else {
    assert_int_equal(emu_wire_count(&emu, id, "in", "HTTP", NULL), 1);
    assert_int_equal(err.service_code, 401002);
  }
}

static void a_bad_key_is_refused_after_exactly_one_attempt_over_mqtt(void **s) {
  (void)s;
  bad_key(IOTC_DPS_TRANSPORT_MQTT);
}
static void a_bad_key_is_refused_after_exactly_one_attempt_over_https(void **s) {
  (void)s;
  bad_key(IOTC_DPS_TRANSPORT_HTTPS);
}

static void an_unknown_id_scope_is_refused(void **s) {
  (void)s;
  iotc_dps_config cfg;
  char id[96];
  base(&cfg, IOTC_DPS_TRANSPORT_HTTPS, id, sizeof id);
  cfg.id_scope = "0ne99999999";
  iotc_dps_registration reg;
  iotc_error err;
  iotc_result r = iotc_dps_register(&cfg, &reg, &err);
  assert_true(r == IOTC_ERR_UNAUTHORIZED || r == IOTC_ERR_NOT_FOUND);
}

/* ---- TLS: the server's certificate and name are checked ----------------------------------- */

static void a_server_outside_the_trusted_roots_is_refused(void **s) {
  (void)s;
  for (int t = 0; t < 2; ++t) {
    iotc_dps_config cfg;
    char id[96];
    base(&cfg, (iotc_dps_transport)t, id, sizeof id);
    cfg.ca_file = NULL; /* the Azure roots: they did not sign the emulator's certificate */
    iotc_dps_registration reg;
    iotc_error err;
    iotc_result r = iotc_dps_register(&cfg, &reg, &err);
    assert_int_equal(r, IOTC_ERR_TLS);
    /* OpenSSL's reason reaches the caller: "unable to get local issuer certificate". */
    if (strstr(err.transport, "issuer certificate") == NULL) {
      fail_msg("%s: no verify reason in \"%s\"", tname((iotc_dps_transport)t), err.transport);
    }
    if (t == IOTC_DPS_TRANSPORT_MQTT) {
      assert_non_null(strstr(err.message, "issuer certificate"));
    }
    assert_int_equal(emu_wire_count(&emu, id, "in", t ? "HTTP" : "CONNECT", NULL), 0);
  }
}

/* A second emulator whose certificate names 127.0.0.1 only: its ready line says localhost, which
 * every hosts file maps to 127.0.0.1, so dialling that reaches it under a name it does not carry. */

static void a_host_name_not_in_the_certificate_is_refused(void **s) {
  (void)s;
  for (int t = 0; t < 2; ++t) {
    iotc_dps_config cfg;
    char id[96];
    base(&cfg, (iotc_dps_transport)t, id, sizeof id);
    cfg.id_scope = emu_ip_only.id_scope;
    cfg.key = emu_ip_only.group_key;
    cfg.ca_file = emu_ip_only.ca_file;
    const char *ep = t == IOTC_DPS_TRANSPORT_MQTT ? emu_ip_only.dps_mqtt : emu_ip_only.dps_https;
    assert_true(strncmp(ep, "localhost:", 10) == 0);
    cfg.endpoint = ep;
    iotc_dps_registration reg;
    iotc_error err;
    iotc_result r = iotc_dps_register(&cfg, &reg, &err);
    if (r != IOTC_ERR_TLS) {
      fail_msg("%s: %s: %s | %s", tname((iotc_dps_transport)t), iotc_strerror(r), err.message,
               err.transport);
    }
    print_message("%s: %s | %s\n", tname((iotc_dps_transport)t), err.message, err.transport);
    /* The transport text names the mismatch (curl: "no alternative certificate subject name
     * matches target host name 'localhost'"; ours: "host name mismatch: ... not localhost"). */
    if (strstr(err.transport, "localhost") == NULL || strstr(err.transport, "name") == NULL) {
      fail_msg("%s: no host name reason in \"%s\"", tname((iotc_dps_transport)t), err.transport);
    }
    if (t == IOTC_DPS_TRANSPORT_MQTT) {
      assert_non_null(strstr(err.transport, "host name mismatch"));
      assert_non_null(strstr(err.message, "host name mismatch"));
    }
    assert_int_equal(emu_wire_count(&emu_ip_only, id, "in", t ? "HTTP" : "CONNECT", NULL), 0);
    /* Same server, same CA, under the name its certificate carries: accepted. */
    char by_ip[300];
    snprintf(by_ip, sizeof by_ip, "127.0.0.1%s", strrchr(ep, ':'));
    cfg.endpoint = by_ip;
    r = iotc_dps_register(&cfg, &reg, &err);
    if (r != IOTC_OK) fail_msg("%s: %s: %s", id, iotc_strerror(r), err.message);
    assert_string_equal(reg.status, "assigned");
    assert_string_equal(reg.device_id, id);
    iotc_dps_registration_clear(&reg);
  }
}

/* ---- cancel and timeout ------------------------------------------------------------------- */

typedef struct runner {
  iotc_dps *dps;
  iotc_result result;
  iotc_error err;
} runner;

static void *run_thread(void *arg) {
  runner *r = arg;
  iotc_dps_registration reg;
  r->result = iotc_dps_run(r->dps, &reg, &r->err);
  iotc_dps_registration_clear(&reg);
  return NULL;
}

static void cancel_while_waiting(iotc_dps_transport t) {
  iotc_dps_config cfg;
  char id[96];
  base(&cfg, t, id, sizeof id);
  cfg.timeout_ms = 120000;
  add_fault("{\"kind\":\"dpsThrottle\",\"deviceId\":\"%s\",\"operation\":\"register\","
           "\"status\":429,\"retryAfter\":100,\"count\":1}",
            id);
  runner r = {0};
  iotc_error err;
  assert_int_equal(iotc_dps_create(&cfg, &r.dps, &err), IOTC_OK);
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, run_thread, &r), 0);
  /* Wait until the emulator has sent the 429: the client is now in its 100 s back-off. */
  for (int i = 0; i < 600; ++i) {
    json_t *w = emu_wire(&emu, id, 0);
    bool seen = false;
    size_t k;
    json_t *e;
    json_array_foreach(w, k, e) { seen |= answer_status(e) == 429; }
    json_decref(w);
    if (seen) {
      break;
    }
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
  }
  iotc_dps_cancel(r.dps);
  pthread_join(th, NULL);
  assert_int_equal(r.result, IOTC_ERR_CANCELLED);
  iotc_dps_destroy(r.dps);
}

static void a_cancel_from_another_thread_stops_mqtt(void **s) {
  (void)s;
  cancel_while_waiting(IOTC_DPS_TRANSPORT_MQTT);
}
static void a_cancel_from_another_thread_stops_https(void **s) {
  (void)s;
  cancel_while_waiting(IOTC_DPS_TRANSPORT_HTTPS);
}

static void the_overall_timeout_ends_endless_assigning(void **s) {
  (void)s;
  for (int t = 0; t < 2; ++t) {
    iotc_dps_config cfg;
    char id[96];
    base(&cfg, (iotc_dps_transport)t, id, sizeof id);
    /* Always assigning, retry-after 30 s capped to 400 ms: polls until the deadline. */
    cfg.timeout_ms = 1500;
    cfg.max_poll_interval_ms = 400;
    add_fault("{\"kind\":\"assignAfterPolls\",\"deviceId\":\"%s\",\"polls\":1000,\"retryAfter\":30}",
              id);
    iotc_dps_registration reg;
    iotc_error err;
    assert_int_equal(iotc_dps_register(&cfg, &reg, &err), IOTC_ERR_TIMEOUT);
    assert_true(check_pause_after(id, 202, 400) >= 2);
  }
}

static void throttling_beyond_the_deadline_reports_throttled(void **s) {
  (void)s;
  iotc_dps_config cfg;
  char id[96];
  base(&cfg, IOTC_DPS_TRANSPORT_HTTPS, id, sizeof id);
  cfg.timeout_ms = 5000;
  add_fault("{\"kind\":\"dpsThrottle\",\"deviceId\":\"%s\",\"status\":429,\"retryAfter\":60}",
            id);
  iotc_dps_registration reg;
  iotc_error err;
  assert_int_equal(iotc_dps_register(&cfg, &reg, &err), IOTC_ERR_THROTTLED);
  assert_int_equal(err.status, 429);
}

/* ---- malformed responses ------------------------------------------------------------------ */

static void malformed(iotc_dps_transport t, const char *operation, const char *body_json,
                      iotc_result want) {
  iotc_dps_config cfg;
  char id[96];
  base(&cfg, t, id, sizeof id);
  size_t n = strlen(body_json) + 256;
  char *fault = malloc(n);
  snprintf(fault, n,
           "{\"kind\":\"malformedDps\",\"deviceId\":\"%s\",\"operation\":\"%s\",\"status\":200,"
           "\"body\":%s}",
           id, operation, body_json);
  assert_int_equal(emu_fault(&emu, fault), 0);
  free(fault);
  iotc_dps_registration reg;
  iotc_error err;
  iotc_result r = iotc_dps_register(&cfg, &reg, &err);
  if (r != want) {
    fail_msg("%s %s: got %s (%s), want %s", tname(t), operation, iotc_strerror(r), err.message,
             iotc_strerror(want));
  }
  assert_null(reg.payload_json);
}

static void malformed_responses_are_clear_errors(void **s) {
  (void)s;
  for (int t = 0; t < 2; ++t) {
    iotc_dps_transport tr = (iotc_dps_transport)t;
    malformed(tr, "poll", "\"{\\\"operationId\\\":\\\"x\\\",\\\"status\\\":\\\"assigned\\\",\\\"registrationState\\\":\"",
              IOTC_ERR_MALFORMED);
    malformed(tr, "register", "\"not json at all\"", IOTC_ERR_MALFORMED);
    malformed(tr, "register", "\"[1,2,3]\"", IOTC_ERR_MALFORMED);
    malformed(tr, "poll", "\"{\\\"status\\\":\\\"assigned\\\",\\\"registrationState\\\":{\\\"deviceId\\\":\\\"d\\\"}}\"",
              IOTC_ERR_MALFORMED);
  }
}

static void oversized_responses_are_protocol_errors(void **s) {
  (void)s;
  size_t big = 70000;
  char *body = malloc(big + 3);
  body[0] = '"';
  memset(body + 1, 'x', big);
  body[big + 1] = '"';
  body[big + 2] = '\0';
  malformed(IOTC_DPS_TRANSPORT_HTTPS, "register", body, IOTC_ERR_PROTOCOL);
  malformed(IOTC_DPS_TRANSPORT_MQTT, "register", body, IOTC_ERR_PROTOCOL);
  free(body);
}

static int setup(void **state) {
  (void)state;
  if (emu_load(&emu) != 0) {
    return -1;
  }
  snprintf(tmpdir, sizeof tmpdir, "/tmp/iotc-dps-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(a_device_key_registers_over_mqtt),
      cmocka_unit_test(a_device_key_registers_over_https),
      cmocka_unit_test(a_group_key_registers_over_mqtt),
      cmocka_unit_test(a_group_key_registers_over_https),
      cmocka_unit_test(an_x509_certificate_registers_over_mqtt),
      cmocka_unit_test(an_x509_certificate_registers_over_https),
      cmocka_unit_test(an_mqtt_register_answered_429_waits_retry_after_then_succeeds),
      cmocka_unit_test(an_https_poll_answered_429_waits_retry_after_then_succeeds),
      cmocka_unit_test(an_https_register_answered_503_is_retried),
      cmocka_unit_test(mqtt_assigning_honours_retry_after),
      cmocka_unit_test(https_assigning_honours_retry_after),
      cmocka_unit_test(mqtt_polls_the_operation_status_until_assigned),
      cmocka_unit_test(https_polls_the_operation_status_until_assigned),
      cmocka_unit_test(a_failed_registration_surfaces_the_error_code),
      cmocka_unit_test(a_bad_key_is_refused_after_exactly_one_attempt_over_mqtt),
      cmocka_unit_test(a_bad_key_is_refused_after_exactly_one_attempt_over_https),
      cmocka_unit_test(an_unknown_id_scope_is_refused),
      cmocka_unit_test(a_server_outside_the_trusted_roots_is_refused),
      cmocka_unit_test_setup_teardown(a_host_name_not_in_the_certificate_is_refused,
                                      emu_ip_only_start, emu_ip_only_stop),
      cmocka_unit_test(a_cancel_from_another_thread_stops_mqtt),
      cmocka_unit_test(a_cancel_from_another_thread_stops_https),
      cmocka_unit_test(the_overall_timeout_ends_endless_assigning),
      cmocka_unit_test(throttling_beyond_the_deadline_reports_throttled),
      cmocka_unit_test(malformed_responses_are_clear_errors),
      cmocka_unit_test(oversized_responses_are_protocol_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
