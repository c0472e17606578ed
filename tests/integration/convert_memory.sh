#!/usr/bin/env bash
# Bounded memory: converting a 1 GiB CSV and a 1 GiB JSON Lines file must peak under 256 MiB
# RSS (measured by GNU time on the release binary: sanitizers inflate memory), on 2 threads,
# and every row must arrive.
set -euo pipefail
: "${SL_SRC:?set by ctest}"
REL="$SL_SRC/build/release/sluice"
[ -x "$REL" ] || { echo "release build missing: run make build first"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
gcc -O2 -o "$T/gen" "$SL_SRC/bench/gen_bench_data.c"
# exactly 1 GiB of each format, less the last partial line; one format at a time so the
# test needs ~2.2 GB of free space in $TMPDIR, not 4
"$T/gen" 7600000 "$T/all.csv" /dev/null # ~1.09 GB of CSV
head -c 1073741824 "$T/all.csv" | sed '$d' >"$T/big.csv"
rm "$T/all.csv"
"$T/gen" 4200000 /dev/null "$T/all.jsonl" # ~1.09 GB of JSON Lines
head -c 1073741824 "$T/all.jsonl" | sed '$d' >"$T/big1g.jsonl"
rm "$T/all.jsonl"
limit_kb=$((256 * 1024))
status=0
for f in big.csv big1g.jsonl; do
  size=$(stat -c %s "$T/$f")
  /usr/bin/time -f "%M" -o "$T/rss" "$REL" convert "$T/$f" "$T/out.parquet" --threads 2 --quiet
  rss=$(cat "$T/rss")
  want=$(wc -l <"$T/$f")
  [ "$f" = big.csv ] && want=$((want - 1))
  got=$(node "$SL_SRC/tests/readers/query.mjs" "SELECT count(*) n FROM '$T/out.parquet'" | sed 's/[^0-9]//g')
  echo "$f: $((size / 1048576)) MiB in, peak RSS $((rss / 1024)) MiB (limit 256), rows $got of $want"
  rm -f "$T/out.parquet"
  if [ "$rss" -ge "$limit_kb" ] || [ "$got" != "$want" ]; then
    echo "not ok - $f"
    status=1
  else
    echo "ok - $f"
  fi
done
exit $status
