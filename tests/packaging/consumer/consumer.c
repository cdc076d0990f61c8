/* SPDX-License-Identifier: MIT */
/* A program outside the tree that uses the installed iotc. */
#include <iotc/iotc.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  if (strcmp(iotc_version(), IOTC_VERSION_STRING) != 0) {
    fprintf(stderr, "header %s, library %s\n", IOTC_VERSION_STRING, iotc_version());
    return 1;
  }
  printf("iotc %s: %s\n", iotc_version(), iotc_strerror(IOTC_ERR_TIMEOUT));
  return 0;
}
