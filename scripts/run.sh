#!/usr/bin/env bash
# Installs what is needed, builds Cairn and runs a local three-node Cairn
# service on 127.0.0.1 in the foreground (Ctrl-C stops it one node at a time;
# a leader hands off before it exits), in region "primary", plus a
# geo-replica (node 4) in region "paired" that archives the ledger to
# ./local-cluster/paired-archive (file://), so `cairnctl dr status` and `cairnctl dr verify` work at once.
# On first use it creates, under ./local-cluster/: a service identity, four
# node certificates and an admin user certificate; later runs reuse them and
# the data.
#
# Environment: CAIRN_LOCAL_DIR (default ./local-cluster), CAIRN_PRESET (release),
# CAIRN_BASE_PORT (7100: client ports 7101-7104, peer 7201-7204, http 7301-7304,
# REST API 7401-7403),
# CAIRN_GEO_REPLICA (1; 0 runs the three nodes only), CAIRN_SKIP_BUILD (0; 1
# uses build/$CAIRN_PRESET as it is, installing and building nothing: tests).
set -euo pipefail
cd "$(dirname "$0")/.."

preset=${CAIRN_PRESET:-release}
if [ "${CAIRN_SKIP_BUILD:-0}" != 1 ]; then  # 1: build/$preset is built already (tests)
  ./scripts/install-deps.sh
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" --target cairn-node cairnctl
fi
bin="$(pwd)/build/$preset"
ctl="$bin/client/cairnctl"  # absolute: the commands printed below work from any directory
dir=${CAIRN_LOCAL_DIR:-local-cluster}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)  # absolute: the archive URL needs it
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
if [ ! -f "$certs/node-4.pem" ]; then  # a directory made before the geo-replica
  "$ctl" certs create-node --service-dir "$certs" --node-id 4 --out-dir "$certs" >/dev/null
fi

members=()
for i in "${nodes[@]}"; do
  members+=("$i@127.0.0.1:$((base + 100 + i))/127.0.0.1:$((base + i))")
done
initial_cluster=$(IFS=,; echo "${members[*]}")

pids=()
# Nodes run in sessions of their own (setsid), so the terminal's Ctrl-C
# reaches this script alone, which stops them one at a time, the geo-replica
# first: a leader that is stopped while other voters run hands leadership to
# one of them first, and the last node finds no one reachable to hand to and
# stops at once.
stop() {
  trap - INT TERM HUP
  echo "stopping..."
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
  wait
}
trap stop INT TERM HUP

for i in "${nodes[@]}"; do
  setsid "$bin/node/cairn-node" --node-id "$i" --data-dir "$dir/node$i" \
    --client-address "127.0.0.1:$((base + i))" --peer-address "127.0.0.1:$((base + 100 + i))" \
    --http-address "127.0.0.1:$((base + 200 + i))" --rest-address "127.0.0.1:$((base + 300 + i))" \
    --tls-cert-file "$certs/node-$i.pem" --tls-key-file "$certs/node-$i.key" \
    --service-cert-file "$certs/service.pem" --initial-cluster "$initial_cluster" \
    --initial-admin-cert-file "$certs/admin.pem" --log-format text --region primary \
    > >(trap "" INT; exec sed -u "s/^/[node$i] /") 2>&1 &
  pids+=($!)  # the node itself (its output goes through sed to tag each line;
              # sed ignores Ctrl-C, so the nodes' last lines still show)
done

endpoints="127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2)),127.0.0.1:$((base + 3))"
export CAIRN_ENDPOINT=$endpoints CAIRN_CERT=$certs/admin.pem CAIRN_KEY=$certs/admin.key
export CAIRN_SERVICE_CERT=$certs/service.pem

# The geo-replica: added once as a learner in region "paired" (when the
# service first answers), then started on every run.
archive="file://$dir/paired-archive"
if [ "${CAIRN_GEO_REPLICA:-1}" = 1 ]; then
  if [ ! -f "$dir/geo-replica-added" ]; then
    for _ in $(seq 1 300); do
      "$ctl" cluster status >/dev/null 2>&1 && break
      sleep 0.2
    done
    "$ctl" nodes add-learner --node-id 4 --peer-address "127.0.0.1:$((base + 104))" \
      --client-address "127.0.0.1:$((base + 4))" --cert-file "$certs/node-4.pem" \
      --region paired >/dev/null
    touch "$dir/geo-replica-added"
  fi
  setsid "$bin/node/cairn-node" --node-id 4 --data-dir "$dir/node4" \
    --client-address "127.0.0.1:$((base + 4))" --peer-address "127.0.0.1:$((base + 104))" \
    --http-address "127.0.0.1:$((base + 204))" \
    --tls-cert-file "$certs/node-4.pem" --tls-key-file "$certs/node-4.key" \
    --service-cert-file "$certs/service.pem" --initial-cluster "$initial_cluster" --join \
    --role geo-replica --region paired --archive-url "$archive" --log-format text \
    > >(trap "" INT; exec sed -u "s/^/[geo4] /") 2>&1 &
  pids+=($!)
fi
cat <<MSG

Cairn is starting: three nodes on 127.0.0.1 (clients: $endpoints;
metrics: http://127.0.0.1:$((base + 201))/metrics). In another terminal:

  export PATH=$bin/client:\$PATH   # cairnctl is built there, not installed
  export CAIRN_ENDPOINT=$endpoints
  export CAIRN_CERT=$certs/admin.pem CAIRN_KEY=$certs/admin.key
  export CAIRN_SERVICE_CERT=$certs/service.pem
  cairnctl append releases "v1.4.2 approved by alice"     # prints its txid and status, e.g. 1.6 COMMITTED
  cairnctl get <txid>                                      # its contents
  cairnctl receipt get <txid> --wait --output r.json       # its receipt, verified
  cairnctl append releases "audited" --wait geo-durable   # answered once archived
  cairnctl dr status                                       # where the copies are
  cairnctl dr verify --archive-url $archive                # audit the archive

The REST API (Azure Confidential Ledger's paths, docs/api.md) answers on
https://127.0.0.1:$((base + 301))-$((base + 303)), e.g.:

  curl --cacert $certs/service.pem --cert $certs/admin.pem --key $certs/admin.key \\
    -H 'Content-Type: application/json' -d '{"contents":"hello"}' \\
    'https://127.0.0.1:$((base + 301))/app/transactions?api-version=2022-05-13&collectionId=releases'

Ctrl-C stops the cluster; data stays in $dir/.

MSG
wait
