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
  # Shamir secret sharing for a private ledger's recovery shares
  libgfshare-dev
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

# Third-party Go tools the tests use, each built once from the Go module
# proxy into build/tools/NAME-VERSION/ and kept there. Go is for these
# tools only; the product is C++. CAIRN_NO_TEST_TOOLS=1 skips them (the
# container image builds the programs only, and has no Go).
# go_tool NAME VERSION PACKAGE WHAT
go_tool() {
  local name=$1 version=$2 package=$3 what=$4
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/build/tools/$name-$version"
  [ "${CAIRN_NO_TEST_TOOLS:-0}" != 1 ] || return 0
  [ -x "$dir/$name" ] && return 0
  local go_bin
  go_bin=$(command -v go || true)
  [ -z "$go_bin" ] && [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go
  if [ -z "$go_bin" ]; then
    echo "install-deps: Go is needed once to build $name ($what); install Go and run again" >&2
    exit 1
  fi
  echo "install-deps: building $name $version from the Go module proxy"
  mkdir -p "$dir"
  GOBIN="$dir" GOFLAGS=-mod=mod "$go_bin" install "$package@$version"
}
# versitygw (Apache-2.0, maintained): the S3-compatible server the dr tests
# and the two-region compose file start (about a minute with an empty Go
# cache).
go_tool versitygw v1.8.0 github.com/versity/versitygw/cmd/versitygw "the dr tests' S3 server"
# kustomize: renders the Kubernetes manifests for their checks (label
# unit), the engine `kubectl kustomize` embeds.
go_tool kustomize v5.7.1 sigs.k8s.io/kustomize/kustomize/v5 "the manifest checks"
echo "install-deps: done"
