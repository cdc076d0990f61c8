#!/bin/sh
# SPDX-License-Identifier: MIT
# The pure protocol layer may call only these C library functions: no allocation, no I/O, no
# locale, no third-party code. Anything else it references must be defined in the layer itself.
set -eu
lib=$1
allowed=$(grep -v '^#' "$(dirname "$0")/pure_libc.txt" | tr '\n' ' ')
defined=$(nm --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sort -u)
bad=""
for sym in $(nm -u "$lib" | awk 'NF == 2 { print $2 }' | sort -u); do
  case " $allowed " in *" $sym "*) continue ;; esac
  echo "$defined" | grep -qx "$sym" && continue
  case $sym in __asan_* | __ubsan_* | __sanitizer_*) continue ;; esac
  bad="$bad $sym"
done
if [ -n "$bad" ]; then
  echo "the pure layer references outside functions:$bad" >&2
  exit 1
fi
echo "the pure layer references only: $allowed (as needed)"
