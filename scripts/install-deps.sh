#!/usr/bin/env bash
# Installs every Debian package Cairn's build, tests and benchmarks need.
# Idempotent: packages already present are skipped, so a second run is fast
# and touches nothing. Runs as root (or through sudo when it is available).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format
  # the clang presets (clang, tsan, fuzz): the compiler, its sanitizer and
  # libFuzzer runtimes (libclang_rt.{tsan,asan,ubsan,fuzzer}-x86_64.a live in
  # libclang-common-15-dev), lld, llvm-symbolizer for readable sanitizer stacks,
  # and dpkg-dev for `apt-get source abseil` (scripts/build-tsan-deps.sh)
  clang-15 libclang-common-15-dev lld-15 llvm-15 dpkg-dev
  # wire API and RPC
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # storage, crypto, base library
  librocksdb-dev libssl-dev libabsl-dev
  # the s3:// archive store (libcurl with CURLOPT_AWS_SIGV4)
  libcurl4-openssl-dev
  # config, CLI, logging, HTTP metrics endpoint, JSON forms
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libcpp-httplib-dev nlohmann-json3-dev
  prometheus-cpp-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev openssl procps curl
  # the side-by-side comparison peer (bench/compare-etcd.sh)
  etcd-server etcd-client
  # the compose drill (deploy/compose-drill.sh: a base image where no registry is reachable)
  debootstrap python3
)

# Debian source packages, for scripts/build-tsan-deps.sh (`apt-get source
# abseil`): one deb-src stanza of our own, written once.
deb_src=/etc/apt/sources.list.d/cairn-deb-src.sources
need_update=0
if [ ! -f "$deb_src" ]; then
  echo "install-deps: adding Debian source packages ($deb_src)"
  deb_src_text='# Added by Cairn'"'"'s scripts/install-deps.sh: Debian source packages, so that
# scripts/build-tsan-deps.sh can `apt-get source abseil`.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'
  if [ "$(id -u)" -eq 0 ]; then echo "$deb_src_text" >"$deb_src"; else echo "$deb_src_text" | sudo tee "$deb_src" >/dev/null; fi
  need_update=1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi

if [ ${#missing[@]} -eq 0 ] && [ "$need_update" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
else
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# The S3-compatible server the dr tests start on loopback: versitygw
# (Apache-2.0, maintained), built once from the Go module proxy into
# build/tools/ and kept there (about a minute with an empty Go cache). Go is
# for this third-party tool only; the product is C++.
# CAIRN_NO_TEST_TOOLS=1 skips it (the container image builds the programs
# only, and has no Go).
versitygw_version=v1.8.0
tools_dir="$(cd "$(dirname "$0")/.." && pwd)/build/tools/versitygw-$versitygw_version"
if [ "${CAIRN_NO_TEST_TOOLS:-0}" != 1 ] && [ ! -x "$tools_dir/versitygw" ]; then
  go_bin=$(command -v go || true)
  [ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
  if [ -z "$go_bin" ]; then
    echo "install-deps: Go is needed once to build versitygw (the dr tests' S3 server); install Go and run again" >&2
    exit 1
  fi
  echo "install-deps: building versitygw $versitygw_version from the Go module proxy"
  mkdir -p "$tools_dir"
  GOBIN="$tools_dir" GOFLAGS=-mod=mod "$go_bin" install \
    "github.com/versity/versitygw/cmd/versitygw@$versitygw_version"
fi
# kustomize, for the Kubernetes manifest checks (label unit): the engine
# `kubectl kustomize` embeds, built the same way.
kustomize_version=v5.7.1
kustomize_dir="$(cd "$(dirname "$0")/.." && pwd)/build/tools/kustomize-$kustomize_version"
if [ "${CAIRN_NO_TEST_TOOLS:-0}" != 1 ] && [ ! -x "$kustomize_dir/kustomize" ]; then
  go_bin=$(command -v go || true)
  [ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
  if [ -z "$go_bin" ]; then
    echo "install-deps: Go is needed once to build kustomize (the manifest checks); install Go and run again" >&2
    exit 1
  fi
  echo "install-deps: building kustomize $kustomize_version from the Go module proxy"
  mkdir -p "$kustomize_dir"
  GOBIN="$kustomize_dir" GOFLAGS=-mod=mod "$go_bin" install \
    "sigs.k8s.io/kustomize/kustomize/v5@$kustomize_version"
fi
echo "install-deps: done"
