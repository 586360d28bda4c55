# Shell helpers shared by the bench/ scripts: start a
# three-node Cairn cluster and a three-member etcd cluster on 127.0.0.1, in a
# work directory, and stop exactly the processes they started. Source it; it
# defines functions only. Every process started is recorded in BENCH_PIDS so
# the caller's trap can stop them (bench_stop_all).
#
# Needs: BENCH_BIN (the build directory holding node/cairn-node,
# client/cairnctl and bench/cairn-bench).

BENCH_PIDS=()

bench_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# bench_require_bins SCRIPT: exits 2, naming SCRIPT, unless cairn-node,
# cairnctl and cairn-bench are built in BENCH_BIN.
bench_require_bins() {
  local b
  for b in node/cairn-node client/cairnctl bench/cairn-bench; do
    [ -x "$BENCH_BIN/$b" ] || { echo "$1: $BENCH_BIN/$b not built" >&2; exit 2; }
  done
}

# bench_work_dir NAME: sets `work` to a new directory under $CAIRN_BENCH_DIR
# (default $TMPDIR or /tmp), removed with every process started (BENCH_PIDS)
# when the script exits or is interrupted.
bench_work_dir() {
  work=$(mktemp -d "${CAIRN_BENCH_DIR:-${TMPDIR:-/tmp}}/cairn-$1.XXXXXX")
  trap 'bench_stop_all; rm -rf "$work"' EXIT
  trap 'exit 130' INT TERM
}

# A port below the kernel's ephemeral range (which outgoing connections take
# their ports from, so none can hold it while a node restarts) that nothing
# listens on or connects from, not handed out before by this shell.
BENCH_PORTS_USED=" "
bench_free_port() {
  local port
  while :; do
    port=$((10000 + RANDOM % ($(cut -f1 /proc/sys/net/ipv4/ip_local_port_range) - 10000)))
    case "$BENCH_PORTS_USED" in *" $port "*) continue ;; esac
    if ! ss -Htan 2>/dev/null | awk '{print $4; print $5}' | grep -q ":$port\$"; then
      BENCH_PORTS_USED="$BENCH_PORTS_USED$port "
      echo "$port"
      return
    fi
  done
}

# Stops every process this script started (SIGTERM, then SIGKILL after 10 s).
bench_stop_all() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    local alive=0
    for pid in "${BENCH_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${BENCH_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${BENCH_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  BENCH_PIDS=()
}

# cairn_start DIR [extra cairn-node flags...]
# Creates a service identity and an admin user under DIR/certs, starts nodes
# 1..3 with data in DIR/nodeN, and waits until every node serves. Sets
# CAIRN_ENDPOINTS (comma-separated client addresses), CAIRN_PIDS (node pids,
# index 0..2), CAIRN_DATA_DIRS, and CAIRN_BENCH_TLS (cairn-bench TLS flags).
cairn_start() {
  local dir=$1
  shift
  local ctl="$BENCH_BIN/client/cairnctl" node_bin="${CAIRN_NODE_BIN:-$BENCH_BIN/node/cairn-node}"
  mkdir -p "$dir/certs"
  "$ctl" certs create-service --out-dir "$dir/certs" --cn "Cairn bench" >/dev/null 2>&1
  "$ctl" certs create-user --service-dir "$dir/certs" --name admin --out-dir "$dir/certs" >/dev/null 2>&1
  local members=() clients=() peers=() https=() i
  for i in 1 2 3; do
    "$ctl" certs create-node --service-dir "$dir/certs" --node-id "$i" --out-dir "$dir/certs" \
      >/dev/null 2>&1
    peers[$i]="127.0.0.1:$(bench_free_port)"
    clients[$i]="127.0.0.1:$(bench_free_port)"
    https[$i]="127.0.0.1:$(bench_free_port)"
    members+=("$i@${peers[$i]}/${clients[$i]}")
  done
  local initial
  initial=$(IFS=,; echo "${members[*]}")
  CAIRN_INITIAL_CLUSTER=$initial
  CAIRN_PIDS=()
  CAIRN_DATA_DIRS=()
  for i in 1 2 3; do
    "$node_bin" --node-id "$i" --data-dir "$dir/node$i" \
      --client-address "${clients[$i]}" --peer-address "${peers[$i]}" \
      --http-address "${https[$i]}" \
      --tls-cert-file "$dir/certs/node-$i.pem" --tls-key-file "$dir/certs/node-$i.key" \
      --service-cert-file "$dir/certs/service.pem" --initial-cluster "$initial" \
      --initial-admin-cert-file "$dir/certs/admin.pem" --log-format text --log-level warn \
      "$@" >"$dir/node$i.log" 2>&1 &
    BENCH_PIDS+=($!)
    CAIRN_PIDS+=($!)
    CAIRN_DATA_DIRS+=("$dir/node$i")
  done
  CAIRN_ENDPOINTS=$(IFS=,; echo "${clients[*]}")
  CAIRN_HTTP=("${https[1]}" "${https[2]}" "${https[3]}")
  CAIRN_BENCH_TLS=(--cert "$dir/certs/admin.pem" --key "$dir/certs/admin.key"
    --service-cert "$dir/certs/service.pem")
  for i in 1 2 3; do
    local ok=0
    for _ in $(seq 300); do
      kill -0 "${CAIRN_PIDS[$((i - 1))]}" 2>/dev/null || break
      local rc=0
      "$ctl" get 1.1 --endpoint "${clients[$i]}" "${CAIRN_BENCH_TLS[@]}" --timeout-ms 500 \
        >/dev/null 2>&1 || rc=$?
      if [ "$rc" = 0 ] || [ "$rc" = 1 ]; then ok=1; break; fi
      sleep 0.1
    done
    if [ "$ok" != 1 ]; then
      bench_log "cairn node $i did not start; log:"
      tail -20 "$dir/node$i.log" >&2
      return 1
    fi
  done
}

