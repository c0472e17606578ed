#!/usr/bin/env bash
# sluice's Parquet reader on files from other writers. tests/readers/parquet_gen.mjs writes one
# table (every flat type, nulls, extremes, unicode) with DuckDB (5 codecs x v1/v2 pages: PLAIN,
# dictionary, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, BYTE_STREAM_SPLIT; 1000-row row
# groups), polars (5 codecs) and parquet-rs (dictionary, PLAIN, v2 DELTA_BYTE_ARRAY /
# DELTA_LENGTH_BYTE_ARRAY / DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT, RLE booleans, small pages).
# For each: `sluice convert F copy.parquet`, then DuckDB compares F and the copy row by row,
# value by value (tests/readers/parquet_compare.mjs); NDJSON and CSV outputs are counted.
# Files we must refuse (BROTLI, LIST/STRUCT) must fail with a message naming the feature.
# Then model mapping (--schema) with per-row rejects, and error cases.
set -euo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
S="$SL_BIN/sluice"
R="$SL_SRC/tests/readers"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ROWS=5000
node "$R/parquet_gen.mjs" "$T/in" "$ROWS" >"$T/list"
fails=0
fail() {
  echo "FAIL $*"
  fails=$((fails + 1))
}
n=0
while read -r f expect; do
  in="$T/in/$f"
  if [ "$expect" = ok ]; then
    n=$((n + 1))
    if ! "$S" convert "$in" "$T/copy.parquet" --quiet 2>"$T/err"; then
      fail "$f: convert: $(cat "$T/err")"
      continue
    fi
    node "$R/parquet_compare.mjs" "$in" "$T/copy.parquet" || fails=$((fails + 1))
    "$S" convert "$in" "$T/out.ndjson" --quiet --threads 1
    [ "$(wc -l <"$T/out.ndjson")" = "$ROWS" ] || fail "$f: NDJSON has $(wc -l <"$T/out.ndjson") lines"
    "$S" convert "$in" "$T/out.csv" --quiet
    node -e 'const fs=require("fs");JSON.parse("["+fs.readFileSync(process.argv[1],"utf8").trim().split("\n").join(",")+"]")' "$T/out.ndjson" ||
      fail "$f: NDJSON output is not valid JSON"
  else
    if "$S" convert "$in" "$T/out.ndjson" --quiet 2>"$T/err"; then
      fail "$f: read although it should be refused"
    elif ! grep -Eq "not supported|nested types" "$T/err"; then
      fail "$f: unexpected message: $(cat "$T/err")"
    else
      echo "ok   $f refused: $(head -1 "$T/err")"
    fi
  fi
done <"$T/list"
[ "$n" -ge 20 ] || fail "only $n files generated"

# ---- model mapping ----------------------------------------------------------------------------
src="$T/in/duck_zstd_v2.parquet"
cat >"$T/model.json" <<'EOF'
{"fields":[
  {"name":"id","type":"int64","nullable":false},
  {"name":"c_i32","type":"int64"},
  {"name":"c_f32","type":"double"},
  {"name":"c_ts_ms","type":"timestamp[us]"},
  {"name":"c_ts_ns","type":"timestamp[us]"},
  {"name":"c_dec4","type":"decimal(3,1)"},
  {"name":"c_dec9","type":"decimal(12,2)"},
  {"name":"c_u64","type":"decimal(20,0)"},
  {"name":"c_str_dict","type":"binary"},
  {"name":"c_missing","type":"string"}]}
EOF
"$S" convert "$src" "$T/mapped.parquet" --schema "$T/model.json" --rejects "$T/rej.ndjson" --quiet
q() { node "$R/query.mjs" "$1"; }
want_rej=$(q "SELECT count(*)::INT AS n FROM '$src' WHERE c_dec4 IS NOT NULL AND (c_dec4 * 100)::INT % 10 <> 0" | tr -dc 0-9)
got_rej=$(wc -l <"$T/rej.ndjson")
[ "$want_rej" = "$got_rej" ] || fail "model: $got_rej rejects, want $want_rej"
head -1 "$T/rej.ndjson" | grep -q '"line":2,"column":null,"field":"c_dec4","code":"range"' ||
  fail "model: first reject is $(head -1 "$T/rej.ndjson")"
