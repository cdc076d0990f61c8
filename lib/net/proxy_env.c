/* SPDX-License-Identifier: MIT */
/* Reading the proxy variables, kept out of the pure layer (getenv is not pure). */
#include "net/proxy_env.h"

#include <stdlib.h>

iotc__proxy_env iotc__proxy_env_get(void) {
  iotc__proxy_env e = {getenv("https_proxy"), getenv("HTTPS_PROXY"), getenv("no_proxy"),
                       getenv("NO_PROXY")};
  return e;
}
