/* SPDX-License-Identifier: MIT */
/**
 * @file hub_topic.h
 * @brief IoT Hub MQTT topic layer: builds the strings a device publishes and connects with,
 *        and parses the topics it receives. No I/O, no allocation.
 *
 * Builders share one shape: `(..., char *buf, size_t size, size_t *out_len)`.
 * - The length is computed first. When @p size is too small they return
 *   IOTC_ERR_BUFFER_TOO_SMALL, set `*out_len` to the length needed (without the NUL, so the
 *   buffer must hold `*out_len + 1` bytes) and write nothing.
 * - On success the output is NUL-terminated and `*out_len` is its length. @p out_len is
 *   nullable.
 * - String inputs are NUL-terminated and **borrowed** (read during the call only). NULL for a
 *   required input, an empty string, or a value that breaks the rules stated below gives
 *   IOTC_ERR_INVALID_ARG and nothing written. A topic longer than MQTT's 65535 bytes gives
 *   IOTC_ERR_TOO_LARGE.
 *
 * Parsers share one shape: `(const char *topic, size_t topic_len, out *)`.
 * - They read only `topic[0 .. topic_len)` and never need a NUL.
 * - Their outputs are views (::iotc_hub_view) into @p topic, valid while @p topic is.
 * - IOTC_ERR_NO_MATCH: the topic belongs to another feature (try the next parser).
 *   IOTC_ERR_MALFORMED: the topic is of this parser's family but truncated or broken.
 *   IOTC_ERR_INVALID_ARG: @p out is NULL, or @p topic is NULL with a non-zero length.
 *   On any error `*out` is left unspecified.
 *
 * Device id rule (every function taking `device_id`): 1 to 128 bytes, each one of
 * `A-Z a-z 0-9` or `- . _ % * ? ! ( ) , : = @ $ '` (IoT Hub's set, minus `+` and `#`,
 * which are MQTT wildcards). So no `/`, `#`, `+`, `&`, space, control or non-ASCII byte.
 *
 * Request id (`$rid`) rule for builders: 1 to 128 bytes of printable ASCII (0x21..0x7E)
 * other than `#`, `+`, `/` and `&`. Parsers treat a received `$rid` as an opaque string.
 *
 * Thread safety: every function here is reentrant and touches no global state.
 */
#ifndef IOTC_HUB_TOPIC_H
#define IOTC_HUB_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** IoT Hub api-version placed in the MQTT username. */
#define IOTC_HUB_API_VERSION "2021-04-12"

/** Longest device id IoT Hub accepts, in bytes. */
#define IOTC_HUB_DEVICE_ID_MAX 128
/** Longest request id the builders accept, in bytes. */
#define IOTC_HUB_REQUEST_ID_MAX 128

/** Subscribe filter for direct-method requests. */
#define IOTC_HUB_TOPIC_METHODS_SUBSCRIBE "$iothub/methods/POST/#"
/** Subscribe filter for twin responses (GET and reported PATCH). */
#define IOTC_HUB_TOPIC_TWIN_RESPONSE_SUBSCRIBE "$iothub/twin/res/#"
/** Subscribe filter for desired-property updates. */
#define IOTC_HUB_TOPIC_TWIN_DESIRED_SUBSCRIBE "$iothub/twin/PATCH/properties/desired/#"

/**
 * @brief A read-only slice of someone else's text: not NUL-terminated.
 * An absent value is `{NULL, 0}`.
 */
typedef struct iotc_hub_view {
  const char *ptr; /**< first byte, borrowed; NULL when absent */
  size_t len;      /**< length in bytes */
} iotc_hub_view;

/* ---------------------------------------------------------------------------------------- */
/* Connection                                                                               */
/* ---------------------------------------------------------------------------------------- */

