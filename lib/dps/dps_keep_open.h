/* SPDX-License-Identifier: MIT */
/* Keeping DPS's connection open past a successful run, for a caller that connects to the assigned
 * hub next. With Paho 1.3.12, destroying the last client stops its threads (at least 100 ms,
 * often 200) and the next connect starts them again (and may lose 100 ms to its receive thread's
 * first sleep); with DPS's client still there, neither happens. But Paho's receive thread sees
 * that a new connection's TCP connect has completed only when its read poll returns, which, with
 * its other sockets quiet, is after up to 1 s: the caller pokes DPS's connection (each answer
 * wakes that thread) until the new connection has its CONNACK, then closes it. */
#ifndef IOTC_DPS_KEEP_OPEN_H
#define IOTC_DPS_KEEP_OPEN_H

#include <stdbool.h>

#include "iotc/dps.h"

/** From now on a successful iotc_dps_run() leaves its connection open; the next run or
 * iotc_dps_destroy() closes it. Call before running; same thread rules as iotc_dps_run(). */
void iotc__dps_keep_open(iotc_dps *dps);

/** One round trip on the connection kept open (bounded wait, not cancellable); false when none
 * is open or it failed. Same thread rules as iotc_dps_run(). */
bool iotc__dps_poke(iotc_dps *dps);

/** Closes a connection kept open by a successful run, if any. */
void iotc__dps_close_kept(iotc_dps *dps);

#endif
