#!/usr/bin/env bash
# How Cairn behaves as its ledger grows: one three-node cluster (defaults:
# mutual TLS, signatures, fsync) is filled through the API to each size in
# turn, and at each size this measures
#   - append throughput and p99 (cairn-bench, 64 outstanding, 256-byte values)
#   - receipts per second served by one node (the leader; 64 outstanding,
#     50,000 txids sampled uniformly over the whole ledger, more than the
#     block cache holds)
#   - bytes on disk per entry (du of each node's data directory / entries)
#   - resident memory of each node (VmRSS)
# and prints a Markdown table (with --update-doc also written into
# docs/performance.md between the scaling markers).
#
#   bench/scaling.sh [--sizes "0 1000000 10000000"] [--duration-s 10] [--warmup-s 2]
#                    [--fill-clients 256] [--update-doc] [--smoke] [--out-dir DIR]
#
# Filling 10M entries takes as long as 10M appends take on this machine (the
# fill rate is printed as it goes); --sizes picks the stops. --smoke: sizes
# "0 3000" with 1 s runs, for the bench-smoke test. Binaries come from
# $CAIRN_BIN_DIR (default build/release), data goes to a temporary directory
# under $CAIRN_BENCH_DIR (default $TMPDIR or /tmp), removed on exit with every
# process started.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib/clusters.sh
source bench/lib/clusters.sh
BENCH_BIN=${CAIRN_BIN_DIR:-build/release}

sizes="0 1000000 10000000"
duration=10
warmup=2
fill_clients=256
update_doc=0
out_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift ;;
    --duration-s) duration=$2; shift ;;
    --warmup-s) warmup=$2; shift ;;
    --fill-clients) fill_clients=$2; shift ;;
    --update-doc) update_doc=1 ;;
    --smoke) sizes="0 3000"; duration=1; warmup=0.2 ;;
    --out-dir) out_dir=$2; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "scaling: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
bench_require_bins scaling

bench_work_dir scaling
[ -n "$out_dir" ] && mkdir -p "$out_dir"
results=${out_dir:-$work/results}
mkdir -p "$results"

bench_log "work directory $work; load average $(cut -d' ' -f1-3 /proc/loadavg)"
cairn_start "$work/cairn"
bench=("$BENCH_BIN/bench/cairn-bench" --endpoint "$CAIRN_ENDPOINTS" "${CAIRN_BENCH_TLS[@]}")

applied() { cairn_metric "${CAIRN_HTTP[0]}" cairn_raft_applied_index | awk '{printf "%d", $1}'; }

# measure NAME ARGS...: one cairn-bench run; prints its result line's fields.
measure() {
  local name=$1
  shift
  if ! "${bench[@]}" "$@" --json-out "$results/$name.json" >"$results/$name.txt" 2>&1; then
    bench_log "$name had errors:"
    grep -E "first error|cairn-bench:" "$results/$name.txt" >&2 || true
  fi
  bench_log "$name: $(grep '^result:' "$results/$name.txt" | cut -d' ' -f2- || echo 'no result')"
}

rows=()
for size in $sizes; do
  current=$(applied)
  fill_s="-"
  if [ "$size" -gt "$current" ]; then
    bench_log "filling from $current to $size entries with $fill_clients outstanding appends"
    started=$(date +%s.%N)
    measure "fill-$size" --workload append --clients "$fill_clients" \
      --requests $((size - current)) --timeout-ms 60000 --progress-s 30
    fill_s=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')
    bench_log "filled to $size in $fill_s s"
  fi
  entries=$(applied)
  load=$(cut -d' ' -f1 /proc/loadavg)
  measure "append-$size" --workload append --clients 64 --duration-s "$duration" \
    --warmup-s "$warmup"
  measure "receipt-$size" --workload receipt --clients 64 --duration-s "$duration" \
    --warmup-s "$warmup" --pool 50000
  at=$(applied)
  disk=0
  for d in "${CAIRN_DATA_DIRS[@]}"; do disk=$((disk + $(du -sb "$d" | cut -f1))); done
  per_entry=$(awk -v d="$disk" -v n="$at" 'BEGIN {printf "%.0f", d / 3 / n}')
  rss="$(rss_mib "${CAIRN_PIDS[0]}") / $(rss_mib "${CAIRN_PIDS[1]}") / $(rss_mib "${CAIRN_PIDS[2]}")"
  rows+=("$(printf '| %s | %.0f | %.1f | %.0f | %.1f | %s | %s | %s | %s |' "$entries" \
    "$(bench_field "$results/append-$size.txt" throughput_per_s)" \
    "$(bench_field "$results/append-$size.txt" p99_ms)" \
    "$(bench_field "$results/receipt-$size.txt" throughput_per_s)" \
    "$(bench_field "$results/receipt-$size.txt" p99_ms)" \
    "$per_entry" "$rss" "$fill_s" "$load")")
done

table=$(
  echo "| entries at start | append/s (64 out.) | append p99 ms | receipts/s (1 node, 64 out.) | receipt p99 ms | disk bytes/entry/node | RSS MiB node 1/2/3 | fill s | load 1m |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
)
echo
echo "Cairn scaling, $(date -u +%Y-%m-%d), $(nproc) cores, 3 nodes on loopback, 256-byte values"
echo "$table" | tee "$results/table.md"

if [ "$update_doc" = 1 ]; then
  doc=docs/performance.md
  block="$work/block.md"
  {
    echo "<!-- scaling:begin (bench/scaling.sh --update-doc; $(date -u +%Y-%m-%d), sizes: $sizes) -->"
    echo "$table"
    echo "<!-- scaling:end -->"
  } >"$block"
  awk -v blockfile="$block" '
    /<!-- scaling:begin/ { while ((getline line < blockfile) > 0) print line; skip = 1; next }
    /<!-- scaling:end -->/ { skip = 0; next }
    !skip { print }' "$doc" >"$work/doc.md"
  cp "$work/doc.md" "$doc"
  bench_log "updated $doc"
fi
