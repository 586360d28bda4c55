#!/usr/bin/env bash
# Cairn next to etcd, on this machine, on loopback, with the same load
# generator (cairn-bench): a three-node Cairn cluster (mutual TLS, signatures
# and fsync on: its defaults) and a three-member etcd cluster (Debian's
# etcd-server with its default durable settings: fsync on every commit) run
# side by side; for each concurrency the same closed-loop append workload
# (256-byte values; Cairn Append, etcd KV.Put) runs against each, alternating
# which goes first from round to round so drift in machine load hits both.
# Both clusters stay up for the whole comparison; the one not measured idles.
#
# Prints a table (throughput, p50, p99 and the servers' CPU time per request
# for each system at 1, 16, 64 and 256 outstanding requests; figures are the
# mean over rounds) and, as its last line, append_throughput_ratio_vs_etcd=X.XX
# for the 64-client row. CAIRN_NODE_BIN runs another cairn-node binary (A/B).
#
# With --batch N (N > 1), every request carries N entries: a Cairn
# AppendBatch of N entries, an etcd Txn of N puts to distinct keys (no
# compares). The table then shows entries/s (requests/s x N) for both, their
# ratio, p50 and p99 per request and the servers' CPU time per entry; the
# last line is batch_append_entries_ratio_vs_etcd=X.XX, for the 64-client row
# or, when 64 is not among --clients, the last row. Limits that would refuse
# such a request are raised on both sides, only as far as N needs: etcd's
# --max-txn-ops (default 128) and --max-request-bytes (1.5 MiB), Cairn's
# --append-batch-entries-max (1000) and --append-batch-bytes-max (4 MiB).
#
#   bench/compare-etcd.sh [--quick] [--clients "1 16 64 256"] [--duration-s 10]
#                         [--warmup-s 2] [--rounds 2] [--value-bytes 256]
#                         [--batch 1] [--etcd-tls] [--out-dir DIR]
#
# --quick: one round of 2 s runs (finishes in under a minute). --etcd-tls:
# etcd with mutual TLS on its client and peer URLs, as Cairn's are (etcd's
# default, and the issue's comparison, is plaintext). --out-dir keeps the
# JSON of every run and the table. Binaries come
# from $CAIRN_BIN_DIR (default build/release); data directories go to a
# temporary directory under $CAIRN_BENCH_DIR (default $TMPDIR or /tmp), which
# is removed, with every process started, on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib/clusters.sh
source bench/lib/clusters.sh
BENCH_BIN=${CAIRN_BIN_DIR:-build/release}

clients_list="1 16 64 256"
duration=10
warmup=2
rounds=2
value_bytes=256
batch=1
etcd_tls=""
out_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) duration=2; warmup=0.5; rounds=1 ;;
    --clients) clients_list=$2; shift ;;
    --duration-s) duration=$2; shift ;;
    --warmup-s) warmup=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --value-bytes) value_bytes=$2; shift ;;
    --batch) batch=$2; shift ;;
    --out-dir) out_dir=$2; shift ;;
    --etcd-tls) etcd_tls=tls ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compare-etcd: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if ! [[ "$batch" =~ ^[0-9]{1,5}$ ]] || [ "$batch" -lt 1 ] || [ "$batch" -gt 10000 ]; then
  echo "compare-etcd: --batch takes a number, 1 to 10000" >&2
  exit 2
fi
bench_require_bins compare-etcd
command -v etcd >/dev/null || { echo "compare-etcd: etcd not installed (scripts/install-deps.sh)" >&2; exit 2; }

