#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the libFuzzer harnesses with clang (ASan + UBSan) and run each one for a while.
#   tests/fuzz/run.sh                 every target, 60 s each
#   tests/fuzz/run.sh 300 twin url    those targets, 300 s each
# Environment: BUILD_DIR (default build-fuzz), FUZZ_JOBS (parallel targets, default 1).
# The growing corpus lives in $BUILD_DIR/corpus/<target> (seeded from tests/fuzz/corpus/<target>);
# a crash, leak, timeout or sanitizer report leaves its input in $BUILD_DIR/artifacts/ and makes
# the script exit non-zero. Without clang it says so and exits 0.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
seconds=${1:-60}
shift || true
build=${BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-1}

if ! command -v clang >/dev/null 2>&1; then
  echo "clang not found: fuzzing skipped (apt-get install clang to enable it)"
  exit 0
fi

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOTC_SANITIZE=ON \
  -DIOTC_BUILD_FUZZERS=ON -DIOTC_BUILD_EXAMPLES=OFF >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do
    t=${f##*/fuzz_}
    targets+=("${t%.c}")
  done
fi
cmake --build "$build" -j 2 --target "${targets[@]/#/fuzz_}" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/artifacts"
run_one() {
  local t=$1 log="$build/fuzz-$1.log"
  mkdir -p "$build/corpus/$t"
  if "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=300000 -len_control=200 -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$t-" \
      "$build/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    echo "fuzz_$t: ${seconds}s, $(grep -hoE '^stat::(number_of_executed_units|new_units_added): *[0-9]+' "$log" | sed 's/stat::number_of_executed_units: */runs /; s/stat::new_units_added: */new inputs /' | paste -sd, -)"
  else
    echo "fuzz_$t FAILED:"
    grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$log" | head -20
    return 1
  fi
}
failed=0
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
[ "$failed" -eq 0 ] || { echo "fuzzing found problems: see $build/artifacts/"; exit 1; }
