#!/usr/bin/env bash
# Regenerates the measured parts of docs/performance.md in one command: the
# physical limits (bench/limits), Cairn next to etcd (bench/compare-etcd.sh,
# with etcd's defaults and with etcd on mutual TLS, and batch append against
# etcd transactions),
# append and receipt latency (bench/cluster-latency.sh), the
# micro-benchmarks (storage_bench, ledger_bench) and the scaling table
# (bench/scaling.sh). Each result replaces the block between its markers
#   <!-- NAME:begin ... -->  ...  <!-- NAME:end -->
# so the prose around the figures stays as written.
#
#   bench/perf-doc.sh [--quick]
#                     [--only "limits compare compare-tls compare-batch latency micro scaling"]
#                     [--sizes "0 1000000 10000000"]
#
# --quick: compare-etcd --quick, scaling --sizes "0 100000", short micro
# runs; minutes instead of hours, for checking the pipeline. Binaries come
# from $CAIRN_BIN_DIR (default build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_BIN=${CAIRN_BIN_DIR:-build/release}
doc=docs/performance.md
only="limits compare compare-tls compare-batch latency micro scaling"
quick=0
sizes="0 1000000 10000000"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; sizes="0 100000" ;;
    --only) only=$2; shift ;;
    --sizes) sizes=$2; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "perf-doc: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -f "$doc" ] || { echo "perf-doc: $doc not found" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-perf-doc.XXXXXX")
trap 'rm -rf "$work"' EXIT

# replace NAME FILE: puts FILE (as a code block, with the command and date)
# between NAME's markers in the doc.
replace() {
  local name=$1 file=$2 cmd=$3 block="$work/$1.block"
  {
    echo "<!-- $name:begin (bench/perf-doc.sh; $(date -u +%Y-%m-%d), $(nproc) cores) -->"
    echo '```'
    echo "\$ $cmd"
    cat "$file"
    echo '```'
    echo "<!-- $name:end -->"
  } >"$block"
  grep -q "<!-- $name:begin" "$doc" || { echo "perf-doc: no $name markers in $doc" >&2; exit 2; }
  awk -v blockfile="$block" -v begin="<!-- $name:begin" -v end="<!-- $name:end -->" '
    index($0, begin) == 1 { while ((getline line < blockfile) > 0) print line; skip = 1; next }
    index($0, end) == 1 { skip = 0; next }
    !skip { print }' "$doc" >"$work/doc.md"
  cp "$work/doc.md" "$doc"
  echo "perf-doc: updated the $name block" >&2
}

data_dir=${CAIRN_BENCH_DIR:-${TMPDIR:-/tmp}}
for part in $only; do
  case "$part" in
    limits)
      secs=3; [ "$quick" = 1 ] && secs=1
      cmd="$BENCH_BIN/bench/limits --dir=$data_dir --seconds=$secs"
      $cmd >"$work/limits.txt"
      replace limits "$work/limits.txt" "bench/limits --dir=\$DATA_DISK --seconds=$secs"
      ;;
    compare)
      args=(); [ "$quick" = 1 ] && args=(--quick)
      bench/compare-etcd.sh "${args[@]}" >"$work/compare.txt"
      sed -n '/^Cairn (3 nodes/,$p' "$work/compare.txt" >"$work/compare-table.txt"
      replace compare "$work/compare-table.txt" "bench/compare-etcd.sh ${args[*]}"
      ;;
    compare-tls)
      # The same, with etcd on mutual TLS like Cairn (like for like).
      args=(--etcd-tls); [ "$quick" = 1 ] && args+=(--quick)
      bench/compare-etcd.sh "${args[@]}" >"$work/compare-tls.txt"
      sed -n '/^Cairn (3 nodes/,$p' "$work/compare-tls.txt" >"$work/compare-tls-table.txt"
      replace compare-tls "$work/compare-tls-table.txt" "bench/compare-etcd.sh ${args[*]}"
      ;;
    compare-batch)
      # Batches of 100: Cairn AppendBatch against an etcd Txn of 100 puts.
      args=(--batch 100 --clients "16 64"); [ "$quick" = 1 ] && args+=(--quick)
      bench/compare-etcd.sh "${args[@]}" >"$work/compare-batch.txt"
      sed -n '/^Cairn (3 nodes/,$p' "$work/compare-batch.txt" >"$work/compare-batch-table.txt"
      replace compare-batch "$work/compare-batch-table.txt" "bench/compare-etcd.sh ${args[*]}"
      ;;
    latency)
      # One cluster; appends at 1 and 64 clients, and append-then-receipt
      # (the time until a new append's receipt is available).
      secs=10; [ "$quick" = 1 ] && secs=2
      bench/cluster-latency.sh --duration-s "$secs" >"$work/latency.txt"
      replace latency "$work/latency.txt" "bench/cluster-latency.sh --duration-s $secs"
      ;;
    micro)
      min=1; [ "$quick" = 1 ] && min=0.2
      {
        "$BENCH_BIN/bench/storage_bench" --bench_dir="$data_dir" --benchmark_min_time="$min" --benchmark_color=false 2>&1
        "$BENCH_BIN/bench/ledger_bench" --benchmark_min_time="$min" --benchmark_color=false 2>&1
      } | grep -v '^\*\*\*' >"$work/micro.txt"
      replace micro "$work/micro.txt" "storage_bench --bench_dir=\$DATA_DISK; ledger_bench"
      ;;
    scaling)
      # scaling.sh writes its own Markdown table between the scaling markers.
      bench/scaling.sh --sizes "$sizes" --update-doc
      ;;
    *) echo "perf-doc: unknown part $part" >&2; exit 2 ;;
  esac
done
