#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for $1 seconds (default 60) on a copy of
# its in-tree corpus (tests/fuzz/corpus/<name>/). Fails on any crash, leak or sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
make -s fuzz-build
status=0
for bin in build/fuzz/*_fuzz; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin" _fuzz)
  work=$(mktemp -d)
  [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
  dict=()
  [ -f "tests/fuzz/$name.dict" ] && dict=("-dict=tests/fuzz/$name.dict")
  echo "fuzz: $name for ${secs}s"
  if ! "$bin" "$work" "${dict[@]}" -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix="build/fuzz/$name-" 2>build/fuzz/$name.log; then
    echo "fuzz: $name FAILED, see build/fuzz/$name.log"
    tail -40 "build/fuzz/$name.log"
    status=1
  else
    grep -E 'stat::number_of_executed_units|cov:' "build/fuzz/$name.log" | tail -2
  fi
  rm -rf "$work"
done
exit $status