# cairn_add_geo_replica DIR ARCHIVE_URL [extra cairn-node flags...]
# Adds node 4 to the cluster cairn_start made in DIR as a learner in region
# "paired" and starts it as a geo-replica archiving to ARCHIVE_URL; waits
# until it serves. Sets CAIRN_GEO_PID and CAIRN_GEO_HTTP.
cairn_add_geo_replica() {
  local dir=$1 archive=$2
  shift 2
  local ctl="$BENCH_BIN/client/cairnctl" node_bin="${CAIRN_NODE_BIN:-$BENCH_BIN/node/cairn-node}"
  "$ctl" certs create-node --service-dir "$dir/certs" --node-id 4 --out-dir "$dir/certs" \
    >/dev/null 2>&1
  local peer client
  peer="127.0.0.1:$(bench_free_port)"
  client="127.0.0.1:$(bench_free_port)"
  CAIRN_GEO_HTTP="127.0.0.1:$(bench_free_port)"
  "$ctl" nodes add-learner --node-id 4 --peer-address "$peer" --client-address "$client" \
    --cert-file "$dir/certs/node-4.pem" --region paired --endpoint "$CAIRN_ENDPOINTS" \
    "${CAIRN_BENCH_TLS[@]}" >/dev/null
  "$node_bin" --node-id 4 --data-dir "$dir/node4" --client-address "$client" \
    --peer-address "$peer" --http-address "$CAIRN_GEO_HTTP" \
    --tls-cert-file "$dir/certs/node-4.pem" --tls-key-file "$dir/certs/node-4.key" \
    --service-cert-file "$dir/certs/service.pem" --initial-cluster "$CAIRN_INITIAL_CLUSTER" \
    --join --role geo-replica --region paired --archive-url "$archive" \
    --log-format text --log-level warn "$@" >"$dir/node4.log" 2>&1 &
  CAIRN_GEO_PID=$!
  BENCH_PIDS+=($!)
  for _ in $(seq 300); do
    kill -0 "$CAIRN_GEO_PID" 2>/dev/null || break
    if curl -sf "http://$CAIRN_GEO_HTTP/metrics" 2>/dev/null |
        grep -q '^cairn_archive_archived_index [1-9]'; then
      return 0
    fi
    sleep 0.1
  done
  bench_log "the geo-replica did not archive anything; log:"
  tail -20 "$dir/node4.log" >&2
  return 1
}

