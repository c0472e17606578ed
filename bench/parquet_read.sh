#!/usr/bin/env bash
# bench/parquet_read.sh: reading a whole Parquet file, sluice's reader vs DuckDB and Polars, in
# one run on the same files. The file is the 2M-row, 12-column benchmark table
# (bench/gen_bench_data.c) converted by `sluice convert` (SNAPPY, v1 pages, dictionaries) and,
# for the second case, by DuckDB (ZSTD, v2 pages: DELTA_* and BYTE_STREAM_SPLIT encodings).
# sluice: bench/parquet_read_bench.c (every column into sl_batch columns, 65536-row batches,
# one thread: the reader is single-threaded); DuckDB: an aggregate over every column; Polars:
# readParquet. Each figure is the best of REPS runs timed inside the process.
# usage: bench/parquet_read.sh        (ROWS=2000000 REPS=3 THREADS="1 2")
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-2000000}
REPS=${REPS:-3}
THREADS=${THREADS:-"1 2"}
D=bench/data
mkdir -p "$D" build/bench
make -s build >/dev/null
gcc -O2 -std=gnu17 -Iinclude -Isrc bench/parquet_read_bench.c build/release/libsluice.a \
  -lzstd -llz4 -lz -lsnappy -lmicrohttpd -lcurl -lcrypto -lm -lpthread -o build/bench/parquet_read_bench
gcc -O2 -o "$D/gen" bench/gen_bench_data.c
[ -f "$D/bench-$ROWS.csv" ] || "$D/gen" "$ROWS" "$D/bench-$ROWS.csv" "$D/bench-$ROWS.jsonl"
sl="$D/pqread-$ROWS-sluice.parquet"
dk="$D/pqread-$ROWS-duckdb-v2.parquet"
[ -f "$sl" ] || build/release/sluice convert "$D/bench-$ROWS.csv" "$sl" --quiet
[ -f "$dk" ] || node tests/readers/query.mjs \
  "COPY (SELECT * FROM read_parquet('$sl')) TO '$dk' (FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION v2)" >/dev/null
printf '%-22s %-7s %3s %9s %12s %8s\n' file tool thr seconds rows/s vs_sluice
for f in "$sl" "$dk"; do
  read -r rows secs _ _ < <(build/bench/parquet_read_bench "$f" "$REPS")
  [ "$rows" = "$ROWS" ] || echo "WARNING: sluice read $rows rows" >&2
  s_rps=$(echo "$rows / $secs" | bc -l)
  name=$(basename "$f" .parquet | sed "s/pqread-$ROWS-//")
  printf '%-22s %-7s %3s %9.3f %12.0f %8s\n' "$name" sluice 1 "$secs" "$s_rps" "1.00"
  for t in $THREADS; do
    for tool in duckdb polars; do
      read -r prow psecs < <(POLARS_MAX_THREADS=$t node bench/parquet_read_peers.mjs "$tool" "$f" "$t" "$REPS")
      [ "$prow" = "$ROWS" ] || echo "WARNING: $tool read $prow rows" >&2
      ratio=$(echo "$psecs / $secs" | bc -l)
      printf '%-22s %-7s %3s %9.3f %12.0f %7.2fx\n' "$name" "$tool" "$t" "$psecs" "$(echo "$prow / $psecs" | bc -l)" "$ratio"
    done
  done
done
echo "vs_sluice = peer seconds / sluice seconds (above 1: sluice faster)"
