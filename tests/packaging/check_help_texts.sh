#!/bin/sh
# SPDX-License-Identifier: MIT
# The scripts a user runs first answer --help with their usage (exit 0, no licence header) and
# refuse an unknown option with exit 2. Usage: check_help_texts.sh SOURCE_DIR
set -eu
root=$1
fail() { echo "$*" >&2; exit 1; }
for script in tests/run.sh examples/run-demo.sh tests/bench/run.sh; do
  out=$("$root/$script" --help) || fail "$script --help failed"
  echo "$out" | grep -q SPDX && fail "$script --help prints the licence line"
  [ "$(echo "$out" | wc -l)" -ge 5 ] || fail "$script --help is too short: $out"
  status=0
  "$root/$script" --no-such-option >/dev/null 2>&1 || status=$?
  [ "$status" -eq 2 ] || fail "$script --no-such-option exited $status, not 2"
done
out=$("$root/tests/run.sh" --help)
for stage in dependencies build 'release build' 'pure layer' ctest valgrind emulator 'benchmark smoke' \
  'logs/<stage>.log'; do
  echo "$out" | grep -q "$stage" || fail "tests/run.sh --help does not mention '$stage'"
done
echo "tests/run.sh, examples/run-demo.sh and tests/bench/run.sh answer --help"
