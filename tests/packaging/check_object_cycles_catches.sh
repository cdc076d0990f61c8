#!/bin/sh
# SPDX-License-Identifier: MIT
# check_object_cycles.sh can fail: with the library's objects it passes; with two objects of one
# folder planted beside them that call each other, or three that call round, it fails naming the
# objects and the symbols; two folders calling each other are not its business (the layer check's).
# Usage: check_object_cycles_catches.sh SOURCE_DIR WORK_DIR OBJECT...   (CC: the C compiler)
set -eu
src=$1
work=$2
shift 2
check="$src/tests/packaging/check_object_cycles.sh"
cc=${CC:-cc}
failures=0
rm -rf "$work"
objdir="$work/CMakeFiles/iotc.dir/lib"
mkdir -p "$objdir/central" "$objdir/common"

# planted DIR NAME CALLEE: lib/DIR/NAME.c.o defines iotc__planted_NAME, which calls CALLEE.
planted() {
  printf '%s\n' "void iotc__planted_$3(void);" \
    "void iotc__planted_$2(void) { iotc__planted_$3(); }" >"$work/$2.c"
  $cc -c "$work/$2.c" -o "$objdir/$1/$2.c.o"
  echo "$objdir/$1/$2.c.o"
}

# expect_failure WHAT OBJECT...: the check must fail and print every line of $work/expected.
expect_failure() {
  what=$1
  shift
  if sh "$check" "$@" >"$work/out" 2>&1; then
    echo "NOT CAUGHT: $what" >&2
    failures=$((failures + 1))
    return
  fi
  while IFS= read -r line; do
    if ! grep -qF "$line" "$work/out"; then
      echo "CAUGHT WITHOUT SAYING '$line': $what" >&2
      cat "$work/out" >&2
      failures=$((failures + 1))
      return
    fi
  done <"$work/expected"
  echo "caught: $what:"
  cat "$work/out"
}

sh "$check" "$@" || { echo "the library's own objects already fail" >&2; exit 1; }

ping=$(planted central ping pong)
pong=$(planted central pong ping)
printf '%s\n' 'cycle in lib/central/ between 2 objects: lib/central/ping.c lib/central/pong.c' \
  '  lib/central/ping.c -> lib/central/pong.c: iotc__planted_pong' \
  '  lib/central/pong.c -> lib/central/ping.c: iotc__planted_ping' >"$work/expected"
expect_failure "two objects calling each other" "$@" "$ping" "$pong"

one=$(planted common one two)
two=$(planted common two three)
three=$(planted common three one)
printf '%s\n' 'cycle in lib/common/ between 3 objects: lib/common/one.c lib/common/two.c lib/common/three.c' \
  '  lib/common/one.c -> lib/common/two.c: iotc__planted_two' \
  '  lib/common/three.c -> lib/common/one.c: iotc__planted_one' \
  '  lib/common/two.c -> lib/common/three.c: iotc__planted_three' >"$work/expected"
expect_failure "three objects calling round" "$@" "$one" "$two" "$three"

# One way only, and a pair split across two folders: no cycle in any one folder.
up=$(planted central up down)
down=$(planted common down up)
if ! sh "$check" "$@" "$ping" "$up" "$down" >"$work/out" 2>&1; then
  echo "FALSE ALARM: calls one way, or across folders" >&2
  cat "$work/out" >&2
  failures=$((failures + 1))
fi

rm -rf "$work"
if [ "$failures" -gt 0 ]; then
  echo "check_object_cycles.sh missed $failures planted cycles" >&2
  exit 1
fi
echo "check_object_cycles.sh caught every planted cycle"
