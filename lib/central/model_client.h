/* SPDX-License-Identifier: MIT */
/* The client's use of its device model (config model_file): loading it at create, and the
 * checks the API functions and the worker make with it. All are no-ops without a model. */
#ifndef IOTC_CENTRAL_MODEL_CLIENT_H
#define IOTC_CENTRAL_MODEL_CLIENT_H

#include <stddef.h>

#include "central/client_internal.h"
#include "model/model.h"

/** Load @p path into c->model; logs what and where on failure and puts it in @p err (nullable):
 * IOTC_ERR_IO, _INVALID_ARG, _NO_MEMORY. */
iotc_result iotc__client_model_load(iotc_client *c, const char *path, iotc_error *err);

/** API side: check one value; logs "fn: why" and returns IOTC_ERR_INVALID_ARG when refused. */
iotc_result iotc__client_model_value(const iotc_client *c, const char *fn, const char *component,
                                     iotc__model_use use, const char *name, const char *json);

/** API side: check every member of a JSON object (telemetry, several reported properties). */
iotc_result iotc__client_model_members(const iotc_client *c, const char *fn,
                                       const char *component, iotc__model_use use,
                                       const char *json, size_t len);

/**
 * Worker side: the status to refuse a command with (404 not in the model, 400 payload does not
 * match its request schema) and why; 0 when the model accepts it or there is no model.
 */
int iotc__client_model_command(const iotc_client *c, const char *component, const char *name,
                               const char *payload, size_t len, char why[IOTC__MODEL_WHY_SIZE]);

#endif
