#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's quickstart program (examples/quickstart), run against the emulator as a user would:
# it connects, sends telemetry, answers `reboot`, acknowledges `interval` (200 for a good value,
# 400 for a bad one), prints its connection status in words, and exits 0 on SIGINT, also while
# its connect hangs; being MQTT-only, it never loads libcurl.   Usage: quickstart.sh QUICKSTART_BINARY
set -euo pipefail
bin=$1
info=$(cat "$IOTC_EMULATOR_INFO")
field() { printf '%s' "$info" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const d=JSON.parse(s);console.log($1)})"; }
api=$(field d.api)
device="quickstart-$$-$RANDOM"
work=$(mktemp -d)
pid=""
silent_pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  [ -n "$silent_pid" ] && kill "$silent_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  echo "---- quickstart output ----" >&2
  cat "$work/out" "$work/out2" >&2 2>/dev/null || true
  exit 1
}
call() { # METHOD PATH [BODY] -> body on stdout
  curl -sS -X "$1" -H 'content-type: application/json' ${3:+-d "$3"} "$api$2"
}
js() { node -e "const d=JSON.parse(process.argv[1]); process.stdout.write(String($2))" "$1"; }
# Poll PATH until the JS expression EXPR over its JSON body is true (a failure guard, not a timing assertion).
wait_for() {
  local body
  for _ in $(seq 1 300); do
    body=$(call GET "$1" 2>/dev/null || true)
    if [ -n "$body" ] && [ "$(js "$body" "(()=>{try{return !!($2)}catch(e){return false}})()" 2>/dev/null)" = true ]; then
      printf '%s' "$body"
      return 0
    fi
    sleep 0.1
  done
  fail "timed out waiting for $2 on $1 (last: ${body:-none})"
}

call PUT "/api/devices/$device" '{"displayName":"quickstart","enabled":true}' >/dev/null
key=$(js "$(call GET "/api/devices/$device/attestation")" 'd.symmetricKey.primaryKey')

IOTC_ID_SCOPE=$(field d.idScope) IOTC_DEVICE_ID=$device IOTC_DEVICE_KEY=$key \
IOTC_DPS_ENDPOINT=$(field d.dps.mqtt) IOTC_CA_FILE=$(field d.caFile) \
  "$bin" >"$work/out" 2>&1 &
pid=$!

wait_for "/api/devices/$device/telemetry/temp" 'typeof d.value === "number"' >/dev/null
wait_for "/api/devices/$device/properties" 'd.swVersion === "1.0.0"' >/dev/null
echo "ok: telemetry and swVersion arrived"

# An MQTT-only device (DPS over MQTT, no file upload) never loads libcurl: its dependency tree
# costs about 4 MiB of RSS per process.
[ -r "/proc/$pid/maps" ] || fail "cannot read /proc/$pid/maps"
if grep -q 'libcurl' "/proc/$pid/maps"; then
  fail "libcurl is loaded in an MQTT-only device: $(grep -o '[^ ]*libcurl[^ ]*' "/proc/$pid/maps" | sort -u | tr '\n' ' ')"
fi
echo "ok: libcurl is not loaded"

wait_for "/emulator/devices/$device/wait?subscribed=%24iothub%2Fmethods%2FPOST%2F%23&timeoutMs=100" 'd.connected' >/dev/null
res=$(call POST "/api/devices/$device/commands/reboot" '{"request":{"delay":1}}')
[ "$(js "$res" 'd.responseCode')" = 200 ] || fail "reboot: $res"
[ "$(js "$res" 'd.response.accepted')" = true ] || fail "reboot response: $res"
echo "ok: reboot answered 200"

call PATCH "/api/devices/$device/properties" '{"interval":5}' >/dev/null
wait_for "/api/devices/$device/properties" \
  'd["$metadata"].interval.ackCode === 200 && d["$metadata"].interval.ackVersion === d["$metadata"].interval.desiredVersion' >/dev/null
call PATCH "/api/devices/$device/properties" '{"interval":"soon"}' >/dev/null
wait_for "/api/devices/$device/properties" \
  'd["$metadata"].interval.ackCode === 400 && d["$metadata"].interval.ackVersion === d["$metadata"].interval.desiredVersion' >/dev/null
echo "ok: interval acknowledged 200, then refused 400"

kill -INT "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || fail "exit status $status after SIGINT"
grep -q 'interval set to 5 s' "$work/out" || fail "no 'interval set' line"
grep -q 'reboot requested' "$work/out" || fail "no 'reboot requested' line"
echo "ok: quit on SIGINT with status 0"
grep -q '^connected (success): connected' "$work/out" || fail "no 'connected' status line"
echo "ok: the status is printed in words"

# Ctrl-C while the connect hangs (a DPS endpoint that accepts connections and never answers):
# the program quits at once with status 0 instead of waiting out the 30 s connect timeout.
node -e 'require("net").createServer(() => {}).listen(0, "127.0.0.1", function () {
  console.log(this.address().port); })' >"$work/silent" &
silent_pid=$!
for _ in $(seq 1 100); do [ -s "$work/silent" ] && break; sleep 0.1; done
port=$(head -n1 "$work/silent")
[ -n "$port" ] || fail "the silent server did not start"
IOTC_ID_SCOPE=$(field d.idScope) IOTC_DEVICE_ID=$device IOTC_DEVICE_KEY=$key \
IOTC_DPS_ENDPOINT=127.0.0.1:$port IOTC_CA_FILE=$(field d.caFile) \
  "$bin" >"$work/out2" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q '^provisioning' "$work/out2" && break; sleep 0.1; done
grep -q '^provisioning' "$work/out2" || fail "no 'provisioning' status line"
sleep 0.5 # into the connect's wait; the outcome does not depend on it
start=$(date +%s%N)
kill -INT "$pid"
status=0
wait "$pid" || status=$?
pid=""
echo "measured: quickstart exited $(( ($(date +%s%N) - start) / 1000000 )) ms after SIGINT during its connect"
[ "$status" -eq 0 ] || fail "exit status $status after SIGINT during the connect"
grep -q 'connect: cancelled' "$work/out2" || fail "no 'connect: cancelled' line"
echo "ok: SIGINT during the connect cancels it"
