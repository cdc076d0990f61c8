/* SPDX-License-Identifier: MIT */
/* Keeping DPS's connection open past a successful run, for a caller that connects to the assigned
 * hub next. With Paho, closing the last connection lets its receive thread find no socket and
 * sleep 100 ms, and destroying the last client stops its threads (at least another 100 ms): a
 * hub connection started while DPS's is still open is picked up at once, and DPS's client is then
 * not the last one. */
#ifndef IOTC_DPS_KEEP_OPEN_H
#define IOTC_DPS_KEEP_OPEN_H

#include "iotc/dps.h"

/** From now on a successful iotc_dps_run() leaves its connection open; the next run or
 * iotc_dps_destroy() closes it. Call before running; same thread rules as iotc_dps_run(). */
void iotc__dps_keep_open(iotc_dps *dps);

/** Closes a connection kept open by a successful run, if any. */
void iotc__dps_close_kept(iotc_dps *dps);

#endif
