#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The iotc demo: the environmental sensor against the local IoT Central emulator, driven the way
# an IoT Central operator drives a device (commands, writable properties), in under a minute.
#
#   examples/run-demo.sh                 install what is missing, build, run, drive, stop
#   examples/run-demo.sh --interactive   the same, printing the dashboard's URL first, then keep
#                                        everything running to drive the device by hand, in the
#                                        dashboard or with curl (Enter or Ctrl-C stops)
# Options for tests and repeated runs:
#   --no-install      do not install packages (tests/install-deps.sh)
#   --sensor PATH     use this environmental_sensor binary instead of building one
#   --build-dir DIR   where to build (default build-demo; env BUILD_DIR)
#   --keep-logs       keep the work folder (device output, emulator log)
# It starts the emulator and the sensor itself, and stops both, by PID, before it exits.
# Exit status: 0 when the operator saw everything the device should have done, 1 otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

interactive=false install=true sensor="" keep_logs=false
build=${BUILD_DIR:-build-demo}
while [ $# -gt 0 ]; do
  case $1 in
    --interactive) interactive=true ;;
    --no-install) install=false ;;
    --sensor) sensor=$2; shift ;;
    --build-dir) build=$2; shift ;;
    --keep-logs) keep_logs=true ;;
    -h|--help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-demo.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ -t 1 ]; then
  bold=$'\e[1m' dim=$'\e[2m' green=$'\e[32m' red=$'\e[31m' cyan=$'\e[36m' off=$'\e[0m'
else
  bold="" dim="" green="" red="" cyan="" off=""
fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$off"; }
op() { printf '%soperator |%s %s\n' "$cyan" "$off" "$*"; }
checks=0 failures=0
check() { # check DESCRIPTION COMMAND...: record and print one expectation
  local what=$1; shift
  checks=$((checks + 1))
  if "$@"; then
    printf '%s   ok    %s%s\n' "$green" "$what" "$off"
  else
    failures=$((failures + 1))
    printf '%s   FAIL  %s%s\n' "$red" "$what" "$off"
  fi
}

# ---- 1. what a fresh Debian 12 machine lacks ------------------------------------------------
if $install; then
  step "Installing what is missing (Debian packages, the emulator's npm packages)"
  tests/install-deps.sh --runtime
fi
command -v node >/dev/null || { echo "run-demo.sh: node is missing (run without --no-install)" >&2; exit 1; }
[ -d tests/emulator/node_modules ] || { echo "run-demo.sh: tests/emulator/node_modules is missing (run without --no-install)" >&2; exit 1; }

# ---- 2. build --------------------------------------------------------------------------------
if [ -z "$sensor" ]; then
  step "Building iotc and the environmental sensor (Release, $build/)"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DIOTC_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j 2 --target environmental_sensor >"$build/demo-build.log" 2>&1 ||
    { cat "$build/demo-build.log" >&2; exit 1; }
  sensor=$build/examples/environmental_sensor/environmental_sensor
fi
[ -x "$sensor" ] || { echo "run-demo.sh: no sensor binary at $sensor" >&2; exit 1; }

# ---- everything started below is stopped on exit, by PID -------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/iotc-demo.XXXXXX")
emu_pid="" sensor_pid="" tail_pid=""
stop_pid() { # stop_pid PID: TERM, wait up to 5 s, then KILL
  local pid=$1 i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  exec 3>&- 2>/dev/null || true
  stop_pid "$sensor_pid"
  stop_pid "$tail_pid"
  stop_pid "$emu_pid"
  if $keep_logs || [ "$failures" -gt 0 ]; then
    echo "Logs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# JSON from stdin -> the value of a JavaScript expression over it (d), printed as text/JSON.
json() {
  node -e '
    const d = JSON.parse(require("fs").readFileSync(0, "utf8") || "null");
    const v = (new Function("d", "return (" + process.argv[1] + ");"))(d);
    console.log(v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));
  ' "$1"
}