bench_work_dir compare
[ -n "$out_dir" ] && mkdir -p "$out_dir"
results=${out_dir:-$work/results}
mkdir -p "$results"

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
bench_log "work directory $work ($(df -T "$work" | awk 'NR==2 {print $2}') on $(df "$work" | awk 'NR==2 {print $1}')); load average $load_start"
# Server limits a batch of $batch would exceed, raised just enough on each
# side; with --batch 1 both run with their defaults. The request size bound
# is generous: value, key or collection, and framing per entry.
etcd_flags=() cairn_flags=()
batch_bytes=$((batch * (value_bytes + 64)))
[ "$batch" -gt 128 ] && etcd_flags+=(--max-txn-ops "$batch")
[ "$batch_bytes" -gt 1572864 ] && etcd_flags+=(--max-request-bytes "$batch_bytes")
[ "$batch" -gt 1000 ] && cairn_flags+=(--append-batch-entries-max "$batch")
[ "$batch_bytes" -gt 4194304 ] && cairn_flags+=(--append-batch-bytes-max "$batch_bytes")
bench_log "starting three etcd members${etcd_flags[*]:+ (${etcd_flags[*]})}"
etcd_start "$work" "$etcd_tls" "${etcd_flags[@]}"
bench_log "starting three Cairn nodes${cairn_flags[*]:+ (${cairn_flags[*]})}"
cairn_start "$work/cairn" "${cairn_flags[@]}"

# run SYSTEM CLIENTS ROUND: one measured run; its JSON and text go to $results.
loads=()
run() {
  local system=$1 clients=$2 round=$3 name="$1-c$2-r$3"
  local args=(--clients "$clients" --duration-s "$duration" --warmup-s "$warmup"
    --value-bytes "$value_bytes" --batch "$batch" --json-out "$results/$name.json" --label "$name")
  local pids
  if [ "$system" = cairn ]; then
    args+=(--target cairn --workload append --endpoint "$CAIRN_ENDPOINTS" "${CAIRN_BENCH_TLS[@]}")
    pids=("${CAIRN_PIDS[@]}")
  else
    args+=(--target etcd --workload put --endpoint "$ETCD_LEADER" "${ETCD_BENCH_TLS[@]}")
    pids=("${ETCD_PIDS[@]}")
  fi
  local before after
  before=$(cpu_ticks "${pids[@]}")
  "$BENCH_BIN/bench/cairn-bench" "${args[@]}" >"$results/$name.txt" 2>&1 || {
    bench_log "$name had errors:"
    grep -E "first error|cairn-bench:" "$results/$name.txt" >&2 || true
  }
  after=$(cpu_ticks "${pids[@]}")
  # CPU of the three servers per completed request (warm-up included on both sides).
  awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" \
    -v n="$(bench_field "$results/$name.txt" completed)" \
    'BEGIN {if (n > 0) printf "server: server_cpu_us_per_req=%.1f\n", t / hz * 1e6 / n}' \
    >>"$results/$name.txt"
  loads+=("$(cut -d' ' -f1 /proc/loadavg)")
  bench_log "$name: $(grep '^result:' "$results/$name.txt" | cut -d' ' -f2-9) $(tail -1 "$results/$name.txt" | cut -d' ' -f2)"
}

for ((r = 1; r <= rounds; r++)); do
  i=0
  for c in $clients_list; do
    if (((r + i) % 2 == 1)); then run cairn "$c" "$r"; run etcd "$c" "$r"
    else run etcd "$c" "$r"; run cairn "$c" "$r"; fi
    i=$((i + 1))
  done
done

# mean SYSTEM CLIENTS KEY: the mean of KEY over rounds.
mean() {
  local sum=0 n=0 v
  for ((r = 1; r <= rounds; r++)); do
    v=$(bench_field "$results/$1-c$2-r$r.txt" "$3")
    [ -n "$v" ] || continue
    sum=$(awk -v a="$sum" -v b="$v" 'BEGIN {print a + b}')
    n=$((n + 1))
  done
  awk -v s="$sum" -v n="$n" 'BEGIN {if (n == 0) print "nan"; else printf "%.3f", s / n}'
}

