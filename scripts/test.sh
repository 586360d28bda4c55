#!/usr/bin/env bash
# Installs what is needed, builds Cairn (release preset: optimized, invariants
# on) and runs the whole test suite. Exits non-zero on any failure; CTest's
# summary line ("100% tests passed, 0 tests failed out of N") is printed last.
#
#   ./scripts/test.sh                 everything
#   ./scripts/test.sh -L unit         only one label (any ctest arguments pass through)
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
preset=${CAIRN_PRESET:-release}
jobs=${CAIRN_JOBS:-$(nproc)}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$jobs"
ctest --preset "$preset" -j "$jobs" --timeout 1800 "$@"
