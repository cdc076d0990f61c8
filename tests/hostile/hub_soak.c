/* SPDX-License-Identifier: MIT */
/* Soak: clients sending telemetry and reports and answering commands while their hubs misbehave
 * at random (drops, refused connections, missing PUBACKs, trickled bytes, unanswered PATCHes,
 * command bursts, oversized commands, garbage, packets before CONNACK, wrong SUBACKs, absurd
 * versions, unanswered twin GETs) and SAS tokens expire every 16 s. At the end every hub behaves
 * and each client disconnects: every message whose send returned IOTC_OK was delivered (none
 * failed), every report completed (OK, or IOTC_ERR_TIMEOUT after its attempts), and LSan
 * finds no leak at exit. The longest time without a completed message is printed, not asserted.
 *
 * HUB_SOAK_SECONDS (default 600), HUB_SOAK_CLIENTS (default 3), HUB_SOAK_HUBS (default: one per
 * client, at most 10; clients share hubs round-robin), HUB_SOAK_SEED (default: time),
 * HUB_SOAK_LIVENESS_MS (default 3000; with many clients per hub on a loaded machine PUBACKs
 * can take longer than that, and a limit below the hub's real latency makes every connection
 * look dead). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hub_ctl.h"

#define MAX_CLIENTS 1000
#define MAX_HUBS 10
#define TICK_MS 250

typedef struct soak_client {
  iotc_client *client;
  int index;
  pthread_t sender;
  atomic_bool stop;
  central_results telemetry, reports;
  atomic_long accepted, queue_full, refused, reports_accepted, commands;
  pthread_mutex_t gap_mu;
  double last_ok, max_gap; /* seconds */
} soak_client;

typedef struct soak_hub {
  hub_ctl *hub;
  double fault_until; /* 0: healthy */
  int fault;
} soak_hub;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static long env_long(const char *name, long dflt, long lo, long hi) {
  const char *v = getenv(name);
  long n = v && *v ? strtol(v, NULL, 10) : dflt;
  return n < lo ? lo : n > hi ? hi : n;
}

static void on_telemetry_done(iotc_client *client, iotc_result result, void *ctx) {
  soak_client *s = ctx;
  if (result == IOTC_OK) {
    double t = now_s();
    pthread_mutex_lock(&s->gap_mu);
    if (s->last_ok > 0 && t - s->last_ok > s->max_gap) s->max_gap = t - s->last_ok;
    s->last_ok = t;
    pthread_mutex_unlock(&s->gap_mu);
  }
  central_on_done(client, result, &s->telemetry);
}

static void on_command(iotc_client *client, const iotc_command_request *req,
                       iotc_command_response *resp, void *ctx) {
  (void)client;
  (void)req;
  soak_client *s = ctx;
  atomic_fetch_add(&s->commands, 1);
  resp->payload_json = "{\"ok\":true}";
}

static void on_property(iotc_client *client, const iotc_property_update *u, void *ctx) {
  (void)ctx;
  if (u->version >= 0) {
    /* a full queue may refuse it: the twin offers it again at the next connect */
    if (iotc_client_ack_property(client, u->component, u->name, u->value_json, 200, u->version,
                                 NULL, NULL, NULL) != IOTC_OK) {
      return;
    }
  }
}

static void *send_loop(void *arg) {
  soak_client *s = arg;
  char json[96];
  iotc_telemetry_options o;
  iotc_telemetry_options_init(&o);
  o.on_done = on_telemetry_done;
  o.user_context = s;
  for (long n = 0; !atomic_load(&s->stop) && n < 100000000; n++) {
    snprintf(json, sizeof json, "{\"c\":%d,\"n\":%ld}", s->index, n);
    iotc_result r = iotc_client_send_telemetry(s->client, json, &o);
    if (r == IOTC_OK) {
      atomic_fetch_add(&s->accepted, 1);
    } else {
      /* nothing but a full queue may refuse a valid message (checked by the main thread) */
      atomic_fetch_add(r == IOTC_ERR_QUEUE_FULL ? &s->queue_full : &s->refused, 1);
      sleep_ms(50);
    }
    if (n % 50 == 0) {
      snprintf(json, sizeof json, "%ld", n);
      if (iotc_client_report_property(s->client, NULL, "count", json, central_on_done,
                                      &s->reports) == IOTC_OK) {
        atomic_fetch_add(&s->reports_accepted, 1);
      }
    }
    sleep_ms(20);
  }
  return NULL;
}

static const char *const FAULT_NAMES[] = {
    "drop", "refuse connections", "no PUBACK", "trickle", "no PATCH answer", "command burst",
    "oversized command", "garbage", "publish before CONNACK", "wrong SUBACK", "absurd version",
    "slow PUBACK", "drop on SUBSCRIBE", "no twin answer"};
#define FAULTS (int)(sizeof FAULT_NAMES / sizeof FAULT_NAMES[0])

