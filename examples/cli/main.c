/* SPDX-License-Identifier: MIT */
/* `iotc`: command-line companion of the iotc library. Each subcommand lives in its own file
 * (cli_<name>.c); to add one, declare its function in cli.h and add a row to `commands`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "iotc/iotc.h"

static const cli_command commands[] = {
    {"derive-key", "print the device key derived from an enrollment group key", cli_derive_key},
    {"sas", "print an IoT Hub or DPS shared access signature", cli_sas},
    {"provision", "register a device with DPS and print its assigned hub", cli_provision},
    {"queue", "inspect DIR: what a client's persist directory holds", cli_queue},
};

static void print_help(FILE *out) {
  fprintf(out, "usage: iotc COMMAND [OPTIONS]\n       iotc COMMAND --help\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i) {
    fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
  }
  fprintf(out, "\noptions:\n  -h, --help     show this help\n  --version      print the "
               "library version\n\nexit status: 0 success, 1 refused or failed, 2 bad usage or "
               "input\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    cli_usage_error(NULL, "missing command");
    return CLI_EXIT_USAGE;
  }
  const char *name = argv[1];
  if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
    print_help(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(name, "--version") == 0) {
    printf("iotc %s\n", iotc_version());
    return CLI_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i) {
    if (strcmp(name, commands[i].name) == 0) {
      return commands[i].run(argc - 1, argv + 1);
    }
  }
  cli_usage_error(NULL, "unknown command %s", cli_printable_name(name));
  return CLI_EXIT_USAGE;
}
