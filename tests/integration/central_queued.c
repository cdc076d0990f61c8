/* SPDX-License-Identifier: MIT */
/* Queued (offline) commands: IoT Central sends them as C2D messages with a method-name
 * property. They reach the command's handler marked queued, with no response expected, also
 * when queued while the device was off; other C2D messages reach the C2D handler. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "central.h"

typedef struct calls {
  central_counter count;
  pthread_mutex_t lock;
  bool queued[8];
  bool had_request_id[8];
  char payload[8][64];
  char component[8][32];
} calls;

static void on_blink(iotc_client *client, const iotc_command_request *req,
                     iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)resp;
  calls *c = ctx;
  pthread_mutex_lock(&c->lock);
  uint64_t i = central_counter_get(&c->count);
  if (i < 8) {
    c->queued[i] = req->queued;
    c->had_request_id[i] = req->request_id != NULL;
    snprintf(c->payload[i], sizeof c->payload[i], "%s", req->payload_json);
    snprintf(c->component[i], sizeof c->component[i], "%s", req->component ? req->component : "");
  }
  pthread_mutex_unlock(&c->lock);
  central_counter_add(&c->count, 1);
}

typedef struct c2d_seen {
  central_counter count;
  char body[64];
  char custom[64];
} c2d_seen;

static void on_c2d(iotc_client *client, const iotc_c2d_message *m, void *ctx) {
  (void)client;
  c2d_seen *s = ctx;
  snprintf(s->body, sizeof s->body, "%.*s", (int)m->payload_len, (const char *)m->payload);
  for (size_t i = 0; i < m->property_count; i++)
    if (strcmp(m->properties[i].name, "color") == 0)
      snprintf(s->custom, sizeof s->custom, "%s", m->properties[i].value);
  central_counter_add(&s->count, 1);
}

static void queued_commands_reach_their_handler(void **state) {
  (void)state;
  central_device dev;
  iotc_client *client = central_new("queued", &dev);
  assert_non_null(client);
  calls c;
  memset(&c, 0, sizeof c);
  central_counter_init(&c.count);
  pthread_mutex_init(&c.lock, NULL);
  c2d_seen cs;
  memset(&cs, 0, sizeof cs);
  central_counter_init(&cs.count);
  assert_int_equal(iotc_client_on_command(client, NULL, "blink", on_blink, &c), IOTC_OK);
  assert_int_equal(iotc_client_on_command(client, "led", "blink", on_blink, &c), IOTC_OK);
  assert_int_equal(iotc_client_on_c2d(client, on_c2d, &cs), IOTC_OK);

  /* Queued while the device has never connected. */
  long status = 0;
  json_t *r = central_command(dev.id, NULL, "blink", "{\"request\":4,\"queued\":true}", &status);
  assert_non_null(r);
  assert_true(status >= 200 && status < 300);
  assert_true(json_is_true(json_object_get(r, "queued")));
  json_decref(r);

  assert_int_equal(central_connect(client), 0);
  assert_true(central_counter_wait(&c.count, 1));
  assert_true(c.queued[0]);
  assert_false(c.had_request_id[0]);
  assert_string_equal(c.payload[0], "4");

  /* Queued while connected, root and component. */
  char filter[256];
  snprintf(filter, sizeof filter, "devices/%s/messages/devicebound/#", dev.id);
  assert_int_equal(central_wait_subscribed(dev.id, filter), 0);
  r = central_command(dev.id, "led", "blink", "{\"request\":{\"every\":2},\"queued\":true}", &status);
  json_decref(r);
  assert_true(central_counter_wait(&c.count, 2));
  assert_true(c.queued[1]);
  assert_string_equal(c.component[1], "led");
  assert_string_equal(c.payload[1], "{\"every\":2}");

  /* A plain C2D message goes to the C2D handler, not to a command. */
  char path[512];
  snprintf(path, sizeof path, "/emulator/devices/%s/c2d", dev.id);
  assert_int_equal(emu_api(central_emu(), "POST", path,
                           "{\"body\":\"hello device\",\"properties\":{\"color\":\"green\"}}", &status, NULL), 0);
  assert_int_equal(status, 201);
  assert_true(central_counter_wait(&cs.count, 1));
  assert_string_equal(cs.body, "hello device");
  assert_string_equal(cs.custom, "green");
  assert_int_equal(central_counter_get(&c.count), 2);

  /* No method response went out for the queued commands. */
  assert_int_equal(emu_wire_count(central_emu(), dev.id, "in", "PUBLISH", "$iothub/methods/res/"), 0);
  iotc_client_stats stats;
  assert_int_equal(iotc_client_get_stats(client, &stats), IOTC_OK);
  assert_true(stats.commands_received >= 2);

  assert_int_equal(iotc_client_disconnect(client, 10000), IOTC_OK);
  iotc_client_destroy(client);
  central_counter_destroy(&c.count);
  central_counter_destroy(&cs.count);
  pthread_mutex_destroy(&c.lock);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(queued_commands_reach_their_handler),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
