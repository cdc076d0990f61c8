/* SPDX-License-Identifier: MIT */
/* The real environmental sensor program (examples/environmental_sensor), run as a subprocess
 * and driven through the operator API: what the tutorial's device does, and that Q, SIGTERM
 * and end of input each quit it cleanly. $IOTC_SENSOR_BIN names the program. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "central.h"

extern char **environ;

typedef struct sensor_proc {
  pid_t pid;
  int stdin_fd;
  char log_path[256];
} sensor_proc;

/* Start the sensor with IOTC_* settings given as "NAME=value" strings (NULL-terminated). */
static int sensor_start(sensor_proc *p, const char *const *settings, const char *const *args) {
  const char *bin = getenv("IOTC_SENSOR_BIN");
  if (!bin || !*bin) {
    fprintf(stderr, "IOTC_SENSOR_BIN is not set\n");
    return -1;
  }
  char *envp[256];
  size_t n = 0;
  for (char **e = environ; *e && n < 200; e++)
    if (strncmp(*e, "IOTC_", 5) != 0 || strncmp(*e, "IOTC_EMULATOR_INFO=", 19) == 0) envp[n++] = *e;
  for (const char *const *s = settings; *s && n < 255; s++) envp[n++] = (char *)*s;
  envp[n] = NULL;
  char *argv[32];
  size_t a = 0;
  argv[a++] = (char *)bin;
  for (const char *const *s = args; s && *s && a < 31; s++) argv[a++] = (char *)*s;
  argv[a] = NULL;

  snprintf(p->log_path, sizeof p->log_path, "/tmp/iotc-sensor-%ld-%d.log", (long)getpid(), rand());
  int in[2];
  if (pipe(in) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
  posix_spawn_file_actions_addclose(&fa, in[1]);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, p->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  int rc = posix_spawn(&p->pid, bin, &fa, NULL, argv, envp);
  posix_spawn_file_actions_destroy(&fa);
  close(in[0]);
  if (rc != 0) {
    close(in[1]);
    fprintf(stderr, "posix_spawn %s: %s\n", bin, strerror(rc));
    return -1;
  }
  p->stdin_fd = in[1];
  return 0;
}

/* Wait for the sensor to exit (a guard of CENTRAL_WAIT_MS, then SIGKILL); returns its status. */
static int sensor_wait(sensor_proc *p) {
  uint64_t deadline = central_now_ms() + CENTRAL_WAIT_MS;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) break;
    if (central_now_ms() > deadline) {
      fprintf(stderr, "the sensor did not exit: killing it\n");
      kill(p->pid, SIGKILL);
      waitpid(p->pid, &status, 0);
      status = -1;
      break;
    }
    central_sleep_ms(50);
  }
  if (p->stdin_fd >= 0) close(p->stdin_fd);
  p->stdin_fd = -1;
  return status;
}

static char *sensor_output(const sensor_proc *p) {
  FILE *f = fopen(p->log_path, "r");
  if (!f) return strdup("");
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return strdup(buf);
}

static void sensor_finish(sensor_proc *p, const char *const *expected_lines) {
  char *out = sensor_output(p);
  bool all = true;
  for (const char *const *line = expected_lines; line && *line; line++) {
    if (!strstr(out, *line)) {
      fprintf(stderr, "the sensor's output lacks \"%s\"\n", *line);
      all = false;
    }
  }
  if (!all) fprintf(stderr, "---- sensor output ----\n%s---- end ----\n", out);
  free(out);
  unlink(p->log_path);
  assert_true(all);
}

/* The sensor's IOTC_* environment for one device on the emulator. */
typedef struct sensor_env {
  char scope[128], id[160], key[160], dps[300], ca[1100];
  const char *list[8]; /* NULL-terminated, for sensor_start() */
} sensor_env;

static void sensor_env_fill(sensor_env *env, const char *device_id, const char *key_var,
                            const char *key, const char *dps, const char *extra) {
  const emu_info *emu = central_emu();
  snprintf(env->scope, sizeof env->scope, "IOTC_ID_SCOPE=%s", emu->id_scope);
  snprintf(env->id, sizeof env->id, "IOTC_DEVICE_ID=%s", device_id);
  snprintf(env->key, sizeof env->key, "%s=%s", key_var, key);
  snprintf(env->dps, sizeof env->dps, "IOTC_DPS_ENDPOINT=%s", dps);
  snprintf(env->ca, sizeof env->ca, "IOTC_CA_FILE=%s", emu->ca_file);
  const char *list[] = {env->scope, env->id, env->key, env->dps, env->ca, extra, NULL};
  memcpy(env->list, list, sizeof list);
}