# ratio A B: A / B to two decimals, or nan.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "nan"}'
}

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
load_max=$(printf '%s\n' "${loads[@]}" | sort -g | tail -1)
if [ "$batch" -gt 1 ]; then
  ratio_row=$(printf '%s\n' $clients_list | grep -x 64 || printf '%s\n' $clients_list | tail -1)
  {
    echo
    echo "Cairn (3 nodes, mTLS, signatures, fsync${cairn_flags[*]:+, ${cairn_flags[*]}}) vs etcd $(etcd --version | awk '/etcd Version/ {print $3}') (3 members, defaults${etcd_tls:+, mutual TLS on client and peer URLs}${etcd_flags[*]:+, ${etcd_flags[*]}}); ${value_bytes}-byte appends in batches of $batch per request (Cairn AppendBatch, etcd Txn of $batch puts); ${rounds} round(s) of ${duration} s per cell; $(nproc) cores"
    echo "load average: start $load_start, end $load_end, highest 1-min sample between runs $load_max"
    printf '%8s | %11s %8s %8s %8s | %11s %8s %8s %8s | %6s\n' clients "cairn ent/s" "p50 ms" \
      "p99 ms" "cpu us" "etcd ent/s" "p50 ms" "p99 ms" "cpu us" ratio
    for c in $clients_list; do
      ct=$(mean cairn "$c" entries_per_s); cp50=$(mean cairn "$c" p50_ms); cp99=$(mean cairn "$c" p99_ms)
      ccpu=$(mean cairn "$c" server_cpu_us_per_req)
      et=$(mean etcd "$c" entries_per_s); ep50=$(mean etcd "$c" p50_ms); ep99=$(mean etcd "$c" p99_ms)
      ecpu=$(mean etcd "$c" server_cpu_us_per_req)
      printf '%8s | %11.0f %8.2f %8.2f %8.1f | %11.0f %8.2f %8.2f %8.1f | %6s\n' "$c" "$ct" "$cp50" \
        "$cp99" "$(ratio "$ccpu" "$batch")" "$et" "$ep50" "$ep99" "$(ratio "$ecpu" "$batch")" \
        "$(ratio "$ct" "$et")"
    done
    echo "ent/s: entries per second (requests/s x $batch); p50, p99: per request of $batch entries"
    echo "cpu us: CPU time of the three servers per entry (user + system, warm-up included)"
  } | tee "$results/table.txt"
  echo "batch_append_entries_ratio_vs_etcd=$(ratio "$(mean cairn "$ratio_row" entries_per_s)" \
    "$(mean etcd "$ratio_row" entries_per_s)")" | tee -a "$results/table.txt"
  exit 0
fi
{
  echo
  echo "Cairn (3 nodes, mTLS, signatures, fsync) vs etcd $(etcd --version | awk '/etcd Version/ {print $3}') (3 members, defaults${etcd_tls:+, mutual TLS on client and peer URLs}); ${value_bytes}-byte appends; ${rounds} round(s) of ${duration} s per cell; $(nproc) cores"
  echo "load average: start $load_start, end $load_end, highest 1-min sample between runs $load_max"
  printf '%8s | %11s %8s %8s %8s | %11s %8s %8s %8s | %6s\n' clients "cairn req/s" "p50 ms" \
    "p99 ms" "cpu us" "etcd req/s" "p50 ms" "p99 ms" "cpu us" ratio
  for c in $clients_list; do
    ct=$(mean cairn "$c" throughput_per_s); cp50=$(mean cairn "$c" p50_ms); cp99=$(mean cairn "$c" p99_ms)
    ccpu=$(mean cairn "$c" server_cpu_us_per_req)
    et=$(mean etcd "$c" throughput_per_s); ep50=$(mean etcd "$c" p50_ms); ep99=$(mean etcd "$c" p99_ms)
    ecpu=$(mean etcd "$c" server_cpu_us_per_req)
    ratio=$(awk -v a="$ct" -v b="$et" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "nan"}')
    printf '%8s | %11.0f %8.2f %8.2f %8.0f | %11.0f %8.2f %8.2f %8.0f | %6s\n' "$c" "$ct" "$cp50" \
      "$cp99" "$ccpu" "$et" "$ep50" "$ep99" "$ecpu" "$ratio"
  done
  echo "cpu us: CPU time of the three servers per request (user + system, warm-up included)"
} | tee "$results/table.txt"
ratio64=$(awk -v a="$(mean cairn 64 throughput_per_s)" -v b="$(mean etcd 64 throughput_per_s)" \
  'BEGIN {if (b > 0) printf "%.2f", a / b; else print "nan"}')
echo "append_throughput_ratio_vs_etcd=$ratio64" | tee -a "$results/table.txt"
