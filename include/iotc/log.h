/* SPDX-License-Identifier: MIT */
/**
 * @file log.h
 * @brief Where iotc's diagnostic messages go.
 *
 * By default iotc logs nothing. Install a handler to receive messages up to a level.
 * Messages never contain keys, SAS signatures or passwords.
 *
 * Threading: iotc_log_set_handler() is safe from any thread; the handler is called on the
 * thread that logs (an application thread or an iotc worker thread, never a Paho thread),
 * without any iotc lock held, possibly from several threads at once. It must not block for long.
 */
#ifndef IOTC_LOG_H
#define IOTC_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

/** Severity, most severe first. */
typedef enum iotc_log_level {
  IOTC_LOG_ERROR = 0, /**< an operation failed */
  IOTC_LOG_WARN = 1,  /**< something is wrong but iotc carries on (a retry, a refused input) */
  IOTC_LOG_INFO = 2,  /**< connection life: provisioned, connected, disconnected */
  IOTC_LOG_DEBUG = 3  /**< protocol detail, for finding a problem */
} iotc_log_level;

/**
 * @brief A log handler.
 * @param level   severity of the message
 * @param message one line without trailing newline; borrowed, valid during the call. Control
 *                characters (from text a service sent, e.g. a DPS error message) are escaped as
 *                `\r`, `\n`, `\t` or `\xNN`, so a line can never be split or forged.
 * @param user_context the pointer given to iotc_log_set_handler()
 */
typedef void (*iotc_log_fn)(iotc_log_level level, const char *message, void *user_context);

/**
 * @brief Send messages at @p max_level and more severe to @p fn (NULL turns logging off).
 * @param fn the handler, or NULL
 * @param max_level the least severe level passed to @p fn
 * @param user_context borrowed; passed back to @p fn
 */
void iotc_log_set_handler(iotc_log_fn fn, iotc_log_level max_level, void *user_context);

/** @brief "error", "warn", "info" or "debug" (static storage; never NULL). */
const char *iotc_log_level_name(iotc_log_level level);

#ifdef __cplusplus
}
#endif
#endif
