#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `iotc derive-key` and `iotc sas`: outputs, exit codes and error lines.
# Expected keys and tokens are computed here, independently of the library, with the openssl
# CLI (HMAC-SHA256), coreutils base64/od and a bash percent-encoder; keys are fresh random ones
# from `openssl rand` on every run, plus one fixed vector (made the same way, and with python3's
# hmac module).
#   usage: test_cli_keys.sh path/to/iotc
set -u
export LC_ALL=C
iotc=${1:?usage: test_cli_keys.sh path/to/iotc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
ok() { passed=$((passed + 1)); }

hexkey() { printf '%s' "$1" | base64 -d | od -An -v -tx1 | tr -d ' \n'; }
hmac_b64() { printf '%s' "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(hexkey "$1")" -binary | base64 -w0; }
urlenc() {
  local s=$1 out='' c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [A-Za-z0-9._~-]) out+=$c ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}
# token RESOURCE KEY EXPIRY [SKN]
token() {
  local sr sig
  sr=$(urlenc "$1")
  sig=$(hmac_b64 "$2" "$sr"$'\n'"$3")
  printf 'SharedAccessSignature sr=%s&sig=%s&se=%s' "$sr" "$(urlenc "$sig")" "$3"
  [ $# -lt 4 ] || printf '&skn=%s' "$4"
}

# run NAME WANT_RC ARGS...: runs iotc, leaves $work/out and $work/err, checks the exit code.
run() {
  local name=$1 want=$2 rc
  shift 2
  "$iotc" "$@" >"$work/out" 2>"$work/err"
  rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "$name: exit $rc, want $want (stderr: $(head -c 300 "$work/err"))"
    return 1
  fi
  return 0
}

# expect_ok NAME WANT_STDOUT ARGS...
expect_ok() {
  local name=$1 want=$2
  shift 2
  run "$name" 0 "$@" || return
  if [ "$(cat "$work/out")" != "$want" ]; then
    fail "$name: stdout '$(cat "$work/out")', want '$want'"
  elif [ -s "$work/err" ]; then
    fail "$name: unexpected stderr: $(cat "$work/err")"
  else
    ok
  fi
}

# expect_usage NAME SECRET ARGS...: exit 2, nothing on stdout, exactly one line on stderr that
# starts with "iotc" and does not contain SECRET.
expect_usage() {
  local name=$1 secret=$2
  shift 2
  run "$name" 2 "$@" || return
  if [ -s "$work/out" ]; then
    fail "$name: stdout should be empty: $(cat "$work/out")"
  elif [ "$(wc -l <"$work/err")" -ne 1 ] || ! grep -q '^iotc' "$work/err"; then
    fail "$name: want one 'iotc...' line on stderr, got: $(cat "$work/err")"
  elif [ -n "$secret" ] && grep -qF -- "$secret" "$work/err"; then
    fail "$name: stderr shows the key"
  else
    ok
  fi
}

# expect_help NAME ARGS...: exit 0, usage on stdout, nothing on stderr.
expect_help() {
  local name=$1
  shift
  run "$name" 0 "$@" || return
  if ! grep -q '^usage: iotc' "$work/out" || [ -s "$work/err" ]; then
    fail "$name: want usage on stdout only"
  else
    ok
  fi
}

group_key=$(openssl rand -base64 64 | tr -d '\n')
device_key=$(openssl rand -base64 32)

# ---- help -------------------------------------------------------------------
expect_help "tool help" --help
expect_help "tool help, short form" -h
expect_help "derive-key help" derive-key --help
expect_help "sas help" sas -h
expect_help "help after other options" sas --hub h --help
run "version" 0 --version && { grep -q '^iotc [0-9]' "$work/out" && ok || fail "version: $(cat "$work/out")"; }

# ---- derive-key -------------------------------------------------------------
expect_ok "derive-key, fixed vector" "Ns6t/TJ9eFtbi9oe1Br3CwHJvg5qIGKx1MBQf+zts4s=" derive-key \
  --group-key 'r+gqFwjnugy6EP6M5rnLb4nWEMF73kOdH9N5+Lb3NnH6N7gVkGRqOF5yKCtIZwXlArTPPvEOcsPwV9C4BnNCOg==' \
  --device-id dev1
expect_ok "derive-key, random group key" "$(hmac_b64 "$group_key" sample-device-01)" \
  derive-key --group-key "$group_key" --device-id sample-device-01
expect_ok "derive-key, --opt=value form" "$(hmac_b64 "$group_key" d-2)" \
  derive-key --device-id=d-2 --group-key="$group_key"

# ---- sas ----------------------------------------------------------------------
expect_ok "hub token" "$(token myhub.azure-devices.net/devices/my_device "$device_key" 1578941692)" \
  sas --hub myhub.azure-devices.net --device-id my_device --key "$device_key" --expiry 1578941692
expect_ok "hub token, host:port and an ID that needs encoding" \
  "$(token 'localhost:46255/devices/a b#c' "$device_key" 1795710196)" \
  sas --hub localhost:46255 --device-id 'a b#c' --key "$device_key" --expiry 1795710196
expect_ok "DPS token" "$(token 0ne00ABCDEF/registrations/dev-1 "$device_key" 1795710195 registration)" \
  sas --id-scope 0ne00ABCDEF --registration-id dev-1 --key "$device_key" --expiry 1795710195
derived=$(hmac_b64 "$group_key" dev-2)
expect_ok "DPS token with a derived key" "$(token 0ne00ABCDEF/registrations/dev-2 "$derived" 2000000000 registration)" \
  sas --id-scope 0ne00ABCDEF --registration-id dev-2 --key "$derived" --expiry 2000000000

# --ttl and the default: se lies within now+ttl (a few seconds of slack), the signature matches.
check_ttl() {
  local name=$1 ttl=$2
  shift 2
  local before after se
  before=$(date +%s)
  run "$name" 0 "$@" || return
  after=$(date +%s)
  se=$(sed -n 's/.*&se=\([0-9]*\).*/\1/p' "$work/out")
  if [ -z "$se" ] || [ "$se" -lt $((before + ttl)) ] || [ "$se" -gt $((after + ttl)) ]; then
    fail "$name: se=$se not in [$((before + ttl)), $((after + ttl))]"
  elif [ "$(cat "$work/out")" != "$(token h.example/devices/d "$device_key" "$se")" ]; then
    fail "$name: token does not verify: $(cat "$work/out")"
  else
    ok
  fi
}
check_ttl "hub token, --ttl" 120 sas --hub h.example --device-id d --key "$device_key" --ttl 120
check_ttl "hub token, default ttl is one hour" 3600 sas --hub h.example --device-id d --key "$device_key"

# ---- bad usage and bad input: exit 2, one line, never the key ------------------
bad_key=${device_key%=}   # a real key with its padding cut: not valid base64
expect_usage "no command" ""
expect_usage "unknown command" "" frobnicate
expect_usage "unknown command that looks like a key" "$device_key" "$device_key"
expect_usage "derive-key, group key not base64" "$bad_key" derive-key --group-key "$bad_key" --device-id d
expect_usage "derive-key, group key with whitespace" "" derive-key --group-key "$device_key " --device-id d
expect_usage "derive-key, missing --device-id" "$group_key" derive-key --group-key "$group_key"
expect_usage "derive-key, missing --group-key" "" derive-key --device-id d
expect_usage "derive-key, empty value" "" derive-key --group-key "$group_key" --device-id ""
expect_usage "derive-key, device ID too long" "$group_key" derive-key --group-key "$group_key" \
  --device-id "$(printf 'd%.0s' $(seq 600))"
expect_usage "sas, key not base64" "$bad_key" sas --hub h --device-id d --key "$bad_key"
# The valid key with two characters in the URL-safe alphabet ('-', '_'): right length,
# wrong alphabet, whatever the random key holds.
expect_usage "sas, base64url key" "" sas --hub h --device-id d --key "${device_key:0:2}-_${device_key:4}"
expect_usage "sas, unknown option carrying the key" "$device_key" sas --hub h --device-id d --kee="$device_key"
expect_usage "sas, positional key" "$device_key" sas --hub h --device-id d "$device_key"
expect_usage "sas, missing value at the end" "" sas --hub h --device-id d --key
expect_usage "sas, missing value before next option" "" sas --hub h --device-id --key "$device_key"
expect_usage "sas, both --expiry and --ttl" "$device_key" sas --hub h --device-id d --key "$device_key" --expiry 5 --ttl 5
expect_usage "sas, non-numeric expiry" "$device_key" sas --hub h --device-id d --key "$device_key" --expiry 12x
expect_usage "sas, negative expiry" "$device_key" sas --hub h --device-id d --key "$device_key" --expiry -5
expect_usage "sas, expiry past 64 bits" "$device_key" sas --hub h --device-id d --key "$device_key" --expiry 18446744073709551616
expect_usage "sas, zero ttl" "$device_key" sas --hub h --device-id d --key "$device_key" --ttl 0
expect_usage "sas, ttl that overflows" "$device_key" sas --hub h --device-id d --key "$device_key" --ttl 18446744073709551615
expect_usage "sas, missing --key" "" sas --hub h --device-id d
expect_usage "sas, missing --device-id" "$device_key" sas --hub h --key "$device_key"
expect_usage "sas, missing --registration-id" "$device_key" sas --id-scope s --key "$device_key"
expect_usage "sas, neither form" "$device_key" sas --key "$device_key"
expect_usage "sas, hub and DPS options mixed" "$device_key" sas --hub h --registration-id r --key "$device_key"
expect_usage "sas, option given twice" "$device_key" sas --hub h --hub h2 --device-id d --key "$device_key"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