static const char HEALTHY[] =
    "{\"op\":\"set\",\"connack\":0,\"puback\":true,\"pubackDelayMs\":0,\"reported\":true,"
    "\"twinGet\":true,\"subackCodes\":0,\"subackConnections\":0,\"beforeConnack\":[],"
    "\"dropOnSubscribe\":0}";

/* Start fault @p f on @p h; returns how long it holds (0: a one-off). */
static long start_fault(hub_ctl *h, int f) {
  long hold = 1000 + rand() % 4000;
  switch (f) {
    case 0: hub_do(h, "{\"op\":\"drop\"}"); return 0;
    case 1: hub_do(h, "{\"op\":\"set\",\"connack\":3}"); hub_do(h, "{\"op\":\"drop\"}"); return hold;
    case 2: hub_do(h, "{\"op\":\"set\",\"puback\":false}"); return hold;
    case 3: hub_do(h, "{\"op\":\"trickle\",\"ms\":300}"); return 0;
    case 4: hub_do(h, "{\"op\":\"set\",\"reported\":false}"); return hold;
    case 5: hub_do(h, "{\"op\":\"commands\",\"name\":\"burst\",\"count\":200}"); return 0;
    case 6:
      hub_do(h, "{\"op\":\"publish\",\"topic\":\"$iothub/methods/POST/big/?$rid=big\","
                "\"payloadSize\":%d}", 1 << 20);
      return 0;
    case 7: hub_do(h, "{\"op\":\"raw\",\"hex\":\"f0000000\"}"); return 0;
    case 8:
      hub_do(h, "{\"op\":\"set\",\"beforeConnack\":[{\"topic\":\"$iothub/methods/POST/early/?$rid=e\","
                "\"payload\":\"{}\"}]}");
      hub_do(h, "{\"op\":\"drop\"}");
      return hold;
    case 9:
      hub_do(h, "{\"op\":\"set\",\"subackCodes\":2,\"subackConnections\":1}");
      hub_do(h, "{\"op\":\"drop\"}");
      return 0;
    case 10:
      hub_do(h, "{\"op\":\"publish\",\"topic\":\"$iothub/twin/PATCH/properties/desired/"
                "?$version=9223372036854775807\",\"payload\":\"{\\\"count\\\":1,"
                "\\\"$version\\\":9223372036854775807}\"}");
      return 0;
    case 11: hub_do(h, "{\"op\":\"set\",\"pubackDelayMs\":500}"); return hold;
    case 12: hub_do(h, "{\"op\":\"set\",\"dropOnSubscribe\":1}"); hub_do(h, "{\"op\":\"drop\"}"); return 0;
    default:
      hub_do(h, "{\"op\":\"set\",\"twinGet\":false}");
      hub_do(h, "{\"op\":\"drop\"}");
      return hold;
  }
}

