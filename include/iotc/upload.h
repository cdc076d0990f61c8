/* SPDX-License-Identifier: MIT */
/**
 * @file upload.h
 * @brief File upload: send a file, a memory buffer or a stream to the storage account of the
 *        IoT Central application (IoT Hub's file upload), as diagnostic logs, images or dumps.
 *
 * An upload asks the device's IoT hub for a SAS URI of a blob (`POST /devices/{id}/files`),
 * writes the blob to Azure Storage (one `Put Blob` up to iotc_upload_options::block_size,
 * otherwise `Put Block` per block then `Put Block List`), and always reports the outcome to the
 * hub (`POST /devices/{id}/files/notifications`), also after a failure or a cancel. The blob is
 * stored as `{deviceId}/{blob_name}` in the application's container.
 *
 * Uploads run on the client's upload threads (at most ::IOTC_UPLOAD_THREADS at once, further
 * uploads wait their turn, at most ::IOTC_UPLOAD_QUEUE of them), never on the worker: telemetry,
 * commands and acknowledgements go on while a file is sent. They use HTTPS (libcurl, loaded on
 * the first upload: without libcurl.so.4, on_done reports IOTC_ERR_NOT_SUPPORTED) with the
 * client's trust roots (iotc_client_config::ca_file, else the built-in roots), its identity (SAS
 * from the device key, or its X.509 certificate), and the proxy of `https_proxy`/`no_proxy`, as
 * HTTPS provisioning does. A request that fails with 5xx, 429, a timeout or a dropped connection
 * is retried with back-off; when storage refuses an expired SAS (403) the hub is asked for a new
 * one and the upload resumes with the next block not yet stored.
 *
 * Threads: the functions here may be called from any thread, also from any iotc callback.
 * iotc_upload_options::on_progress and iotc_upload_options::on_done run on an upload thread,
 * never on the worker or the MQTT library's threads, and never under an iotc lock; they may call
 * any iotc function but iotc_client_destroy() (refused there, with a log line).
 * iotc_client_disconnect() cancels every upload (IOTC_ERR_CANCELLED); iotc_client_destroy()
 * cancels them too (IOTC_ERR_SHUTDOWN) and returns once each on_done ran.
 *
 * @code
 * #include <iotc/iotc.h>
 * #include <pthread.h>
 * #include <stdio.h>
 * #include <stdlib.h>
 *
 * static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
 * static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
 * static int finished;
 *
 * static void on_uploaded(void *ctx, const iotc_upload_result *r) {
 *   (void)ctx;
 *   if (r->result == IOTC_OK) {
 *     printf("stored as %s (%llu bytes)\n", r->blob_name, (unsigned long long)r->bytes);
 *   } else {
 *     printf("upload failed: %s\n", r->error->message);
 *   }
 *   pthread_mutex_lock(&mu);
 *   finished = 1;
 *   pthread_cond_signal(&cv);
 *   pthread_mutex_unlock(&mu);
 * }
 *
 * int main(void) {
 *   iotc_client_config cfg;
 *   iotc_client_config_init(&cfg);
 *   cfg.id_scope = "0ne00000000";
 *   cfg.device_id = "sensor-1";
 *   cfg.device_key = getenv("IOTC_DEVICE_KEY");
 *   iotc_client *client;
 *   iotc_error err = {0};
 *   if (iotc_client_create(&cfg, &client, &err) != IOTC_OK ||
 *       iotc_client_connect(client, 30000, &err) != IOTC_OK) {
 *     fprintf(stderr, "%s\n", err.message);
 *     return 1;
 *   }
 *   iotc_upload_options opts;
 *   iotc_upload_options_init(&opts);
 *   opts.blob_name = "logs/device.log";
 *   opts.content_type = "text/plain";
 *   opts.on_done = on_uploaded;
 *   if (iotc_client_upload_file(client, "/var/log/device.log", &opts, NULL, &err) == IOTC_OK) {
 *     pthread_mutex_lock(&mu);
 *     while (!finished) {
 *       pthread_cond_wait(&cv, &mu);
 *     }
 *     pthread_mutex_unlock(&mu);
 *   } else {
 *     fprintf(stderr, "upload: %s\n", err.message); // bad input: nothing was started
 *   }
 *   iotc_client_destroy(client);
 *   return 0;
 * }
 * @endcode
 */
