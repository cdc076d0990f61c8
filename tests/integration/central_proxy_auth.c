/* SPDX-License-Identifier: MIT */
/* The device client through an HTTP CONNECT proxy that wants Basic credentials
 * (https_proxy=http://user:pass%40word@host:port, '@' escaped as in any URL), against an emulator of this test's own in
 * standard-ports mode: MQTT over WebSockets (DPS and hub) and HTTPS provisioning go through it
 * on 443; a proxy that refuses (407, 403, 502) or hangs up gives an error naming the proxy's
 * answer. The password never appears in iotc's log (debug level), in an error, or in the proxy's
 * command line (it gets it through its environment). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "central.h"
#include "proxy_proc.h"
#include "iotc/client.h"
#include "iotc/log.h"

#define USER "fielddev"
#define PASSWORD "Pr0xy@s3cret_42"
#define PASSWORD_IN_URL "Pr0xy%40s3cret_42" /* '@' escaped, as in any URL */

static emu_info emu;
static proxy_proc proxy;
static char tmpdir[256];

/* Everything iotc logs, to look for the password in. */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static bool password_logged;
static size_t log_lines;

static void log_fn(iotc_log_level level, const char *message, void *ctx) {
  (void)level;
  (void)ctx;
  pthread_mutex_lock(&log_mu);
  log_lines++;
  if (strstr(message, PASSWORD) != NULL || strstr(message, PASSWORD_IN_URL) != NULL) {
    password_logged = true;
  }
  pthread_mutex_unlock(&log_mu);
}

static int start_proxy(const char *credentials, const char *mode) {
  return proxy_start(&proxy, tmpdir, credentials, mode);
}

static int stop_proxy(void **state) {
  (void)state;
  proxy_stop(&proxy);
  unsetenv("https_proxy");
  unsetenv("HTTPS_PROXY");
  return 0;
}

/* The proxy's command line (/proc/PID/cmdline) does not hold the password. */
static void assert_password_not_in_cmdline(void) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)proxy.pid);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  for (size_t i = 0; i < n; i++) buf[i] = buf[i] ? buf[i] : ' ';
  buf[n] = '\0';
  assert_null(strstr(buf, PASSWORD));
}

/* Tunnels to host (":443" added when it has no port) the proxy logged with auth=@p auth. */
static int tunnels(const char *host, const char *auth) {
  char want[400], line[400];
  snprintf(want, sizeof want, "CONNECT %s%s auth=%s\n", host, strchr(host, ':') ? "" : ":443",
           auth);
  FILE *f = fopen(proxy.log, "r");
  if (f == NULL) return 0;
  int n = 0;
  while (fgets(line, sizeof line, f)) n += strcmp(line, want) == 0;
  fclose(f);
  return n;
}

static void set_proxy(const char *credentials) {
  char url[300];
  snprintf(url, sizeof url, "http://%s%s127.0.0.1:%d", credentials ? credentials : "",
           credentials ? "@" : "", proxy.port);
  setenv("https_proxy", url, 1);
}

static void config(iotc_client_config *cfg, const char *id, bool https) {
  iotc_client_config_init(cfg);
  cfg->id_scope = emu.id_scope;
  cfg->device_id = id;
  cfg->group_key = emu.group_key;
  cfg->dps_endpoint = https ? emu.dps_https : emu.dps_mqtt;
  cfg->dps_over_https = https;
  cfg->ca_file = emu.ca_file;
  cfg->transport = IOTC_TRANSPORT_MQTT_WS;
  cfg->reconnect_min_ms = 100;
  cfg->give_up_after = 1;
  cfg->connect_timeout_ms = 10000;
}

static void connects_through_the_proxy(bool https) {
  assert_int_equal(start_proxy(USER ":" PASSWORD, NULL), 0);
  assert_password_not_in_cmdline();
  set_proxy(USER ":" PASSWORD_IN_URL);
  char id[128], hub[300];
  emu_unique_id(https ? "pxa-h" : "pxa-ws", id, sizeof id);
  iotc_client_config cfg;
  config(&cfg, id, https);
  iotc_client *client = NULL;
  iotc_error err;
  assert_int_equal(iotc_client_create(&cfg, &client, &err), IOTC_OK);
  iotc_result r = iotc_client_connect(client, 60000, &err);
  if (r != IOTC_OK) fprintf(stderr, "connect: %s (%s)\n", iotc_strerror(r), err.message);
  assert_int_equal(r, IOTC_OK);
  assert_int_equal(central_send_telemetry_wait(client, "{\"seq\":5}"), IOTC_OK);
  assert_int_equal(emu_wait_telemetry(&emu, id, "seq", 5), 0);
  assert_int_equal(iotc_client_get_hub(client, hub, sizeof hub, NULL, 0), IOTC_OK);
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
  assert_true(tunnels(https ? emu.dps_https : emu.dps_mqtt, "ok") >= 1);
  assert_int_equal(tunnels(hub, "ok"), 1);
  assert_int_equal(emu_websocket_connects(&emu, id, "hub"), 1);
  assert_int_equal(emu_websocket_connects(&emu, id, "dps"), https ? 0 : 1);
}

