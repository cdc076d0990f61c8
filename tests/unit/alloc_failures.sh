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
#     fail, so a leak of what the failed test function got from earlier calls (cmocka leaves it
#     by longjmp, dropping its locals) is excused; a leak from the failing call itself, or from
#     any other test, is not.
# A program that allocates at most IOTC_ALLOC_MAX_RUNS times (default 400) has each of its
# allocations failed; one that allocates more has each allocation site failed once instead (the
# first allocation of each site, a site being the calling frame and its caller, as recorded by
# the counting run), at most IOTC_ALLOC_MAX_RUNS of them, and the run says so. Client tests
# allocate on a worker thread too, so the Nth allocation is not always the same one; the site
# printed is the one that failed. Each run is stopped after IOTC_ALLOC_TIMEOUT seconds (default
# 60) and counts as a failure then. Nothing is asserted on time; the total duration is printed.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)

max_runs=${IOTC_ALLOC_MAX_RUNS:-400}
per_run_timeout=${IOTC_ALLOC_TIMEOUT:-60}
case "${1:-}" in
  -h | --help) sed -n '3,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  -*) echo "alloc_failures.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || { echo "usage: alloc_failures.sh PROGRAM... (see --help)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/iotc-alloc.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Reports go to the log instead of aborting, so they can be read; leaks are checked.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
sanitized=no

# site LOG: the first frame of the injected failure's stack outside the shim, the sanitizer and
# shared libraries (jansson: "(/usr/lib/...so+0x...)"). Unsanitized builds print glibc's
# backtrace_symbols() lines, program(+offset), of which the first three are the shim's.
site() {
  awk '/^alloc-fail: allocation/ {on = 1; next}
       on && /#[0-9]+ / && !/alloc_fail\.c|__sanitizer|__interceptor|__wrap_|execinfo|backtrace/ &&
         !/\(\/[^ ]*\+0x[0-9a-f]+\)$/ {
         sub(/^ *#[0-9]+ 0x[0-9a-f]+ in /, ""); print; exit }
       on && /^[^ ]/ && !/#/ && ++plain == 4 { sub(/\[0x[0-9a-f]+\]$/, ""); print; exit }' "$1"
}

# unexcused_leaks LOG: prints the LeakSanitizer blocks that are not excused. A block is excused
# when its stack passes through a test function that cmocka reported as failed, at another line
# of it than the call in which the allocation failed: an object the test got earlier and would
# have freed later. What the failing call itself allocated and left behind is never excused.
unexcused_leaks() {
  awk 'FNR == NR { if (/^\[  FAILED  \] / && NF >= 4) failed[$4] = 1
                   if (/^alloc-fail: allocation/) on = 1; else if (on && !/^ *#[0-9]+ /) on = 0
                   if (on) stack[++depth] = $0
                   next }
       !ready { ready = 1
                for (k = 1; k <= depth && failing_line == ""; k++)
                  for (f in failed) if (index(stack[k], " in " f " ")) failing_line = stack[k]
                sub(/^.* /, "", failing_line) }
       /^(Direct|Indirect) leak of / { if (blk != "" && !excused) printf "%s\n", blk;
                                       blk = $0 "\n"; excused = 0; inblk = 1; next }
       inblk && /^ *#[0-9]+ / { blk = blk $0 "\n"
                                for (f in failed) if (index($0, " in " f " ") && $NF != failing_line) excused = 1
                                next }
       inblk { if (blk != "" && !excused) printf "%s\n", blk; blk = ""; inblk = 0 }
       END { if (blk != "" && !excused) printf "%s\n", blk }' "$1" "$1"
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
    site "$log" | sed 's/^[^ ]* //' >>"$work/sites"
    why=""
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
      why="did not finish in ${per_run_timeout} s"
    elif [ "$status" -gt 128 ]; then
      why="killed by signal $((status - 128))"
    elif grep -q 'with exception' "$log"; then
      why="crashed (exception caught by cmocka)"
    elif grep -Eq 'ERROR: AddressSanitizer|runtime error:' "$log"; then
      why="sanitizer report"
    elif grep -q 'ERROR: LeakSanitizer' "$log" && [ -n "$(unexcused_leaks "$log")" ] &&
      { # again with whole stacks: the fast unwinder stops in jansson, before the test function
        ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0" IOTC_ALLOC_FAIL_AT=$n \
          timeout -k 5 "$per_run_timeout" "$prog" >"$log" 2>&1
        [ -n "$(unexcused_leaks "$log")" ]; }; then
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
# Distinct places that had an allocation fail: file:line (a symbol in unsanitized builds).
sort -u "$work/sites" 2>/dev/null | grep . >"$work/sites.unique"
echo "alloc_failures: $(grep -c . "$work/sites.unique") distinct allocation sites failed" \
  "(file and line in sanitized builds only); those in lib/:"
grep -F "$root/lib/" "$work/sites.unique" | sed "s|^$root/|  |"
leaks="leaks checked"
[ "$sanitized" = yes ] || leaks="leaks NOT checked (build without -DIOTC_SANITIZE=ON)"
printf 'alloc_failures: %d programs, %d allocations, %d injected runs, %d failed per site, %d problems, %d.%d s; %s\n' \
  "$programs" "$total_allocs" "$runs" "$capped" "$problems" $((ns / 1000000000)) $((ns / 100000000 % 10)) "$leaks"
[ "$problems" -eq 0 ]
