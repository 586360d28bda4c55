#!/usr/bin/env bash
# The geo-replica's archive lag and its cost, in one run on one machine:
#   1. appends/s at 64 clients on three nodes, without a geo-replica;
#   2. the same with a geo-replica archiving to file:// (the overhead ratio);
#   3. GEO_DURABLE append latency at 1 and 64 clients next to COMMITTED
#      latency: an append is answered GEO_DURABLE once a cosigned archive
#      covers it, so the difference is the archive lag (RPO in seconds) a
#      client sees, p50 and p99.
#
#   bench/geo-lag.sh [--duration-s 10] [--max-lag-ms 500]
#
# Binaries come from $CAIRN_BIN_DIR (default build/release); data goes to a
# temporary directory, removed on exit with every process started.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib/clusters.sh
source bench/lib/clusters.sh
BENCH_BIN=${CAIRN_BIN_DIR:-build/release}
duration=10
max_lag_ms=500
while [ $# -gt 0 ]; do
  case "$1" in
    --duration-s) duration=$2; shift ;;
    --max-lag-ms) max_lag_ms=$2; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "geo-lag: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
bench_require_bins geo-lag
bench_work_dir geo-lag
cairn_start "$work/cairn"
bench=("$BENCH_BIN/bench/cairn-bench" --target cairn --endpoint "$CAIRN_ENDPOINTS"
  "${CAIRN_BENCH_TLS[@]}" --duration-s "$duration" --warmup-s 1 --value-bytes 256)
row() {  # LABEL CLIENTS WAIT
  local line
  line=$("${bench[@]}" --clients "$2" --append-wait "$3" 2>&1 | grep '^result:' || true)
  field() { echo "$line" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
  printf '%-34s %8s %10.0f %9.2f %9.2f %9.2f\n' "$1" "$2" "$(field throughput_per_s)" \
    "$(field p50_ms)" "$(field p99_ms)" "$(field max_ms)"
  last_throughput=$(field throughput_per_s)
}
echo "Cairn, 3 nodes + geo-replica (file://, --archive-max-lag-ms $max_lag_ms) on loopback," \
  "$(nproc) cores, 256-byte appends, $duration s per row; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %8s %10s %9s %9s %9s\n' row clients "req/s" "p50 ms" "p99 ms" "max ms"
row "committed, no geo-replica" 64 committed
without=$last_throughput
cairn_add_geo_replica "$work/cairn" "file://$work/archive" --archive-max-lag-ms "$max_lag_ms"
row "committed, with geo-replica" 64 committed
with=$last_throughput
row "committed, with geo-replica" 1 committed
row "geo-durable" 1 geo-durable
row "geo-durable" 64 geo-durable
awk -v a="$with" -v b="$without" 'BEGIN { if (b > 0) printf "throughput with a geo-replica / without: %.2f\n", a / b }'
"$BENCH_BIN/client/cairnctl" dr verify --quiet --archive-url "file://$work/archive" \
  --service-cert "$work/cairn/certs/service.pem"
