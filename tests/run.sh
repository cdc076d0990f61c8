#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test command: installs what a fresh Debian 12 machine lacks, builds iotc with ASan and
# UBSan and warnings as errors, and runs every test. Exits non-zero on any failure.
#   tests/run.sh            everything
#   BUILD_DIR=dir tests/run.sh   build somewhere else (default: build-ci)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD_DIR:-build-ci}
jobs=$(nproc 2>/dev/null || echo 2)

say() { printf '\n== %s\n' "$*"; }

# ---- system packages and the emulator's npm packages ---------------------------
"$root/tests/install-deps.sh"

# ---- build and test ---------------------------------------------------------
say "configure ($build: ASan + UBSan, -Werror)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DIOTC_SANITIZE=ON -DIOTC_WERROR=ON -DIOTC_BUILD_TESTS=ON >/dev/null
say "build"
cmake --build "$build" -j "$jobs"

say "release build (optimiser-only warnings, as errors)"
cmake -S . -B "$build-release" -DCMAKE_BUILD_TYPE=Release -DIOTC_WERROR=ON >/dev/null
cmake --build "$build-release" -j "$jobs" >/dev/null

say "pure layer alone (no third-party headers or libraries)"
cmake -S . -B "$build-pure" -DIOTC_PURE_ONLY=ON -DIOTC_WERROR=ON -DIOTC_BUILD_EXAMPLES=OFF -DIOTC_BUILD_TESTS=ON >/dev/null
cmake --build "$build-pure" -j "$jobs" >/dev/null
ctest --test-dir "$build-pure" --output-on-failure

say "ctest"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 300

# valgrind cannot run sanitized programs: tests labelled `valgrind` run from a plain build.
say "valgrind (non-sanitized build, tests labelled valgrind)"
cmake -S . -B "$build-valgrind" -DCMAKE_BUILD_TYPE=Debug -DIOTC_WERROR=ON -DIOTC_BUILD_EXAMPLES=OFF -DIOTC_BUILD_TESTS=ON >/dev/null
cmake --build "$build-valgrind" -j "$jobs" >/dev/null
ctest --test-dir "$build-valgrind" --output-on-failure -j "$jobs" --timeout 600 -L valgrind

if [ -d tests/emulator/test ] && [ -f tests/emulator/package-lock.json ]; then
  say "emulator conformance (official Azure IoT Node SDK)"
  (cd tests/emulator && node --test test/)
fi

if [ -x tests/bench/run.sh ]; then
  say "benchmark smoke"
  tests/bench/run.sh --smoke
fi

say "all tests passed"
