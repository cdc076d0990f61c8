#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what a fresh Debian 12 machine lacks to build iotc and run its emulator: the Debian
# packages (through sudo when not root), then the emulator's npm packages (npm ci).
# Used by tests/run.sh and examples/run-demo.sh.
#   tests/install-deps.sh            everything
#   tests/install-deps.sh --runtime  no test-only tools (valgrind, doxygen, Chromium, the emulator's
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
# Wanted but not required: Chromium runs the dashboard's browser test, which is skipped without it.
optional=()
$runtime_only || optional+=(chromium)

not_installed() { # not_installed PACKAGE...: those of them dpkg does not have
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

# How to run apt-get: as root, or through sudo; sudo without a terminal (CI) must not wait for a
# password that nobody types. Sets as_root, or says why not and returns 1.
as_root=()
root_access() {
  [ "$(id -u)" -eq 0 ] && return 0
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps: not root and sudo is missing; as root run: apt-get install $*" >&2
    return 1
  elif [ -t 0 ]; then
    as_root=(sudo)
  elif sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "install-deps: sudo needs a password and there is no terminal; as root run: apt-get install $*" >&2
    return 1
  fi
}

# apt_install PACKAGE...: env, because sudo drops the caller's environment, DEBIAN_FRONTEND
# included. dpkg's progress goes to a log that is shown only when the installation fails.
updated=false
apt_install() {
  local apt_log status=0
  apt_log=$(mktemp)
  {
    $updated || "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  } >"$apt_log" 2>&1 && updated=true &&
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "$@" >>"$apt_log" 2>&1 || status=$?
  [ "$status" -eq 0 ] || cat "$apt_log" >&2
  rm -f "$apt_log"
  return "$status"
}

mapfile -t missing < <(not_installed "${packages[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  root_access "${missing[@]}" || exit 1
  apt_install "${missing[@]}" || { echo "install-deps: apt-get failed (above)" >&2; exit 1; }
fi
mapfile -t missing < <(not_installed "${optional[@]+"${optional[@]}"}")
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (for the dashboard's browser test)"
  if ! root_access "${missing[@]}" || ! apt_install "${missing[@]}"; then
    echo "install-deps: ${missing[*]} could not be installed: the dashboard's browser test will be skipped" >&2
  fi
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
