#!/usr/bin/env bash
# A/B two cairn-node binaries on this machine: a three-node cluster of each
# runs side by side on loopback, and the same cairn-bench append workload
# alternates between them (A B, B A, ...) so drift in machine load hits both.
# Prints, for each concurrency, throughput, p50, p99 and the servers' CPU
# time per append for A and B, and the B/A throughput ratio. Use it to show
# the before and after of a change to node/.
#
#   bench/ab-node.sh A_BINARY B_BINARY [--clients "1 64"] [--duration-s 5]
#                    [--warmup-s 1] [--rounds 2] [--workload append|get|receipt|mix]
#                    [--batch N] [--prefill N] [--pool N] [--drop-caches]
#                    [--a-flags "FLAGS"] [--b-flags "FLAGS"] [--bench-flags "FLAGS"]
#                    [-- extra cairn-node flags]
#
# --batch N: appends as AppendBatch calls of N entries; the table then counts
# entries (req/s is entries/s, cpu us is per entry; p50 and p99 per call).
# --prefill N: first append N entries to each cluster (256 outstanding), so
# reads and receipts run against a ledger of that size; --pool N: txids the
# get and receipt workloads sample over it (cairn-bench --pool). --drop-caches
# (root): empty the kernel's page cache before every run, so reads that miss
# RocksDB's block cache go to the disk, as they do once a ledger outgrows RAM.
# --a-flags / --b-flags: cairn-node flags for one side only, to compare two
# settings of one binary (e.g. A=B=build/release/node/cairn-node --b-flags
# "--ledger-type private": a private ledger against a public one).
# --bench-flags: more cairn-bench flags for both sides (e.g. "--fresh-values":
# values that do not compress on the server's disk).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib/clusters.sh
source bench/lib/clusters.sh
BENCH_BIN=${CAIRN_BIN_DIR:-build/release}

[ $# -ge 2 ] || { sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
bin_a=$(realpath "$1")
bin_b=$(realpath "$2")
shift 2
clients_list="1 64"
duration=5
warmup=1
rounds=2
workload=append
batch=1
prefill=0
pool=1000
drop_caches=0
declare -A side_flags=([a]="" [b]="")
bench_flags=""
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) clients_list=$2; shift ;;
    --duration-s) duration=$2; shift ;;
    --warmup-s) warmup=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --workload) workload=$2; shift ;;
    --batch) batch=$2; shift ;;
    --prefill) prefill=$2; shift ;;
    --pool) pool=$2; shift ;;
    --drop-caches) drop_caches=1 ;;
    --a-flags) side_flags[a]=$2; shift ;;
    --b-flags) side_flags[b]=$2; shift ;;
    --bench-flags) bench_flags=$2; shift ;;
    --) shift; break ;;
    *) echo "ab-node: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

bench_work_dir ab
bench_log "load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A endpoints pids tls
for side in a b; do
  bin=$bin_a
  [ "$side" = b ] && bin=$bin_b
  # shellcheck disable=SC2086
  CAIRN_NODE_BIN=$bin cairn_start "$work/$side" "$@" ${side_flags[$side]}
  endpoints[$side]=$CAIRN_ENDPOINTS
  pids[$side]="${CAIRN_PIDS[*]}"
  tls[$side]="${CAIRN_BENCH_TLS[*]}"
done

if ((prefill > 0)); then
  for side in a b; do
    bench_log "prefilling $side with $prefill entries"
    # shellcheck disable=SC2086
    "$BENCH_BIN/bench/cairn-bench" --endpoint "${endpoints[$side]}" ${tls[$side]} --clients 256 \
      --workload append --requests "$prefill" >"$work/prefill-$side.txt" 2>&1 ||
      { tail -5 "$work/prefill-$side.txt" >&2; exit 1; }
  done
fi
run() {  # run SIDE CLIENTS ROUND
  local side=$1 c=$2 r=$3 out="$work/$1-c$2-r$3.txt" before after
  if ((drop_caches)); then sync && echo 1 >/proc/sys/vm/drop_caches; fi
  before=$(cpu_ticks ${pids[$side]})
  # shellcheck disable=SC2086
  "$BENCH_BIN/bench/cairn-bench" --endpoint "${endpoints[$side]}" ${tls[$side]} --clients "$c" \
    --workload "$workload" --batch "$batch" --pool "$pool" --duration-s "$duration" \
    --warmup-s "$warmup" $bench_flags >"$out" 2>&1 || true
  after=$(cpu_ticks ${pids[$side]})
  awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v n="$(bench_field "$out" completed)" \
    -v b="$batch" -v e="$(bench_field "$out" entries_per_s)" \
    'BEGIN {if (n > 0) printf "server: server_cpu_us_per_req=%.1f\n", t / hz * 1e6 / (n * b)
            if (b > 1) printf "server: throughput_per_s=%s\n", e}' >>"$out"
  bench_log "$side c=$c r=$r: $(grep '^result:' "$out" | cut -d' ' -f2-6) cpu_us=$(bench_field "$out" server_cpu_us_per_req)"
}
for ((r = 1; r <= rounds; r++)); do
  i=0
  for c in $clients_list; do
    if (((r + i) % 2 == 1)); then run a "$c" "$r"; run b "$c" "$r"; else run b "$c" "$r"; run a "$c" "$r"; fi
    i=$((i + 1))
  done
done
mean() {  # mean SIDE CLIENTS KEY
  local r v vals=()
  for ((r = 1; r <= rounds; r++)); do
    v=$(bench_field "$work/$1-c$2-r$r.txt" "$3")
    [ -n "$v" ] && vals+=("$v")
  done
  printf '%s\n' "${vals[@]}" | awk '{s += $1; n++} END {if (n) printf "%.3f", s / n; else print "nan"}'
}
echo "A=$bin_a"
echo "B=$bin_b"
echo "load average at end $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%8s | %9s %8s %8s %7s | %9s %8s %8s %7s | %5s\n' clients "A req/s" "p50 ms" "p99 ms" \
  "cpu us" "B req/s" "p50 ms" "p99 ms" "cpu us" "B/A"
for c in $clients_list; do
  at=$(mean a "$c" throughput_per_s); bt=$(mean b "$c" throughput_per_s)
  printf '%8s | %9.0f %8.2f %8.2f %7.0f | %9.0f %8.2f %8.2f %7.0f | %5.2f\n' "$c" "$at" \
    "$(mean a "$c" p50_ms)" "$(mean a "$c" p99_ms)" "$(mean a "$c" server_cpu_us_per_req)" \
    "$bt" "$(mean b "$c" p50_ms)" "$(mean b "$c" p99_ms)" "$(mean b "$c" server_cpu_us_per_req)" \
    "$(awk -v a="$at" -v b="$bt" 'BEGIN {print (a > 0 ? b / a : 0)}')"
done
