#!/bin/sh
# SPDX-License-Identifier: MIT
# Fails when libiotc.a defines a global symbol outside the iotc_ namespace, which could clash
# at an application's final link.
set -eu
lib=$1
# AddressSanitizer adds an __odr_asan.<name> marker for each global variable: it names ours too.
bad=$(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | sed 's/^__odr_asan\.//' |
  grep -v '^iotc_' || true)
count=$(nm -g --defined-only "$lib" | awk 'NF == 3' | wc -l)
if [ "$count" -eq 0 ]; then
  echo "no global symbols found in $lib" >&2
  exit 1
fi
if [ -n "$bad" ]; then
  echo "global symbols without the iotc_ prefix in $lib:" >&2
  echo "$bad" >&2
  exit 1
fi
echo "$count global symbols, all prefixed iotc_"
