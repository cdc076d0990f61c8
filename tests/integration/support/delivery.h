/* SPDX-License-Identifier: MIT */
/* Test support: a numbered telemetry stream ({"n":0}, {"n":1}, …) sent at QoS 1 and checked as
 * the emulator received it, for the tests that disturb the connection while messages flow. */
#ifndef IOTC_TEST_DELIVERY_H
#define IOTC_TEST_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "central.h"
#include "record.h"

typedef struct delivery {
  size_t expected;   /* messages 0..expected-1 were sent */
  size_t received;   /* messages the emulator holds */
  size_t distinct;   /* distinct n among them */
  size_t duplicates; /* received - distinct */
  size_t missing;    /* n never received */
  size_t unexpected; /* n outside 0..expected-1 */
  bool in_order;     /* first arrivals in increasing n */
} delivery;

/** Read the device's messages and fill @p out; prints what is wrong. 0 when read. */
int delivery_check(const char *device_id, size_t expected, delivery *out);

/** Send {"n":first}…{"n":first+count-1} at QoS 1, one every @p pace_ms, recording completions. */
void delivery_send(iotc_client *client, size_t first, size_t count, uint32_t pace_ms,
                   central_results *results);

#endif