# api METHOD PATH [BODY]: the operator API; the body goes to stdout, the HTTP status to
# $work/status (api often runs in a subshell), read back by last_status.
api() {
  local args=(-sS -X "$1" -o "$work/body.$BASHPID" -w '%{http_code}' --max-time 45)
  [ $# -ge 3 ] && args+=(-H 'content-type: application/json' --data "$3")
  curl "${args[@]}" "$api$2" >"$work/status" || echo 0 >"$work/status"
  cat "$work/body.$BASHPID"
  rm -f "$work/body.$BASHPID"
}
last_status() { cat "$work/status"; }

# ---- 3. the emulator -------------------------------------------------------------------------
step "Starting the IoT Central emulator (DPS + two IoT hubs + operator API, ephemeral ports)"
node tests/emulator/bin/iotc-emulator.mjs --parent-pid $$ >"$work/emulator.out" 2>"$work/emulator.err" &
emu_pid=$!
for _ in $(seq 200); do
  [ -s "$work/emulator.out" ] && break
  kill -0 "$emu_pid" 2>/dev/null || break
  sleep 0.1
done
ready=$(head -n 1 "$work/emulator.out")
if [ "$(printf '%s' "$ready" | json 'd && d.ready' 2>/dev/null)" != "true" ]; then
  echo "run-demo.sh: the emulator did not start:" >&2
  cat "$work/emulator.err" >&2
  exit 1
fi
api=$(printf '%s' "$ready" | json d.api)
id_scope=$(printf '%s' "$ready" | json d.idScope)
ca_file=$(printf '%s' "$ready" | json d.caFile)
dps=$(printf '%s' "$ready" | json d.dps.mqtt)
model=$(json 'd["@id"]' <examples/environmental_sensor/EnvironmentalSensor.json)
device=demo-sensor
if $interactive; then
  printf '\n%sDashboard: %s/%s  (open it to watch the device; it stays up after the demo)\n' "$bold" "$api" "$off"
fi
op "emulator pid $emu_pid, operator API $api, DPS $dps, hubs $(printf '%s' "$ready" | json 'd.hubs.join(" and ")')"
dashboard_served() { curl -sf --max-time 10 "$api/" | grep -q 'ui/app.mjs'; }
check "the dashboard is served at $api/" dashboard_served

step "Importing the device template, as an operator does in IoT Central (Device templates > New)"
op "PUT /api/deviceTemplates/$model"
template_path=/api/deviceTemplates/$(json 'encodeURIComponent(d["@id"])' <examples/environmental_sensor/EnvironmentalSensor.json)
api PUT "$template_path" "$(cat examples/environmental_sensor/EnvironmentalSensor.json)" >/dev/null
status=$(last_status)
check "device template imported (HTTP $status)" test "$status" = 200 -o "$status" = 201

step "Creating the device, as an operator does in IoT Central (Devices > New)"
op "PUT /api/devices/$device"
api PUT "/api/devices/$device" "{\"displayName\":\"Environmental sensor\",\"template\":\"$model\",\"enabled\":true}" >/dev/null
status=$(last_status)
check "device created (HTTP $status)" test "$status" = 200 -o "$status" = 201
key=$(api GET "/api/devices/$device/attestation" | json 'd.symmetricKey.primaryKey')
check "device key read (IoT Central: Connect > SAS)" test -n "$key"
op "ID scope $id_scope, device id $device, primary key read (not shown)"

# ---- 4. the device ---------------------------------------------------------------------------
step "Starting the environmental sensor"
printf '%s\n' "  IOTC_ID_SCOPE=$id_scope IOTC_DEVICE_ID=$device IOTC_DEVICE_KEY=*** IOTC_DPS_ENDPOINT=$dps IOTC_CA_FILE=$ca_file $sensor"
: >"$work/sensor.log" # exists before tail looks for it
mkfifo "$work/stdin"
exec 3<>"$work/stdin" # held open: the sensor's input, where "q" goes at the end
IOTC_ID_SCOPE=$id_scope IOTC_DEVICE_ID=$device IOTC_DEVICE_KEY=$key IOTC_DPS_ENDPOINT=$dps \
  IOTC_CA_FILE=$ca_file IOTC_MODEL_ID=$model IOTC_GROUP_KEY="" IOTC_CONNECTION_STRING="" \
  "$sensor" --connect-timeout 30 <"$work/stdin" >"$work/sensor.log" 2>&1 &
sensor_pid=$!
tail -n +1 -f --pid="$sensor_pid" "$work/sensor.log" | sed -u "s/^/${dim}device   |${off} /" &
tail_pid=$!

wait_for() { # wait_for SECONDS COMMAND...: poll until the command succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    kill -0 "$sensor_pid" 2>/dev/null || return 1
    sleep 0.3
  done
}
connected() { [ "$(api GET "/api/devices/$device" | json 'd.connected')" = true ]; }
has_telemetry() { [ -n "$(api GET "/api/devices/$device/telemetry/temp" | json 'd && d.value')" ]; }
check "device provisioned and connected" wait_for 30 connected
api GET "/emulator/devices/$device/wait?subscribed=%24iothub%2Fmethods%2FPOST%2F%23&timeoutMs=10000" >/dev/null
check "telemetry arrives" wait_for 15 has_telemetry

step "What the operator sees: the device, its properties, its last telemetry"
info=$(api GET "/api/devices/$device")
op "GET /api/devices/$device -> provisioned $(json d.provisioned <<<"$info"), connected $(json d.connected <<<"$info"), hub $(json d.hub <<<"$info")"
props=$(api GET "/api/devices/$device/properties")
op "reported: state=$(json d.state <<<"$props") processorArchitecture=$(json d.processorArchitecture <<<"$props") swVersion=$(json d.swVersion <<<"$props")"
check "startup properties reported" test "$(json 'd.swVersion' <<<"$props")" = 1.0.0
temp=$(api GET "/api/devices/$device/telemetry/temp")
humid=$(api GET "/api/devices/$device/telemetry/humid")
op "last telemetry: temp $(json d.value <<<"$temp"), humid $(json d.value <<<"$humid") at $(json d.timestamp <<<"$temp")"
check "telemetry in range (temp 1-75, humid 30-99)" node -e '
  const [t, h] = process.argv.slice(1).map((s) => JSON.parse(s).value);
  process.exit(t >= 1 && t <= 75 && h >= 30 && h <= 99 ? 0 : 1)' "$temp" "$humid"

# ---- 5. commands -----------------------------------------------------------------------------
invoke() { # invoke NAME [REQUEST_JSON] -> prints the operator's view, leaves the result in $result
  local body='{"responseTimeout":30}'
  [ $# -ge 2 ] && body="{\"request\":$2,\"responseTimeout\":30}"
  op "POST /api/devices/$device/commands/$1 $body"
  result=$(api POST "/api/devices/$device/commands/$1" "$body")
  op "  -> $(json 'd.error ? "error " + d.error.code + ": " + d.error.message : "responseCode " + d.responseCode + ", response " + JSON.stringify(d.response === undefined ? null : d.response)' <<<"$result")"
}
step "Commands"
invoke blink 3
check "blink answered 200 with its description" test "$(json '`${d.responseCode} ${d.response && d.response.description}`' <<<"$result")" = "200 Blinking LED every 3 seconds"
invoke turnon
check "turnon answered 200" test "$(json d.responseCode <<<"$result")" = 200
invoke rundiagnostics
check "rundiagnostics answered 202 (long-running)" test "$(json d.responseCode <<<"$result")" = 202

# ---- 6. writable properties ------------------------------------------------------------------
step "Writable properties (name is applied in 1 s, brightness in 5 s)"
op "PATCH /api/devices/$device/properties {\"name\":\"Kitchen sensor\",\"brightness\":3}"
api PATCH "/api/devices/$device/properties" '{"name":"Kitchen sensor","brightness":3}' >/dev/null
status=$(last_status)
check "desired properties accepted (HTTP $status)" test "$status" = 200 -o "$status" = 202
ack_state() { # ack_state PROPERTY -> "pending" or "ac=200 av=V ad=..."
  api GET "/api/devices/$device/properties" | json "(() => {
    const m = d.\$metadata && d.\$metadata['$1'];
    if (!m || m.ackVersion === undefined || m.ackVersion < m.desiredVersion) return 'pending (desired version ' + (m && m.desiredVersion) + ')';
    return 'ac=' + m.ackCode + ' av=' + m.ackVersion + ' ad=' + m.ackDescription + ' value=' + JSON.stringify(d['$1']);
  })()"
}
op "name: $(ack_state name); brightness: $(ack_state brightness)"
acked() { case $(ack_state "$1") in "ac=200 "*) return 0 ;; *) return 1 ;; esac; }
check "name acknowledged (ac 200, av = desired version)" wait_for 15 acked name
op "name: $(ack_state name); brightness: $(ack_state brightness)"
check "brightness acknowledged (ac 200, av = desired version)" wait_for 15 acked brightness
op "name: $(ack_state name); brightness: $(ack_state brightness)"
check "acknowledged values are what the operator set" test \
  "$(api GET "/api/devices/$device/properties" | json '`${d.name}/${d.brightness}`')" = "Kitchen sensor/3"

