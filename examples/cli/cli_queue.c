/* SPDX-License-Identifier: MIT */
/* iotc queue inspect DIR: what a client's persist directory (store and forward) holds. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "iotc/persist.h"

static const char help[] =
    "usage: iotc queue inspect DIR\n"
    "\n"
    "Print what the persist directory DIR of an iotc client (persist_dir, store and forward)\n"
    "holds: its segments and bytes, the messages waiting for the hub's acknowledgement, the\n"
    "oldest and newest of them, and damaged records (a write torn by a crash or a power cut;\n"
    "the next client on DIR cuts them off). Reads only: safe while a client uses DIR.\n"
    "\n"
    "exit status: 0 printed, 1 DIR cannot be read, 2 bad usage\n";

static void when(uint64_t ms, char out[64]) {
  time_t s = (time_t)(ms / 1000);
  struct tm tm;
  if (gmtime_r(&s, &tm) == NULL) {
    snprintf(out, 64, "?");
    return;
  }
  snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

int cli_queue(int argc, char **argv) {
  if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    fputs(help, stdout);
    return CLI_EXIT_OK;
  }
  if (argc < 2 || strcmp(argv[1], "inspect") != 0) {
    cli_usage_error("queue", argc < 2 ? "missing subcommand (inspect)" : "unknown subcommand %s",
                    argc < 2 ? "" : cli_printable_name(argv[1]));
    return CLI_EXIT_USAGE;
  }
  if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
    fputs(help, stdout);
    return CLI_EXIT_OK;
  }
  if (argc != 3 || argv[2][0] == '\0') {
    cli_usage_error("queue", "inspect needs exactly one DIR");
    return CLI_EXIT_USAGE;
  }
  iotc_persist_info in;
  iotc_error err;
  iotc_result r = iotc_persist_inspect(argv[2], &in, &err);
  if (r != IOTC_OK) {
    cli_error("queue", "%s", err.message[0] ? err.message : iotc_strerror(r));
    return CLI_EXIT_REFUSED;
  }
  printf("directory:        %s (%s)\n", argv[2], in.in_use ? "in use by a client" : "not in use");
  printf("directory id:     %016" PRIx64 "\n", in.directory_id);
  printf("segments:         %" PRIu64 " (%" PRIu64 " bytes)\n", in.segments, in.bytes);
  printf("messages waiting: %" PRIu64 " (%" PRIu64 " bytes); %" PRIu64 " recorded in all\n",
         in.queued, in.queued_bytes, in.records);
  if (in.queued) {
    char t[64];
    when(in.oldest_ms, t);
    printf("oldest waiting:   #%" PRIu64 " accepted %s\n", in.oldest_seq, t);
    when(in.newest_ms, t);
    printf("newest waiting:   #%" PRIu64 " accepted %s\n", in.newest_seq, t);
  }
  printf("damaged records:  %" PRIu64 "", in.damaged);
  if (in.damaged) printf(" (%" PRIu64 " bytes from them on; the next client cuts them off)", in.damaged_bytes);
  printf("\n");
  return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
}
