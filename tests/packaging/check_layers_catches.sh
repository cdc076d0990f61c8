#!/bin/sh
# SPDX-License-Identifier: MIT
# check_layers.sh can fail: on a copy of lib/ it passes, then each wrong dependency planted in a
# fresh copy (an include pointing up, a third-party header where it does not belong, an object
# calling up or calling the allocator from the pure layer) makes it fail, naming the file.
# Usage: check_layers_catches.sh SOURCE_DIR WORK_DIR OBJECT...   (CC: the C compiler)
set -eu
src=$1
work=$2
shift 2
check="$src/tests/packaging/check_layers.sh"
cc=${CC:-cc}
failures=0

fresh_copy() {
  rm -rf "$work/src"
  mkdir -p "$work/src"
  cp -R "$src/lib" "$src/include" "$work/src/"
}

# expect_failure WHAT EXPECTED_TEXT [OBJECT...]: the check on $work/src must fail saying EXPECTED.
expect_failure() {
  what=$1
  expected=$2
  shift 2
  if sh "$check" "$work/src" "$@" >"$work/out" 2>&1; then
    echo "NOT CAUGHT: $what" >&2
    failures=$((failures + 1))
  elif ! grep -qF "$expected" "$work/out"; then
    echo "CAUGHT WITHOUT SAYING '$expected': $what" >&2
    cat "$work/out" >&2
    failures=$((failures + 1))
  else
    echo "caught: $what: $(grep -F "$expected" "$work/out")"
  fi
}

# plant FILE LINE: add LINE after the SPDX line of lib/FILE in a fresh copy.
plant() {
  fresh_copy
  sed -i "1a $2" "$work/src/lib/$1"
}

fresh_copy
sh "$check" "$work/src" "$@" || { echo "the unmodified copy already fails" >&2; exit 1; }

plant dps/dps_json.c '#include "central/client_internal.h"'
expect_failure "dps includes central" \
  'lib/dps/dps_json.c: the dps layer may not include "central/client_internal.h"'
plant hub/session.c '#include "central/twin.h"'
expect_failure "hub includes central" 'lib/hub/session.c: the hub layer may not include "central/twin.h"'
plant model/model_check.c '#include "net/tls_diag.h"'
expect_failure "model includes net" 'lib/model/model_check.c: the model layer may not include "net/tls_diag.h"'
plant net/clock_check.c '#include "hub/session.h"'
expect_failure "net includes hub" 'lib/net/clock_check.c: the net layer may not include "hub/session.h"'
plant common/log.c '#include <MQTTAsync.h>'
expect_failure "common includes Paho" 'lib/common/log.c: the common layer may not include <MQTTAsync.h>'
plant common/base64.h '#include <curl/curl.h>'
expect_failure "common includes libcurl" 'lib/common/base64.h: the common layer may not include <curl/curl.h>'
plant common/secret.c '#include "model/model.h"'
expect_failure "common includes model" 'lib/common/secret.c: the common layer may not include "model/model.h"'
plant hub/topic_c2d.c '#include <stdio.h>'
expect_failure "pure includes stdio" 'lib/hub/topic_c2d.c: the pure layer may not include <stdio.h>'
plant dps/topic_dps.c '#include "common/log.h"'
expect_failure "pure includes common" 'lib/dps/topic_dps.c: the pure layer may not include "common/log.h"'
plant hub/topic_common.h '#include "common/secret.h"'
expect_failure "pure header includes common" \
  'lib/hub/topic_common.h: the pure layer may not include "common/secret.h"'
fresh_copy
mkdir -p "$work/src/lib/extra"
echo '/* SPDX-License-Identifier: MIT */' >"$work/src/lib/extra/stray.c"
expect_failure "a folder outside the layers" 'lib/extra/stray.c: not in any layer'

# Links: objects placed where the build puts the library's objects, named for their layer.
fresh_copy
objdir="$work/obj/CMakeFiles/iotc.dir/lib"
mkdir -p "$objdir/common" "$objdir/hub"
printf '%s\n' '/* SPDX-License-Identifier: MIT */' '#include <stddef.h>' \
  'char *iotc__json_reported_one(const char *, const char *, const char *, size_t *);' \
  'char *iotc__planted(void) { return iotc__json_reported_one(NULL, "a", "1", NULL); }' \
  >"$work/up.c"
$cc -c "$work/up.c" -o "$objdir/common/planted.c.o"
expect_failure "common calls central" \
  'lib/common/planted.c: the common layer may not call iotc__json_reported_one (central)' \
  "$@" "$objdir/common/planted.c.o"
printf '%s\n' '/* SPDX-License-Identifier: MIT */' '#include <stdlib.h>' \
  'void *iotc__planted_alloc(size_t n) { return malloc(n); }' >"$work/alloc.c"
$cc -c "$work/alloc.c" -o "$objdir/hub/topic_planted.c.o"
expect_failure "pure calls malloc" 'lib/hub/topic_planted.c: the pure layer may not call malloc' \
  "$@" "$objdir/hub/topic_planted.c.o"

rm -rf "$work/src" "$work/obj"
if [ "$failures" -gt 0 ]; then
  echo "check_layers.sh missed $failures planted wrong dependencies" >&2
  exit 1
fi
echo "check_layers.sh caught every planted wrong dependency"
