#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Start or stop the shared emulator for ctest (see CMakeLists.txt in this directory).
#   emulator.sh start DIR EMULATOR_SCRIPT [ARG...]   starts it (with the extra emulator arguments),
#                                           writes DIR/ready.json and DIR/emulator.pid
#   emulator.sh stop DIR                    stops the one started in DIR, by PID
set -u
cmd=${1:?start|stop}
dir=${2:?directory}
mkdir -p "$dir"
pidfile=$dir/emulator.pid

ours() { # true if $1 is a live process running the emulator
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q iotc-emulator
}

stop() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if ours "$pid"; then
    kill -TERM "$pid"
    for _ in $(seq 50); do ours "$pid" || break; sleep 0.1; done
    ours "$pid" && kill -KILL "$pid"
  fi
  rm -f "$pidfile"
}

case $cmd in
  start)
    script=${3:?emulator script}
    shift 3
    stop # a leftover from an interrupted run
    rm -f "$dir/ready.json" "$dir/stdout"
    # The emulator exits by itself when ctest (our parent) goes away. All its descriptors point to
    # files, so ctest does not wait for it on this test's pipes.
    node "$script" --parent-pid "$PPID" --retry-after 0 "$@" \
      </dev/null >"$dir/stdout" 2>"$dir/emulator.log" &
    pid=$!
    echo "$pid" >"$pidfile"
    for _ in $(seq 300); do
      if grep -q '"ready":true' "$dir/stdout" 2>/dev/null; then
        head -n 1 "$dir/stdout" >"$dir/ready.json"
        echo "emulator $pid ready: $(cat "$dir/ready.json")"
        exit 0
      fi
      if ! kill -0 "$pid" 2>/dev/null; then
        echo "the emulator exited before it was ready:" >&2
        cat "$dir/emulator.log" >&2
        exit 1
      fi
      sleep 0.1
    done
    echo "the emulator was not ready within 30 s:" >&2
    cat "$dir/emulator.log" >&2
    stop
    exit 1
    ;;
  stop)
    stop
    ;;
  *)
    echo "usage: emulator.sh start|stop DIR [SCRIPT]" >&2
    exit 2
    ;;
esac
