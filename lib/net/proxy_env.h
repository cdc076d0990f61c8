/* SPDX-License-Identifier: MIT */
/* The proxy variables of the process environment, read for the pure decision of common/proxy.h
 * (internal). */
#ifndef IOTC_NET_PROXY_ENV_H
#define IOTC_NET_PROXY_ENV_H

#include "common/proxy.h"

/** The process environment's proxy variables (the strings stay owned by the environment). */
iotc__proxy_env iotc__proxy_env_get(void);

#endif
