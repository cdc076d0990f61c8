/* SPDX-License-Identifier: MIT */
/* Why a TCP connection cannot be made, in words (internal). Paho reports a failed connect as
 * "-1" with an empty or generic text whether the name did not resolve, the port was refused or
 * nothing answered; these helpers repeat the connect on the calling thread to say which. */
#ifndef IOTC_NET_NET_DIAG_H
#define IOTC_NET_NET_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Room for a cause such as "name not resolved (Name or service not known)". */
#define IOTC__NET_CAUSE_SIZE 96

/**
 * A connected blocking socket to @p host:@p port, or -1 when it cannot be made before
 * @p until_ms (CLOCK_MONOTONIC milliseconds); then @p why (nullable) names the cause:
 * "name not resolved (...)", "connection refused", "timed out after N ms", "host unreachable"...
 */
int iotc__tcp_connect(const char *host, int port, uint64_t until_ms, char *why, size_t why_size);

/**
 * Try a TCP connection to @p host:@p port for at most @p timeout_ms. True when it cannot be
 * made (the cause in @p out); false when the server accepts TCP (the problem lies further on).
 */
bool iotc__connect_cause(const char *host, int port, uint32_t timeout_ms, char *out, size_t size);

/** The words for a connect errno (ECONNREFUSED: "connection refused"...); static storage. */
const char *iotc__connect_errno_text(int err);

#endif
