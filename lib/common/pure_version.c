/* SPDX-License-Identifier: MIT */
#include "iotc/version.h"

const char *iotc_version(void) { return IOTC_VERSION_STRING; }
