#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmarks: iotc against the official Azure IoT Node SDK and against raw Paho, side by side,
# against one local emulator. Prints a markdown table of medians (min–max) and, as the very last
# line, one JSON object with the headline ratios; the full results go to a JSON file.
#   tests/bench/run.sh            full run (about 10 minutes on 2 cores)
#   tests/bench/run.sh --quick    fewer rounds and messages (about 2 minutes once built)
#   tests/bench/run.sh --smoke    seconds: checks only that every program runs and the JSON line
#                                 comes out; its numbers are not judged against the goals
# Environment: BENCH_BUILD_DIR (default build-bench), BENCH_JOBS (default 2), BENCH_OUT (results file).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

mode=full
for a in "$@"; do
  case $a in
    --quick) mode=quick ;;
    --smoke) mode=smoke ;;
    --full) mode=full ;;
    -h|--help) sed -n '3,10p' "$0"; exit 0 ;;
    *) echo "tests/bench/run.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
build=${BENCH_BUILD_DIR:-build-bench}
jobs=${BENCH_JOBS:-2}
out=${BENCH_OUT:-$build/bench-results.json}

say() { printf '== %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 18 ]; then
  echo "tests/bench/run.sh: Node.js 18 or later is needed; found $(node --version 2>/dev/null || echo none)" >&2
  exit 1
fi

# npm ci when node_modules is missing or does not hold the versions the lock file names. File
# times say nothing here (a fresh checkout's lock file is newer than any install). A linked
# node_modules is an install shared with other checkouts: never reinstalled from here, because
# npm ci empties the link's target before it installs.
npm_ci() {
  local dir=$1
  [ -f "$dir/package-lock.json" ] || return 0
  [ -L "$dir/node_modules" ] && return 0
  if ! node -e '
    const fs = require("fs");
    const want = JSON.parse(fs.readFileSync(process.argv[1] + "/package-lock.json", "utf8")).packages || {};
    let have = {};
    try { have = JSON.parse(fs.readFileSync(process.argv[1] + "/node_modules/.package-lock.json", "utf8")).packages || {}; } catch { process.exit(1); }
    const stale = Object.entries(want).filter(([k, v]) => k && !v.optional && !v.link && (!have[k] || have[k].version !== v.version));
    process.exit(stale.length ? 1 : 0);
  ' "$dir"; then
    say "npm ci ($dir)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}
npm_ci tests/emulator
npm_ci tests/bench/node

say "build ($build, Release)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DIOTC_BUILD_BENCH=ON -DIOTC_BUILD_TESTS=OFF \
  -DIOTC_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target iotc paho-telemetry paho-first paho-many \
  iotc-telemetry iotc-first iotc-many iotc-persist-recovery iotc-upload >&2

# One socket per device: 1,000 devices in one process need more than the usual 1,024 descriptors.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then hard=65536; fi
ulimit -n "$hard"
if [ "$(ulimit -n)" -lt 2048 ] && [ "$mode" = full ]; then
  echo "tests/bench/run.sh: the open-file limit is $(ulimit -n); 1,000 devices need about 1,100" >&2
  exit 1
fi

# The driver starts the emulator (which exits with it: --parent-pid) and the programs, and stops
# them by PID; this trap stops the driver if this script is interrupted.
driver=
trap 'if [ -n "$driver" ]; then kill "$driver" 2>/dev/null || true; fi' EXIT
node tests/bench/bench.mjs --build "$build" --mode "$mode" --out "$out" >"$build/bench-output.txt" &
driver=$!
status=0
wait "$driver" || status=$?
driver=
cat "$build/bench-output.txt"

if [ "$mode" = smoke ]; then
  # Numbers are not judged here (the machine is noisy); only that the headline line is complete.
  last=$(tail -n 1 "$build/bench-output.txt")
  node -e '
    const keys = ["throughput_qos1_vs_node","throughput_qos1_vs_paho","cpu_per_message_vs_node",
      "cpu_per_message_vs_paho","rss_per_device_kib","rss_per_device_vs_node","rss_per_device_vs_paho",
      "first_telemetry_vs_node","instructions_per_message","upload_vs_node",
      "upload_cpu_per_mib_vs_node","telemetry_during_upload","first_telemetry_vs_paho",
      "warm_start_vs_node_cold","fixed_overhead_vs_paho","connect_many_vs_paho","idle_cpu_vs_paho"];
    const o = JSON.parse(process.argv[1]);
    const got = Object.keys(o);
    if (got.join() !== keys.join()) { console.error("bench smoke: keys are " + got.join()); process.exit(1); }
    const missing = keys.filter((k) => typeof o[k] !== "number");
    if (missing.length) { console.error("bench smoke: no value for " + missing.join()); process.exit(1); }
  ' "$last" || status=1
  [ "$status" -eq 0 ] && say "benchmark smoke: every program ran and the results line is complete; a smoke run is too small to compare with the goals, so its numbers are not judged"
fi
exit "$status"
