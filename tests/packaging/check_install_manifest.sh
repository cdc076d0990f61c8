#!/bin/sh
# SPDX-License-Identifier: MIT
# `cmake --install` installs exactly the files the README's install table lists.
# Usage: check_install_manifest.sh BUILD_DIR README WORK_DIR LIBDIR with-cli|no-cli
# (no-cli: built with IOTC_BUILD_EXAMPLES=OFF, so the table's bin/iotc is not expected)
set -eu
build=$1 readme=$2 work=$3 libdir=$4 cli=$5
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
# The table writes lib/ for LIBDIR and iotcTargets-<config>.cmake for the build type's file.
(cd "$work/prefix" && find . \( -type f -o -type l \) | sed 's|^\./||') |
  sed "s|^$libdir/|lib/|; s|iotcTargets-[a-z]*\.cmake\$|iotcTargets-<config>.cmake|" |
  sort >"$work/installed.txt"
sed -n '/<!-- install:begin -->/,/<!-- install:end -->/p' "$readme" |
  sed -n 's/^| `\([^`]*\)`.*/\1/p' | { if [ "$cli" = no-cli ]; then grep -v '^bin/iotc$'; else cat; fi; } |
  sort >"$work/listed.txt"
if ! diff -u "$work/listed.txt" "$work/installed.txt" >"$work/diff.txt"; then
  echo "the README's install table (-) and what cmake --install installed (+) differ:" >&2
  cat "$work/diff.txt" >&2
  exit 1
fi
echo "cmake --install installed the $(wc -l <"$work/installed.txt") files the README lists"