static int64_t int_at(json_t *obj, const char *key) {
  return json_integer_value(json_object_get(obj, key));
}

static bool has_diagnostics(json_t *body, void *ctx) {
  (void)ctx;
  json_t *d = json_object_get(body, "rundiagnostics");
  const char *v = json_string_value(json_is_object(d) ? json_object_get(d, "value") : d);
  return v && strncmp(v, "Diagnostics run complete at ", 28) == 0;
}

static void the_sensor_does_what_the_tutorial_device_does(void **state) {
  (void)state;
  const emu_info *emu = central_emu();
  central_device dev;
  assert_int_equal(central_device_new("sensor", &dev), 0);
  sensor_env env;
  sensor_env_fill(&env, dev.id, "IOTC_DEVICE_KEY", dev.key, emu->dps_mqtt, NULL);
  const char *const *settings = env.list;
  const char *args[] = {"--interval-ms", "500", NULL};
  sensor_proc p;
  assert_int_equal(sensor_start(&p, settings, args), 0);

  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/methods/POST/#"), 0);
  assert_int_equal(central_wait_subscribed(dev.id, "$iothub/twin/PATCH/properties/desired/#"), 0);
  json_t *messages = central_wait_messages(dev.id, 2);
  assert_non_null(messages);
  size_t i;
  json_t *m;
  json_array_foreach(messages, i, m) {
    json_t *body = json_object_get(m, "json");
    int64_t temp = int_at(body, "temp"), humid = int_at(body, "humid");
    assert_true(temp >= 1 && temp <= 75);
    assert_true(humid >= 30 && humid <= 99);
    assert_int_equal(json_object_size(body), 2);
  }
  json_decref(messages);

  json_t *view = central_get("/api/devices/%s", dev.id);
  assert_string_equal(json_string_value(json_object_get(view, "template")),
                      "dtmi:com:example:iotc:EnvironmentalSensor;1");
  json_decref(view);
  json_t *props = central_properties(dev.id, NULL);
  assert_true(json_is_true(json_object_get(props, "state")));
  assert_string_equal(json_string_value(json_object_get(props, "swVersion")), "1.0.0");
  assert_true(json_string_length(json_object_get(props, "processorArchitecture")) > 0);
  json_decref(props);

  long status = 0;
  json_t *r = central_command(dev.id, NULL, "blink", "{\"request\":2}", &status);
  assert_int_equal(int_at(r, "responseCode"), 200);
  assert_string_equal(json_string_value(json_object_get(json_object_get(r, "response"), "description")),
                      "Blinking LED every 2 seconds");
  json_decref(r);
  assert_int_equal(central_command_code(dev.id, NULL, "blink", "{\"request\":\"often\"}"), 400);
  assert_int_equal(central_command_code(dev.id, NULL, "turnon", "{}"), 200);
  assert_int_equal(central_command_code(dev.id, NULL, "turnoff", "{}"), 200);
  assert_int_equal(central_command_code(dev.id, NULL, "rundiagnostics", "{}"), 202);

  assert_int_equal(central_patch(dev.id, NULL, "{\"name\":\"Kitchen\",\"brightness\":4}"), 200);
  json_t *acked = central_wait_ack(dev.id, NULL, "brightness");
  assert_non_null(acked);
  json_decref(acked);
  acked = central_wait_ack(dev.id, NULL, "name");
  assert_non_null(acked);
  json_t *meta = json_object_get(acked, "$metadata");
  for (const char *const *n = (const char *const[]){"name", "brightness", NULL}; *n; n++) {
    json_t *pm = json_object_get(meta, *n);
    assert_int_equal(int_at(pm, "ackCode"), 200);
    assert_int_equal(int_at(pm, "ackVersion"), int_at(pm, "desiredVersion"));
    assert_string_equal(json_string_value(json_object_get(pm, "ackDescription")), "completed");
  }
  assert_string_equal(json_string_value(json_object_get(acked, "name")), "Kitchen");
  assert_int_equal(int_at(acked, "brightness"), 4);
  json_decref(acked);

  /* A value the model does not allow is refused with a 4xx acknowledgement. */
  assert_int_equal(central_patch(dev.id, NULL, "{\"brightness\":\"dazzling\"}"), 200);
  acked = central_wait_ack(dev.id, NULL, "brightness");
  assert_non_null(acked);
  assert_int_equal(int_at(json_object_get(json_object_get(acked, "$metadata"), "brightness"), "ackCode"), 400);
  json_decref(acked);

  bool done = false;
  char path[512];
  snprintf(path, sizeof path, "/api/devices/%s/properties", dev.id);
  json_t *diag = central_poll(path, has_diagnostics, NULL, &done);
  assert_true(done);
  json_decref(diag);

  assert_int_equal(write(p.stdin_fd, "q\n", 2), 2);
  int st = sensor_wait(&p);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  assert_int_equal(central_wait_connected(dev.id, false), 0);
  sensor_finish(&p, (const char *const[]){
                        "Registration result: assigned",
                        "Device connected successfully",
                        "Send reported properties on startup",
                        "Sent message: {\"temp\":",
                        "Received synchronous call to blink",
                        "Blinking LED every 2 seconds",
                        "Turning on the LED",
                        "Turning off the LED",
                        "Starting asynchronous diagnostics run...",
                        "Generating diagnostics...",
                        "Sending property update to confirm command completion",
                        "Setting name value Kitchen - ",
                        "Setting brightness value 4 - ",
                        "Quitting...",
                        NULL});
}

