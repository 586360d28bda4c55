#!/usr/bin/env bash
# Long fuzzing: builds the fuzz preset (clang-15, libFuzzer + ASan + UBSan)
# and runs every fuzz target for SECONDS_PER_TARGET (default 3600), one after
# the other, each from its checked-in corpus. Inputs libFuzzer finds go to a
# working corpus under build/fuzz-soak/<target>/ (kept between soaks, never
# the checked-in one; copy interesting ones to tests/fuzz/corpus/ by hand).
# Ends with a table of executions per target (libFuzzer's final stats) and
# exits non-zero if any target found a crash, leak, hang or sanitizer report;
# the input is in build/fuzz/tests/fuzz/artifacts/<target>/.
#
#   ./scripts/fuzz-soak.sh [SECONDS_PER_TARGET]
#   CAIRN_FUZZ_RUNS=10000000 ./scripts/fuzz-soak.sh   # stop each at 10^7 executions
#   CAIRN_FUZZ_TARGETS="fuzz_segment_resum fuzz_validation" ./scripts/fuzz-soak.sh 600
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-3600}

./scripts/install-deps.sh >/dev/null
cmake --preset fuzz >/dev/null
nice -n 15 cmake --build --preset fuzz -j "${CAIRN_JOBS:-1}"

bin=$root/build/fuzz/tests/fuzz
# The targets, from the tests CTest knows (the names are the binaries).
targets=${CAIRN_FUZZ_TARGETS:-$(ctest --preset fuzz -N | sed -n 's/^ *Test *#[0-9]*: //p')}
work=$root/build/fuzz-soak
mkdir -p "$work"
declare -A execs result
failed=0
for t in $targets; do
  # The corpus directory CTest gives the target (fuzz_segment_resum shares fuzz_segment's).
  corpus=$(ctest --preset fuzz -R "^$t\$" --show-only=json-v1 |
           python3 -c 'import json,sys; print(json.load(sys.stdin)["tests"][0]["command"][2])')
  mkdir -p "$work/$t" "$bin/artifacts/$t"
  env_vars=()
  [ -f "$corpus/service.pem" ] && env_vars=(CAIRN_FUZZ_SERVICE_CERT="$corpus/service.pem")
  echo "fuzz-soak: $t for ${CAIRN_FUZZ_RUNS:-${seconds}s} (corpus $corpus, new inputs in $work/$t)"
  log=$work/$t.log
  set +e
  limit=(-max_total_time="$seconds")
  [ -n "${CAIRN_FUZZ_RUNS:-}" ] && limit=(-runs="$CAIRN_FUZZ_RUNS")
  env "${env_vars[@]}" "$bin/$t" "${limit[@]}" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$bin/artifacts/$t/" "$work/$t" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  execs[$t]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ $rc -eq 0 ]; then result[$t]=clean; else result[$t]="FAILED (exit $rc, see $log)"; failed=1; fi
  tail -n 3 "$log"
done

echo
printf '%-24s %16s  %s\n' target execs result
for t in $targets; do
  printf '%-24s %16s  %s\n' "$t" "${execs[$t]:-?}" "${result[$t]}"
done
exit $failed
