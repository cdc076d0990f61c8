#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `iotc upload` against the emulator: the JSON it prints, the file the operator then sees, and the
# exit codes and error lines of bad input.
#   usage: test_cli_upload.sh path/to/iotc      (IOTC_EMULATOR_INFO names the ready line)
set -u
iotc=${1:?usage: test_cli_upload.sh path/to/iotc}
info=${IOTC_EMULATOR_INFO:?run through ctest}
field() { node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const v=process.argv[2].split(".").reduce((o,k)=>o&&o[k],j);process.stdout.write(String(v))' "$info" "$1"; }
scope=$(field idScope)
ca=$(field caFile)
mqtt=$(field dps.mqtt)
group=$(field groupKey)
api=$(field api)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
ok() { passed=$((passed + 1)); }
dev="cli-upload-$$-$RANDOM"
common=(--id-scope "$scope" --device-id "$dev" --group-key "$group" --dps-endpoint "$mqtt" --ca-file "$ca")

# run NAME EXPECTED_EXIT args...: output in $work/out, $work/err
run() {
  local name=$1 want=$2
  shift 2
  "$iotc" upload "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" -ne "$want" ]; then
    fail "$name: exit $got, want $want; stderr: $(cat "$work/err")"
    return 1
  fi
  ok
}

head -c 300000 /dev/urandom >"$work/dump.bin"
if run "upload a file" 0 "${common[@]}" --blob-name "dumps/first.bin" --block-size 65536 "$work/dump.bin"; then
  grep -qx "{\"blobName\":\"$dev/dumps/first.bin\",\"bytes\":300000}" "$work/out" || fail "output: $(cat "$work/out")"
  [ ! -s "$work/err" ] || fail "stderr not empty (not a terminal: no progress bar): $(cat "$work/err")"
  node -e '
    const [api, dev, file] = process.argv.slice(1);
    (async () => {
      const list = await (await fetch(`${api}/api/devices/${dev}/files`)).json();
      const f = list.value.find((x) => x.name === "dumps/first.bin");
      if (!f || f.size !== 300000 || !f.notification || !f.notification.isSuccess) throw new Error(JSON.stringify(list));
      const body = Buffer.from(await (await fetch(`${api}/api/devices/${dev}/files/${encodeURIComponent("dumps/first.bin")}`)).arrayBuffer());
      if (!body.equals(require("fs").readFileSync(file))) throw new Error("content differs");
    })().catch((e) => { console.error(e.message); process.exit(1); });' "$api" "$dev" "$work/dump.bin" && ok || fail "the operator does not see the file"
fi
# --file and the file's own name
if run "upload with --file" 0 "${common[@]}" --file "$work/dump.bin"; then
  grep -q "\"blobName\":\"$dev/dump.bin\"" "$work/out" || fail "default name: $(cat "$work/out")"
fi

run "missing FILE" 2 "${common[@]}"
run "no such file" 2 "${common[@]}" "$work/none.bin"
grep -q "none.bin" "$work/err" || fail "the missing file is not named: $(cat "$work/err")"
run "a directory" 2 "${common[@]}" "$work"
grep -q "directory" "$work/err" || fail "no word of a directory: $(cat "$work/err")"
run "bad blob name" 2 "${common[@]}" --blob-name "../x" "$work/dump.bin"
run "bad block size" 2 "${common[@]}" --block-size 10 "$work/dump.bin"
run "no credential" 2 --id-scope "$scope" --device-id d1 "$work/dump.bin"
run "help" 0 --help
grep -q -- '--blob-name' "$work/out" || fail "help lacks --blob-name"

echo "passed $passed, failed $failed"
[ "$failed" -eq 0 ]
