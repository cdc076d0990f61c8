/* SPDX-License-Identifier: MIT */
/* A DTDL device model (v2 or v3) held in memory, and the checks of values against it.
 * model_parse.c builds the representation once (client create); model_check.c reads it. A built
 * model is immutable, so any thread may check values against it without a lock. */
#ifndef IOTC_MODEL_MODEL_H
#define IOTC_MODEL_MODEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

/** Size of the text buffers that say why a model or a value was refused. */
#define IOTC__MODEL_WHY_SIZE 256

typedef struct iotc__model iotc__model;

/**
 * Build a model from DTDL JSON text: one interface object, or an array of interfaces whose root
 * (the one no other interface uses as a component or extends) refers to the others by `@id`.
 * @param why on failure: where and what, e.g. "contents[3].schema: unknown schema 'foo'"
 * @retval IOTC_OK, IOTC_ERR_INVALID_ARG (not JSON, not DTDL, unsupported), IOTC_ERR_NO_MEMORY
 */
iotc_result iotc__model_parse(const char *json, size_t len, iotc__model **out,
                              char why[IOTC__MODEL_WHY_SIZE]);

/** iotc__model_parse() on a file's content; IOTC_ERR_IO when it cannot be read. */
iotc_result iotc__model_load(const char *path, iotc__model **out, char why[IOTC__MODEL_WHY_SIZE]);

/** The root interface's `@id` (borrowed, valid while the model lives). */
const char *iotc__model_id(const iotc__model *m);

/** Is @p name a component of the root interface? */
bool iotc__model_has_component(const iotc__model *m, const char *name);

void iotc__model_free(iotc__model *m);

/** What a checked value is meant to be. */
typedef enum iotc__model_use {
  IOTC__MODEL_TELEMETRY = 0,
  IOTC__MODEL_REPORTED,         /* a property, read-only or writable */
  IOTC__MODEL_WRITABLE,         /* a writable property */
  IOTC__MODEL_COMMAND_REQUEST,  /* the request payload of a command */
  IOTC__MODEL_COMMAND_RESPONSE  /* the response (or completion value) of a command */
} iotc__model_use;

/**
 * Check one named value of @p component (NULL: the root interface).
 * @retval IOTC_OK it fits the model
 * @retval IOTC_ERR_NOT_FOUND the component, or @p name as @p use, is not in the model
 * @retval IOTC_ERR_INVALID_ARG the value does not match the schema ("brightness: expected
 *         integer, got string")
 */
iotc_result iotc__model_check(const iotc__model *m, const char *component, iotc__model_use use,
                              const char *name, const json_t *value,
                              char why[IOTC__MODEL_WHY_SIZE]);

/** iotc__model_check() on JSON text; IOTC_ERR_INVALID_ARG when it is not JSON. */
iotc_result iotc__model_check_text(const iotc__model *m, const char *component,
                                   iotc__model_use use, const char *name, const char *json,
                                   size_t len, char why[IOTC__MODEL_WHY_SIZE]);

/** Check every member of a JSON object (telemetry message, several reported properties). */
iotc_result iotc__model_check_members(const iotc__model *m, const char *component,
                                      iotc__model_use use, const char *json, size_t len,
                                      char why[IOTC__MODEL_WHY_SIZE]);

/* ---- representation (built by model_parse.c, read by model_check.c) ----------------------- */

typedef enum iotc__schema_kind {
  IOTC__S_BOOLEAN = 0,
  IOTC__S_DATE,
  IOTC__S_DATETIME,
  IOTC__S_DOUBLE,
  IOTC__S_DURATION,
  IOTC__S_FLOAT,
  IOTC__S_INTEGER,
  IOTC__S_LONG,
  IOTC__S_STRING,
  IOTC__S_TIME,
  /* DTDL v3 only */
  IOTC__S_BYTE,
  IOTC__S_BYTES,
  IOTC__S_DECIMAL,
  IOTC__S_SHORT,
  IOTC__S_UUID,
  IOTC__S_UNSIGNED_BYTE,
  IOTC__S_UNSIGNED_SHORT,
  IOTC__S_UNSIGNED_INTEGER,
  IOTC__S_UNSIGNED_LONG,
  /* GeoJSON geometries (point, lineString, ...) */
  IOTC__S_GEO,
  /* complex */
  IOTC__S_ENUM,
  IOTC__S_OBJECT,
  IOTC__S_MAP,
  IOTC__S_ARRAY
} iotc__schema_kind;

typedef struct iotc__schema iotc__schema;

/** An object field, or an enum value. */
typedef struct iotc__field {
  char *name;
  const iotc__schema *schema; /* object field */
  int64_t int_value;          /* enum with integer values */
  char *str_value;            /* enum with string values */
} iotc__field;

struct iotc__schema {
  iotc__schema_kind kind;
  const char *name;          /* primitives and geometries: the DTDL name */
  const char *geo_type;      /* geometries: the GeoJSON "type" */
  bool enum_int;             /* enum: integer values (else string) */
  size_t count;              /* object fields, enum values */
  iotc__field *fields;
  const iotc__schema *item;  /* array element, map value */
  iotc__schema *next_owned;  /* the model's list of what it allocated */
};

typedef enum iotc__element_kind {
  IOTC__E_TELEMETRY = 0,
  IOTC__E_PROPERTY,
  IOTC__E_COMMAND,
  IOTC__E_COMPONENT
} iotc__element_kind;

typedef struct iotc__interface iotc__interface;

/** One entry of an interface's contents. */
typedef struct iotc__element {
  char *name;
  iotc__element_kind kind;
  bool writable;                   /* property */
  bool request_nullable, response_nullable;
  const iotc__schema *schema;      /* telemetry, property; command request (NULL: none) */
  char *request_name;              /* command */
  const iotc__schema *response;    /* command (NULL: none) */
  const iotc__interface *iface;    /* component */
} iotc__element;

struct iotc__interface {
  char *id;
  iotc__element *items;
  size_t count, cap;
  iotc__interface *next_owned;
};

struct iotc__model {
  const iotc__interface *root;
  iotc__interface *interfaces; /* owned */
  iotc__schema *schemas;       /* owned */
};

/** The element @p name of @p iface, NULL when none. */
const iotc__element *iotc__model_find(const iotc__interface *iface, const char *name);

#endif
