/* SPDX-License-Identifier: MIT */
/* iotc derive-key: the device key IoT Central derives from an enrollment group key. */
#include <stdio.h>

#include "cli.h"
#include "iotc/sas.h"

int cli_derive_key(int argc, char **argv) {
  cli_option options[] = {
      {"group-key", "KEY", "enrollment group key, base64 (as shown by IoT Central)", NULL},
      {"device-id", "ID", "device ID, which is also the DPS registration ID", NULL},
  };
  const cli_spec spec = {
      "derive-key",
      "--group-key KEY --device-id ID",
      "Print the device's symmetric key: base64(HMAC-SHA256(group key, device ID)), as\n"
      "IoT Central and DPS group enrollments compute it.",
      options,
      sizeof options / sizeof options[0],
  };
  int code = CLI_EXIT_OK;
  if (!cli_parse(&spec, argc, argv, &code)) {
    return code;
  }
  for (size_t i = 0; i < spec.option_count; ++i) {
    if (options[i].value == NULL) {
      cli_usage_error(spec.name, "missing --%s", options[i].name);
      return CLI_EXIT_USAGE;
    }
  }
  char key[IOTC_DERIVED_KEY_SIZE];
  iotc_result rc = iotc_derive_device_key(options[0].value, options[1].value, key, sizeof key, NULL);
  if (rc == IOTC_OK) {
    printf("%s\n", key);
    code = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
  } else {
    code = cli_key_failure(spec.name, options[0].name, rc);
  }
  cli_wipe(key, sizeof key);
  return code;
}