/* Group key and DPS over HTTPS; SIGTERM quits cleanly. */
static void the_sensor_quits_cleanly_on_sigterm(void **state) {
  (void)state;
  const emu_info *emu = central_emu();
  char device_id[128];
  emu_unique_id("sensor-term", device_id, sizeof device_id);
  sensor_env env;
  sensor_env_fill(&env, device_id, "IOTC_GROUP_KEY", emu->group_key, emu->dps_https, "IOTC_DPS_TRANSPORT=https");
  const char *const *settings = env.list;
  const char *args[] = {"--interval-ms", "200", NULL};
  sensor_proc p;
  assert_int_equal(sensor_start(&p, settings, args), 0);
  json_t *messages = central_wait_messages(device_id, 1);
  assert_non_null(messages);
  json_decref(messages);
  assert_int_equal(kill(p.pid, SIGTERM), 0);
  int st = sensor_wait(&p);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  sensor_finish(&p, (const char *const[]){"group key", "over HTTPS", "Received SIGTERM", "Quitting...", NULL});
}

/* SIGINT while the connect hangs (DPS accepts the connection and never answers) cancels the
 * connect: the sensor quits with status 0 instead of waiting out its connect timeout. */
static void the_sensor_quits_on_sigint_during_its_connect(void **state) {
  (void)state;
  int port = 0;
  int fd = central_silent_listener(&port);
  assert_true(fd >= 0);
  char dps[64];
  snprintf(dps, sizeof dps, "127.0.0.1:%d", port);
  sensor_env env;
  sensor_env_fill(&env, "sensor-silent-dps", "IOTC_DEVICE_KEY",
                  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", dps, NULL);
  const char *args[] = {"--no-stdin", NULL};
  sensor_proc p;
  assert_int_equal(sensor_start(&p, env.list, args), 0);
  /* Wait (bounded) until it is in its connect; the outcome does not depend on it. */
  uint64_t deadline = central_now_ms() + CENTRAL_WAIT_MS;
  for (;;) {
    char *out = sensor_output(&p);
    bool in_connect = strstr(out, "Registering the device") != NULL;
    free(out);
    if (in_connect) break;
    assert_true(central_now_ms() < deadline);
    central_sleep_ms(50);
  }
  central_sleep_ms(300);
  uint64_t t0 = central_now_ms();
  assert_int_equal(kill(p.pid, SIGINT), 0);
  int st = sensor_wait(&p);
  printf("measured: the sensor exited %llu ms after SIGINT during its connect\n",
         (unsigned long long)(central_now_ms() - t0));
  close(fd);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  sensor_finish(&p, (const char *const[]){"Connect cancelled: quitting", NULL});
}

/* End of input quits cleanly; --count stops after that many messages. */
static void the_sensor_quits_at_end_of_input_and_after_count(void **state) {
  (void)state;
  const emu_info *emu = central_emu();
  central_device dev;
  assert_int_equal(central_device_new("sensor-eof", &dev), 0);
  sensor_env env;
  sensor_env_fill(&env, dev.id, "IOTC_DEVICE_KEY", dev.key, emu->dps_mqtt, NULL);
  const char *const *settings = env.list;
  sensor_proc p;
  assert_int_equal(sensor_start(&p, settings, NULL), 0);
  assert_int_equal(central_wait_connected(dev.id, true), 0);
  close(p.stdin_fd);
  p.stdin_fd = -1;
  int st = sensor_wait(&p);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  sensor_finish(&p, (const char *const[]){"End of input", "Quitting...", NULL});

  const char *args[] = {"--interval-ms", "100", "--count", "5", "--no-stdin", NULL};
  assert_int_equal(sensor_start(&p, settings, args), 0);
  st = sensor_wait(&p);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  sensor_finish(&p, (const char *const[]){"Sent 5 messages", "Telemetry sent: 5, failed: 0", NULL});
  json_t *messages = central_messages(dev.id);
  assert_true(json_array_size(messages) >= 5);
  json_decref(messages);
}

static void the_sensor_explains_bad_usage(void **state) {
  (void)state;
  sensor_proc p;
  assert_int_equal(sensor_start(&p, (const char *const[]){NULL}, (const char *const[]){"--help", NULL}), 0);
  int st = sensor_wait(&p);
  assert_int_equal(WEXITSTATUS(st), 0);
  sensor_finish(&p, (const char *const[]){"IOTC_ID_SCOPE", "--dps-transport", NULL});
  assert_int_equal(sensor_start(&p, (const char *const[]){"IOTC_ID_SCOPE=x", NULL}, NULL), 0);
  st = sensor_wait(&p);
  assert_int_equal(WEXITSTATUS(st), 2);
  sensor_finish(&p, (const char *const[]){"device id is missing", NULL});
  assert_int_equal(sensor_start(&p, (const char *const[]){"IOTC_ID_SCOPE=x", "IOTC_DEVICE_ID=d",
                                                         "IOTC_DEVICE_KEY=k", "IOTC_GROUP_KEY=g", NULL},
                                NULL), 0);
  st = sensor_wait(&p);
  assert_int_equal(WEXITSTATUS(st), 2);
  sensor_finish(&p, (const char *const[]){"exactly one of", NULL});
  assert_int_equal(sensor_start(&p, (const char *const[]){NULL},
                                (const char *const[]){"--dps-transport", "amqp", NULL}), 0);
  st = sensor_wait(&p);
  assert_int_equal(WEXITSTATUS(st), 2);
  sensor_finish(&p, (const char *const[]){"mqtt or https", NULL});
}

/* IOTC_PERSIST_DIR: the sensor keeps its telemetry on disk until the hub has it; persisted
 * messages carry a message id, and the directory is empty once the sensor quit cleanly. */
static void the_sensor_stores_and_forwards_with_iotc_persist_dir(void **state) {
  (void)state;
  const emu_info *emu = central_emu();
  central_device dev;
  assert_int_equal(central_device_new("sensor-persist", &dev), 0);
  char dir[] = "/tmp/iotc-sensor-persist-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char setting[128];
  snprintf(setting, sizeof setting, "IOTC_PERSIST_DIR=%s/queue", dir);
  sensor_env env;
  sensor_env_fill(&env, dev.id, "IOTC_DEVICE_KEY", dev.key, emu->dps_mqtt, setting);
  const char *args[] = {"--interval-ms", "100", "--count", "5", "--no-stdin", NULL};
  sensor_proc p;
  assert_int_equal(sensor_start(&p, env.list, args), 0);
  int st = sensor_wait(&p);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  sensor_finish(&p, (const char *const[]){"Store and forward in", "Telemetry sent: 5, failed: 0", NULL});
  json_t *messages = central_messages(dev.id);
  assert_int_equal(json_array_size(messages), 5);
  size_t i;
  json_t *m;
  json_array_foreach(messages, i, m) assert_non_null(json_string_value(json_object_get(m, "messageId")));
  json_decref(messages);
  char queue[160];
  snprintf(queue, sizeof queue, "%s/queue", dir);
  iotc_persist_info info;
  iotc_error err;
  assert_int_equal(iotc_persist_inspect(queue, &info, &err), IOTC_OK);
  assert_int_equal(info.queued, 0);
  assert_true(info.records >= 5); /* telemetry and reported properties went through it */
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(the_sensor_explains_bad_usage),
      cmocka_unit_test(the_sensor_does_what_the_tutorial_device_does),
      cmocka_unit_test(the_sensor_quits_cleanly_on_sigterm),
      cmocka_unit_test(the_sensor_quits_on_sigint_during_its_connect),
      cmocka_unit_test(the_sensor_quits_at_end_of_input_and_after_count),
      cmocka_unit_test(the_sensor_stores_and_forwards_with_iotc_persist_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
