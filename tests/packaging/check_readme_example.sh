#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's complete example must be examples/quickstart/quickstart.c, byte for byte after
# the file's SPDX line (the README states the licence once for all its examples).
set -eu
root=$1
block=$(sed -n '/<!-- quickstart:begin -->/,/<!-- quickstart:end -->/p' "$root/README.md" | sed '1,2d;$d' | sed '$d')
if [ "$block" != "$(sed '1{/SPDX-License-Identifier/d;}' "$root/examples/quickstart/quickstart.c")" ]; then
  echo "README.md's quickstart block differs from examples/quickstart/quickstart.c" >&2
  exit 1
fi
echo "README example matches examples/quickstart/quickstart.c"
