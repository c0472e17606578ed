#!/usr/bin/env bash
# Round trip through independent readers: pq_gen writes every case (all types, nulls, extremes,
# every codec, v1/v2 pages, dictionary fallback, 0/1 rows, many row groups ...), then DuckDB,
# Polars, parquet-wasm (parquet-rs) and hyparquet must each return exactly the expected values
# and types, and `sluice inspect` must read every footer (text and JSON).
set -euo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$SL_BIN/pq_gen" "$out"
for f in "$out"/*.parquet; do
  "$SL_BIN/sluice" inspect "$f" >/dev/null
  "$SL_BIN/sluice" inspect --json --pages "$f" >"$f.inspect.json"
  node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$f.inspect.json"
done
node "$SL_SRC/tests/readers/check.mjs" --batch "$out/list.txt"
node "$SL_SRC/tests/readers/meta_check.mjs" "$out"
