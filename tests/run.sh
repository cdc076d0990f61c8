#!/usr/bin/env bash
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

# ---- system packages --------------------------------------------------------
packages=(build-essential cmake pkg-config git ca-certificates openssl curl valgrind binutils
  libpaho-mqtt-dev libjansson-dev libcurl4-openssl-dev libssl-dev libcmocka-dev)
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node/npm may come from another source than Debian (nodesource): only install when absent.
if [ ${#missing[@]} -gt 0 ]; then
  filtered=()
  for p in "${missing[@]}"; do
    case $p in
      nodejs) command -v node >/dev/null 2>&1 || filtered+=("$p") ;;
      npm) command -v npm >/dev/null 2>&1 || filtered+=("$p") ;;
      *) filtered+=("$p") ;;
    esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 18 ]; then
  echo "tests/run.sh: Node.js 18 or later is needed for the emulator; found $(node --version 2>/dev/null || echo none)" >&2
  exit 1
fi

# ---- emulator dependencies --------------------------------------------------
if [ -f tests/emulator/package-lock.json ]; then
  say "npm ci (tests/emulator)"
  (cd tests/emulator && npm ci --no-audit --no-fund --loglevel=error)
fi

# ---- build and test ---------------------------------------------------------
say "configure ($build: ASan + UBSan, -Werror)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DIOTC_SANITIZE=ON -DIOTC_WERROR=ON >/dev/null
say "build"
cmake --build "$build" -j "$jobs"

say "pure layer alone (no third-party headers or libraries)"
cmake -S . -B "$build-pure" -DIOTC_PURE_ONLY=ON -DIOTC_WERROR=ON -DIOTC_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build-pure" -j "$jobs" >/dev/null
ctest --test-dir "$build-pure" --output-on-failure

say "ctest"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 300

if [ -d tests/emulator/test ] && [ -f tests/emulator/package-lock.json ]; then
  say "emulator conformance (official Azure IoT Node SDK)"
  (cd tests/emulator && node --test test/)
fi

if [ -x tests/bench/run.sh ]; then
  say "benchmark smoke"
  tests/bench/run.sh --smoke
fi

say "all tests passed"
