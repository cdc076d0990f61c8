#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# examples/run-demo.sh --interactive without a terminal: it prints the dashboard's URL as soon as the
# emulator is up and first in its "your turn" part, checks the dashboard is served, and, with no
# terminal to wait on, stops everything and exits 0.
# Usage: demo_interactive.sh SENSOR_BINARY
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
# setsid: no controlling terminal, so the script cannot wait on /dev/tty.
setsid -w bash "$root/examples/run-demo.sh" --interactive --no-install --sensor "$1" </dev/null >"$out" 2>&1 || status=$?
fail() {
  echo "demo_interactive: $*" >&2
  echo "---- run-demo.sh output ----" >&2
  cat "$out" >&2
  exit 1
}
[ "$status" -eq 0 ] || fail "run-demo.sh exited $status"
url_re='^Dashboard: http://127\.0\.0\.1:[0-9]+/'
line_of() { grep -nE "$1" "$out" | head -n 1 | cut -d: -f1 || true; } # line_of REGEX: first match, or nothing
first=$(line_of "$url_re")
emulator=$(line_of 'operator \| emulator pid')
[ -n "$first" ] && [ -n "$emulator" ] && [ "$first" -lt "$emulator" ] ||
  fail "the dashboard URL is not printed as soon as the emulator is up"
after_turn=$(sed -n '/Your turn/,$p' "$out" | grep -vE '^\s*$' | sed -n 2p || true)
[[ $after_turn =~ $url_re ]] || fail "the dashboard URL is not the first thing of the 'your turn' part (got: $after_turn)"
grep -q 'ok    the dashboard is served at' "$out" || fail "the dashboard was not checked"
grep -q 'no terminal to wait on' "$out" || fail "it did not notice there is no terminal"
echo "run-demo.sh --interactive printed the dashboard URL first and stopped cleanly"
