#!/usr/bin/env bash
# Append throughput and latency of a three-node Cairn cluster (mutual TLS,
# signatures and fsync on: its defaults) at 1 and 64 outstanding appends,
# and the latency until a new append's receipt is available (append, then
# GetReceipt with wait, cairn-bench --workload append-receipt), at 1 and 64.
#
#   bench/cluster-latency.sh [--duration-s 10] [--clients "1 64"]
#
# Binaries come from $CAIRN_BIN_DIR (default build/release); data goes to a
# temporary directory under $CAIRN_BENCH_DIR (default $TMPDIR or /tmp),
# removed on exit with every process started.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib/clusters.sh
source bench/lib/clusters.sh
BENCH_BIN=${CAIRN_BIN_DIR:-build/release}
duration=10
clients_list="1 64"
while [ $# -gt 0 ]; do
  case "$1" in
    --duration-s) duration=$2; shift ;;
    --clients) clients_list=$2; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster-latency: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
bench_require_bins cluster-latency
bench_work_dir latency
cairn_start "$work/cairn"
bench=("$BENCH_BIN/bench/cairn-bench" --target cairn --endpoint "$CAIRN_ENDPOINTS"
  "${CAIRN_BENCH_TLS[@]}" --duration-s "$duration" --warmup-s 1 --value-bytes 256)
echo "Cairn, 3 nodes on loopback, $(nproc) cores, 256-byte appends, $duration s per row; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-15s %8s %10s %9s %9s %9s\n' workload clients "req/s" "p50 ms" "p99 ms" "max ms"
for workload in append append-receipt; do
  for c in $clients_list; do
    line=$("${bench[@]}" --workload "$workload" --clients "$c" 2>&1 | grep '^result:' || true)
    field() { echo "$line" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
    printf '%-15s %8s %10.0f %9.2f %9.2f %9.2f\n' "$workload" "$c" "$(field throughput_per_s)" \
      "$(field p50_ms)" "$(field p99_ms)" "$(field max_ms)"
  done
done
