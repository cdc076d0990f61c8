#!/bin/sh
# SPDX-License-Identifier: MIT
# Usage: install_and_consume.sh BUILD_DIR CONSUMER_SRC WORK_DIR
set -eu
build=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

# 1. CMake package
cmake -S "$src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_FLAGS="${CONSUMER_FLAGS:-}" -DCMAKE_EXE_LINKER_FLAGS="${CONSUMER_FLAGS:-}" >"$work/cmake-configure.log"
cmake --build "$work/cmake-build" >"$work/cmake-build.log"
out=$("$work/cmake-build/consumer")
echo "find_package consumer: $out"
echo "$out" | grep -q "^iotc " || { echo "consumer printed: $out" >&2; exit 1; }

# 2. pkg-config
libdir=$(ls -d "$prefix"/lib*/pkgconfig | head -n 1)
flags=$(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs iotc)
${CC:-cc} -std=c11 ${CONSUMER_FLAGS:-} -o "$work/consumer-pc" "$src/consumer.c" $flags
out=$("$work/consumer-pc")
echo "pkg-config consumer: $out"
echo "$out" | grep -q "^iotc " || { echo "consumer printed: $out" >&2; exit 1; }