diag_value='d.rundiagnostics && (d.rundiagnostics.value || d.rundiagnostics)'
diagnostics() { [ -n "$(api GET "/api/devices/$device/properties" | json "$diag_value")" ]; }
check "rundiagnostics completed: reported property" wait_for 15 diagnostics
op "rundiagnostics: $(api GET "/api/devices/$device/properties" | json "$diag_value")"
invoke turnoff
check "turnoff answered 200" test "$(json d.responseCode <<<"$result")" = 200
history=$(api GET "/api/devices/$device/commands/blink")
op "command history of blink: $(json 'd.value.length' <<<"$history") entries"
temp=$(api GET "/api/devices/$device/telemetry/temp")
op "last telemetry: temp $(json d.value <<<"$temp") at $(json d.timestamp <<<"$temp")"

# ---- 7. by hand ------------------------------------------------------------------------------
if $interactive; then
  step "Your turn: the device keeps running."
  printf '%sDashboard: %s/%s\n' "$bold" "$api" "$off"
  echo "  Open it in a browser: the device's live telemetry, properties, commands, faults and wire log."
  echo "Or drive it with curl:"
  cat <<EOF
  curl -s $api/api/devices/$device
  curl -s $api/api/devices/$device/properties
  curl -s $api/api/devices/$device/telemetry/temp
  curl -s -X POST -H 'content-type: application/json' -d '{"request":5}' $api/api/devices/$device/commands/blink
  curl -s -X POST -H 'content-type: application/json' -d '{}' $api/api/devices/$device/commands/turnon
  curl -s -X POST -H 'content-type: application/json' -d '{}' $api/api/devices/$device/commands/rundiagnostics
  curl -s -X PATCH -H 'content-type: application/json' -d '{"brightness":7}' $api/api/devices/$device/properties
  curl -s -X POST -H 'content-type: application/json' -d '{"request":2,"queued":true}' $api/api/devices/$device/commands/blink
  curl -s "$api/emulator/devices/$device/messages?since=0"
