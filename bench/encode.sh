#!/usr/bin/env bash
# encode.sh: Parquet encode throughput, sluice vs DuckDB, on the same 12-column table, one run,
# each with 1 and 2 threads.
#
#   bench/encode.sh                 # 10M rows, 3 runs per codec, all five codecs
#   ROWS=1000000 REPS=1 CODECS=snappy,zstd bench/encode.sh
#
# Environment:
#   ROWS         rows in the table (default 10000000)
#   REPS         timed runs per codec and thread count; medians are reported (default 3)
#   CODECS       comma-separated subset of none,snappy,zstd,lz4_raw,gzip (default: all)
#   VERIFY_ROWS  rows for the equality check run first (default 100000; 0 skips it)
#   BENCH_DIR    where the Parquet files go (default: a fresh directory on /dev/shm, else
#                $TMPDIR or /tmp); files are deleted after each run
#   SKIP_BUILD=1 use build/release/libsluice.a as it is
#
# Steps: build libsluice (release) and bench/encode_bench.c against it; write the table with
# every codec at VERIFY_ROWS rows, with 1 and 2 writer threads, check that both thread counts
# give byte-identical files and have DuckDB check that each holds exactly its own copy of the
# table (so both writers encode identical data); then time both, each with 1 and 2 threads,
# alternating one sluice run and one DuckDB run (duckdb_encode.mjs --sluice) so that load from
# other jobs on a shared machine hits both alike; print the comparison tables.
# See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS=${ROWS:-10000000}
REPS=${REPS:-3}
CODECS=${CODECS:-none,snappy,zstd,lz4_raw,gzip}
VERIFY_ROWS=${VERIFY_ROWS:-100000}

mkdir -p build/bench
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  # Only the library target: the benchmark needs nothing else, and a half-finished CLI or test
  # file elsewhere in the tree must not stop it. If the library itself does not build (someone's
  # work in progress), say so and use the last good build/release/libsluice.a.
  if ! { cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build build/release --target sluice_lib -j "$(nproc)" >build/bench/lib.log 2>&1; }; then
    [ -f build/release/libsluice.a ] || { cat build/bench/lib.log >&2; exit 1; }
    echo "== WARNING: libsluice does not build now (see build/bench/lib.log); benchmarking" \
      "the last good build/release/libsluice.a, of $(date -u -r build/release/libsluice.a '+%F %H:%M UTC')"
  fi
fi
gcc -std=gnu17 -O2 -Wall -Wextra -Werror -Wshadow -Wconversion -Wno-sign-conversion \
  -Iinclude -Isrc bench/encode_bench.c build/release/libsluice.a \
  -lsnappy -lzstd -llz4 -lz -lm -lpthread -o build/bench/encode_bench

if [ ! -d tests/readers/node_modules/@duckdb/node-api ]; then
  echo "encode.sh: DuckDB for node is missing; run scripts/deps.sh (or make bench)" >&2
  exit 1
fi

tmp_dir=""
if [ -n "${BENCH_DIR:-}" ]; then
  dir=$BENCH_DIR
  mkdir -p "$dir"
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
  dir=$(mktemp -d /dev/shm/sluice-bench.XXXXXX)
  tmp_dir=$dir
else
  dir=$(mktemp -d)
  tmp_dir=$dir
fi
log=$(mktemp)
trap 'rm -rf ${tmp_dir:+"$tmp_dir"} "$log"' EXIT

echo "== sluice encode benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores" \
  "($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(uname -sr)"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== ROWS=$ROWS REPS=$REPS CODECS=$CODECS, files in $dir; load average $load0"
if awk -v n="$(nproc)" '{ exit !($1 > n / 2) }' /proc/loadavg; then
  echo "== warning: the machine is busy (load $load0 on $(nproc) cores): wall-clock figures will be" \
    "noisy; the MB/cpu-s columns hold up better"
fi

