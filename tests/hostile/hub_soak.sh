#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The long soak, outside CI: hub_soak (see hub_soak.c) for an hour with 100 clients on 10 hostile
# hubs, under the sanitizers of the build it comes from.
#   tests/hostile/hub_soak.sh [BUILD_DIR] [SECONDS] [CLIENTS]
# Defaults: build-asan, 3600, 100. Prints the per-client figures and the fault counts.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-asan}
seconds=${2:-3600}
clients=${3:-100}
bin=$build/tests/hostile/hub_soak
if [ ! -x "$bin" ]; then
  echo "hub_soak.sh: $bin is not built (cmake --build $build --target hub_soak)" >&2
  exit 2
fi
supp=$build/tests/hostile/lsan-drops.supp
export LSAN_OPTIONS="fast_unwind_on_malloc=0:print_suppressions=0:suppressions=$supp"
unset https_proxy http_proxy HTTPS_PROXY HTTP_PROXY ALL_PROXY all_proxy
# Ten clients per hub answer slower than the CI soak's 3 s liveness limit on a busy machine.
HUB_SOAK_SECONDS=$seconds HUB_SOAK_CLIENTS=$clients HUB_SOAK_LIVENESS_MS=${HUB_SOAK_LIVENESS_MS:-20000} \
  exec "$bin"