# etcd_start DIR [tls] [extra etcd flags...]: three etcd members with their
# default (durable) settings; with "tls" (pass "" for plaintext when adding
# flags), client and peer URLs are https with client certificates required on
# both (as Cairn's ports are), from a CA made with cairnctl under
# DIR/etcd-certs. Extra flags go to every member (e.g. --max-txn-ops, whose
# default of 128 refuses larger transactions). Sets ETCD_ENDPOINTS (client URLs'
# host:port, comma-separated), ETCD_LEADER (the leader's host:port),
# ETCD_PIDS and ETCD_BENCH_TLS (cairn-bench TLS flags; empty in plaintext).
etcd_start() {
  local dir=$1 tls=${2:-}
  shift
  if [ $# -gt 0 ]; then shift; fi
  local names=() peer_urls=() client_urls=() i cluster="" scheme=http tls_flags=()
  ETCD_BENCH_TLS=()
  ETCDCTL_TLS=()
  if [ "$tls" = tls ]; then
    local ctl="$BENCH_BIN/client/cairnctl" certs="$dir/etcd-certs"
    scheme=https
    mkdir -p "$certs"
    "$ctl" certs create-service --out-dir "$certs" --cn "etcd bench CA" >/dev/null 2>&1
    "$ctl" certs create-user --service-dir "$certs" --name bench --out-dir "$certs" >/dev/null 2>&1
    ETCD_BENCH_TLS=(--cert "$certs/bench.pem" --key "$certs/bench.key" --service-cert "$certs/service.pem")
    ETCDCTL_TLS=(--cacert "$certs/service.pem" --cert "$certs/bench.pem" --key "$certs/bench.key")
  fi
  for i in 1 2 3; do
    peer_urls[$i]="$scheme://127.0.0.1:$(bench_free_port)"
    client_urls[$i]="$scheme://127.0.0.1:$(bench_free_port)"
    cluster="${cluster:+$cluster,}etcd$i=${peer_urls[$i]}"
  done
  ETCD_PIDS=()
  for i in 1 2 3; do
    tls_flags=()
    if [ "$tls" = tls ]; then
      "$ctl" certs create-node --service-dir "$certs" --node-id "$i" --out-dir "$certs" \
        --ip 127.0.0.1 --dns localhost >/dev/null 2>&1
      tls_flags=(--cert-file "$certs/node-$i.pem" --key-file "$certs/node-$i.key"
        --client-cert-auth --trusted-ca-file "$certs/service.pem"
        --peer-cert-file "$certs/node-$i.pem" --peer-key-file "$certs/node-$i.key"
        --peer-client-cert-auth --peer-trusted-ca-file "$certs/service.pem")
    fi
    etcd --name "etcd$i" --data-dir "$dir/etcd$i" \
      --listen-peer-urls "${peer_urls[$i]}" --initial-advertise-peer-urls "${peer_urls[$i]}" \
      --listen-client-urls "${client_urls[$i]}" --advertise-client-urls "${client_urls[$i]}" \
      --initial-cluster "$cluster" --initial-cluster-state new \
      --initial-cluster-token "cairn-bench-$$" --logger zap --log-outputs stderr \
      --log-level warn "${tls_flags[@]}" "$@" >"$dir/etcd$i.log" 2>&1 &
    BENCH_PIDS+=($!)
    ETCD_PIDS+=($!)
  done
  ETCD_ENDPOINTS="${client_urls[1]#*://},${client_urls[2]#*://},${client_urls[3]#*://}"
  ETCD_LEADER=""
  for _ in $(seq 300); do
    # The IS LEADER column of the table form; no JSON tool needed.
    ETCD_LEADER=$(ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" --command-timeout=1s \
      "${ETCDCTL_TLS[@]}" endpoint status -w simple 2>/dev/null | awk -F', ' '$5 == "true" {print $1}' | head -1 ||
      true)
    [ -n "$ETCD_LEADER" ] && break
    sleep 0.1
  done
  if [ -z "$ETCD_LEADER" ]; then
    bench_log "etcd did not elect a leader; log:"
    tail -20 "$dir/etcd1.log" >&2
    return 1
  fi
  ETCD_LEADER=${ETCD_LEADER#*://}
  # Every member must be up and healthy: a cluster limping on two members
  # would do less work per put than the three-node Cairn it is compared with.
  local pid healthy=0
  for _ in $(seq 100); do
    healthy=$(ETCDCTL_API=3 etcdctl --endpoints "$ETCD_ENDPOINTS" --command-timeout=1s \
      "${ETCDCTL_TLS[@]}" endpoint health 2>&1 | grep -c "is healthy" || true)
    [ "$healthy" = 3 ] && break
    sleep 0.1
  done
  for pid in "${ETCD_PIDS[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null || [ "$healthy" != 3 ]; then
      bench_log "etcd: only $healthy of 3 members are healthy; logs:"
      tail -3 "$dir"/etcd*.log >&2
      return 1
    fi
  done
}

# bench_field FILE KEY: a number from a cairn-bench "result:" line (or the
# "server:" line compare-etcd.sh adds).
bench_field() {
  [ -f "$1" ] || return 0
  sed -n "s/^\\(result\\|server\\): .*\\b$2=\\([^ ]*\\).*/\\2/p" "$1" | tail -1
}

# cairn_metric HOST:PORT NAME: a gauge from a node's /metrics (plain HTTP on
# loopback, through bash's /dev/tcp so no HTTP client is needed).
cairn_metric() {
  local host=${1%:*} port=${1##*:}
  exec 9<>"/dev/tcp/$host/$port" || return 1
  printf 'GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" >&9
  awk -v n="$2" '$1 == n {print $2}' <&9 | tr -d '\r'
  exec 9<&-
}

# cpu_ticks PID...: user + system CPU time of the processes, in clock ticks
# (getconf CLK_TCK per second), threads that have exited included.
cpu_ticks() {
  local pid total=0
  for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done
  echo "$total"
}

# rss_mib PID: resident memory of a process in MiB (VmRSS).
rss_mib() {
  awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"
}
