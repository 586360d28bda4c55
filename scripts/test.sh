#!/usr/bin/env bash
# Installs what is needed, builds Cairn (release preset: optimized, invariants
# on) and runs the whole test suite; then, for the whole suite, the clang-15
# stages (scripts/test-clang.sh, each time-boxed: ThreadSanitizer on the unit
# label and four integration tests, its build of every target also checking
# every lock annotation as the clang preset does; libFuzzer on each fuzz
# target for 20 s). Exits non-zero on any
# failure; the last line counts the tests of every stage ("N passed, N failed").
#
#   ./scripts/test.sh                 everything
#   ./scripts/test.sh -L unit         only one label of the release build
#                                     (any ctest arguments pass through; no clang stages)
#   CAIRN_CLANG_STAGES=0 ./scripts/test.sh    the release build's tests only
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
preset=${CAIRN_PRESET:-release}
jobs=${CAIRN_JOBS:-$(nproc)}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
if [ $# -gt 0 ] || [ "$preset" != release ] || [ "${CAIRN_CLANG_STAGES:-1}" = 0 ]; then
  exec ctest --preset "$preset" -j "$jobs" --timeout 1800 "$@"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
set +e
ctest --preset "$preset" -j "$jobs" --timeout 1800 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
echo "test: release tests took $(( $(date +%s) - start )) s"
[ "$rc" -eq 0 ] || exit "$rc"
summary=$(grep -E '^[0-9]+% tests passed' "$log" | tail -1)

set +e
# No separate clang stage: the tsan preset inherits -Wthread-safety -Werror
# from it and builds every target the clang build would.
CAIRN_JOBS=$jobs ./scripts/test-clang.sh tsan fuzz | tee "$log"
rc=${PIPESTATUS[0]}
set -e
read -r clang_passed clang_failed < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$log" | tail -1) || true
release_failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
release_total=$(echo "$summary" | sed -E 's/.* tests failed out of ([0-9]+).*/\1/')
echo "release: $summary"
echo "total: $((release_total - release_failed + ${clang_passed:-0})) passed, $((release_failed + ${clang_failed:-0})) failed"
exit "$rc"
