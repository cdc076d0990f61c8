#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `iotc provision` against the emulator: the JSON it prints, its exit codes and error lines.
#   usage: cli_provision.sh path/to/iotc      (IOTC_EMULATOR_INFO names the ready line)
set -u
iotc=${1:?usage: cli_provision.sh path/to/iotc}
info=${IOTC_EMULATOR_INFO:?run through ctest}
field() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const v=process.argv[2].split(".").reduce((o,k)=>o&&o[k],j);process.stdout.write(String(v))' "$info" "$1"; }
scope=$(field idScope)
ca=$(field caFile)
mqtt=$(field dps.mqtt)
https=$(field dps.https)
group=$(field groupKey)
hubs=" $(field hubs | tr , " ") "
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
ok() { passed=$((passed + 1)); }
id() { printf 'cli-%s-%s-%s' "$1" "$$" "$RANDOM"; }

# run NAME EXPECTED_EXIT args...: output in $work/out, $work/err
run() {
  local name=$1 want=$2
  shift 2
  "$iotc" provision "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    fail "$name: exit $got, want $want; stderr: $(cat "$work/err")"
    return 1
  fi
  ok
}

json_get() { node -e 'const j=JSON.parse(require("fs").readFileSync(0,"utf8"));process.stdout.write(String(j[process.argv[1]]))' "$1" <"$work/out"; }

# Success over both transports: exactly one JSON line with the documented fields.
for t in mqtt https; do
  ep=$mqtt; [ $t = https ] && ep=$https
  dev=$(id $t)
  if run "group key over $t" 0 --id-scope "$scope" --device-id "$dev" --group-key "$group" \
      --dps-endpoint "$ep" --ca-file "$ca" --transport $t --model-id 'dtmi:com:example:Thermostat;1'; then
    [ "$(wc -l <"$work/out")" -eq 1 ] || fail "$t: more than one line on stdout"
    [ "$(json_get status)" = assigned ] || fail "$t: status $(cat "$work/out")"
    [ "$(json_get deviceId)" = "$dev" ] || fail "$t: deviceId $(cat "$work/out")"
    case $hubs in *" $(json_get assignedHub) "*) ok ;; *) fail "$t: assignedHub $(cat "$work/out")" ;; esac
    grep -q '"substatus":"initialAssignment"' "$work/out" || fail "$t: substatus $(cat "$work/out")"
    grep -q 'Thermostat;1' "$work/out" || fail "$t: payload not echoed $(cat "$work/out")"
    [ ! -s "$work/err" ] || fail "$t: stderr not empty: $(cat "$work/err")"
  fi
done

# A wrong (but well-formed) key: refused by DPS, exit 1, one line naming 401, key not shown.
wrong=d3JvbmctYnV0LXZhbGlkLWJhc2U2NC1rZXktMDAwMDA=
for t in mqtt https; do
  ep=$mqtt; [ $t = https ] && ep=$https
  if run "wrong key over $t" 1 --id-scope "$scope" --device-id "$(id bad)" --key "$wrong" \
      --dps-endpoint "$ep" --ca-file "$ca" --transport $t; then
    [ "$(wc -l <"$work/err")" -eq 1 ] || fail "$t: error is not one line: $(cat "$work/err")"
    grep -q 401 "$work/err" || fail "$t: no 401 in: $(cat "$work/err")"
    grep -qF "$wrong" "$work/err" && fail "$t: the key leaked into stderr"
    grep -q 'DPS code [0-9]\b' "$work/err" && fail "$t: a CONNACK code labelled as a DPS code: $(cat "$work/err")"
    [ ! -s "$work/out" ] || fail "$t: stdout not empty on failure"
  fi
done

# Unreachable and untrusted endpoints: exit 1.
run "unreachable endpoint" 1 --id-scope "$scope" --device-id "$(id x)" --group-key "$group" \
  --dps-endpoint 127.0.0.1:1 --ca-file "$ca"
run "untrusted server" 1 --id-scope "$scope" --device-id "$(id x)" --group-key "$group" \
  --dps-endpoint "$https" --transport https
# The TLS reason is told once, not once in the message and again in the transport text.
if run "untrusted server over mqtt" 1 --id-scope "$scope" --device-id "$(id x)" --group-key "$group" \
    --dps-endpoint "$mqtt"; then
  n=$(grep -o 'X509 error' "$work/err" | wc -l)
  [ "$n" -eq 1 ] || fail "untrusted server over mqtt: TLS reason told $n times: $(cat "$work/err")"
fi

# Bad usage or input: exit 2, nothing on stdout, key never echoed.
run "no credential" 2 --id-scope "$scope" --device-id d1
run "two credentials" 2 --id-scope "$scope" --device-id d1 --key "$wrong" --group-key "$group"
run "missing scope" 2 --device-id d1 --key "$wrong"
run "bad transport" 2 --id-scope "$scope" --device-id d1 --key "$wrong" --transport carrier-pigeon
run "bad timeout" 2 --id-scope "$scope" --device-id d1 --key "$wrong" --timeout 0
run "key not base64" 2 --id-scope "$scope" --device-id d1 --key 'not-base64!'
grep -q 'not-base64' "$work/err" && fail "the bad key was echoed"
run "bad device id" 2 --id-scope "$scope" --device-id 'a/b' --key "$wrong"
run "missing cert file" 2 --id-scope "$scope" --device-id d1 --cert "$work/none.pem"
run "payload not an object" 2 --id-scope "$scope" --device-id d1 --key "$wrong" --payload '[1]'
run "help" 0 --help
grep -q -- '--group-key' "$work/out" || fail "help lacks --group-key"
grep -qE '(include|lib|src)/|\.[ch]\b' "$work/out" && fail "help points to a source file: $(grep -E '(include|lib|src)/|\.[ch]\b' "$work/out")"

echo "passed $passed, failed $failed"
[ "$failed" -eq 0 ]