EOF
  printf '\n%sPress Enter (or Ctrl-C) to stop the device and the emulator.%s\n' "$bold" "$off"
  if [ -t 0 ]; then
    read -r _ || true
  elif { : </dev/tty; } 2>/dev/null; then
    read -r _ </dev/tty || true
  else
    echo "(no terminal to wait on: stopping now)"
  fi
fi

# ---- 8. stop ---------------------------------------------------------------------------------
step "Stopping: the device quits on 'q', then the emulator stops"
printf 'q\n' >&3
exited() { ! kill -0 "$sensor_pid" 2>/dev/null; }
wait_quit() { local i; for i in $(seq 100); do exited && return 0; sleep 0.1; done; return 1; }
check "the sensor quit on 'q'" wait_quit
sensor_status=0
wait "$sensor_pid" 2>/dev/null || sensor_status=$?
sensor_pid=""
check "the sensor exited with status 0 (got $sensor_status)" test "$sensor_status" = 0
wait "$tail_pid" 2>/dev/null || true
tail_pid=""
messages=$(api GET "/emulator/devices/$device/messages?since=0" | json 'd.value.length')
op "the emulator received $messages telemetry messages from $device"
stop_pid "$emu_pid"
emu_pid=""

step "Demo checks: $((checks - failures)) of $checks OK"
[ "$failures" -eq 0 ]