/**
 * @brief MQTT client id: the device id itself.
 * @param[in] device_id borrowed; see the device id rule
 * @param[out] buf where the NUL-terminated result is written (NULL with @p size 0: length only)
 * @param[in] size size of @p buf in bytes
 * @param[out] out_len nullable: the length written, or needed on IOTC_ERR_BUFFER_TOO_SMALL
 * @retval IOTC_OK
 * @retval IOTC_ERR_INVALID_ARG @p device_id NULL, empty or breaking the rule; @p buf NULL
 * @retval IOTC_ERR_BUFFER_TOO_SMALL `*out_len` = length needed
 */
IOTC_NODISCARD iotc_result iotc_hub_topic_client_id(const char *device_id, char *buf,
                                                    size_t size, size_t *out_len);

/**
 * @brief MQTT username:
 *        `{host}/{device_id}/?api-version=2021-04-12[&DeviceClientType={enc}][&model-id={enc}]`.
 *
 * Optional values are percent-encoded per RFC 3986 (every byte outside
 * `A-Z a-z 0-9 - . _ ~` becomes `%XX`; a space is `%20`, never `+`).
 * @param[in] host hub host name, borrowed; may end in `:port`, kept as given. 1 to 255 bytes
 *            of `A-Z a-z 0-9 - . _ : [ ]`.
 * @param[in] device_id borrowed; see the device id rule
 * @param[in] device_client_type nullable (absent); non-empty when given. E.g. `iotc/0.1.0`.
 * @param[in] model_id nullable (absent); non-empty when given. E.g. `dtmi:com:example:X;1`.
 * @param[out] buf where the NUL-terminated result is written (NULL with @p size 0: length only)
 * @param[in] size size of @p buf in bytes
 * @param[out] out_len nullable: the length written, or needed on IOTC_ERR_BUFFER_TOO_SMALL
 * @retval IOTC_OK
 * @retval IOTC_ERR_INVALID_ARG NULL/empty/ill-formed input, or @p buf NULL
 * @retval IOTC_ERR_BUFFER_TOO_SMALL
 */
IOTC_NODISCARD iotc_result iotc_hub_topic_username(const char *host, const char *device_id,
                                                   const char *device_client_type,
                                                   const char *model_id, char *buf, size_t size,
                                                   size_t *out_len);

/* ---------------------------------------------------------------------------------------- */
/* Telemetry (device to cloud)                                                              */
/* ---------------------------------------------------------------------------------------- */

/** @brief An application property: `key=value` in a property bag. */
typedef struct iotc_hub_property {
  const char *key;   /**< non-empty, borrowed; percent-encoded by the builder */
  const char *value; /**< borrowed; percent-encoded; NULL writes `key` alone (a null value),
                          "" writes `key=` */
} iotc_hub_property;

/** Current version of ::iotc_hub_telemetry_options. */
#define IOTC_HUB_TELEMETRY_OPTIONS_VERSION 1

/**
 * @brief What to put in a telemetry message's property bag. Initialise with
 *        iotc_hub_telemetry_options_init(); every pointer is borrowed and nullable (absent).
 *
 * A present string must be non-empty. Properties are written in field order, then the
 * custom properties in array order, keys and values percent-encoded. System property keys
 * are written with `$` encoded (`%24.mid`), as the SDKs send them.
 */
typedef struct iotc_hub_telemetry_options {
  uint32_t struct_version;        /**< IOTC_HUB_TELEMETRY_OPTIONS_VERSION */
  const char *message_id;         /**< `$.mid` */
  const char *correlation_id;     /**< `$.cid` */
  const char *content_type;       /**< `$.ct`, e.g. `application/json` */
  const char *content_encoding;   /**< `$.ce`, e.g. `utf-8` */
  const char *component;          /**< `$.sub`; must pass iotc_hub_name_check(IOTC_HUB_NAME_COMPONENT) */
  const char *creation_time_utc;  /**< `iothub-creation-time-utc`, e.g. `2024-01-02T03:04:05.678Z` */
  const iotc_hub_property *properties; /**< custom properties; NULL only when count is 0 */
  size_t property_count;          /**< number of entries in @c properties */
} iotc_hub_telemetry_options;

