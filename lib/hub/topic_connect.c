/* SPDX-License-Identifier: MIT */
/* MQTT CONNECT strings for IoT Hub: client id and username. */
#include "common/url.h"
#include "hub/topic_common.h"

#define HOST_MAX 255

/* Host name, IPv4/IPv6 literal and optional ":port"; kept as given. */
static size_t host_len(const char *host) {
  size_t n = 0;
  for (; host[n] != '\0'; ++n) {
    char c = host[n];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == ':' || c == '[' || c == ']';
    if (!ok || n == HOST_MAX) {
      return 0;
    }
  }
  return n;
}

iotc_result iotc_hub_topic_client_id(const char *device_id, char *buf, size_t size,
                                     size_t *out_len) {
  size_t id_len = iotc__hub_device_id_len(device_id);
  if (id_len == 0 || buf == NULL) {
    return IOTC_ERR_INVALID_ARG;
  }
  if (out_len) {
    *out_len = id_len;
  }
  if (id_len >= size) {
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  *iotc__put(buf, device_id, id_len) = '\0';
  return IOTC_OK;
}

iotc_result iotc_hub_topic_username(const char *host, const char *device_id,
                                    const char *device_client_type, const char *model_id,
                                    char *buf, size_t size, size_t *out_len) {
  static const char api[] = "/?api-version=" IOTC_HUB_API_VERSION;
  static const char dct_key[] = "&DeviceClientType=";
  static const char model_key[] = "&model-id=";
  size_t h_len = host ? host_len(host) : 0;
  size_t id_len = iotc__hub_device_id_len(device_id);
  if (h_len == 0 || id_len == 0 || buf == NULL ||
      (device_client_type != NULL && device_client_type[0] == '\0') ||
      (model_id != NULL && model_id[0] == '\0')) {
    return IOTC_ERR_INVALID_ARG;
  }
  size_t dct_len = device_client_type ? strlen(device_client_type) : 0;
  size_t model_len = model_id ? strlen(model_id) : 0;
  size_t need = h_len + 1 + id_len + IOTC__LIT_LEN(api);
  if (dct_len) {
    need += IOTC__LIT_LEN(dct_key) + iotc__url_encoded_len(device_client_type, dct_len);
  }
  if (model_len) {
    need += IOTC__LIT_LEN(model_key) + iotc__url_encoded_len(model_id, model_len);
  }
  if (need > IOTC__HUB_TOPIC_MAX) {
    return IOTC_ERR_TOO_LARGE; /* MQTT strings are 16-bit length prefixed */
  }
  if (out_len) {
    *out_len = need;
  }
  if (need >= size) {
    return IOTC_ERR_BUFFER_TOO_SMALL;
  }
  char *p = iotc__put(buf, host, h_len);
  *p++ = '/';
  p = iotc__put(p, device_id, id_len);
  p = iotc__put(p, api, IOTC__LIT_LEN(api));
  if (dct_len) {
    p = iotc__put(p, dct_key, IOTC__LIT_LEN(dct_key));
    p = iotc__url_encode_to(device_client_type, dct_len, p);
  }
  if (model_len) {
    p = iotc__put(p, model_key, IOTC__LIT_LEN(model_key));
    p = iotc__url_encode_to(model_id, model_len, p);
  }
  *p = '\0';
  return IOTC_OK;
}
