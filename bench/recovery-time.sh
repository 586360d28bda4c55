#!/usr/bin/env bash
# Recovery time from the paired-region archive (RTO), in one run: a
# three-node cluster and a geo-replica archiving to file://; N appends from
# 64 clients; every node killed at once (region loss); then, timed:
#   recover     cairn-node recover (verify from genesis while applying)
#   first write from the recovered node's start to its first append
#   first read  ... to the first receipt verified against the service
#               certificate (cairnctl receipt get + verify)
#
#   bench/recovery-time.sh [--entries 100000] [--snapshot-entries N]
#
# --snapshot-entries is the geo-replica's --archive-snapshot-entries
# (default: entries / 2, so the archive holds one by the end; 0: none);
# with one, the region is lost only once latest.json names it.
#
# Binaries come from $CAIRN_BIN_DIR (default build/release); data goes to a
# temporary directory, removed on exit with every process started.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib/clusters.sh
source bench/lib/clusters.sh
BENCH_BIN=${CAIRN_BIN_DIR:-build/release}
entries=100000
snapshot_entries=
while [ $# -gt 0 ]; do
  case "$1" in
    --entries) entries=$2; shift ;;
    --snapshot-entries) snapshot_entries=$2; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "recovery-time: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
bench_require_bins recovery-time
bench_work_dir recovery-time
dir="$work/cairn"
ctl="$BENCH_BIN/client/cairnctl"
snapshot_entries=${snapshot_entries:-$((entries / 2))}
cairn_start "$dir"
cairn_add_geo_replica "$dir" "file://$work/archive" --archive-snapshot-entries "$snapshot_entries"
"$BENCH_BIN/bench/cairn-bench" --target cairn --endpoint "$CAIRN_ENDPOINTS" \
  "${CAIRN_BENCH_TLS[@]}" --clients 64 --requests "$entries" --warmup-s 0 --value-bytes 256 |
  grep '^result:' || true
last=$("$ctl" append bench "the last one" --wait geo-durable --endpoint "$CAIRN_ENDPOINTS" \
  "${CAIRN_BENCH_TLS[@]}" | cut -d' ' -f1)
echo "last acknowledged GEO_DURABLE append: $last"
# until_deadline SECONDS WHAT COMMAND...: runs COMMAND until it succeeds,
# every 20 ms, for at most SECONDS; then gives up naming WHAT.
until_deadline() {
  local limit=$1 what=$2 start
  shift 2
  start=$(date +%s)
  until "$@"; do
    if [ $(($(date +%s) - start)) -ge "$limit" ]; then
      bench_log "gave up after ${limit} s waiting for $what"
      exit 1
    fi
    sleep 0.02
  done
}
if [ "$snapshot_entries" -gt 0 ]; then
  snapshot_named() {
    curl -sf "http://$CAIRN_GEO_HTTP/metrics" | grep -q '^cairn_archive_snapshot_index [1-9]'
  }
  until_deadline 1800 "the archive to name a state snapshot" snapshot_named
  echo "archived snapshot at index $(curl -sf "http://$CAIRN_GEO_HTTP/metrics" |
    awk '/^cairn_archive_snapshot_index /{print $2}')"
fi
# Region loss: every node killed at once.
for pid in "${BENCH_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
for pid in "${BENCH_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
BENCH_PIDS=()

now() { date +%s.%N; }
"$ctl" certs create-node --service-dir "$dir/certs" --node-id 9 --out-dir "$dir/certs" >/dev/null
peer="127.0.0.1:$(bench_free_port)"
client="127.0.0.1:$(bench_free_port)"
t0=$(now)
"$BENCH_BIN/node/cairn-node" recover --archive-url "file://$work/archive" \
  --data-dir "$work/recovered" --node-id 9 --peer-address "$peer" --client-address "$client" \
  --region paired --service-cert-file "$dir/certs/service.pem" \
  --tls-cert-file "$dir/certs/node-9.pem" 2>/dev/null
t1=$(now)
"$BENCH_BIN/node/cairn-node" --node-id 9 --data-dir "$work/recovered" \
  --client-address "$client" --peer-address "$peer" --http-address "127.0.0.1:$(bench_free_port)" \
  --tls-cert-file "$dir/certs/node-9.pem" --tls-key-file "$dir/certs/node-9.key" \
  --service-cert-file "$dir/certs/service.pem" --initial-cluster "9@$peer/$client" \
  --region paired --log-format text --log-level warn >"$work/recovered.log" 2>&1 &
BENCH_PIDS+=($!)
tls=(--endpoint "$client" "${CAIRN_BENCH_TLS[@]}")
first_write() { txid=$("$ctl" append bench "after recovery" --timeout-ms 500 "${tls[@]}" 2>/dev/null); }
until_deadline 600 "the first write after recovery" first_write
t2=$(now)
first_verified_read() {
  "$ctl" receipt get "$last" --wait --output "$work/receipt.json" "${tls[@]}" >/dev/null 2>&1 &&
    "$ctl" receipt verify --receipt "$work/receipt.json" \
      --service-cert "$dir/certs/service.pem" >/dev/null 2>&1
}
until_deadline 600 "the first verified receipt after recovery" first_verified_read
t3=$(now)
"$ctl" get "$last" "${tls[@]}" >/dev/null
awk -v n="$entries" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN {
  printf "entries %d: recover %.1f s; first write %.2f s and first verified receipt %.2f s after start; total to first write %.1f s\n",
    n, b - a, c - b, d - b, c - a }'
echo "first append after recovery: ${txid%% *}"