/** @brief Set every field of @p options to "absent" and the struct version. NULL is a no-op. */
void iotc_hub_telemetry_options_init(iotc_hub_telemetry_options *options);

/**
 * @brief Telemetry publish topic: `devices/{device_id}/messages/events/{property-bag}`.
 * @param[in] device_id borrowed; see the device id rule
 * @param[in] options nullable: NULL means no properties (topic ends with `/`)
 * @param[out] buf where the NUL-terminated result is written (NULL with @p size 0: length only)
 * @param[in] size size of @p buf in bytes
 * @param[out] out_len nullable: the length written, or needed on IOTC_ERR_BUFFER_TOO_SMALL
 * @retval IOTC_OK
 * @retval IOTC_ERR_INVALID_ARG bad device id, unknown struct_version, empty option string,
 *         empty property key, properties NULL with a non-zero count, bad component name,
 *         @p buf NULL
 * @retval IOTC_ERR_TOO_LARGE the topic would exceed 65535 bytes
 * @retval IOTC_ERR_BUFFER_TOO_SMALL
 */
IOTC_NODISCARD iotc_result iotc_hub_topic_telemetry(const char *device_id,
                                                    const iotc_hub_telemetry_options *options,
                                                    char *buf, size_t size, size_t *out_len);

/**
 * @brief The property bag alone (what follows `devices/{device_id}/messages/events/`), for a
 *        caller that keeps the topic prefix and the bag apart (the device client builds the
 *        bag once when a message is queued and the prefix once per connection).
 * @param[in] options nullable: NULL, or no property set, gives the empty bag ""
 * @param[out] buf where the NUL-terminated result is written (NULL with @p size 0: length only)
 * @param[in] size size of @p buf in bytes
 * @param[out] out_len nullable: the length written, or needed on IOTC_ERR_BUFFER_TOO_SMALL
 * @retval IOTC_OK
 * @retval IOTC_ERR_INVALID_ARG as for iotc_hub_topic_telemetry() (options), or @p buf NULL
 * @retval IOTC_ERR_TOO_LARGE the bag would not fit a topic (65535 bytes) even behind the
 *         shortest prefix (`devices/` + a one-byte device id + `/messages/events/`, 26 bytes);
 *         a longer device id leaves less room: check the whole topic's length
 * @retval IOTC_ERR_BUFFER_TOO_SMALL *out_len is the bag's length (without the NUL)
 */
IOTC_NODISCARD iotc_result iotc_hub_topic_property_bag(const iotc_hub_telemetry_options *options,
                                                       char *buf, size_t size, size_t *out_len);

/* ---------------------------------------------------------------------------------------- */
/* Property bags (received)                                                                 */
/* ---------------------------------------------------------------------------------------- */

/**
 * @brief One property of a received bag, as raw (still percent-encoded) views.
 * Decode with iotc_hub_property_decode().
 */
typedef struct iotc_hub_property_view {
  iotc_hub_view key;   /**< never empty */
  iotc_hub_view value; /**< empty for `key=` and for `key` alone */
  bool has_value;      /**< false for `key` without `=` (the service's null value) */
} iotc_hub_property_view;

/** @brief Cursor over a property bag `k=v&k2&k3=`; a value struct, copy it freely. */
typedef struct iotc_hub_property_iter {
  const char *next; /**< internal: next unread byte */
  const char *end;  /**< internal: one past the bag */
} iotc_hub_property_iter;

/**
 * @brief Start iterating over @p bag (a view from a parser, or any `k=v&...` text).
 * @retval IOTC_OK
 * @retval IOTC_ERR_INVALID_ARG @p iter NULL, or bag.ptr NULL with a non-zero length
 */
IOTC_NODISCARD iotc_result iotc_hub_property_iter_init(iotc_hub_property_iter *iter,
                                                       iotc_hub_view bag);

