#!/bin/sh
# SPDX-License-Identifier: MIT
# A plain `cmake -S . -B build` works on a machine without cmocka: the tests are left out with
# a one-line note. Asking for them (-DIOTC_BUILD_TESTS=ON) without cmocka is an error, and OFF
# says nothing. cmocka is hidden with CMAKE_DISABLE_FIND_PACKAGE_cmocka, and from pkg-config.
# Usage: configure_without_cmocka.sh SOURCE_DIR WORK_DIR
set -eu
src=$1 work=$2
rm -rf "$work"
mkdir -p "$work"
hide=-DCMAKE_DISABLE_FIND_PACKAGE_cmocka=ON

if ! cmake -S "$src" -B "$work/default" "$hide" >"$work/default.log" 2>&1; then
  cat "$work/default.log" >&2
  echo "configuring without cmocka failed (above)" >&2
  exit 1
fi
note=$(grep 'iotc: tests' "$work/default.log" || true)
echo "note: $note"
[ "$(echo "$note" | wc -l)" -eq 1 ] && echo "$note" | grep -q 'tests off' ||
  { cat "$work/default.log" >&2; echo "expected one line saying the tests are off" >&2; exit 1; }
ctest --test-dir "$work/default" -N | grep -q 'Total Tests: 0' ||
  { echo "tests were registered without cmocka" >&2; exit 1; }

# The same where pkg-config knows no cmocka (as on a machine without libcmocka-dev).
mkdir -p "$work/no-pc-files"
if ! PKG_CONFIG_LIBDIR="$work/no-pc-files" PKG_CONFIG_PATH= cmake -S "$src" -B "$work/no-pc" \
  >"$work/no-pc.log" 2>&1 || ! grep -q 'iotc: tests off' "$work/no-pc.log"; then
  cat "$work/no-pc.log" >&2
  echo "configuring where pkg-config finds no cmocka did not turn the tests off (above)" >&2
  exit 1
fi

if cmake -S "$src" -B "$work/on" "$hide" -DIOTC_BUILD_TESTS=ON >"$work/on.log" 2>&1; then
  echo "-DIOTC_BUILD_TESTS=ON without cmocka was accepted" >&2
  exit 1
fi
cmake -S "$src" -B "$work/off" "$hide" -DIOTC_BUILD_TESTS=OFF >"$work/off.log" 2>&1
if grep -q 'iotc: tests' "$work/off.log"; then
  echo "-DIOTC_BUILD_TESTS=OFF still talks about cmocka" >&2
  exit 1
fi
echo "without cmocka: default configures with the tests off, ON fails, OFF is silent"
