/* SPDX-License-Identifier: MIT */
/* The device client behind an HTTP CONNECT proxy, end to end: a tiny proxy (Node, started here
 * and stopped by PID) logs every CONNECT it tunnels. With https_proxy=http://... both DPS over
 * MQTT and the hub connection go through it; DPS over HTTPS (libcurl) too; HTTPS_PROXY with
 * no_proxy naming the host connects directly; https_proxy with no_proxy naming the host is
 * refused with a clear error, because Paho 1.3.12 would use the proxy anyway. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "central.h"

/* argv: log file, parent pid. Prints "PORT n" when listening; logs "CONNECT host:port". It dials
 * every address the host resolves to in turn, as a proxy must: on a stock Debian, localhost is ::1
 * first and 127.0.0.1 second, and Node 18 tries only the first by itself. */
static const char proxy_js[] =
    "const net=require('net'),fs=require('fs'),dns=require('dns');const [log,ppid]=process.argv.slice(1);"
    "const dial=(addrs,port,ok,fail)=>{if(!addrs.length)return fail();"
    "const u=net.connect(port,addrs[0].address,()=>{u.removeAllListeners('error');ok(u);});"
    "u.once('error',()=>dial(addrs.slice(1),port,ok,fail));};"
    "const srv=net.createServer(c=>{c.on('error',()=>{});c.once('data',d=>{"
    "const t=d.toString('latin1');const m=/^CONNECT ([^\\s]+):(\\d+) HTTP\\/1\\.[01]\\r\\n/.exec(t);"
    "const end=t.indexOf('\\r\\n\\r\\n');"
    "if(!m||end<0){c.end('HTTP/1.1 400 Bad Request\\r\\n\\r\\n');return;}"
    "fs.appendFileSync(log,'CONNECT '+m[1]+':'+m[2]+'\\n');"
    "const bad=()=>c.end('HTTP/1.1 502 Bad Gateway\\r\\n\\r\\n');"
    "dns.lookup(m[1].replace(/^\\[|\\]$/g,''),{all:true},(e,addrs)=>{if(e)return bad();"
    "dial(addrs,+m[2],u=>{c.write('HTTP/1.1 200 Connection established\\r\\n\\r\\n');"
    "const rest=d.subarray(end+4);if(rest.length)u.write(rest);c.pipe(u);u.pipe(c);"
    "u.on('error',()=>c.destroy());c.on('close',()=>u.destroy());},bad);});});});"
    "srv.listen(0,'127.0.0.1',()=>process.stdout.write('PORT '+srv.address().port+'\\n'));"
    "setInterval(()=>{try{process.kill(+ppid,0)}catch(e){process.exit(0)}},500);";

static const emu_info *emu;
static pid_t proxy_pid = -1;
static int proxy_port;
static char proxy_log[300];
static char tmpdir[256];