static void soak(void **state) {
  (void)state;
  long seconds = env_long("HUB_SOAK_SECONDS", 600, 5, 24 * 3600);
  int clients = (int)env_long("HUB_SOAK_CLIENTS", 3, 1, MAX_CLIENTS);
  int hubs = (int)env_long("HUB_SOAK_HUBS", clients < MAX_HUBS ? clients : MAX_HUBS, 1, MAX_HUBS);
  if (hubs > clients) hubs = clients;
  unsigned seed = (unsigned)env_long("HUB_SOAK_SEED", (long)time(NULL), 0, 0x7fffffff);
  uint32_t liveness_ms = (uint32_t)env_long("HUB_SOAK_LIVENESS_MS", 3000, 100, 600000);
  srand(seed);
  printf("# soak: %ld s, %d clients, %d hubs, seed %u, liveness %u ms\n", seconds, clients, hubs,
         seed, (unsigned)liveness_ms);

  soak_hub hub[MAX_HUBS];
  hub_test *first[MAX_HUBS]; /* the hub_test of each hub's first client owns the hub */
  soak_client *sc = calloc((size_t)clients, sizeof *sc);
  hub_test **t = calloc((size_t)clients, sizeof *t);
  assert_non_null(sc);
  assert_non_null(t);
  for (int i = 0; i < clients; i++) {
    char id[32];
    snprintf(id, sizeof id, "soak-%d", i);
    if (i < hubs) {
      t[i] = hub_test_new(id);
      assert_non_null(t[i]);
      first[i] = t[i];
      hub[i] = (soak_hub){&t[i]->hub, 0, 0};
    } else { /* shares hub i % hubs: same configuration, own device id */
      t[i] = calloc(1, sizeof *t[i]);
      assert_non_null(t[i]);
      central_statuses_init(&t[i]->log);
      hub_client_config(hub[i % hubs].hub, id, t[i]->cs, sizeof t[i]->cs, &t[i]->cfg);
    }
    t[i]->cfg.liveness_timeout_ms = liveness_ms;
    t[i]->cfg.sas_ttl_s = 20;
    t[i]->cfg.queue_capacity = 2000;
    assert_non_null(hub_test_client(t[i]));
    soak_client *s = &sc[i];
    s->client = t[i]->client;
    s->index = i;
    central_results_init(&s->telemetry);
    central_results_init(&s->reports);
    pthread_mutex_init(&s->gap_mu, NULL);
    assert_int_equal(iotc_client_on_any_command(s->client, on_command, s), IOTC_OK);
    assert_int_equal(iotc_client_on_any_property(s->client, on_property, s), IOTC_OK);
    /* in the background: with many clients on a loaded machine the first connect may be slow */
    assert_int_equal(iotc_client_connect(s->client, 0, NULL), IOTC_OK);
    assert_int_equal(pthread_create(&s->sender, NULL, send_loop, s), 0);
  }

  long faults[FAULTS] = {0};
  double end = now_s() + (double)seconds;
  for (long tick = 0; tick < seconds * (1000 / TICK_MS) + 10 && now_s() < end; tick++) {
    double now = now_s();
    for (int h = 0; h < hubs; h++) {
      if (hub[h].fault_until > 0 && now >= hub[h].fault_until) {
        assert_int_equal(hub_do(hub[h].hub, "%s", HEALTHY), 0);
        hub[h].fault_until = 0;
      } else if (hub[h].fault_until == 0 && rand() % 8 == 0) {
        int f = rand() % FAULTS;
        faults[f]++;
        long hold = start_fault(hub[h].hub, f);
        if (hold) hub[h].fault_until = now + (double)hold / 1000.0;
      }
    }
    sleep_ms(TICK_MS);
  }
  for (int f = 0; f < FAULTS; f++) printf("#   %-24s %ld\n", FAULT_NAMES[f], faults[f]);

  /* The hubs behave again: everything accepted must now be delivered. */
  for (int h = 0; h < hubs; h++) assert_int_equal(hub_do(hub[h].hub, "%s", HEALTHY), 0);
  for (int i = 0; i < clients; i++) atomic_store(&sc[i].stop, true);
  long total_ok = 0, total_failed = 0, total_accepted = 0;
  for (int i = 0; i < clients; i++) {
    soak_client *s = &sc[i];
    pthread_join(s->sender, NULL);
    iotc_result r = iotc_client_disconnect(s->client, 120000);
    long accepted = atomic_load(&s->accepted);
    bool all_done = central_counter_wait(&s->telemetry.all, (uint64_t)accepted) &&
                    central_counter_wait(&s->reports.all, (uint64_t)atomic_load(&s->reports_accepted));
    long t_ok = (long)central_counter_get(&s->telemetry.ok);
    long t_failed = (long)central_counter_get(&s->telemetry.failed);
    long r_ok = (long)central_counter_get(&s->reports.ok);
    long r_failed = (long)central_counter_get(&s->reports.failed);
    iotc_result r_last = central_results_last_error(&s->reports);
    iotc_client_stats st;
    assert_int_equal(iotc_client_get_stats(s->client, &st), IOTC_OK);
    if (r != IOTC_OK || !all_done) { /* what the client went through last, to see why */
      printf("#   client %d, its last statuses:\n", i);
      central_statuses_print(&t[i]->log);
      printf("#   client %d: %ld of %ld telemetry completed, connected %d\n", i,
             t_ok + t_failed, accepted, iotc_client_is_connected(s->client));
    }
    printf("# client %d: disconnect %s; telemetry %ld accepted, %ld ok, %ld failed, %ld queue "
           "full, %llu resent; reports %ld accepted, %ld ok, %ld failed (last %s); %ld commands; "
           "%llu connects; longest gap between acknowledgements %.1f s\n",
           i, iotc_strerror(r), accepted, t_ok, t_failed,
           atomic_load(&s->queue_full), (unsigned long long)st.telemetry_resent,
           atomic_load(&s->reports_accepted), r_ok, r_failed, r_failed ? iotc_strerror(r_last) : "-",
           atomic_load(&s->commands), (unsigned long long)st.connects, s->max_gap);
    assert_int_equal(r, IOTC_OK);
    assert_true(all_done);
    assert_int_equal(atomic_load(&s->refused), 0);
    assert_int_equal(t_ok + t_failed, accepted);
    assert_int_equal(t_failed, 0);
    if (r_failed) assert_int_equal(r_last, IOTC_ERR_TIMEOUT);
    total_ok += t_ok;
    total_failed += t_failed;
    total_accepted += accepted;
  }
  long received = 0;
  for (int h = 0; h < hubs; h++) received += hub_stat(hub[h].hub, "telemetry");
  printf("# total: %ld accepted, %ld acknowledged, %ld failed; the hubs received %ld (with "
         "resends)\n", total_accepted, total_ok, total_failed, received);
  assert_true(received >= total_ok);

  for (int i = clients - 1; i >= 0; i--) { /* the hubs' owners last: shared hubs outlive users */
    if (i < hubs) {
      hub_test_free(first[i]);
    } else {
      iotc_client_destroy(t[i]->client);
      central_statuses_destroy(&t[i]->log);
      free(t[i]);
    }
    central_results_destroy(&sc[i].telemetry);
    central_results_destroy(&sc[i].reports);
    pthread_mutex_destroy(&sc[i].gap_mu);
  }
  free(t);
  free(sc);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(soak)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
