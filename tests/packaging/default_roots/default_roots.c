/* SPDX-License-Identifier: MIT */
/* A program built against an installed iotc that relies on the default trust roots: it prints
 * them (for the caller to check with openssl) and creates a client without naming a CA file. */
#include <iotc/iotc.h>
#include <stdio.h>

int main(void) {
  const char *path = iotc_dps_default_ca_file();
  if (path == NULL) {
    fprintf(stderr, "iotc_dps_default_ca_file() is NULL\n");
    return 1;
  }
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "cannot read the default roots at %s\n", path);
    return 1;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, stdout);
  fclose(f);

  iotc_client_config cfg;
  iotc_client_config_init(&cfg);
  cfg.id_scope = "0ne00000000";
  cfg.device_id = "relocated-1";
  cfg.device_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  iotc_client *client;
  iotc_result r = iotc_client_create(&cfg, &client, NULL);
  if (r != IOTC_OK) {
    fprintf(stderr, "iotc_client_create() without a CA file: %s\n", iotc_strerror(r));
    return 1;
  }
  iotc_client_destroy(client);
  return 0;
}
