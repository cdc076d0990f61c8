#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs an integration program (central_shutdown unless TARGET says) under valgrind: no leak, no
# invalid access.
#   valgrind_shutdown.sh run PROGRAM                   a program built without sanitizers
#   valgrind_shutdown.sh nested SOURCE BUILD [TARGET]  build a plain copy in BUILD first (ASan trees)
# Exit 77 (skipped) when valgrind is not installed.
set -euo pipefail
command -v valgrind >/dev/null || { echo "valgrind is not installed: skipped"; exit 77; }
case ${1:-} in
  run) program=$2 ;;
  nested)
    src=$2 build=$3 target=${4:-central_shutdown}
    mkdir -p "$build"
    echo "building a copy without sanitizers in $build"
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DIOTC_SANITIZE=OFF -DIOTC_BUILD_EXAMPLES=OFF \
      >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
    cmake --build "$build" --target "$target" -j 2 >"$build/build.log" 2>&1 ||
      { tail -50 "$build/build.log"; exit 1; }
    program=$build/tests/integration/$target
    ;;
  *) echo "usage: valgrind_shutdown.sh run PROGRAM | nested SOURCE BUILD [TARGET]" >&2; exit 2 ;;
esac
unset ASAN_OPTIONS LSAN_OPTIONS
exec valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
  --track-fds=no --quiet "$program"
