#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what a fresh Debian 12 machine lacks to build iotc and run its emulator: the Debian
# packages (through sudo when not root), then the emulator's npm packages (npm ci).
# Used by tests/run.sh and examples/run-demo.sh.
#   tests/install-deps.sh            everything
#   tests/install-deps.sh --runtime  no test-only tools (valgrind, doxygen, the emulator's
#                                    conformance-suite packages); keeps an up-to-date
#                                    tests/emulator/node_modules instead of reinstalling it
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runtime_only=false
[ "${1:-}" = "--runtime" ] && runtime_only=true

say() { printf '\n== %s\n' "$*"; }

# ---- system packages --------------------------------------------------------
packages=(build-essential cmake pkg-config git ca-certificates openssl curl binutils
  libpaho-mqtt-dev libjansson-dev libcurl4-openssl-dev libssl-dev libcmocka-dev)
$runtime_only || packages+=(valgrind doxygen)
# node/npm may come from another source than Debian (nodesource): only install when absent.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    # sudo without a terminal (CI) must not wait for a password that nobody types.
    if ! command -v sudo >/dev/null 2>&1; then
      echo "install-deps: not root and sudo is missing; as root run: apt-get install ${missing[*]}" >&2
      exit 1
    elif [ -t 0 ]; then
      as_root=(sudo)
    elif sudo -n true 2>/dev/null; then
      as_root=(sudo -n)
    else
      echo "install-deps: sudo needs a password and there is no terminal; as root run: apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  # env: sudo drops the caller's environment, DEBIAN_FRONTEND included. dpkg's progress goes to a
  # log that is shown only when the installation fails.
  apt_log=$(mktemp)
  if ! { "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
    cat "$apt_log" >&2
    rm -f "$apt_log"
    echo "install-deps: apt-get failed (above)" >&2
    exit 1
  fi
  rm -f "$apt_log"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 18 ]; then
  echo "install-deps: Node.js 18 or later is needed for the emulator; found $(node --version 2>/dev/null || echo none)" >&2
  exit 1
fi

# ---- emulator dependencies --------------------------------------------------
lock=tests/emulator/package-lock.json installed=tests/emulator/node_modules/.package-lock.json
if $runtime_only && [ -f "$installed" ] && [ "$installed" -nt "$lock" ]; then
  : # already installed from this lock file
elif [ -f "$lock" ]; then
  omit=()
  $runtime_only && omit=(--omit=dev)
  say "npm ci ${omit[*]} (tests/emulator)"
  (cd tests/emulator && npm ci --no-audit --no-fund --loglevel=error "${omit[@]+"${omit[@]}"}")
fi
