/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "iotc/result.h"

/* Memory handed to applications is released by the allocator that made it. */
void iotc_free(void *ptr) { free(ptr); }