/**
 * @brief Next property. Empty segments (`a=1&&b=2`, a trailing `&`) are skipped.
 * @retval IOTC_OK `*out` holds the property
 * @retval IOTC_ERR_NO_MATCH no more properties
 * @retval IOTC_ERR_MALFORMED a segment with an empty key (`=v`); the iterator moves past it,
 *         so the caller may continue
 * @retval IOTC_ERR_INVALID_ARG NULL argument
 */
IOTC_NODISCARD iotc_result iotc_hub_property_next(iotc_hub_property_iter *iter,
                                                  iotc_hub_property_view *out);

/**
 * @brief Find the first property whose decoded key equals @p key (compared byte for byte
 *        after percent-decoding the bag's key, no buffer needed).
 * @param[in] bag the property bag (a view of the topic's tail)
 * @param[in] key NUL-terminated, borrowed
 * @param[out] out the raw property when found
 * @retval IOTC_OK found
 * @retval IOTC_ERR_NO_MATCH not in the bag
 * @retval IOTC_ERR_INVALID_ARG NULL argument
 */
IOTC_NODISCARD iotc_result iotc_hub_property_find(iotc_hub_view bag, const char *key,
                                                  iotc_hub_property_view *out);

/**
 * @brief Percent-decode a raw key or value into @p buf ('+' stays '+'); builder shape.
 * A buffer of `raw.len + 1` bytes always suffices.
 * @retval IOTC_OK
 * @retval IOTC_ERR_BAD_ENCODING truncated or non-hex `%` escape, or a NUL byte (raw or `%00`)
 * @retval IOTC_ERR_BUFFER_TOO_SMALL
 * @retval IOTC_ERR_INVALID_ARG @p buf NULL, or raw.ptr NULL with a non-zero length
 */
IOTC_NODISCARD iotc_result iotc_hub_property_decode(iotc_hub_view raw, char *buf, size_t size,
                                                    size_t *out_len);

/* ---------------------------------------------------------------------------------------- */
/* Cloud-to-device messages                                                                 */
/* ---------------------------------------------------------------------------------------- */

/**
 * @brief C2D subscribe filter: `devices/{device_id}/messages/devicebound/#`.
 * @retval IOTC_OK, IOTC_ERR_INVALID_ARG, IOTC_ERR_BUFFER_TOO_SMALL
 */
IOTC_NODISCARD iotc_result iotc_hub_topic_c2d_subscribe(const char *device_id, char *buf,
                                                        size_t size, size_t *out_len);

/** @brief A received C2D topic, as views into it. */
typedef struct iotc_hub_c2d_message {
  iotc_hub_view device_id;   /**< the `{device_id}` segment */
  iotc_hub_view properties;  /**< raw property bag, possibly empty; iterate with
                                  iotc_hub_property_iter_init() */
  iotc_hub_view method_name; /**< raw (percent-encoded) value of the `method-name` property
                                  that IoT Central "queue if offline" commands carry;
                                  `{NULL, 0}` when absent. May be `component*command`:
                                  decode, then split with iotc_hub_command_name_split(). */
} iotc_hub_c2d_message;

/**
 * @brief Parse `devices/{id}/messages/devicebound/[{property-bag}]`.
 * @retval IOTC_OK
 * @retval IOTC_ERR_NO_MATCH not a C2D topic (telemetry, methods, twin, ...)
 * @retval IOTC_ERR_MALFORMED `devices/{id}/messages/devicebound` without the final `/`,
 *         or an empty device id
 * @retval IOTC_ERR_INVALID_ARG
 */
IOTC_NODISCARD iotc_result iotc_hub_topic_c2d_parse(const char *topic, size_t topic_len,
                                                    iotc_hub_c2d_message *out);

/** @brief What iotc_hub_property_bag_decode() wrote, or needs. */
typedef struct iotc_hub_bag_sizes {
  size_t count;    /**< name/value pairs written, or needed */
  size_t text_len; /**< bytes of text written, or needed: every name and value with its NUL */
  size_t skipped;  /**< properties left out because they cannot be decoded */
} iotc_hub_bag_sizes;

