#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Allocation-failure injection over the unit-test programs (linked with support/alloc_fail.c).
# Usage: alloc_failures.sh PROGRAM...
#
# Each program runs once to count its allocations (it must pass), then once per N with its Nth
# allocation failing. A run is judged good when it
#   - exits on its own (no signal, no time-out, no exception caught by cmocka),
#   - has no AddressSanitizer / UndefinedBehaviorSanitizer report,
#   - has no leak (LeakSanitizer, in sanitized builds only), and
#   - passes, or fails with cmocka assertions: a failed allocation may make a test's expectation
#     fail, so a leak of what the failed test function itself allocated (cmocka leaves it by
#     longjmp, dropping its locals) is excused; any other leak is not.
# A program that allocates at most IOTC_ALLOC_MAX_RUNS times (default 400) has each of its
# allocations failed; one that allocates more has each allocation site failed once instead (the
# first allocation of each site, a site being the calling frame and its caller, as recorded by
# the counting run), at most IOTC_ALLOC_MAX_RUNS of them, and the run says so. Client tests
# allocate on a worker thread too, so the Nth allocation is not always the same one; the site
# printed is the one that failed. Nothing is asserted on time; the total duration is printed.
set -uo pipefail

max_runs=${IOTC_ALLOC_MAX_RUNS:-400}
per_run_timeout=${IOTC_ALLOC_TIMEOUT:-60}
[ $# -gt 0 ] || { echo "usage: alloc_failures.sh PROGRAM..." >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/iotc-alloc.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Reports go to the log instead of aborting, so they can be read; leaks are checked, with
# whole allocation stacks (the frame-pointer unwinder stops in jansson, before the test function).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
sanitized=no

# site LOG: the first frame of the injected failure's stack outside the shim and the sanitizer.
site() {
  awk '/^alloc-fail: allocation/ {on = 1; next}
       on && /#[0-9]+ / && !/alloc_fail\.c|__sanitizer|__interceptor|__wrap_|execinfo|backtrace/ {
         sub(/^ *#[0-9]+ 0x[0-9a-f]+ in /, ""); print; exit }
       on && /^[^ ]/ && !/#/ { if (++plain > 1) { print; exit } }' "$1"
}

# unexcused_leaks LOG: prints the LeakSanitizer blocks whose stack passes through no test
# function that cmocka reported as failed.
unexcused_leaks() {
  awk '/^\[  FAILED  \] / && NF >= 4 { failed[$4] = 1 }
       /^(Direct|Indirect) leak of / { if (blk != "" && !excused) printf "%s\n", blk;
                                       blk = $0 "\n"; excused = 0; inblk = 1; next }
       inblk && /^ *#[0-9]+ / { blk = blk $0 "\n"
                                for (f in failed) if (index($0, " in " f " ")) excused = 1; next }
       inblk { if (blk != "" && !excused) printf "%s\n", blk; blk = ""; inblk = 0 }
       END { if (blk != "" && !excused) printf "%s\n", blk }' "$1"
}

started=$(date +%s%N)
programs=0 runs=0 problems=0 total_allocs=0 capped=0
for prog in "$@"; do
  name=$(basename "$prog")
  count_file=$work/$name.count sites_file=$work/$name.sites
  if ! IOTC_ALLOC_COUNT_FILE=$count_file IOTC_ALLOC_SITES_FILE=$sites_file "$prog" >"$work/$name.count.log" 2>&1; then
    echo "$name: FAILS without injection; output:"
    cat "$work/$name.count.log"
    problems=$((problems + 1))
    continue
  fi
  [ "$(nm -u "$prog" 2>/dev/null | grep -c '__asan_init')" -gt 0 ] && sanitized=yes
  count=$(cat "$count_file" 2>/dev/null || echo 0)
  if [ "$count" -eq 0 ]; then
    echo "$name: no allocation"
    continue
  fi
  programs=$((programs + 1))
  total_allocs=$((total_allocs + count))
  if [ "$count" -le "$max_runs" ]; then
    plan=$(seq 1 "$count")
    what="each of its allocations"
  else
    plan=$(grep -v '^#' "$sites_file" | sort -n | head -n "$max_runs")
    what="the first allocation of each of its $(grep -vc '^#' "$sites_file") sites"
    capped=$((capped + 1))
  fi
  passed=0 asserted=0 bad=0
  for n in $plan; do
    log=$work/$name.$n.log
    status=0
    IOTC_ALLOC_FAIL_AT=$n timeout -k 5 "$per_run_timeout" "$prog" >"$log" 2>&1 || status=$?
    runs=$((runs + 1))
    why=""
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
      why="did not finish in ${per_run_timeout} s"
    elif [ "$status" -gt 128 ]; then
      why="killed by signal $((status - 128))"
    elif grep -q 'with exception' "$log"; then
      why="crashed (exception caught by cmocka)"
    elif grep -Eq 'ERROR: AddressSanitizer|runtime error:' "$log"; then
      why="sanitizer report"
    elif grep -q 'ERROR: LeakSanitizer' "$log" && [ -n "$(unexcused_leaks "$log")" ]; then
      why="leak"
    elif [ "$status" -ne 0 ] && ! grep -q '^\[  FAILED  \]' "$log"; then
      why="exit status $status without a failed assertion"
    fi
    if [ -n "$why" ]; then
      bad=$((bad + 1))
      problems=$((problems + 1))
      echo "$name: allocation #$n fails at $(site "$log"): $why"
      if [ "$why" = leak ]; then unexcused_leaks "$log"; else tail -n 40 "$log"; fi
      echo "---- end of $name #$n ----"
    elif [ "$status" -eq 0 ]; then
      passed=$((passed + 1))
    else
      asserted=$((asserted + 1))
    fi
  done
  note=""
  [ "$count" -gt "$max_runs" ] && note=" (more than IOTC_ALLOC_MAX_RUNS=$max_runs allocations: one failure per site, not per allocation)"
  grep -h '^#' "$sites_file" 2>/dev/null
  echo "$name: $count allocations; failed $what$note: $passed passed, $asserted failed an assertion, $bad bad"
done
ns=$(($(date +%s%N) - started))
leaks="leaks checked"
[ "$sanitized" = yes ] || leaks="leaks NOT checked (build without -DIOTC_SANITIZE=ON)"
printf 'alloc_failures: %d programs, %d allocations, %d injected runs, %d failed per site, %d problems, %d.%d s; %s\n' \
  "$programs" "$total_allocs" "$runs" "$capped" "$problems" $((ns / 1000000000)) $((ns / 100000000 % 10)) "$leaks"
[ "$problems" -eq 0 ]
