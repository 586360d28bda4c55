#!/usr/bin/env bash
# Installs what is needed, builds Cairn and runs a local three-node Cairn
# service on 127.0.0.1 in the foreground (Ctrl-C stops it; a leader hands off
# before it exits). On first use it creates, under ./local-cluster/: a service
# identity, three node certificates and an admin user certificate; later runs
# reuse them and the data.
#
# Environment: CAIRN_LOCAL_DIR (default ./local-cluster), CAIRN_PRESET (release),
# CAIRN_BASE_PORT (7100: client ports 7101-7103, peer 7201-7203, http 7301-7303).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
preset=${CAIRN_PRESET:-release}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target cairn-node cairnctl
bin="build/$preset"
ctl="$bin/client/cairnctl"
dir=${CAIRN_LOCAL_DIR:-local-cluster}
certs="$dir/certs"
base=${CAIRN_BASE_PORT:-7100}
nodes=(1 2 3)

if [ ! -f "$certs/service.pem" ]; then
  mkdir -p "$certs"
  "$ctl" certs create-service --out-dir "$certs" --cn "Cairn local service" >/dev/null
  for i in "${nodes[@]}"; do
    "$ctl" certs create-node --service-dir "$certs" --node-id "$i" --out-dir "$certs" >/dev/null
  done
  "$ctl" certs create-user --service-dir "$certs" --name admin --out-dir "$certs" >/dev/null
fi

members=()
for i in "${nodes[@]}"; do
  members+=("$i@127.0.0.1:$((base + 100 + i))/127.0.0.1:$((base + i))")
done
initial_cluster=$(IFS=,; echo "${members[*]}")

pids=()
stop() {
  trap - INT TERM
  echo "stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait
}
trap stop INT TERM

for i in "${nodes[@]}"; do
  "$bin/node/cairn-node" --node-id "$i" --data-dir "$dir/node$i" \
    --client-address "127.0.0.1:$((base + i))" --peer-address "127.0.0.1:$((base + 100 + i))" \
    --http-address "127.0.0.1:$((base + 200 + i))" \
    --tls-cert-file "$certs/node-$i.pem" --tls-key-file "$certs/node-$i.key" \
    --service-cert-file "$certs/service.pem" --initial-cluster "$initial_cluster" \
    --initial-admin-cert-file "$certs/admin.pem" --log-format text \
    > >(sed -u "s/^/[node$i] /") 2>&1 &
  pids+=($!)  # the node itself (its output goes through sed to tag each line)
done

endpoints="127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2)),127.0.0.1:$((base + 3))"
cat <<MSG

Cairn is starting: three nodes on 127.0.0.1 (clients: $endpoints;
metrics: http://127.0.0.1:$((base + 201))/metrics). In another terminal:

  export CAIRN_ENDPOINT=$endpoints
  export CAIRN_CERT=$certs/admin.pem CAIRN_KEY=$certs/admin.key
  export CAIRN_SERVICE_CERT=$certs/service.pem
  $ctl append releases "v1.4.2 approved by alice"     # prints the txid
  $ctl get <txid>

Ctrl-C stops the cluster; data stays in $dir/.

MSG
wait
