/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include "iotc/sas.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cli_wipe(void *ptr, size_t size) {
  volatile unsigned char *p = ptr;
  while (size-- > 0) {
    *p++ = 0;
  }
}

const char *cli_printable_name(const char *text) {
  /* Only short lower-case words are shown back: a mistyped key or token never is. */
  size_t n = 0;
  for (; text[n] != '\0'; ++n) {
    char c = text[n];
    if (n >= 32 || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return "(not shown)";
    }
  }
  return n > 0 ? text : "(empty)";
}

static void vreport(const char *name, const char *fmt, va_list ap, bool hint) {
  fprintf(stderr, "iotc%s%s: ", name ? " " : "", name ? name : "");
  vfprintf(stderr, fmt, ap);
  if (hint) {
    fprintf(stderr, " (see 'iotc%s%s --help')", name ? " " : "", name ? name : "");
  }
  fputc('\n', stderr);
}

void cli_usage_error(const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(name, fmt, ap, true);
  va_end(ap);
}

void cli_error(const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(name, fmt, ap, false);
  va_end(ap);
}

bool cli_parse_u64(const char *text, uint64_t *out) {
  if (text == NULL || *text == '\0') {
    return false;
  }
  uint64_t v = 0;
  for (const char *p = text; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9') {
      return false;
    }
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) {
      return false;
    }
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

void cli_print_help(const cli_spec *spec) {
  const char *line = spec->synopsis;
  const char *lead = "usage:";
  while (*line != '\0') {
    size_t len = strcspn(line, "\n");
    printf("%s iotc %s %.*s\n", lead, spec->name, (int)len, line);
    lead = "      ";
    line += len + (line[len] == '\n');
  }
  printf("\n%s\n\noptions:\n", spec->description);
  for (size_t i = 0; i < spec->option_count; ++i) {
    const cli_option *o = &spec->options[i];
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
             o->metavar ? o->metavar : "");
    printf("  %-24s %s\n", left, o->help);
  }
  printf("  %-24s %s\n", "-h, --help", "show this help");
}

static cli_option *find_option(const cli_spec *spec, const char *name, size_t len) {
  for (size_t i = 0; i < spec->option_count; ++i) {
    if (strlen(spec->options[i].name) == len && strncmp(spec->options[i].name, name, len) == 0) {
      return &spec->options[i];
    }
  }
  return NULL;
}

bool cli_parse(const cli_spec *spec, int argc, char **argv, int *exit_code) {
  for (size_t i = 0; i < spec->option_count; ++i) {
    spec->options[i].value = NULL;
  }
  *exit_code = CLI_EXIT_USAGE;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      cli_print_help(spec);
      *exit_code = CLI_EXIT_OK;
      return false;
    }
    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
      cli_usage_error(spec->name, "unexpected argument %d (options start with --)", i);
      return false;
    }
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    cli_option *opt = find_option(spec, name, name_len);
    if (opt == NULL) {
      char shown[40];
      snprintf(shown, sizeof shown, "%.*s", (int)(name_len < 39 ? name_len : 39), name);
      cli_usage_error(spec->name, "unknown option --%s", cli_printable_name(shown));
      return false;
    }
    if (opt->value != NULL) {
      cli_usage_error(spec->name, "--%s is given more than once", opt->name);
      return false;
    }
    if (opt->metavar == NULL) {
      if (eq != NULL) {
        cli_usage_error(spec->name, "--%s takes no value", opt->name);
        return false;
      }
      opt->value = "";
      continue;
    }
    const char *value = NULL;
    if (eq != NULL) {
      value = eq + 1;
    } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
      value = argv[++i];
    }
    if (value == NULL || *value == '\0') {
      cli_usage_error(spec->name, "--%s needs a value (%s)", opt->name, opt->metavar);
      return false;
    }
    opt->value = value;
  }
  *exit_code = CLI_EXIT_OK;
  return true;
}

int cli_key_failure(const char *name, const char *key_option, iotc_result rc) {
  switch (rc) {
  case IOTC_ERR_BAD_ENCODING:
    cli_usage_error(name, "--%s is not valid base64 (standard alphabet, '=' padding)", key_option);
    return CLI_EXIT_USAGE;
  case IOTC_ERR_INVALID_ARG:
    cli_usage_error(name, "a value is empty or too long (IDs and hosts up to %d bytes, keys up "
                          "to %d characters)", IOTC_SAS_MAX_FIELD_LEN, IOTC_SAS_MAX_KEY_LEN);
    return CLI_EXIT_USAGE;
  default:
    cli_error(name, "failed: %s", iotc_strerror(rc));
    return CLI_EXIT_REFUSED;
  }
}

/* Print @p s as a JSON string (quotes included). */
void cli_put_json_string(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; ++p) {
    if (*p == '"' || *p == '\\') {
      printf("\\%c", *p);
    } else if (*p < 0x20) {
      printf("\\u%04x", *p);
    } else {
      putchar(*p);
    }
  }
  putchar('"');
}

