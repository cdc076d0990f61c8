#!/bin/sh
# SPDX-License-Identifier: MIT
# The library's layers point down only (the table "Layers" in README.md):
#   central -> dps, hub, model, net, common, pure     dps, hub -> net, common, pure
#   model -> common, pure      net -> common, pure      common -> pure      pure -> pure
# Includes: every file under lib/ is read; a quoted include names a file of a layer, and an
# angle include may name a third-party header only where that layer may use it (common and model:
# no Paho, no libcurl; model: no OpenSSL either; pure: only <string.h> and the type headers).
# Links: each object of the library (optional arguments) may leave undefined only iotc symbols
# that an object of an allowed layer defines; pure objects call only libc's str/mem functions.
# Usage: check_layers.sh SOURCE_DIR [OBJECT...]   (objects under .../CMakeFiles/iotc.dir/)
set -eu
src=$1
shift

# The layer of a project path (lib/..., include/iotc/..., generated/...). Pure headers are the
# ones the pure sources include: they must themselves stay pure.
layer_of() {
  case $1 in
    lib/hub/topic_*.c | lib/dps/topic_*.c | lib/common/pure_*.c) echo pure ;;
    lib/hub/topic_common.h | lib/dps/retry_after.h) echo pure ;;
    lib/common/url.h | lib/common/text.h | lib/common/proxy.h) echo pure ;;
    include/iotc/hub_topic.h | include/iotc/dps_topic.h) echo pure ;;
    include/iotc/result.h | include/iotc/version.h) echo pure ;;
    include/iotc/log.h | include/iotc/sas.h) echo common ;;
    include/iotc/dps.h) echo dps ;;
    include/iotc/client.h | include/iotc/iotc.h | include/iotc/persist.h | include/iotc/upload.h | \
      include/iotc/executor.h) echo central ;;
    generated/azure_roots.c) echo dps ;; # the compiled-in trust roots, read by lib/dps
    lib/central/*) echo central ;;
    lib/dps/*) echo dps ;;
    lib/hub/*) echo hub ;;
    lib/model/*) echo model ;;
    lib/net/*) echo net ;;
    lib/common/*) echo common ;;
    *) echo none ;;
  esac
}

# Which layers each layer may depend on (itself included): the one table, read by both checks.
rules="central=central,dps,hub,model,net,common,pure dps=dps,net,common,pure \
hub=hub,net,common,pure model=model,common,pure net=net,common,pure common=common,pure pure=pure"

# May layer $1 depend on layer $2?
may_use() {
  for rule in $rules; do
    case $rule in "$1="*) case ",${rule#*=}," in *",$2,"*) return 0 ;; esac ;; esac
  done
  return 1
}

# May layer $1 include the system or third-party header <$2>?
may_include() {
  case "$1:$2" in
    pure:string.h | pure:stddef.h | pure:stdbool.h | pure:stdint.h | pure:limits.h) return 0 ;;
    pure:*) return 1 ;;
    common:MQTT* | common:curl/* | model:MQTT* | model:curl/* | model:openssl/*) return 1 ;;
  esac
  return 0
}

bad=0
fail() {
  echo "$1" >&2
  bad=$((bad + 1))
}

nobjects=$#
if [ $# -gt 0 ]; then
  # One line per object: its layer and path; then nm's external symbols of all of them.
  listing=$(for o in "$@"; do
    rel=${o##*/iotc.dir/}
    echo "OBJ $(layer_of "${rel%.o}") $o"
  done
  nm -A -g --format=posix "$@" 2>/dev/null)
  libc=" $(grep -v '^#' "$(dirname "$0")/pure_libc.txt" | tr '\n' ' ')"
  link_errors=$(echo "$listing" | awk -v rules="$rules" -v libc="$libc" '
    BEGIN {
      n = split(rules, r, " ")
      for (i = 1; i <= n; i++) {
        split(r[i], kv, "=")
        m = split(kv[2], to, ",")
        for (j = 1; j <= m; j++) ok[kv[1] ":" to[j]] = 1
      }
      n = 0
    }
    $1 == "OBJ" { layer[$3] = $2; next }
    {
      obj = $1; sub(/:$/, "", obj); sym = $2; type = $3
      if (type == "U") { n++; uobj[n] = obj; usym[n] = sym }
      else if (sym ~ /^iotc_/) def[sym] = layer[obj]
    }
    END {
      for (i = 1; i <= n; i++) {
        o = uobj[i]; s = usym[i]; l = layer[o]
        short = o; sub(/.*\/iotc\.dir\//, "", short); sub(/\.o$/, "", short)
        if (s ~ /^(__asan_|__ubsan_|__sanitizer_|__sancov)/) continue
        if (s ~ /^iotc_/) {
          if (!(s in def)) print short ": " s " is defined in no object of the library"
          else if (!((l ":" def[s]) in ok)) print short ": the " l " layer may not call " s " (" def[s] ")"
        } else if (l == "pure" && index(libc, " " s " ") == 0) {
          print short ": the pure layer may not call " s
        } else if ((l == "common" || l == "model") && s ~ /^(MQTT|curl_)/) {
          print short ": the " l " layer may not call " s
        }
      }
    }')
  if [ -n "$link_errors" ]; then
    echo "$link_errors" >&2
    bad=$((bad + $(echo "$link_errors" | wc -l)))
  fi
fi

cd "$src" # after nm: the objects may be named relative to the caller
files=$(find lib -type f \( -name '*.c' -o -name '*.h' \) | sort)
[ -n "$files" ] || { echo "no sources under $src/lib" >&2; exit 2; }
nfiles=0
for f in $files; do
  nfiles=$((nfiles + 1))
  from=$(layer_of "$f")
  if [ "$from" = none ]; then
    fail "$f: not in any layer (lib/central, dps, hub, model, net, common)"
    continue
  fi
  # "#include" lines only: one header per line, quoted or angled.
  for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^>"]*[>"]\).*/\1/p' "$f"); do
    name=${inc#?}
    name=${name%?}
    case $inc in
      \<*)
        may_include "$from" "$name" || fail "$f: the $from layer may not include <$name>" ;;
      *)
        case $name in
          iotc/*) to=$(layer_of "include/$name") ;;
          *) to=$(layer_of "lib/$name") ;;
        esac
        may_use "$from" "$to" || fail "$f: the $from layer may not include \"$name\" ($to)" ;;
    esac
  done
done

if [ "$bad" -gt 0 ]; then
  echo "check_layers: $bad dependencies point the wrong way (see README.md, Layers)" >&2
  exit 1
fi
echo "check_layers: $nfiles files' includes and $nobjects objects' links point down only"
