#!/bin/sh
# SPDX-License-Identifier: MIT
# docs/iot-central.md stays true to the code: the model @id it quotes is the sensor's model's,
# it names every capability of that model, every option and IOTC_ variable it uses is one the
# sensor (or the iotc tool) accepts, and the sensor is built where it says.
# Usage: check_iot_central_guide.sh SOURCE_DIR BUILD_DIR SENSOR IOTC_TOOL
set -eu
src=$1 build=$2 sensor=$3 tool=$4
guide=$src/docs/iot-central.md
model=$src/examples/environmental_sensor/EnvironmentalSensor.json
fail() { echo "docs/iot-central.md: $*" >&2; exit 1; }

id=$(sed -n 's/^  "@id": "\(.*\)",$/\1/p' "$model")
[ -n "$id" ] || fail "cannot read the @id of $model"
grep -q "\`$id\`" "$guide" || fail "does not quote the model's @id $id"
for name in $(sed -n 's/^ *"name": "\([A-Za-z0-9_]*\)",*$/\1/p' "$model" | sort -u); do
  case $name in interval | blinkResponse | description) continue ;; esac # inside a command
  grep -q "\`$name\`" "$guide" || fail "does not name the model's $name"
done

help=$("$sensor" --help)
for opt in $(grep -o -- '--[a-z][a-z-]*' "$guide" | sort -u); do
  case $opt in
    --group-key | --device-id) echo "$help" | grep -q -- "$opt" || fail "sensor has no $opt" ;;
    --build | --target | --runtime) ;; # cmake and tests/install-deps.sh
    *) echo "$help" | grep -q -- "$opt " || fail "uses $opt, which environmental_sensor --help lacks" ;;
  esac
done
for var in $(grep -o 'IOTC_[A-Z_]*' "$guide" | sort -u); do
  echo "$help" | grep -q "\[$var\]" || fail "uses $var, which environmental_sensor --help lacks"
done
"$tool" derive-key --help 2>&1 | grep -q -- '--group-key' || fail "iotc derive-key has no --group-key"

# The guide builds in build/: the sensor must be at the same place relative to the build tree.
where=$(sed -n 's|.*build/\(examples/environmental_sensor/environmental_sensor\).*|\1|p' "$guide" | sort -u)
[ -n "$where" ] || fail "gives no path to the sensor"
for w in $where; do
  [ -x "$build/$w" ] || fail "runs build/$w, which this build does not have"
done
echo "docs/iot-central.md matches the model, the sensor's options and the build tree"
