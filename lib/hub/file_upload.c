/* SPDX-License-Identifier: MIT */
/* IoT Hub file upload and Azure Storage block blobs: the texts a device sends and reads (see
 * file_upload.h). */
#include "hub/file_upload.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/json.h"
#include "common/secret.h"

void iotc__blob_sas_clear(iotc__blob_sas *s) {
  free(s->correlation_id);
  free(s->host);
  free(s->container);
  free(s->blob_name);
  iotc__secret_free(s->sas_token);
  memset(s, 0, sizeof *s);
}

static char *take_string(json_t *root, const char *key, bool *ok) {
  const char *v = json_string_value(json_object_get(root, key));
  if (v == NULL || *v == '\0') {
    *ok = false;
    return NULL;
  }
  char *copy = strdup(v);
  if (copy == NULL) {
    *ok = false;
  }
  return copy;
}

iotc_result iotc__blob_sas_parse(const char *json, size_t len, iotc__blob_sas *out,
                                 const char **why) {
  memset(out, 0, sizeof *out);
  char load_why[IOTC__JSON_WHY_SIZE] = "";
  json_t *root = iotc__json_load(json, len, IOTC__JSON_MAX_LEN, 0, load_why);
  if (root == NULL && strcmp(load_why, IOTC__JSON_NO_MEMORY) == 0) {
    *why = "out of memory";
    return IOTC_ERR_NO_MEMORY;
  }
  if (!json_is_object(root)) {
    json_decref(root);
    *why = "the hub's answer is not a JSON object";
    return IOTC_ERR_PROTOCOL;
  }
  bool ok = true;
  out->correlation_id = take_string(root, "correlationId", &ok);
  out->host = take_string(root, "hostName", &ok);
  out->container = take_string(root, "containerName", &ok);
  out->blob_name = take_string(root, "blobName", &ok);
  out->sas_token = take_string(root, "sasToken", &ok);
  /* the token is the query of the blob URL: it starts with '?' and holds no '#' nor space */
  if (ok && (out->sas_token[0] != '?' || strpbrk(out->sas_token, "# \r\n") != NULL ||
             strpbrk(out->host, "/?#@ ") != NULL)) {
    ok = false;
  }
  /* the string jansson kept of the token is freed with root: wipe it first */
  json_t *token = json_object_get(root, "sasToken");
  if (json_is_string(token)) {
    iotc__wipe((void *)json_string_value(token), json_string_length(token));
  }
  json_decref(root);
  if (!ok) {
    iotc__blob_sas_clear(out);
    *why = "the hub's answer lacks correlationId, hostName, containerName, blobName or a "
           "valid sasToken";
    return IOTC_ERR_PROTOCOL;
  }
  return IOTC_OK;
}

/* Percent-encode @p s for a URL path, keeping '/' when @p keep_slash. */
static char *escape_path(const char *s, bool keep_slash) {
  size_t n = strlen(s);
  char *out = malloc(n * 3 + 1);
  if (out == NULL) {
    return NULL;
  }
  static const char hex[] = "0123456789ABCDEF";
  size_t j = 0;
  for (size_t i = 0; i < n; ++i) {
    unsigned char ch = (unsigned char)s[i];
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
        ch == '-' || ch == '_' || ch == '.' || ch == '~' || (keep_slash && ch == '/')) {
      out[j++] = (char)ch;
    } else {
      out[j++] = '%';
      out[j++] = hex[ch >> 4];
      out[j++] = hex[ch & 15];
    }
  }
  out[j] = '\0';
  return out;
}

char *iotc__file_upload_url(const char *hub, const char *device_id, bool notifications) {
  char *id = escape_path(device_id, false);
  if (id == NULL) {
    return NULL;
  }
  const char *fmt = "https://%s/devices/%s/files%s?api-version=" IOTC__FILE_UPLOAD_API_VERSION;
  const char *tail = notifications ? "/notifications" : "";
  int n = snprintf(NULL, 0, fmt, hub, id, tail);
  char *url = n < 0 ? NULL : malloc((size_t)n + 1);
  if (url != NULL) {
    snprintf(url, (size_t)n + 1, fmt, hub, id, tail);
  }
  free(id);
  return url;
}

static char *dump(json_t *obj) {
  char *text = iotc__json_dump(obj, JSON_COMPACT);
  json_decref(obj);
  return text;
}

