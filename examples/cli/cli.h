/* SPDX-License-Identifier: MIT */
/* Shared pieces of the `iotc` command-line tool: exit codes, the subcommand table and a small
 * option parser. One file per subcommand (cli_<name>.c) defines `int cli_<name>(int, char **)`,
 * declared below and listed in the table in main.c. */
#ifndef IOTC_CLI_H
#define IOTC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iotc/result.h"

/* Exit codes shared by every subcommand. */
enum {
  CLI_EXIT_OK = 0,      /* success; --help */
  CLI_EXIT_REFUSED = 1, /* a service refused or the operation failed */
  CLI_EXIT_USAGE = 2    /* bad usage or bad input: unknown option, missing value, bad key... */
};

/* A subcommand: argv[0] is the subcommand name, the rest its arguments. Returns an exit code. */
typedef int (*cli_run_fn)(int argc, char **argv);

typedef struct cli_command {
  const char *name;    /* as typed: "derive-key" */
  const char *summary; /* one line for `iotc --help` */
  cli_run_fn run;
} cli_command;

int cli_derive_key(int argc, char **argv);
int cli_sas(int argc, char **argv);
int cli_provision(int argc, char **argv);
int cli_queue(int argc, char **argv);

/* One `--name VALUE` (or `--name=VALUE`) option. The parser fills `value`. */
typedef struct cli_option {
  const char *name;    /* without the dashes: "device-id" */
  const char *metavar; /* placeholder in the help ("ID"); NULL for a flag without value */
  const char *help;    /* one line */
  const char *value;   /* out: the value (borrowed from argv), "" for a flag, NULL if absent */
} cli_option;

typedef struct cli_spec {
  const char *name;        /* subcommand name, for messages and the help */
  const char *synopsis;    /* usage forms after "iotc NAME", one per line */
  const char *description; /* paragraph printed under the usage */
  cli_option *options;
  size_t option_count;
} cli_spec;

/*
 * Parse argv[1..argc-1] against spec->options: `--name VALUE`, `--name=VALUE`, `-h`/`--help`.
 * Values must be non-empty; an option given twice, an unknown option or a positional argument
 * is an error. Returns true when the command should go on. Otherwise *exit_code is set: 0 after
 * printing the help on stdout, CLI_EXIT_USAGE after printing one error line on stderr.
 * Error messages never repeat a value (it may be a key).
 */
bool cli_parse(const cli_spec *spec, int argc, char **argv, int *exit_code);

/* Print the help of @p spec on stdout. */
void cli_print_help(const cli_spec *spec);

/* Print "iotc NAME: MESSAGE (see 'iotc NAME --help')" as one line on stderr. */
void cli_usage_error(const char *name, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Print "iotc NAME: MESSAGE" as one line on stderr. */
void cli_error(const char *name, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Parse a decimal unsigned integer (digits only, no sign or spaces, no overflow). */
bool cli_parse_u64(const char *text, uint64_t *out);

/* @p text if it looks like an option or command name (safe to show), else a placeholder. */
const char *cli_printable_name(const char *text);

/*
 * Report a failed key computation (derive-key, sas) as one line and return the exit code:
 * a key that is not base64 or an unusable argument is CLI_EXIT_USAGE, anything else
 * CLI_EXIT_REFUSED. @p key_option names the option that carried the key ("key").
 */
int cli_key_failure(const char *name, const char *key_option, iotc_result rc);

/* Overwrite @p size bytes at @p ptr with zeros (for buffers that held keys or tokens). */
void cli_wipe(void *ptr, size_t size);

#endif