got_rows=$(q "SELECT count(*)::INT AS n FROM '$T/mapped.parquet'" | tr -dc 0-9)
[ "$got_rows" = $((ROWS - want_rej)) ] || fail "model: $got_rows rows written"
diff=$(q "SELECT count(*)::INT AS n FROM '$T/mapped.parquet' m JOIN '$src' o USING (id)
  WHERE m.c_i32 IS DISTINCT FROM o.c_i32 OR m.c_f32 IS DISTINCT FROM o.c_f32::DOUBLE
     OR m.c_ts_ms IS DISTINCT FROM o.c_ts_ms::TIMESTAMP OR m.c_ts_ns IS DISTINCT FROM o.c_ts_ns::TIMESTAMP
     OR m.c_dec4 IS DISTINCT FROM o.c_dec4 OR m.c_dec9 IS DISTINCT FROM o.c_dec9
     OR m.c_u64::VARCHAR IS DISTINCT FROM o.c_u64::VARCHAR OR m.c_str_dict IS DISTINCT FROM o.c_str_dict::BLOB
     OR m.c_missing IS NOT NULL" | tr -dc 0-9)
[ "$diff" = 0 ] || fail "model: $diff rows differ from the source"
types=$(q "SELECT string_agg(column_type, ',') AS t FROM (DESCRIBE SELECT * FROM '$T/mapped.parquet')")
echo "$types" | grep -q 'BIGINT,BIGINT,DOUBLE,TIMESTAMP,TIMESTAMP,DECIMAL(3,1),DECIMAL(12,2),DECIMAL(20,0),BLOB,VARCHAR' ||
  fail "model: types $types"
echo "ok   model mapping: $got_rows rows, $got_rej rejects"

# ---- errors ---------------------------------------------------------------------------------------
expect_fail() { # message-regex file args...
  local re=$1
  shift
  if "$S" convert "$@" --quiet 2>"$T/err"; then
    fail "convert $* succeeded"
  elif ! grep -Eq "$re" "$T/err"; then
    fail "convert $*: want /$re/, got: $(cat "$T/err")"
  else
    echo "ok   error: $(head -1 "$T/err")"
  fi
}
echo '{"fields":[{"name":"nope","type":"int64","nullable":false}]}' >"$T/m2.json"
expect_fail "missing required column 'nope'" "$src" "$T/o.parquet" --schema "$T/m2.json"
echo '{"fields":[{"name":"c_str_dict","type":"int64"}]}' >"$T/m3.json"
expect_fail "column 'c_str_dict': the file has string .*the model wants int64" "$src" "$T/o.parquet" --schema "$T/m3.json"
echo '{"fields":[{"name":"c_dec4","type":"decimal(3,1)","nullable":true}]}' >"$T/m4.json"
expect_fail "line 2, column c_dec4: value out of range: value would lose precision" "$src" "$T/o.parquet" --schema "$T/m4.json"
head -c 10000 "$src" >"$T/trunc.parquet"
expect_fail "truncated Parquet file" "$T/trunc.parquet" "$T/o.ndjson"
{ head -c 4 "$src"; head -c 3000 /dev/zero; tail -c 12000 "$src"; } >"$T/spliced.parquet"
expect_fail "column '.*' \(row group [0-9]+, |corrupt footer" "$T/spliced.parquet" "$T/o.ndjson"
[ ! -e "$T/o.ndjson" ] || fail "output left behind after a failure"
# the copy of our own output reads back identically too (writer -> reader -> writer)
"$S" convert "$T/mapped.parquet" "$T/again.parquet" --quiet
node "$R/parquet_compare.mjs" "$T/mapped.parquet" "$T/again.parquet" || fails=$((fails + 1))

if [ "$fails" -gt 0 ]; then
  echo "parquet_read: $fails failures"
  exit 1
fi
echo "parquet_read: $n files from other writers read identically; model mapping and errors ok"