#ifndef IOTC_UPLOAD_H
#define IOTC_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/client.h"
#include "iotc/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Uploads of one client that run at the same time (IoT Hub allows 10 per device). */
#define IOTC_UPLOAD_THREADS 2
/** Uploads of one client that may wait for an upload thread; more are refused. */
#define IOTC_UPLOAD_QUEUE 32
/** Default iotc_upload_options::block_size: 4 MiB. */
#define IOTC_UPLOAD_BLOCK_DEFAULT (4u * 1024u * 1024u)
/** Smallest iotc_upload_options::block_size: 64 KiB. */
#define IOTC_UPLOAD_BLOCK_MIN (64u * 1024u)
/** Largest iotc_upload_options::block_size: 100 MiB (Azure Storage's limit for a block). */
#define IOTC_UPLOAD_BLOCK_MAX (100u * 1024u * 1024u)
/** Azure Storage keeps at most this many blocks per blob. */
#define IOTC_UPLOAD_MAX_BLOCKS 50000u
/** Longest blob name accepted, in bytes; the hub adds `{deviceId}/` (1024 in all). */
#define IOTC_UPLOAD_BLOB_NAME_MAX 1024u
/** Size of a stream whose length is not known in advance (iotc_client_upload_stream()). */
#define IOTC_UPLOAD_SIZE_UNKNOWN UINT64_MAX

/** The outcome of one upload, passed to iotc_upload_options::on_done (borrowed: read it only
 *  during the callback). */
typedef struct iotc_upload_result {
  uint64_t id;              /**< the id the upload call returned */
  iotc_result result;       /**< IOTC_OK: stored and the hub was told */
  const iotc_error *error;  /**< detail (message, HTTP status); result IOTC_OK: cleared */
  const char *blob_name;    /**< as stored, `{deviceId}/{name}`; "" when the hub gave none */
  uint64_t bytes;           /**< on success the size of the blob; 0 otherwise */
  bool notified;            /**< the hub accepted the completion notification */
} iotc_upload_result;

/** Progress: @p sent of @p total bytes are sent (@p total 0 when not known in advance).
 *  Called once when the upload starts (@p sent 0), about 4 times a second while data moves,
 *  after each block is stored, and once more when it succeeded. After a retry @p sent may go
 *  back to the start of the block sent again. */
typedef void (*iotc_upload_progress_fn)(void *user_context, uint64_t sent, uint64_t total);

/** Completion: called exactly once per upload that the upload call accepted. */
typedef void (*iotc_upload_done_fn)(void *user_context, const iotc_upload_result *result);

/**
 * Reads the next bytes of a stream (iotc_client_upload_stream()), in order, on an upload thread.
 * Fill up to @p size bytes of @p buf and set @p got; @p got 0 means the end of the stream.
 * Return IOTC_OK, or an error to abandon the upload with it (IOTC_ERR_IO for a failed read).
 */
typedef iotc_result (*iotc_upload_read_fn)(void *read_context, void *buf, size_t size,
                                           size_t *got);

/** Value of iotc_upload_options::struct_version written by iotc_upload_options_init(). */
#define IOTC_UPLOAD_OPTIONS_VERSION 1

/** Options of one upload; initialise with iotc_upload_options_init(). Strings are copied. */
typedef struct iotc_upload_options {
  int struct_version;            /**< IOTC_UPLOAD_OPTIONS_VERSION */
  const char *blob_name;         /**< name under `{deviceId}/`: required for buffers and
                                  *   streams; for a file NULL means the file's own name */
  const char *content_type;      /**< the blob's Content-Type; default
                                  *   "application/octet-stream" */
  size_t block_size;             /**< bytes per request; data up to this size goes in one
                                  *   Put Blob; 0: ::IOTC_UPLOAD_BLOCK_DEFAULT */
  uint64_t max_size;             /**< refuse data larger than this (IOTC_ERR_TOO_LARGE); 0: the
                                  *   storage limit, block_size × ::IOTC_UPLOAD_MAX_BLOCKS */
  uint32_t request_timeout_ms;   /**< a request that moves no byte for this long fails (and is
                                  *   retried); 0: 60000 */
  uint32_t max_retries;          /**< retries of one request after 5xx, 429, timeouts; 0: 5 */
  iotc_upload_progress_fn on_progress; /**< nullable */
  iotc_upload_done_fn on_done;   /**< nullable */
  void *user_context;            /**< passed to on_progress and on_done (borrowed: keep it valid
                                  *   until on_done ran) */
} iotc_upload_options;

/** @brief Fill @p opts with the defaults and the current struct_version. NULL is a no-op. */
void iotc_upload_options_init(iotc_upload_options *opts);

