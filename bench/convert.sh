#!/usr/bin/env bash
# bench/convert.sh: CSV and JSON Lines -> Parquet (SNAPPY), sluice vs DuckDB vs Polars (and
# pandas reading only: Debian 12 has no Parquet engine for it), in one run on the same data,
# at 1 and 2 threads. Prints rows/s, MB/s, peak RSS and the ratio sluice / best peer.
#
# usage: bench/convert.sh            (ROWS=2000000 REPS=3 THREADS="1 2" FORMATS="csv jsonl")
# Each figure is the median of REPS runs; every run is its own process timed by GNU time.
# The dataset (bench/gen_bench_data.c: 12 columns of ints, doubles, bools, timestamps, dates,
# low- and high-cardinality strings, quoted text, nulls) is generated once into bench/data/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-2000000}
REPS=${REPS:-3}
THREADS=${THREADS:-"1 2"}
FORMATS=${FORMATS:-"csv jsonl"}
D=bench/data
mkdir -p "$D"
make -s build >/dev/null
[ -d tests/readers/node_modules ] || scripts/deps.sh
gcc -O2 -o "$D/gen" bench/gen_bench_data.c
if [ ! -f "$D/bench-$ROWS.csv" ] || [ ! -f "$D/bench-$ROWS.jsonl" ]; then
  echo "generating $ROWS rows ..."
  "$D/gen" "$ROWS" "$D/bench-$ROWS.csv" "$D/bench-$ROWS.jsonl"
fi
SLUICE=build/release/sluice
PY=/usr/bin/python3

# run LABEL CMD... -> prints "secs rss_kb" (median of REPS by time, its RSS), or "fail"
run() {
  local label=$1
  shift
  local results=()
  for ((i = 0; i < REPS; i++)); do
    rm -f "$D/out.parquet"
    if ! /usr/bin/time -f "%e %M" -o "$D/time" "$@" >"$D/stdout" 2>"$D/stderr"; then
      echo "fail"
      echo "  $label failed: $(tail -3 "$D/stderr")" >&2
      return
    fi
    results+=("$(cat "$D/time")")
  done
  printf '%s\n' "${results[@]}" | sort -n | sed -n "$(((REPS + 1) / 2))p"
}

printf '%-6s %-3s %-8s %8s %10s %8s %8s\n' format thr tool seconds rows/s MB/s RSS_MiB
summary=()
for fmt in $FORMATS; do
  in="$D/bench-$ROWS.$fmt"
  mb=$(echo "$(stat -c %s "$in") / 1000000" | bc -l)
  for t in $THREADS; do
    declare -A secs=() rss=()
    read -r secs[sluice] rss[sluice] < <(run sluice $SLUICE convert "$in" "$D/out.parquet" --threads "$t" --quiet)
    got=$(node tests/readers/query.mjs "SELECT count(*) n FROM '$D/out.parquet'" | tr -dc 0-9)
    [ "$got" = "$ROWS" ] || echo "  WARNING: sluice wrote $got rows, expected $ROWS" >&2
    read -r secs[duckdb] rss[duckdb] < <(run duckdb node bench/convert_peers.mjs duckdb "$fmt" "$in" "$D/out.parquet" "$t")
    read -r secs[polars] rss[polars] < <(POLARS_MAX_THREADS=$t run polars node bench/convert_peers.mjs polars "$fmt" "$in" "$D/out.parquet" "$t")
    if [ "$t" = 1 ]; then
      if [ "$fmt" = csv ]; then
        read -r secs[pandas] rss[pandas] < <(run pandas $PY -c "import sys, pandas as pd; pd.read_csv(sys.argv[1])" "$in")
      else
        read -r secs[pandas] rss[pandas] < <(run pandas $PY -c "import sys, pandas as pd; pd.read_json(sys.argv[1], lines=True)" "$in")
      fi
    fi
    best_peer="" best_rate=0
    for tool in sluice duckdb polars pandas; do
      s=${secs[$tool]:-}
      [ -n "$s" ] && [ "$s" != fail ] || continue
      rate=$(echo "$ROWS / $s" | bc -l)
      printf '%-6s %-3s %-8s %8.2f %10.0f %8.1f %8.0f%s\n' "$fmt" "$t" "$tool" "$s" "$rate" \
        "$(echo "$mb / $s" | bc -l)" "$(echo "${rss[$tool]} / 1024" | bc -l)" \
        "$([ $tool = pandas ] && echo '  (read only)')"
      if [ "$tool" = duckdb ] || [ "$tool" = polars ]; then
        if (($(echo "$rate > $best_rate" | bc -l))); then
          best_rate=$rate
          best_peer=$tool
        fi
      fi
    done
    if [ -n "$best_peer" ] && [ "${secs[sluice]}" != fail ]; then
      ratio=$(echo "($ROWS / ${secs[sluice]}) / $best_rate" | bc -l)
      summary+=("$(printf '%-6s %s threads: sluice %.2fx %s (best peer); RSS %.0f vs %.0f MiB' "$fmt" "$t" "$ratio" "$best_peer" \
        "$(echo "${rss[sluice]} / 1024" | bc -l)" "$(echo "${rss[$best_peer]} / 1024" | bc -l)")")
    fi
    unset secs rss
  done
done
echo
printf '%s\n' "${summary[@]}"
echo "($(nproc) cores, $ROWS rows, median of $REPS, $(date -u +%Y-%m-%d))"
