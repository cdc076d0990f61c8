/* SPDX-License-Identifier: MIT */
/* Name rules: what may be used as a component, property, command, telemetry or message
 * property name, or as a device id, without breaking a topic or a JSON document. */
#include "hub/topic_common.h"

#define DTDL_NAME_MAX 64
#define MESSAGE_PROPERTY_MAX 128

static void report(iotc_hub_name_rule *out_rule, size_t *out_offset, iotc_hub_name_rule rule,
                   size_t offset) {
  if (out_rule) {
    *out_rule = rule;
  }
  if (out_offset) {
    *out_offset = offset;
  }
}

static bool has_class(const unsigned char *cls, char c, unsigned bit) {
  return (cls[(unsigned char)c] & bit) != 0;
}

/* DTDL v2 name: ^[a-zA-Z](?:[a-zA-Z0-9_]*[a-zA-Z0-9])?$, at most 64 characters. */
static iotc_hub_name_rule dtdl_name(const char *name, size_t *at) {
  const unsigned char *cls = iotc__hub_char_classes();
  if (!has_class(cls, name[0], IOTC__HUB_CHAR_ALPHA)) {
    *at = 0;
    return IOTC_HUB_NAME_BAD_FIRST_CHAR;
  }
  size_t i = 1;
  while (has_class(cls, name[i], IOTC__HUB_CHAR_WORD)) { /* the NUL is not a word byte */
    ++i;
  }
  if (i > DTDL_NAME_MAX) {
    *at = DTDL_NAME_MAX;
    return IOTC_HUB_NAME_TOO_LONG;
  }
  if (name[i] != '\0') {
    *at = i;
    return IOTC_HUB_NAME_BAD_CHAR;
  }
  if (name[i - 1] == '_') {
    *at = i - 1;
    return IOTC_HUB_NAME_BAD_LAST_CHAR;
  }
  return IOTC_HUB_NAME_VALID;
}

/* Names IoT Central gives its own meaning in telemetry. */
static bool reserved_telemetry(const char *name) {
  static const char *const reserved[] = {"EventEnqueuedUtcTime", "EventProcessedUtcTime",
                                         "PartitionId", "EventHub", "User"};
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; ++i) {
    if (strcmp(name, reserved[i]) == 0) {
      return true;
    }
  }
  return false;
}

/* True when @p name starts with the lowercase @p prefix, ignoring ASCII case. */
static bool starts_with_nocase(const char *name, const char *prefix) {
  for (; *prefix != '\0'; ++name, ++prefix) {
    char c = (*name >= 'A' && *name <= 'Z') ? (char)(*name - 'A' + 'a') : *name;
    if (c != *prefix) {
      return false;
    }
  }
  return true;
}

static iotc_hub_name_rule message_property(const char *name, size_t *at) {
  if (name[0] == '$' || starts_with_nocase(name, "iothub-")) {
    *at = 0;
    return IOTC_HUB_NAME_RESERVED;
  }
  for (size_t i = 0; name[i] != '\0'; ++i) {
    unsigned char c = (unsigned char)name[i];
    if (i == MESSAGE_PROPERTY_MAX) {
      *at = MESSAGE_PROPERTY_MAX;
      return IOTC_HUB_NAME_TOO_LONG;
    }
    if (c < 0x21 || c == 0x7F || c == '"' || c == '\\') {
      *at = i;
      return IOTC_HUB_NAME_BAD_CHAR;
    }
  }
  return IOTC_HUB_NAME_VALID;
}

/* Device id: find which rule iotc__hub_device_id_len() rejected. */
static iotc_hub_name_rule device_id(const char *name, size_t *at) {
  if (iotc__hub_device_id_len(name) != 0) {
    return IOTC_HUB_NAME_VALID;
  }
  char one[2] = {0, 0};
  for (size_t i = 0;; ++i) {
    if (i == IOTC_HUB_DEVICE_ID_MAX) {
      *at = i;
      return IOTC_HUB_NAME_TOO_LONG;
    }
    one[0] = name[i];
    if (iotc__hub_device_id_len(one) == 0) {
      *at = i;
      return IOTC_HUB_NAME_BAD_CHAR;
    }
  }
}

iotc_result iotc_hub_name_check(iotc_hub_name_kind kind, const char *name,
                                iotc_hub_name_rule *out_rule, size_t *out_offset) {
  size_t at = 0;
  iotc_hub_name_rule rule;
  if (name == NULL || name[0] == '\0') {
    rule = IOTC_HUB_NAME_EMPTY;
  } else {
    switch (kind) {
    case IOTC_HUB_NAME_COMPONENT:
    case IOTC_HUB_NAME_PROPERTY:
    case IOTC_HUB_NAME_COMMAND:
      rule = dtdl_name(name, &at);
      break;
    case IOTC_HUB_NAME_TELEMETRY:
      rule = dtdl_name(name, &at);
      if (rule == IOTC_HUB_NAME_VALID && reserved_telemetry(name)) {
        rule = IOTC_HUB_NAME_RESERVED;
      }
      break;
    case IOTC_HUB_NAME_MESSAGE_PROPERTY:
      rule = message_property(name, &at);
      break;
    case IOTC_HUB_NAME_DEVICE_ID:
      rule = device_id(name, &at);
      break;
    default:
      rule = IOTC_HUB_NAME_BAD_CHAR;
      break;
    }
  }
  report(out_rule, out_offset, rule, at);
  return rule == IOTC_HUB_NAME_VALID ? IOTC_OK : IOTC_ERR_INVALID_ARG;
}

const char *iotc_hub_name_rule_text(iotc_hub_name_rule rule) {
  switch (rule) {
  case IOTC_HUB_NAME_VALID: return "valid";
  case IOTC_HUB_NAME_EMPTY: return "name is empty";
  case IOTC_HUB_NAME_TOO_LONG: return "name is too long";
  case IOTC_HUB_NAME_BAD_FIRST_CHAR: return "name must start with a letter";
  case IOTC_HUB_NAME_BAD_CHAR: return "name contains a character that is not allowed";
  case IOTC_HUB_NAME_BAD_LAST_CHAR: return "name must not end with '_'";
  case IOTC_HUB_NAME_RESERVED: return "name is reserved by the service";
  }
  return "unknown name rule";
}
