/* SPDX-License-Identifier: MIT */
/* IoT Hub's file-upload REST surface and the Azure Storage block-blob calls a device makes with
 * the SAS URI the hub hands out: URLs, bodies, and the reading of answers. No I/O here. */
#ifndef IOTC_HUB_FILE_UPLOAD_H
#define IOTC_HUB_FILE_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

#define IOTC__FILE_UPLOAD_API_VERSION "2021-04-12"
/* The Storage REST version requests are made with (its blocks may be up to 4000 MiB). */
#define IOTC__STORAGE_VERSION "2021-08-06"
/* Block ids: base64 of a fixed-width text, so every id of a blob has the same length. */
#define IOTC__BLOCK_ID_SIZE 24

/** What `POST /devices/{id}/files` answers (all strings owned; sas_token is a secret). */
typedef struct iotc__blob_sas {
  char *correlation_id;
  char *host;
  char *container;
  char *blob_name;
  char *sas_token; /* "?sv=...&sig=..." */
} iotc__blob_sas;

/** Free the fields of @p s (wiping the SAS token); @p s itself is the caller's. */
void iotc__blob_sas_clear(iotc__blob_sas *s);

/** Read the hub's answer; IOTC_ERR_PROTOCOL (with @p why) when a field is missing or bad. */
iotc_result iotc__blob_sas_parse(const char *json, size_t len, iotc__blob_sas *out,
                                 const char **why);

/** `https://{hub}/devices/{id}/files[/notifications]?api-version=...`, malloc'd; NULL: no memory. */
char *iotc__file_upload_url(const char *hub, const char *device_id, bool notifications);

/** `{"blobName":...}`, malloc'd; NULL: no memory. */
char *iotc__file_upload_request_body(const char *blob_name);

/** The completion notification body, malloc'd; NULL: no memory. Bytes of @p description
 *  outside printable ASCII become '?', and it is cut at 511 bytes. */
char *iotc__file_upload_notify_body(const char *correlation_id, bool success, int status,
                                    const char *description);

/** The hub's error text (`{"Message":"ErrorCode:Code;text"}`): code and text into the buffers
 *  (empty when absent). */
void iotc__file_upload_error(const char *body, char *code, size_t code_size, char *text,
                             size_t text_size);

/** The blob's URL with @p query appended after the SAS ("" or "&comp=..."), malloc'd (it holds
 *  the SAS: wipe it); NULL: no memory. */
char *iotc__blob_url(const iotc__blob_sas *s, const char *query);

/** The id of block @p index (NUL-terminated, IOTC__BLOCK_ID_SIZE bytes with the NUL). */
void iotc__blob_block_id(uint32_t index, char out[IOTC__BLOCK_ID_SIZE]);

/** The Put Block List body naming blocks 0..count-1, malloc'd; NULL: no memory. */
char *iotc__blob_block_list(uint32_t count, size_t *len);

/** The `<Code>` of a Storage error body into @p code (empty when absent). */
void iotc__blob_error_code(const char *body, char *code, size_t size);

#endif
