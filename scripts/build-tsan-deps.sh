#!/usr/bin/env bash
# Builds Debian's own Abseil source with clang-15 and -fsanitize=thread, as
# shared libraries with the same SONAMEs and ABI as the installed libabsl
# (same Debian version, same patches, same options: C++17, shared, the
# `debian3` inline namespace), into a cached prefix that the tsan preset puts
# first on its binaries' run path.
#
# Why: Debian's libgrpc and Cairn both lock through absl::Mutex. With an
# uninstrumented libabsl_synchronization ThreadSanitizer sees none of those
# locks and reports every access they order as a race. The instrumented
# libraries, loaded in place of the system ones (same SONAME), make both
# gRPC's and Cairn's mutexes visible to it.
#
#   ./scripts/build-tsan-deps.sh          build into build/tsan-deps/ unless already there
#   ./scripts/build-tsan-deps.sh --print-prefix
#
# Environment: CAIRN_TSAN_DEPS_PREFIX (default build/tsan-deps), CAIRN_JOBS
# (default 1), and the source and build trees go under build/third_party/.
# Rebuilds only when the prefix is missing or was built from another Abseil
# version or with other flags. Needs clang-15, dpkg-dev and a deb-src entry
# (scripts/install-deps.sh sets those up).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

prefix=${CAIRN_TSAN_DEPS_PREFIX:-$root/build/tsan-deps}
if [ "${1:-}" = "--print-prefix" ]; then echo "$prefix"; exit 0; fi

jobs=${CAIRN_JOBS:-1}
third_party=$root/build/third_party
# The exact Debian version of the installed Abseil: its source carries the
# same patches (SONAME, options.h), so the libraries are drop-in replacements.
version=$(dpkg-query -W -f='${Version}' libabsl-dev)
upstream=${version%-*}
upstream=${upstream#*:}
flags="-O1 -gline-tables-only -fno-omit-frame-pointer -fsanitize=thread"
stamp_text="abseil $version clang-15 $flags"
stamp=$prefix/.cairn-stamp

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ]; then
  echo "build-tsan-deps: $prefix is up to date ($stamp_text)"
  exit 0
fi

for tool in clang++-15 dpkg-source cmake ninja; do
  command -v "$tool" >/dev/null || { echo "build-tsan-deps: $tool missing; run scripts/install-deps.sh" >&2; exit 1; }
done

start=$(date +%s)
src=$third_party/abseil-$upstream
mkdir -p "$third_party"
if [ ! -f "$src/debian/rules" ]; then
  echo "build-tsan-deps: fetching Debian's abseil $version source"
  (cd "$third_party" && apt-get source -qq "abseil=$version")
fi

build=$third_party/abseil-tsan-build
rm -rf "$build" "$prefix"
# The options Debian's debian/rules gives its shared build (C++17, shared
# libraries), the hardening it adds through dpkg-buildflags left out, the
# sanitizer added. CMAKE_BUILD_TYPE=None as dh_auto_configure sets it.
cmake -S "$src" -B "$build" -G Ninja \
  -DCMAKE_C_COMPILER=clang-15 -DCMAKE_CXX_COMPILER=clang++-15 \
  -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON \
  -DBUILD_TESTING=OFF -DABSL_PROPAGATE_CXX_STD=ON \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
  -DCMAKE_INSTALL_RPATH='$ORIGIN' >/dev/null
nice -n 15 cmake --build "$build" -j "$jobs"
cmake --install "$build" >/dev/null

# Refuse a prefix whose libraries would not replace the system ones.
for lib in "$prefix"/lib/libabsl_*.so.*.*; do
  soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
  if [ ! -e "/usr/lib/x86_64-linux-gnu/$soname" ]; then
    echo "build-tsan-deps: $lib has SONAME $soname, which the system libabsl does not" >&2
    exit 1
  fi
done
echo "$stamp_text" >"$stamp"
echo "build-tsan-deps: built $(ls "$prefix"/lib/libabsl_*.so | wc -l) libraries into $prefix in $(( $(date +%s) - start )) s"