char *iotc__file_upload_request_body(const char *blob_name) {
  return dump(json_pack("{s:s}", "blobName", blob_name));
}

char *iotc__file_upload_notify_body(const char *correlation_id, bool success, int status,
                                    const char *description) {
  /* The description may quote a service's bytes or a cut message: printable ASCII only, so the
   * notification can always be written. */
  char text[512];
  size_t n = 0;
  for (const char *p = description; *p != '\0' && n + 1 < sizeof text; ++p) {
    unsigned char ch = (unsigned char)*p;
    text[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
  }
  text[n] = '\0';
  return dump(json_pack("{s:s,s:b,s:i,s:s}", "correlationId", correlation_id, "isSuccess",
                        success, "statusCode", status, "statusDescription", text));
}

static void copy_text(char *dst, size_t size, const char *src, size_t len) {
  if (size == 0) {
    return;
  }
  if (len >= size) {
    len = size - 1;
  }
  memcpy(dst, src, len);
  dst[len] = '\0';
}

void iotc__file_upload_error(const char *body, char *code, size_t code_size, char *text,
                             size_t text_size) {
  copy_text(code, code_size, "", 0);
  copy_text(text, text_size, "", 0);
  json_t *root = iotc__json_load(body, strlen(body), IOTC__JSON_MAX_LEN, 0, NULL);
  const char *msg = json_string_value(json_object_get(root, "Message"));
  if (msg == NULL) {
    msg = json_string_value(json_object_get(root, "message"));
  }
  if (msg != NULL) {
    static const char prefix[] = "ErrorCode:";
    const char *semi = strchr(msg, ';');
    if (strncmp(msg, prefix, sizeof prefix - 1) == 0 && semi != NULL) {
      copy_text(code, code_size, msg + sizeof prefix - 1, (size_t)(semi - msg) - (sizeof prefix - 1));
      msg = semi + 1;
    }
    copy_text(text, text_size, msg, strlen(msg));
  }
  json_decref(root);
}

char *iotc__blob_url(const iotc__blob_sas *s, const char *query) {
  char *container = escape_path(s->container, false);
  char *blob = escape_path(s->blob_name, true);
  char *url = NULL;
  if (container != NULL && blob != NULL) {
    const char *fmt = "https://%s/%s/%s%s%s";
    int n = snprintf(NULL, 0, fmt, s->host, container, blob, s->sas_token, query);
    url = n < 0 ? NULL : malloc((size_t)n + 1);
    if (url != NULL) {
      snprintf(url, (size_t)n + 1, fmt, s->host, container, blob, s->sas_token, query);
    }
  }
  free(container);
  free(blob);
  return url;
}

void iotc__blob_block_id(uint32_t index, char out[IOTC__BLOCK_ID_SIZE]) {
  char raw[16]; /* "iotc-%010u": 15 bytes -> 20 base64 characters */
  snprintf(raw, sizeof raw, "iotc-%010u", (unsigned)index);
  size_t len = 0;
  if (iotc__base64_encode((const uint8_t *)raw, 15, out, IOTC__BLOCK_ID_SIZE, &len) != IOTC_OK) {
    out[0] = '\0';
  }
}

char *iotc__blob_block_list(uint32_t count, size_t *len) {
  static const char head[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  static const char tail[] = "</BlockList>";
  size_t per = strlen("<Latest></Latest>") + IOTC__BLOCK_ID_SIZE;
  size_t cap = sizeof head + (size_t)count * per + sizeof tail;
  char *xml = malloc(cap);
  if (xml == NULL) {
    return NULL;
  }
  size_t n = (size_t)snprintf(xml, cap, "%s", head);
  for (uint32_t i = 0; i < count; ++i) {
    char id[IOTC__BLOCK_ID_SIZE];
    iotc__blob_block_id(i, id);
    n += (size_t)snprintf(xml + n, cap - n, "<Latest>%s</Latest>", id);
  }
  n += (size_t)snprintf(xml + n, cap - n, "%s", tail);
  *len = n;
  return xml;
}

void iotc__blob_error_code(const char *body, char *code, size_t size) {
  copy_text(code, size, "", 0);
  const char *start = strstr(body, "<Code>");
  if (start == NULL) {
    return;
  }
  start += strlen("<Code>");
  const char *end = strstr(start, "</Code>");
  if (end != NULL) {
    copy_text(code, size, start, (size_t)(end - start));
  }
}
