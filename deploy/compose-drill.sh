#!/usr/bin/env bash
# A failover drill on docker-compose, end to end: builds the image from
# deploy/Dockerfile, starts the three-node service of deploy/docker-compose.yml
# under a project name of its own, and from the host (with cairnctl and the
# admin certificate the `certs` service made):
#   1. waits for a leader and appends 20 entries;
#   2. fetches the last one's receipt and verifies it offline;
#   3. kills the leader's container (SIGKILL), appends again through the
#      other two and sees a new leader;
#   4. starts the killed node again and waits until it has applied
#      everything the others have.
# Then it removes the containers, network and volumes it made (--keep leaves
# them running for a look around; --remove-image also removes the image and
# the untagged build stage it leaves).
#
#   deploy/compose-drill.sh [--keep] [--bootstrap-base] [--image TAG] [--remove-image]
#                           [--prebuilt]
#
# --prebuilt packs this checkout's own build ($CAIRN_BIN_DIR/node/cairn-node and
# client/cairnctl, stripped) into the image instead of compiling the tree in
# the image's build stage (Dockerfile, CAIRN_PREBUILT): the test suite uses it
# so that CI compiles Cairn once. Without it the image builds from source, as
# a user's `docker build` does.
#
# Published ports follow docker-compose.yml: CAIRN_NODE<N>_CLIENT_PORT and
# CAIRN_NODE<N>_HTTP_PORT (defaults 7101-7103 and 7301-7303).
# The image builds FROM debian:12. Where no registry is reachable (as on the
# machines CI runs on) that image is missing; --bootstrap-base makes it
# locally from Debian's package mirror with debootstrap and `docker import`.
# Needs docker and docker-compose (v1) or `docker compose` (v2), and a host
# build of cairnctl in $CAIRN_BIN_DIR (default build/release).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CAIRN_BIN_DIR:-build/release}
keep=0
bootstrap=0
remove_image=0
prebuilt=0
export CAIRN_IMAGE=${CAIRN_IMAGE:-cairn:local}
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    --bootstrap-base) bootstrap=1 ;;
    --image) CAIRN_IMAGE=$2; shift ;;
    --remove-image) remove_image=1 ;;
    --prebuilt) prebuilt=1 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "compose-drill: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "compose-drill: $*" >&2; exit 1; }

command -v docker >/dev/null || die "docker is not installed"
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose=(docker-compose)
else
  die "neither 'docker compose' nor docker-compose is installed"
fi
ctl=$BIN/client/cairnctl
[ -x "$ctl" ] || die "$ctl not built (cmake --build --preset release --target cairnctl)"

if ! docker image inspect debian:12 >/dev/null 2>&1; then
  [ "$bootstrap" = 1 ] || die "no debian:12 image here and none can be pulled; rerun with --bootstrap-base to make one with debootstrap"
  command -v debootstrap >/dev/null || die "debootstrap is not installed (scripts/install-deps.sh)"
  rootfs=$(mktemp -d "${TMPDIR:-/tmp}/cairn-rootfs.XXXXXX")
  log "debootstrap bookworm into $rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  tar -C "$rootfs" -c . | docker import - debian:12 >/dev/null
  rm -rf "$rootfs"
fi

project=cairndrill$$
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-compose-drill.XXXXXX")
dc() { "${compose[@]}" -p "$project" -f deploy/docker-compose.yml "$@"; }
cleanup() {
  if [ "$keep" = 1 ]; then
    log "left running: ${compose[*]} -p $project -f deploy/docker-compose.yml down -v"
  else
    dc down -v --remove-orphans >/dev/null 2>&1 || true
    if [ "$remove_image" = 1 ]; then
      docker image rm -f "$CAIRN_IMAGE" >/dev/null 2>&1 || true
      # and the build stage it leaves behind (untagged, 2 GB)
      docker image prune -f --filter label=org.cairn.stage=build >/dev/null 2>&1 || true
    fi
  fi
  rm -rf "$work" "${staged:-}"
}
trap cleanup EXIT

build_args=()
if [ "$prebuilt" = 1 ]; then
  # In the build context (the repository root), where .dockerignore lets it in.
  staged=.cairn-prebuilt-$$
  mkdir -p "$staged"
  for b in node/cairn-node client/cairnctl; do
    [ -x "$BIN/$b" ] || die "$BIN/$b not built (--prebuilt packs this checkout's build)"
    strip -o "$staged/$(basename "$b")" "$BIN/$b"
  done
  build_args=(--build-arg "CAIRN_PREBUILT=$staged")
  log "building the image (deploy/Dockerfile) from this checkout's build in $BIN"
else
  log "building the image (deploy/Dockerfile)"
fi
dc build "${build_args[@]}" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; die "image build failed"; }
log "starting the service"
dc up -d >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; die "compose up failed"; }
container() { dc ps -q "$1"; }
docker cp "$(container node1):/certs" "$work/certs"

export CAIRN_ENDPOINT=127.0.0.1:${CAIRN_NODE1_CLIENT_PORT:-7101},127.0.0.1:${CAIRN_NODE2_CLIENT_PORT:-7102},127.0.0.1:${CAIRN_NODE3_CLIENT_PORT:-7103}
export CAIRN_CERT=$work/certs/admin.pem CAIRN_KEY=$work/certs/admin.key
export CAIRN_SERVICE_CERT=$work/certs/service.pem

# poll SECONDS WHAT COMMAND...: runs COMMAND every half second until it succeeds.
poll() {
  local deadline=$(($(date +%s) + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out waiting for $what"
    sleep 0.5
  done
}
leader() { "$ctl" cluster status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["leader_id"])'; }
has_leader() { [ "$(leader)" -gt 0 ]; }

poll 120 "a leader" has_leader
log "leader is node $(leader)"
for i in $(seq 1 20); do "$ctl" append drill "entry $i" >/dev/null; done
txid=$("$ctl" append drill "last before the failover" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["txid"])')
"$ctl" receipt get "$txid" --wait --output "$work/receipt.json" >/dev/null
"$ctl" receipt verify --receipt "$work/receipt.json" --service-cert "$CAIRN_SERVICE_CERT" >/dev/null \
  || die "the receipt for $txid does not verify"
log "appended 21 entries; the receipt for $txid verifies offline"

old=$(leader)
log "killing node$old (SIGKILL)"
dc kill -s KILL "node$old" >/dev/null 2>&1
new_leader() { local l; l=$(leader) && [ "$l" -gt 0 ] && [ "$l" != "$old" ]; }
poll 60 "a new leader" new_leader
poll 60 "an append after the failover" "$ctl" append drill "after the failover"
log "node $(leader) leads; appends go on"

dc start "node$old" >/dev/null 2>&1
caught_up() {
  "$ctl" cluster status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
applied = [n["applied_index"] for n in s["nodes"]]
node = [n for n in s["nodes"] if n["node_id"] == int(sys.argv[1])][0]
sys.exit(0 if node["reachable"] and node["applied_index"] == max(applied) else 1)' "$old"
}
poll 120 "node$old to catch up" caught_up
log "node$old is back and has applied everything"
echo "compose-drill: passed"
