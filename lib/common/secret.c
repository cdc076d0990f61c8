/* SPDX-License-Identifier: MIT */
#include "common/secret.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void iotc__wipe(void *ptr, size_t size) {
  if (ptr != NULL && size > 0) {
    OPENSSL_cleanse(ptr, size);
  }
}

void iotc__secret_free_n(void *ptr, size_t size) {
  if (ptr != NULL) {
    iotc__wipe(ptr, size);
    free(ptr);
  }
}

void iotc__secret_free(char *str) {
  if (str != NULL) {
    iotc__secret_free_n(str, strlen(str));
  }
}

char *iotc__secret_dup(const char *str) {
  if (str == NULL) {
    return NULL;
  }
  size_t len = strlen(str);
  char *copy = malloc(len + 1);
  if (copy != NULL) {
    memcpy(copy, str, len + 1);
  }
  return copy;
}
