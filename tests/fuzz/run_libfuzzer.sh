#!/bin/sh
# Runs one libFuzzer target for a bounded time, as CTest does under the fuzz
# preset: the checked-in corpus is copied to a temporary directory first, so
# inputs libFuzzer adds never land in the source tree. A crash input goes to
# ARTIFACT_DIR. Exits with libFuzzer's status (non-zero on any finding).
#
#   run_libfuzzer.sh TARGET_BINARY CORPUS_DIR SECONDS ARTIFACT_DIR [libFuzzer flags...]
set -eu
binary=$1 corpus=$2 seconds=$3 artifacts=$4
shift 4
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$corpus/." "$work/"
mkdir -p "$artifacts"
# -timeout: one input slower than this is a finding (a hang), not a pass.
"$binary" -max_total_time="$seconds" -timeout=25 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$@" "$work"