/**
 * @brief Start uploading the file at @p path. Returns at once; on_done reports the outcome.
 *
 * The file is opened and checked before the call returns (its size is read then; it must not
 * change during the upload). A 0-byte file is uploaded as an empty blob.
 * @param client a client that connected at least once (its IoT hub is known)
 * @param path the file, borrowed
 * @param opts nullable (defaults)
 * @param[out] out_id nullable; the id for iotc_client_upload_cancel() (never 0)
 * @param[out] err nullable; the reason when the call fails
 * @retval IOTC_OK started: on_done will be called once
 * @retval IOTC_ERR_INVALID_ARG NULL argument, a directory or other non-regular file, a bad blob
 *         name or option
 * @retval IOTC_ERR_NOT_FOUND no file at @p path
 * @retval IOTC_ERR_IO the file cannot be opened or read (permissions)
 * @retval IOTC_ERR_TOO_LARGE the file is larger than iotc_upload_options::max_size
 * @retval IOTC_ERR_NOT_CONNECTED the client never connected: its IoT hub is not known yet
 * @retval IOTC_ERR_QUEUE_FULL ::IOTC_UPLOAD_QUEUE uploads already wait
 * @retval IOTC_ERR_STATE the client is being destroyed
 * @retval IOTC_ERR_NO_MEMORY
 * @note Thread-safe. on_done is not called when the call fails.
 */
IOTC_NODISCARD iotc_result iotc_client_upload_file(iotc_client *client, const char *path,
                                                   const iotc_upload_options *opts,
                                                   uint64_t *out_id, iotc_error *err);

/**
 * @brief Start uploading @p size bytes at @p data. Returns at once; on_done reports the outcome.
 * @param client a client that connected at least once (its IoT hub is known)
 * @param data borrowed: the bytes must stay valid and unchanged until on_done ran; NULL only
 *        with @p size 0
 * @param size bytes at @p data (0: an empty blob)
 * @param opts iotc_upload_options::blob_name is required
 * @param[out] out_id nullable; the id for iotc_client_upload_cancel() (never 0)
 * @param[out] err nullable; the reason when the call fails
 * @return the results of iotc_client_upload_file() but IOTC_ERR_NOT_FOUND and IOTC_ERR_IO
 * @note Thread-safe. on_done is not called when the call fails.
 */
IOTC_NODISCARD iotc_result iotc_client_upload_buffer(iotc_client *client, const void *data,
                                                     size_t size,
                                                     const iotc_upload_options *opts,
                                                     uint64_t *out_id, iotc_error *err);

/**
 * @brief Start uploading what @p read returns, for data that is not a file. Returns at once;
 *        on_done reports the outcome. A stream that ends before @p size bytes, or goes on after
 *        them, fails with IOTC_ERR_IO (given to on_done).
 * @param client a client that connected at least once (its IoT hub is known)
 * @param size the stream's length, or ::IOTC_UPLOAD_SIZE_UNKNOWN (then it is always sent in
 *        blocks, and a stream longer than the limit fails with IOTC_ERR_TOO_LARGE)
 * @param read called on an upload thread until it reports the end; not NULL
 * @param read_context passed to @p read (borrowed: keep it valid until on_done ran)
 * @param opts iotc_upload_options::blob_name is required
 * @param[out] out_id nullable; the id for iotc_client_upload_cancel() (never 0)
 * @param[out] err nullable; the reason when the call fails
 * @return the results of iotc_client_upload_file() but IOTC_ERR_NOT_FOUND and IOTC_ERR_IO
 * @note Thread-safe. on_done is not called when the call fails.
 */
IOTC_NODISCARD iotc_result iotc_client_upload_stream(iotc_client *client, uint64_t size,
                                                     iotc_upload_read_fn read,
                                                     void *read_context,
                                                     const iotc_upload_options *opts,
                                                     uint64_t *out_id, iotc_error *err);

/**
 * @brief Cancel an upload: a waiting one does not start, a running one stops within its current
 *        request. Its on_done runs with IOTC_ERR_CANCELLED (after the hub was told, if it had
 *        given a SAS URI).
 * @param client the client
 * @param id from the upload call
 * @retval IOTC_OK it will learn it
 * @retval IOTC_ERR_NOT_FOUND no such upload (it finished, or was cancelled already)
 * @retval IOTC_ERR_INVALID_ARG @p client is NULL
 * @note Thread-safe; callable from any thread and from any iotc callback.
 */
IOTC_NODISCARD iotc_result iotc_client_upload_cancel(iotc_client *client, uint64_t id);

#ifdef __cplusplus
}
#endif
#endif
