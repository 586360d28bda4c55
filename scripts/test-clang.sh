#!/usr/bin/env bash
# The clang-15 stages of the test suite, each time-boxed:
#
#   clang  build everything with -Wthread-safety -Werror: every lock
#          annotation (ABSL_GUARDED_BY & co.) is checked
#   fuzz   libFuzzer + ASan + UBSan: each fuzz target for CAIRN_FUZZ_SECONDS
#          (default 20) from its checked-in corpus
#   tsan   ThreadSanitizer (against the instrumented Abseil of
#          scripts/build-tsan-deps.sh): the unit label and the integration
#          tests in TSAN_INTEGRATION; with --all the unit, sim and
#          integration labels
#
# scripts/test.sh (and so CI) runs tsan and fuzz after the release tests (the
# tsan build checks the lock annotations too: it inherits the clang preset's
# -Wthread-safety -Werror and builds every target); with no stage named this
# script runs clang and fuzz.
# Under TSan, Debian's uninstrumented libraries are trusted for what they do
# between their own threads (ignore_noninstrumented_modules in the tsan test
# preset, and the few suppressions in tests/tsan.supp, each with why).
#
#   ./scripts/test-clang.sh                 clang, fuzz
#   ./scripts/test-clang.sh clang tsan fuzz all three, in that order
#   ./scripts/test-clang.sh tsan --all      one stage; --all: every unit, sim and integration test under TSan
#                                           (but the install and compose-drill tests, which say nothing there)
#
# Prints each stage's time, then "N passed, N failed" over the tests run.
# Environment: CAIRN_JOBS (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=${CAIRN_JOBS:-$(nproc)}
stages=()
all=${CAIRN_TEST_CLANG_ALL:-0}
for a in "$@"; do
  [ "$a" = "--stage" ] && break
  case "$a" in
    clang|tsan|fuzz) stages+=("$a") ;;
    --all) all=1 ;;
    *) echo "usage: $0 [clang] [tsan] [fuzz] [--all]" >&2; exit 2 ;;
  esac
done
[ ${#stages[@]} -gt 0 ] || stages=(clang fuzz)

# Integration tests that run under TSan in CI: a single node and a cluster
# through its elections, appends and failures (about 2 min at -j 2). The rest
# (the SDK against a cluster, the robustness label) take several times longer
# under TSan and run with --all. The sim label is left out of CI's tsan stage:
# the simulator is one thread (it drives the Raft loop, apply stage and
# waiters inline), so TSan can find nothing in it, and the label costs about
# 17 min of CPU under TSan (unit: about 6); the release stage runs it.
TSAN_INTEGRATION='^(single_node_test|cluster_test|outcomes_test|security_test)$'

# A stage longer than its box fails: it is hung, or CI's budget is gone.
declare -A box_s=([clang]=1500 [tsan]=1800 [fuzz]=900)
passed=0
failed=0
times=()

# Runs ctest, echoing its output, and adds its counts to the totals.
run_ctest() {
  local log
  log=$(mktemp)
  set +e
  ctest "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -1 || true)
  rm -f "$log"
  if [ -n "$line" ]; then
    local total fail
    fail=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
    total=$(echo "$line" | sed -E 's/.* tests failed out of ([0-9]+).*/\1/')
    passed=$((passed + total - fail))
    failed=$((failed + fail))
  fi
  return "$rc"
}

stage_clang() {
  cmake --preset clang >/dev/null
  cmake --build --preset clang -j "$jobs"
}

stage_tsan() {
  ./scripts/build-tsan-deps.sh
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan -j "$jobs"
  local timeout=(--timeout 1800)
  if [ $all -eq 1 ]; then
    # Not client_install_test (it links the installed, instrumented SDK into
    # an application built without TSan, which cannot link) nor
    # compose_drill_test (it builds its own image with the release toolchain):
    # neither says anything under TSan.
    run_ctest --preset tsan -j "$jobs" "${timeout[@]}" -L 'unit|sim|integration' \
      -E '^(client_install_test|compose_drill_test)$'
  else
    run_ctest --preset tsan -j "$jobs" "${timeout[@]}" -L unit &&
      run_ctest --preset tsan -j "$jobs" "${timeout[@]}" -L integration -R "$TSAN_INTEGRATION"
  fi
}

stage_fuzz() {
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$jobs"
  # One target at a time: each already uses a core, and runs for a fixed time.
  run_ctest --preset fuzz -j 1
}

# Inner call: one stage, its counts appended to the file in $2.
if [ "${1:-}" = "--stage" ]; then
  counts=$3
  set +e
  "stage_$2"
  src=$?
  echo "$passed $failed" >>"$counts"
  exit $src
fi

counts=$(mktemp)
trap 'rm -f "$counts"' EXIT
rc=0
for s in "${stages[@]}"; do
  echo "== test-clang: stage $s (at most ${box_s[$s]} s)"
  start=$(date +%s)
  set +e
  # timeout(1) stops the stage's whole process group when the box is over.
  CAIRN_TEST_CLANG_ALL=$all timeout -k 30 "${box_s[$s]}" "$0" --stage "$s" "$counts"
  src=$?
  set -e
  took=$(( $(date +%s) - start ))
  [ $src -ne 124 ] || echo "test-clang: stage $s exceeded its ${box_s[$s]} s" >&2
  times+=("$s ${took}s (exit $src)")
  echo "== test-clang: stage $s took ${took} s, exit $src"
  [ $src -eq 0 ] || rc=1
done

read -r passed failed < <(awk '{p += $1; f += $2} END {print p + 0, f + 0}' "$counts")
echo "test-clang: stage times: ${times[*]}"
echo "$passed passed, $failed failed"
exit $rc
