#!/bin/sh
# The README's complete example must be examples/quickstart/quickstart.c, byte for byte.
set -eu
root=$1
block=$(sed -n '/<!-- quickstart:begin -->/,/<!-- quickstart:end -->/p' "$root/README.md" | sed '1,2d;$d' | sed '$d')
if [ "$block" != "$(cat "$root/examples/quickstart/quickstart.c")" ]; then
  echo "README.md's quickstart block differs from examples/quickstart/quickstart.c" >&2
  exit 1
fi
echo "README example matches examples/quickstart/quickstart.c"
