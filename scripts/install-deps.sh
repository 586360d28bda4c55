#!/usr/bin/env bash
# Installs every Debian package Cairn's build, tests and benchmarks need.
# Idempotent: packages already present are skipped, so a second run is fast
# and touches nothing. Runs as root (or through sudo when it is available).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format
  # wire API and RPC
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # storage, crypto, base library
  librocksdb-dev libssl-dev libabsl-dev
  # config, CLI, logging, HTTP metrics endpoint, JSON forms
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libcpp-httplib-dev nlohmann-json3-dev
  prometheus-cpp-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev openssl procps
  # the side-by-side comparison peer (bench/compare-etcd.sh)
  etcd-server etcd-client
  # the compose drill (deploy/compose-drill.sh: a base image where no registry is reachable)
  debootstrap python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