/**
 * @brief Decode a received property bag (such as iotc_hub_c2d_message::properties) into
 *        name/value pairs of NUL-terminated strings.
 *
 * Each property's key and value are percent-decoded ('+' stays '+') into @p text, one after the
 * other, and `pairs[i]` points at them, in the bag's order; a `key` without `=` (the service's
 * null value) gives the value "". A property that cannot be decoded (an empty key as in `=v`, a
 * truncated or non-hex `%` escape, a NUL byte raw or as `%00`) is left out and counted in
 * `out->skipped`; the others are still decoded.
 *
 * Sizes come first, as for the builders: `*out` is always filled with the sizes needed, and when
 * @p pairs or @p text is too small nothing is written to them (no partial result). Call with
 * `(bag, NULL, 0, NULL, 0, &sizes)` to measure. A @p text of `2 * bag.len + 2` bytes always
 * suffices. No allocation; @p bag is only read.
 * @param[in] bag the raw property bag (a view; it need not be NUL-terminated)
 * @param[out] pairs receives `out->count` pairs whose strings point into @p text (valid while
 *             @p text is); NULL only when @p max_pairs is 0
 * @param[in] max_pairs number of entries @p pairs can hold
 * @param[out] text receives the decoded strings; NULL only when @p text_size is 0
 * @param[in] text_size size of @p text in bytes
 * @param[out] out the sizes written or, on IOTC_ERR_BUFFER_TOO_SMALL, needed
 * @retval IOTC_OK every decodable property is in @p pairs (possibly none: an empty bag)
 * @retval IOTC_ERR_BUFFER_TOO_SMALL @p max_pairs below `out->count` or @p text_size below
 *         `out->text_len`; nothing written
 * @retval IOTC_ERR_INVALID_ARG @p out NULL, bag.ptr NULL with a non-zero length, @p pairs NULL
 *         with @p max_pairs above 0, or @p text NULL with @p text_size above 0
 */
IOTC_NODISCARD iotc_result iotc_hub_property_bag_decode(iotc_hub_view bag,
                                                        iotc_hub_property *pairs,
                                                        size_t max_pairs, char *text,
                                                        size_t text_size,
                                                        iotc_hub_bag_sizes *out);

/* ---------------------------------------------------------------------------------------- */
/* Direct methods (IoT Central commands)                                                    */
/* ---------------------------------------------------------------------------------------- */

/** @brief A received method request: `$iothub/methods/POST/{name}/?$rid={rid}`. */
typedef struct iotc_hub_method_request {
  iotc_hub_view name;       /**< full method name, never empty */
  iotc_hub_view request_id; /**< `$rid` value, opaque, never empty */
  iotc_hub_view component;  /**< IoT Central `component*command`: the part before `*`;
                                 `{NULL, 0}` for a root command */
  iotc_hub_view command;    /**< the part after `*`, or the whole name; `{NULL, 0}` when the
                                 name uses `*` wrongly (first, last or twice), so that the
                                 caller can answer 400 */
} iotc_hub_method_request;

/**
 * @brief Parse a method request topic. Query parameters other than `$rid` are ignored.
 *
 * On IOTC_ERR_MALFORMED, `out->request_id` still holds the `$rid` when one was found
 * (`{NULL, 0}` otherwise), so the caller can answer the request with an error status.
 * @retval IOTC_OK
 * @retval IOTC_ERR_NO_MATCH not under `$iothub/methods/POST/`
 * @retval IOTC_ERR_MALFORMED empty name, missing `/?`, or missing or empty `$rid`
 * @retval IOTC_ERR_INVALID_ARG
 */
IOTC_NODISCARD iotc_result iotc_hub_topic_method_parse(const char *topic, size_t topic_len,
                                                       iotc_hub_method_request *out);

