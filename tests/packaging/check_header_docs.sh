#!/bin/sh
# SPDX-License-Identifier: MIT
# What doxygen does not check in the public headers: every enum value has a comment, and every
# @code example compiles without a warning (-Wall -Wextra -Wpedantic -Werror). An example that
# has no main() is compiled as the body of a function.
# Usage: check_header_docs.sh INCLUDE_DIR GENERATED_INCLUDE_DIR WORK_DIR  (CC: the compiler)
set -eu
inc=$1 gen=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
fail=0

# An enumerator line needs a `/**<` comment, or a doc comment ending on the line before it.
undocumented=$(awk '
  /typedef enum/ { in_enum = 1 }
  in_enum && /^[ \t]*IOTC_[A-Z0-9_]+[ \t]*(=|,|$)/ && !/\/\*\*</ && prev !~ /\*\/[ \t]*$/ {
    print FILENAME ":" FNR ": " $1
  }
  in_enum && /}/ { in_enum = 0 }
  { prev = $0 }' "$inc"/iotc/*.h)
if [ -n "$undocumented" ]; then
  echo "enum values without a comment:" >&2
  echo "$undocumented" >&2
  fail=1
fi

n=0
for h in "$inc"/iotc/*.h; do
  name=$(basename "$h" .h)
  # Each block between @code and @endcode, without the comment's leading " * ".
  awk -v dir="$work" -v name="$name" '
    /@endcode/ { if (out != "") close(out); out = ""; next }
    out != "" { line = $0; sub(/^ \* ?/, "", line); sub(/^ \*$/, "", line); print line > out; next }
    /@code/ { k++; out = dir "/" name "_" k ".snippet" }' "$h"
done
for s in "$work"/*.snippet; do
  [ -e "$s" ] || continue
  n=$((n + 1))
  c=${s%.snippet}.c
  if grep -q 'int main' "$s"; then
    cp "$s" "$c"
  else
    { printf '#include <iotc/iotc.h>\n#include <stdio.h>\n#include <stdlib.h>\n'
      printf 'int example(void);\nint example(void) {\n'
      cat "$s"
      printf '  return 0;\n}\n'; } >"$c"
  fi
  if ! ${CC:-cc} -std=c11 -Wall -Wextra -Wpedantic -Werror -I "$inc" -I "$gen" -c "$c" \
    -o "${c%.c}.o" 2>"${c%.c}.log"; then
    echo "example $(basename "$s" .snippet) (from the header's @code block) does not compile cleanly:" >&2
    cat "${c%.c}.log" >&2
    fail=1
  fi
done
[ "$n" -gt 0 ] || { echo "no @code example found in $inc/iotc" >&2; exit 1; }
[ "$fail" -eq 0 ] || exit 1
echo "every enum value is documented; the $n header examples compile without warnings"
