#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test command: installs what a fresh Debian 12 machine lacks, builds iotc with ASan and
# UBSan and warnings as errors, and runs every test. See usage() or tests/run.sh --help.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

usage() {
  cat <<'USAGE'
Usage: tests/run.sh [--help]

The whole test suite, as CI runs it (.ci/run). On a fresh Debian 12 machine it first installs
what is missing (tests/install-deps.sh: Debian packages through sudo when not root, the
emulator's npm packages). Then, in order, stopping at the first failure:

  dependencies        tests/install-deps.sh
  build               Debug, ASan + UBSan, warnings as errors (BUILD_DIR)
  release build       Release, warnings as errors (BUILD_DIR-release)
  pure layer          IOTC_PURE_ONLY build and its tests (BUILD_DIR-pure)
  ctest               every test of the ASan + UBSan build, leak checking on
  valgrind            a plain build's tests labelled valgrind (BUILD_DIR-valgrind)
  emulator            the official Azure IoT Node SDK against the emulator, and its dashboard
                      in headless Chromium (node --test)
  benchmark smoke     every benchmark program runs; its numbers are not judged

Each stage prints one line with its result and duration; its output goes to
BUILD_DIR/logs/<stage>.log, which is printed in full when the stage fails.

Environment:
  BUILD_DIR      build directory (default build-ci); the other builds are named after it
  JOBS           parallel build and test jobs (default: the number of cores)
  ASAN_OPTIONS, UBSAN_OPTIONS   override the sanitizer settings of the ctest stage

Exit status: 0 when every stage passed, 1 when one failed, 2 for bad usage.
USAGE
}
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  "") ;;
  *) echo "tests/run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac

build=${BUILD_DIR:-build-ci}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
logs=$build/logs
mkdir -p "$logs"
started=$(date +%s%N)
stages=0

elapsed() { # seconds since $1 (date +%s%N), one decimal
  local ns=$(($(date +%s%N) - $1))
  printf '%d.%d' $((ns / 1000000000)) $((ns / 100000000 % 10))
}

# stage LOG-NAME TITLE COMMAND...: runs COMMAND with its output in $logs/LOG-NAME.log.
stage() {
  local log=$logs/$1.log title=$2 t0 status=0
  shift 2
  printf '%-52s ' "$title"
  t0=$(date +%s%N)
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    printf 'FAILED  %6s s  (exit %d)\n\n---- %s ----\n' "$(elapsed "$t0")" "$status" "$log"
    cat "$log"
    printf -- '---- end of %s ----\n\ntests/run.sh: "%s" failed after %s s in all\n' \
      "$log" "$title" "$(elapsed "$started")"
    exit 1
  fi
  local summary
  summary=$(grep -E 'tests passed|^# (pass|fail) ' "$log" | tr '\n' ' ' | sed 's/ *$//' || true)
  printf 'ok      %6s s%s\n' "$(elapsed "$t0")" "${summary:+  ($summary)}"
  stages=$((stages + 1))
}

# Each stage is one function; commands are chained with && because errexit does not apply
# inside a function whose status is tested.
deps() { "$root/tests/install-deps.sh"; }
build_asan() {
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DIOTC_SANITIZE=ON -DIOTC_WERROR=ON \
    -DIOTC_BUILD_TESTS=ON && cmake --build "$build" -j "$jobs"
}
build_release() {
  cmake -S . -B "$build-release" -DCMAKE_BUILD_TYPE=Release -DIOTC_WERROR=ON &&
    cmake --build "$build-release" -j "$jobs"
}
pure_layer() {
  cmake -S . -B "$build-pure" -DIOTC_PURE_ONLY=ON -DIOTC_WERROR=ON -DIOTC_BUILD_EXAMPLES=OFF \
    -DIOTC_BUILD_TESTS=ON && cmake --build "$build-pure" -j "$jobs" &&
    ctest --test-dir "$build-pure" --output-on-failure --no-tests=error
}
ctest_asan() {
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 300 --no-tests=error
}
# valgrind cannot run sanitized programs: tests labelled `valgrind` run from a plain build.
valgrind_tests() {
  cmake -S . -B "$build-valgrind" -DCMAKE_BUILD_TYPE=Debug -DIOTC_WERROR=ON \
    -DIOTC_BUILD_EXAMPLES=OFF -DIOTC_BUILD_TESTS=ON && cmake --build "$build-valgrind" -j "$jobs" &&
    ctest --test-dir "$build-valgrind" --output-on-failure -j "$jobs" --timeout 600 -L valgrind \
      --no-tests=error
}
emulator_conformance() { (cd tests/emulator && node --test test/); }
bench_smoke() { tests/bench/run.sh --smoke; }

echo "tests/run.sh: one line per stage; output in $logs/"
stage deps "dependencies (tests/install-deps.sh)" deps
stage build "build: Debug, ASan + UBSan, -Werror" build_asan
stage release "release build: optimiser-only warnings as errors" build_release
stage pure "pure layer alone: build and tests" pure_layer
stage ctest "ctest: ASan + UBSan, leak checking" ctest_asan
stage valgrind "valgrind: plain build, tests labelled valgrind" valgrind_tests
if [ -d tests/emulator/test ] && [ -f tests/emulator/package-lock.json ]; then
  stage emulator "emulator conformance: official Node SDK" emulator_conformance
fi
if [ -x tests/bench/run.sh ]; then
  stage bench-smoke "benchmark smoke: the programs run (not judged)" bench_smoke
fi
echo "tests/run.sh: all $stages stages passed in $(elapsed "$started") s"