/**
 * @brief Split an IoT Central command name `component*command` (or `command`).
 * @param[in] name the method name (a view, e.g. iotc_hub_method_request::name)
 * @param[out] out_component `{NULL, 0}` when there is no `*`
 * @param[out] out_command never empty on success
 * @retval IOTC_OK
 * @retval IOTC_ERR_MALFORMED empty name, `*` first or last, or more than one `*`
 * @retval IOTC_ERR_INVALID_ARG NULL output, or name.ptr NULL with a non-zero length
 */
IOTC_NODISCARD iotc_result iotc_hub_command_name_split(iotc_hub_view name,
                                                       iotc_hub_view *out_component,
                                                       iotc_hub_view *out_command);

/**
 * @brief Method response topic: `$iothub/methods/res/{status}/?$rid={request_id}`.
 * @param[in] status 100 to 999 (HTTP-like: 200 done, 202 accepted, 4xx/5xx failed)
 * @param[in] request_id borrowed; the request's `$rid` (see the request id rule)
 * @param[out] buf where the NUL-terminated result is written (NULL with @p size 0: length only)
 * @param[in] size size of @p buf in bytes
 * @param[out] out_len nullable: the length written, or needed on IOTC_ERR_BUFFER_TOO_SMALL
 * @retval IOTC_OK, IOTC_ERR_INVALID_ARG, IOTC_ERR_BUFFER_TOO_SMALL
 */
IOTC_NODISCARD iotc_result iotc_hub_topic_method_response(int status, const char *request_id,
                                                          char *buf, size_t size,
                                                          size_t *out_len);

/* ---------------------------------------------------------------------------------------- */
/* Device twin                                                                              */
/* ---------------------------------------------------------------------------------------- */

/**
 * @brief Twin GET topic: `$iothub/twin/GET/?$rid={request_id}` (publish an empty payload).
 * @retval IOTC_OK, IOTC_ERR_INVALID_ARG, IOTC_ERR_BUFFER_TOO_SMALL
 */
IOTC_NODISCARD iotc_result iotc_hub_topic_twin_get(const char *request_id, char *buf,
                                                   size_t size, size_t *out_len);

/**
 * @brief Reported-properties PATCH topic:
 *        `$iothub/twin/PATCH/properties/reported/?$rid={request_id}`.
 * @retval IOTC_OK, IOTC_ERR_INVALID_ARG, IOTC_ERR_BUFFER_TOO_SMALL
 */
IOTC_NODISCARD iotc_result iotc_hub_topic_twin_patch_reported(const char *request_id,
                                                              char *buf, size_t size,
                                                              size_t *out_len);

/** @brief A twin response: `$iothub/twin/res/{status}/?$rid={rid}[&$version={v}]`. */
typedef struct iotc_hub_twin_response {
  int status;               /**< 200 for GET, 204 for a reported PATCH, 4xx/5xx failures */
  iotc_hub_view request_id; /**< `$rid`, opaque, never empty */
  bool has_version;         /**< `$version` present (reported PATCH success) */
  uint64_t version;         /**< new reported `$version` when @c has_version */
} iotc_hub_twin_response;

/**
 * @brief Parse a twin response topic. Unknown query parameters are ignored.
 * @retval IOTC_OK
 * @retval IOTC_ERR_NO_MATCH not under `$iothub/twin/res/`
 * @retval IOTC_ERR_MALFORMED status not 3 decimal digits, missing `/?`, missing or empty
 *         `$rid`, or a `$version` that is not a decimal uint64
 * @retval IOTC_ERR_INVALID_ARG
 */
IOTC_NODISCARD iotc_result iotc_hub_topic_twin_response_parse(const char *topic,
                                                              size_t topic_len,
                                                              iotc_hub_twin_response *out);

/** @brief A desired-properties update: `$iothub/twin/PATCH/properties/desired/?$version={v}`. */
typedef struct iotc_hub_twin_desired {
  uint64_t version; /**< desired `$version` of this patch */
} iotc_hub_twin_desired;

