#!/bin/sh
# SPDX-License-Identifier: MIT
# What a user does: configure for one prefix, install to another, move that, delete the source
# and build trees. A program using the default trust roots must still get Azure's three roots.
# Usage: relocated_install.sh SOURCE_DIR CONSUMER_SRC WORK_DIR
set -eu
src=$1 consumer=$2 work=$3
rm -rf "$work"
mkdir -p "$work/src"
tar -C "$src" --exclude='./build*' --exclude=node_modules --exclude=.git -cf - . | tar -C "$work/src" -xf -
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DIOTC_BUILD_TESTS=OFF \
  -DIOTC_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX="$work/configured-prefix" >"$work/configure.log"
cmake --build "$work/build" -j 2 >"$work/build.log"
cmake --install "$work/build" --prefix "$work/installed" >"$work/install.log"
rm -rf "$work/src" "$work/build"
mv "$work/installed" "$work/moved"

cmake -S "$consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/moved" \
  -DCMAKE_BUILD_TYPE=Release >"$work/consumer-configure.log"
cmake --build "$work/consumer" >"$work/consumer-build.log"
"$work/consumer/default_roots" >"$work/roots.pem"
subjects=$(openssl crl2pkcs7 -nocrl -certfile "$work/roots.pem" | openssl pkcs7 -print_certs -noout |
  grep '^subject=')
echo "$subjects"
for cn in 'DigiCert Global Root G2' 'DigiCert Global Root G3' \
  'Microsoft RSA Root Certificate Authority 2017'; do
  echo "$subjects" | grep -q "CN = $cn\$" || { echo "missing from the default roots: $cn" >&2; exit 1; }
done
[ "$(echo "$subjects" | wc -l)" -eq 3 ] || { echo "expected exactly 3 roots" >&2; exit 1; }
echo "a relocated install with its source and build trees gone uses Azure's three roots"
