#!/usr/bin/env bash
# Installs what is needed, builds Cairn and runs a local Cairn service on
# 127.0.0.1 in the foreground (Ctrl-C stops it). On first use it creates, under
# ./local-cluster/: a service identity, node certificates, and an admin user
# certificate; later runs reuse them and the data.
#
# Environment: CAIRN_LOCAL_DIR (default ./local-cluster), CAIRN_PRESET (release).
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

if [ ! -f "$certs/service.pem" ]; then
  mkdir -p "$certs"
  "$ctl" certs create-service --out-dir "$certs" --cn "Cairn local service" >/dev/null
  "$ctl" certs create-node --service-dir "$certs" --node-id 1 --out-dir "$certs" >/dev/null
  "$ctl" certs create-user --service-dir "$certs" --name admin --out-dir "$certs" >/dev/null
fi

cat <<MSG

Cairn is starting on 127.0.0.1 (client port 7100, metrics http://127.0.0.1:7300/metrics).
In another terminal:

  export CAIRN_ENDPOINT=127.0.0.1:7100
  export CAIRN_CERT=$certs/admin.pem CAIRN_KEY=$certs/admin.key
  export CAIRN_SERVICE_CERT=$certs/service.pem
  $ctl append releases "v1.4.2 approved by alice"
  $ctl get 1.1

Ctrl-C stops the node; data stays in $dir/node1.

MSG
exec "$bin/node/cairn-node" --node-id 1 --data-dir "$dir/node1" \
  --client-address 127.0.0.1:7100 --peer-address 127.0.0.1:7200 --http-address 127.0.0.1:7300 \
  --tls-cert-file "$certs/node-1.pem" --tls-key-file "$certs/node-1.key" \
  --service-cert-file "$certs/service.pem" --log-format text