static int start_proxy(void) {
  snprintf(proxy_log, sizeof proxy_log, "%s/proxy.log", tmpdir);
  int fds[2];
  if (pipe(fds) != 0) return -1;
  char ppid[32];
  snprintf(ppid, sizeof ppid, "%d", (int)getpid());
  proxy_pid = fork();
  if (proxy_pid < 0) return -1;
  if (proxy_pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execlp("node", "node", "-e", proxy_js, proxy_log, ppid, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  char line[64] = "";
  int ok = f && fgets(line, sizeof line, f) && sscanf(line, "PORT %d", &proxy_port) == 1;
  if (f) fclose(f);
  return ok ? 0 : -1;
}

static void stop_proxy(void) {
  if (proxy_pid > 0) {
    kill(proxy_pid, SIGTERM);
    waitpid(proxy_pid, NULL, 0);
    proxy_pid = -1;
  }
  unlink(proxy_log);
}

/* How many CONNECTs to exactly host:port the proxy tunnelled; a host without a port (the
 * emulator's standard-ports mode, as in the cloud) means its default port. */
static int proxy_connects_to(const char *hostport, int default_port) {
  FILE *f = fopen(proxy_log, "r");
  if (f == NULL) return 0;
  char want[320], line[400];
  if (strchr(hostport, ':') != NULL)
    snprintf(want, sizeof want, "CONNECT %s\n", hostport);
  else
    snprintf(want, sizeof want, "CONNECT %s:%d\n", hostport, default_port);
  int n = 0;
  while (fgets(line, sizeof line, f)) n += strcmp(line, want) == 0;
  fclose(f);
  return n;
}

static int proxy_connects(const char *mqtt_hostport) { return proxy_connects_to(mqtt_hostport, 8883); }

/* A no_proxy list naming the emulator's hosts (localhost, or standard mode's addresses). */
static void set_no_proxy(const char *name, const char *first) {
  char list[1024], host[300];
  snprintf(list, sizeof list, "%s", first);
  const char *hosts[] = {emu->dps_mqtt, emu->dps_https, emu->hubs[0], emu->hubs[1]};
  for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; ++i) {
    snprintf(host, sizeof host, "%s", hosts[i]);
    char *colon = strchr(host, ':');
    if (colon) *colon = '\0';
    if (strstr(list, host) == NULL && strlen(list) + strlen(host) + 3 < sizeof list) {
      strcat(list, ", ");
      strcat(list, host);
    }
  }
  setenv(name, list, 1);
}

static int proxy_total(void) {
  FILE *f = fopen(proxy_log, "r");
  if (f == NULL) return 0;
  int n = 0, c;
  while ((c = fgetc(f)) != EOF) n += c == '\n';
  fclose(f);
  return n;
}

static void clear_env(void) {
  unsetenv("https_proxy");
  unsetenv("HTTPS_PROXY");
  unsetenv("no_proxy");
  unsetenv("NO_PROXY");
}

/* Runs after every case, also one whose assertion failed: no proxy setting leaks into the next. */
static int clear_env_after(void **state) {
  (void)state;
  clear_env();
  return 0;
}

static void config(iotc_client_config *cfg, const char *id, bool https) {
  central_group_config(id, cfg);
  cfg->model_id = NULL;
  cfg->dps_endpoint = https ? emu->dps_https : emu->dps_mqtt;
  cfg->dps_over_https = https;
}

/* Connect (must succeed), send one message, close; the hub used goes to @p hub. */
static void run_client(const iotc_client_config *cfg, const char *id, char *hub, size_t size) {
  iotc_client *client = central_client(cfg);
  assert_non_null(client);
  assert_int_equal(central_connect(client), 0);
  assert_int_equal(iotc_client_get_hub(client, hub, size, NULL, 0), IOTC_OK);
  assert_int_equal(central_telemetry_round_trip(client, id, 11), 0);
  assert_int_equal(iotc_client_disconnect(client, 5000), IOTC_OK);
  iotc_client_destroy(client);
}

static void mqtt_dps_and_the_hub_go_through_an_http_proxy(void **state) {
  (void)state;
  char id[128], proxy[64], hub[300];
  emu_unique_id("proxy", id, sizeof id);
  snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", proxy_port); /* the form users write */
  setenv("https_proxy", proxy, 1);
  iotc_client_config cfg;
  config(&cfg, id, false);
  run_client(&cfg, id, hub, sizeof hub);
  clear_env();
  assert_int_equal(proxy_connects(emu->dps_mqtt), 1);
  assert_int_equal(proxy_connects(hub), 1);
}

static void https_provisioning_goes_through_the_proxy_too(void **state) {
  (void)state;
  char id[128], proxy[64], hub[300];
  emu_unique_id("proxyh", id, sizeof id);
  snprintf(proxy, sizeof proxy, "127.0.0.1:%d", proxy_port); /* no scheme */
  setenv("HTTPS_PROXY", proxy, 1);
  int dps_before = proxy_connects_to(emu->dps_https, 443);
  iotc_client_config cfg;
  config(&cfg, id, true);
  int hub_before[2] = {proxy_connects(emu->hubs[0]), proxy_connects(emu->hubs[1])};
  run_client(&cfg, id, hub, sizeof hub);
  clear_env();
  assert_true(proxy_connects_to(emu->dps_https, 443) > dps_before);
  int i = strcmp(hub, emu->hubs[0]) == 0 ? 0 : 1;
  assert_int_equal(proxy_connects(emu->hubs[i]), hub_before[i] + 1);
}

static void no_proxy_connects_directly_when_only_https_proxy_upper_case_is_set(void **state) {
  (void)state;
  char id[128], proxy[64], hub[300];
  emu_unique_id("noproxy", id, sizeof id);
  snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", proxy_port);
  setenv("HTTPS_PROXY", proxy, 1);
  set_no_proxy("no_proxy", "example.org");
  int before = proxy_total();
  iotc_client_config cfg;
  config(&cfg, id, false);
  run_client(&cfg, id, hub, sizeof hub);
  clear_env();
  assert_int_equal(proxy_total(), before);
}

static void no_proxy_with_lower_case_https_proxy_is_refused_with_a_clear_error(void **state) {
  (void)state;
  char id[128], proxy[64];
  emu_unique_id("refused", id, sizeof id);
  snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", proxy_port);
  setenv("https_proxy", proxy, 1);
  set_no_proxy("NO_PROXY", "example.org");
  int before = proxy_total();
  iotc_client_config cfg;
  config(&cfg, id, false);
  central_statuses log;
  central_statuses_init(&log);
  iotc_client *client = NULL;
  assert_int_equal(iotc_client_create(&cfg, &client, NULL), IOTC_OK);
  assert_int_equal(iotc_client_on_status(client, central_on_status, &log), IOTC_OK);
  iotc_error err;
  assert_int_equal(iotc_client_connect(client, 60000, &err), IOTC_ERR_NOT_SUPPORTED);
  assert_non_null(strstr(err.message, "no_proxy"));
  iotc_client_disconnect(client, 1000);
  iotc_client_destroy(client);
  clear_env();
  assert_int_equal(central_status_count(&log, IOTC_STATUS_GAVE_UP), 1);
  central_statuses_destroy(&log);
  assert_int_equal(proxy_total(), before);
  assert_int_equal(emu_wire_count(emu, id, NULL, "CONNECT", NULL), 0); /* nothing was sent */
}

int main(void) {
  emu = central_emu();
  snprintf(tmpdir, sizeof tmpdir, "/tmp/iotc-proxy-XXXXXX");
  if (mkdtemp(tmpdir) == NULL) return 1;
  clear_env();
  if (start_proxy() != 0) {
    fprintf(stderr, "could not start the test proxy (node)\n");
    stop_proxy();
    rmdir(tmpdir);
    return 1;
  }
  central_log_warnings();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(mqtt_dps_and_the_hub_go_through_an_http_proxy, clear_env_after),
      cmocka_unit_test_teardown(https_provisioning_goes_through_the_proxy_too, clear_env_after),
      cmocka_unit_test_teardown(no_proxy_connects_directly_when_only_https_proxy_upper_case_is_set, clear_env_after),
      cmocka_unit_test_teardown(no_proxy_with_lower_case_https_proxy_is_refused_with_a_clear_error, clear_env_after),
  };
  if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  stop_proxy();
  rmdir(tmpdir);
  return rc;
}
