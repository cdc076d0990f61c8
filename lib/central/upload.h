/* SPDX-License-Identifier: MIT */
/* File uploads (upload.c): the client's hooks. The uploads' state hangs off
 * iotc_client::uploads, created on the first upload. */
#ifndef IOTC_CENTRAL_UPLOAD_H
#define IOTC_CENTRAL_UPLOAD_H

#include <stdbool.h>

#include "iotc/client.h"

/** iotc_client_disconnect(): cancel every upload (each completes with IOTC_ERR_CANCELLED). */
void iotc__uploads_cancel_all(iotc_client *c);

/** True on one of @p c's upload threads (destroy refuses to run there). */
bool iotc__uploads_on_thread(iotc_client *c);

/** iotc_client_destroy(): cancel every upload (IOTC_ERR_SHUTDOWN), wait until each completed,
 *  and free the uploads' state. New uploads are refused before (iotc_client::quit). */
void iotc__uploads_destroy(iotc_client *c);

#endif