static void mqtt_ws_goes_through_an_authenticating_proxy(void **state) {
  (void)state;
  connects_through_the_proxy(false);
}

static void https_provisioning_goes_through_an_authenticating_proxy(void **state) {
  (void)state;
  connects_through_the_proxy(true);
}

/* A refusing proxy: the connect gives up with an error naming its answer, never the password. */
static void refused(const char *mode, const char *credentials, bool https, const char *want) {
  assert_int_equal(start_proxy(USER ":" PASSWORD, mode), 0);
  set_proxy(credentials);
  char id[128];
  emu_unique_id("pxa-no", id, sizeof id);
  iotc_client_config cfg;
  config(&cfg, id, https);
  iotc_client *client = NULL;
  iotc_error err;
  assert_int_equal(iotc_client_create(&cfg, &client, &err), IOTC_OK);
  iotc_result r = iotc_client_connect(client, 60000, &err);
  printf("proxy %s%s: %s: %s\n", mode ? mode : "407", https ? " (DPS over HTTPS)" : "",
         iotc_strerror(r), err.message);
  assert_int_not_equal(r, IOTC_OK);
  assert_non_null(strstr(err.message, want));
  assert_null(strstr(err.message, PASSWORD));
  assert_null(strstr(err.message, PASSWORD_IN_URL));
  assert_null(strstr(err.transport, PASSWORD));
  iotc_client_destroy(client);
}

static void wrong_credentials_are_named_407(void **state) {
  (void)state;
  refused(NULL, USER ":wrong-password", false, "407 Proxy Authentication Required");
}

static void missing_credentials_are_named_407_over_https_too(void **state) {
  (void)state;
  refused(NULL, NULL, true, "407");
}

static void a_forbidding_proxy_is_named_403(void **state) {
  (void)state;
  refused("403", USER ":" PASSWORD_IN_URL, false, "403 Forbidden");
}

static void a_proxy_that_cannot_reach_the_service_is_named_502(void **state) {
  (void)state;
  refused("502", USER ":" PASSWORD_IN_URL, false, "502 Bad Gateway");
}

static void a_proxy_that_hangs_up_is_named(void **state) {
  (void)state;
  refused("hangup", USER ":" PASSWORD_IN_URL, false, "closed the connection without answering");
}

/* The hub connection (a connection string, no DPS) behind a proxy that forbids it. */
static void a_hub_behind_a_forbidding_proxy_is_named(void **state) {
  (void)state;
  assert_int_equal(start_proxy(USER ":" PASSWORD, "403"), 0);
  set_proxy(USER ":" PASSWORD_IN_URL);
  emu_direct_device dev;
  assert_int_equal(emu_provision_direct(&emu, "pxa-hub", 1, &dev), 0);
  const char *cs = dev.connection_string;
  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.connection_string = cs;
  cfg.ca_file = emu.ca_file;
  cfg.transport = IOTC_TRANSPORT_MQTT_WS;
  cfg.give_up_after = 1;
  iotc_client *client = NULL;
  iotc_error err;
  assert_int_equal(iotc_client_create(&cfg, &client, &err), IOTC_OK);
  iotc_result r = iotc_client_connect(client, 60000, &err);
  printf("proxy 403 before the hub: %s: %s\n", iotc_strerror(r), err.message);
  assert_int_equal(r, IOTC_ERR_CONNECT);
  assert_non_null(strstr(err.message, "refused the tunnel"));
  assert_non_null(strstr(err.message, "403 Forbidden"));
  assert_null(strstr(err.message, PASSWORD_IN_URL));
  iotc_client_destroy(client);
}

static void the_password_was_never_logged(void **state) {
  (void)state;
  pthread_mutex_lock(&log_mu);
  bool logged = password_logged;
  size_t lines = log_lines;
  pthread_mutex_unlock(&log_mu);
  assert_true(lines > 0);
  assert_false(logged);
}

static int setup(void **state) {
  (void)state;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/iotc-proxy-auth-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return -1;
  iotc_log_set_handler(log_fn, IOTC_LOG_DEBUG, NULL);
  const char *args[] = {"--ports", "standard", "--retry-after", "0", NULL};
  return emu_start(args, &emu);
}

static int teardown(void **state) {
  (void)state;
  emu_stop(&emu);
  iotc_log_set_handler(NULL, IOTC_LOG_ERROR, NULL);
  rmdir(tmpdir);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(mqtt_ws_goes_through_an_authenticating_proxy, stop_proxy),
      cmocka_unit_test_teardown(https_provisioning_goes_through_an_authenticating_proxy, stop_proxy),
      cmocka_unit_test_teardown(wrong_credentials_are_named_407, stop_proxy),
      cmocka_unit_test_teardown(missing_credentials_are_named_407_over_https_too, stop_proxy),
      cmocka_unit_test_teardown(a_forbidding_proxy_is_named_403, stop_proxy),
      cmocka_unit_test_teardown(a_proxy_that_cannot_reach_the_service_is_named_502, stop_proxy),
      cmocka_unit_test_teardown(a_proxy_that_hangs_up_is_named, stop_proxy),
      cmocka_unit_test_teardown(a_hub_behind_a_forbidding_proxy_is_named, stop_proxy),
      cmocka_unit_test(the_password_was_never_logged),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
