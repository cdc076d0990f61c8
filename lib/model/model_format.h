/* SPDX-License-Identifier: MIT */
/* String formats of DTDL primitive schemas (date, time, dateTime, duration, uuid, bytes). */
#ifndef IOTC_MODEL_MODEL_FORMAT_H
#define IOTC_MODEL_MODEL_FORMAT_H

#include "model/model.h"

/**
 * Does NUL-terminated @p s have the format of @p kind? Kinds without a string format pass.
 * @return NULL when it does, else what was expected ("a date (YYYY-MM-DD)"), static text
 */
const char *iotc__model_format_check(iotc__schema_kind kind, const char *s);

#endif
