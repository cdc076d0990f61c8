#!/bin/sh
# SPDX-License-Identifier: MIT
# Every tracked source file names its licence in an SPDX line near its top (after a shebang,
# which must stay on line 1). Formats without comments (JSON, PEM, PNG images), documentation,
# third-party data and the fuzz corpus are exempt. Usage: check_spdx.sh SOURCE_DIR
set -eu
root=$1
cd "$root"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files >"$list"
else # a source archive: every file but build trees and installed npm packages
  find . -path ./.git -prune -o -path './build*' -prune -o -name node_modules -prune -o \
    -type f -print | sed 's|^\./||' >"$list"
fi
checked=0 missing=0
while IFS= read -r f; do
  case "$f" in
    *.json | *.md | *.pem | *.png | LICENSE | tests/fuzz/corpus/*) continue ;;
  esac
  [ -f "$f" ] || continue # deleted but not yet committed
  checked=$((checked + 1))
  if ! head -n 3 "$f" | grep -q 'SPDX-License-Identifier: MIT'; then
    echo "$f: no 'SPDX-License-Identifier: MIT' line in its first 3 lines" >&2
    missing=$((missing + 1))
  elif sed -n '2,3p' "$f" | grep -q '^#!'; then
    echo "$f: the shebang must be line 1" >&2
    missing=$((missing + 1))
  fi
done <"$list"
if [ "$missing" -gt 0 ]; then
  echo "$missing of $checked source files lack the SPDX line (see above)" >&2
  exit 1
fi
echo "all $checked source files carry SPDX-License-Identifier: MIT"