if [ "$VERIFY_ROWS" != 0 ]; then
  echo "== equality check: $VERIFY_ROWS rows written by sluice with each codec, read back by DuckDB"
  build/bench/encode_bench --rows "$VERIFY_ROWS" --reps 1 --codec "$CODECS" --threads 1,2 \
    --dir "$dir" --keep >/dev/null
  files=()
  IFS=, read -ra cs <<<"$CODECS"
  for c in "${cs[@]}"; do
    if ! cmp -s "$dir/sluice_1t_$c.parquet" "$dir/sluice_2t_$c.parquet"; then
      echo "encode.sh: sluice wrote different $c files with 1 and 2 threads" >&2
      exit 1
    fi
    files+=("$dir/sluice_1t_$c.parquet")
  done
  echo "sluice files with 1 and 2 threads: byte-identical"
  node bench/duckdb_encode.mjs --rows "$VERIFY_ROWS" --verify "${files[@]}"
  rm -f "$dir"/sluice_*.parquet
fi

echo
echo "== timing: sluice (sl_pq_opts.threads = 1, 2) and DuckDB (SET threads = 1, 2), run by run"
node bench/duckdb_encode.mjs --rows "$ROWS" --reps "$REPS" --codec "$CODECS" --threads 1,2 \
  --dir "$dir" --sluice build/bench/encode_bench | tee "$log"

echo
echo "== summary: $ROWS rows, median of $REPS; MB = 10^6 bytes of raw in-memory data. x = speed"
echo "== of sluice / DuckDB with the same thread count: median over the $REPS back-to-back pairs"
echo "== of runs (> 1: sluice faster). Machine: $(nproc) cores."
awk -F'\t' -v codecs="$CODECS" '
  $1 == "result" {
    key = $2 SUBSEP $3
    mbs[key] = $5 / 1e6 / $6
    cpu[key] = $5 / 1e6 / $10
    size[key] = $9
    raw[$2] = $5
  }
  $1 == "pair" { pair[$2, $3] = $4 }
  END {
    r = raw["sluice-1t"]
    if (r != raw["sluice-2t"] || r != raw["duckdb-1t"] || r != raw["duckdb-2t"]) {
      printf "raw sizes differ (sluice %s, DuckDB %s): the tables are not the same\n",
             r, raw["duckdb-1t"]
      exit 1
    }
    printf "raw size %.1f MB\n\n", r / 1e6
    n = split(codecs, cs, ",")
    printf "wall clock, MB/s:\n\n"
    printf "| codec | sluice 1t | DuckDB 1t | x 1t | sluice 2t | DuckDB 2t | x 2t |"
    printf " sluice file MB | DuckDB file MB |\n"
    printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    for (i = 1; i <= n; i++) {
      c = cs[i]
      d = sprintf("%.1f", size["duckdb-1t", c] / 1e6)
      if (size["duckdb-2t", c] != size["duckdb-1t", c])
        d = d sprintf(" (2t: %.1f)", size["duckdb-2t", c] / 1e6)
      printf "| %s | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx | %.1f | %s |\n", c,
             mbs["sluice-1t", c], mbs["duckdb-1t", c], pair["1t", c],
             mbs["sluice-2t", c], mbs["duckdb-2t", c], pair["2t", c],
             size["sluice-1t", c] / 1e6, d
    }
    printf "\nCPU time, MB per CPU-second (user + system of the whole process, all threads;"
    printf " less sensitive to other load on the machine):\n\n"
    printf "| codec | sluice 1t | DuckDB 1t | sluice/DuckDB 1t | sluice 2t | DuckDB 2t |"
    printf " sluice/DuckDB 2t |\n"
    printf "|---|---:|---:|---:|---:|---:|---:|\n"
    for (i = 1; i <= n; i++) {
      c = cs[i]
      printf "| %s | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx |\n", c,
             cpu["sluice-1t", c], cpu["duckdb-1t", c], cpu["sluice-1t", c] / cpu["duckdb-1t", c],
             cpu["sluice-2t", c], cpu["duckdb-2t", c], cpu["sluice-2t", c] / cpu["duckdb-2t", c]
    }
  }' "$log"
echo
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (at the start: $load0)"