/**
 * @brief Parse a desired-properties update topic. Unknown query parameters are ignored.
 * @retval IOTC_OK
 * @retval IOTC_ERR_NO_MATCH not under `$iothub/twin/PATCH/properties/desired/`
 * @retval IOTC_ERR_MALFORMED missing `?`, or `$version` missing or not a decimal uint64
 * @retval IOTC_ERR_INVALID_ARG
 */
IOTC_NODISCARD iotc_result iotc_hub_topic_twin_desired_parse(const char *topic,
                                                             size_t topic_len,
                                                             iotc_hub_twin_desired *out);

/* ---------------------------------------------------------------------------------------- */
/* Names                                                                                    */
/* ---------------------------------------------------------------------------------------- */

/** @brief What a name is used as; selects the rule iotc_hub_name_check() applies. */
typedef enum iotc_hub_name_kind {
  /** DTDL name: 1 to 64 bytes, `A-Z a-z` first, then `A-Z a-z 0-9 _`, not ending in `_`. */
  IOTC_HUB_NAME_COMPONENT = 0,
  IOTC_HUB_NAME_PROPERTY = 1, /**< DTDL name (as above) */
  IOTC_HUB_NAME_COMMAND = 2,  /**< DTDL name (as above) */
  /** DTDL name, and not one of IoT Central's reserved telemetry names
   *  (EventEnqueuedUtcTime, EventProcessedUtcTime, PartitionId, EventHub, User). */
  IOTC_HUB_NAME_TELEMETRY = 3,
  /** Custom message property key: 1 to 128 bytes of printable ASCII (0x21..0x7E) or UTF-8
   *  bytes (>= 0x80) except `"` and `\\`, not starting with `$` (system properties) nor with
   *  `iothub-` (case-insensitive; reserved by IoT Hub). */
  IOTC_HUB_NAME_MESSAGE_PROPERTY = 4,
  IOTC_HUB_NAME_DEVICE_ID = 5 /**< the device id rule in this file's header */
} iotc_hub_name_kind;

/** @brief Which rule a name broke. */
typedef enum iotc_hub_name_rule {
  IOTC_HUB_NAME_VALID = 0,          /**< the name is acceptable */
  IOTC_HUB_NAME_EMPTY = 1,          /**< NULL or "" */
  IOTC_HUB_NAME_TOO_LONG = 2,       /**< longer than the kind allows */
  IOTC_HUB_NAME_BAD_FIRST_CHAR = 3, /**< first byte not allowed there */
  IOTC_HUB_NAME_BAD_CHAR = 4,       /**< a byte outside the allowed set */
  IOTC_HUB_NAME_BAD_LAST_CHAR = 5,  /**< last byte not allowed there */
  IOTC_HUB_NAME_RESERVED = 6        /**< a name or prefix the service reserves */
} iotc_hub_name_rule;

/**
 * @brief Check @p name against the rule for @p kind.
 * @param[in] kind what the name is used as
 * @param[in] name NUL-terminated, borrowed; NULL counts as empty
 * @param[out] out_rule nullable: the rule broken, IOTC_HUB_NAME_VALID on success
 * @param[out] out_offset nullable: byte offset of the offending byte (0 for EMPTY/RESERVED,
 *             the limit for TOO_LONG)
 * @retval IOTC_OK valid
 * @retval IOTC_ERR_INVALID_ARG invalid name, or unknown @p kind (rule BAD_CHAR, offset 0)
 */
IOTC_NODISCARD iotc_result iotc_hub_name_check(iotc_hub_name_kind kind, const char *name,
                                               iotc_hub_name_rule *out_rule,
                                               size_t *out_offset);

/** @brief Short English text for @p rule, in static storage; never NULL. */
const char *iotc_hub_name_rule_text(iotc_hub_name_rule rule);

#ifdef __cplusplus
}
#endif
#endif
