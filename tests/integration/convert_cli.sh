#!/usr/bin/env bash
# sluice convert end to end: formats, inference and --schema, compression of the input,
# stdin/stdout, error policies (fail / skip / rejects) with line and column in the messages,
# thread-count independence, exit codes, the progress bar on a terminal, and files checked by
# DuckDB. Each check prints "ok - ..." or "not ok - ..."; the script fails if any check fails.
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
Q() { node "$SL_SRC/tests/readers/query.mjs" "$1"; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
n=0
ok() { n=$((n + 1)); echo "ok - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok - $1"; }
check() { # description, command...
  local d=$1
  shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}
eq() { [ "$1" = "$2" ] || { echo "    expected: $2"; echo "    got:      $1"; return 1; }; }
contains() { grep -qF -- "$2" <<<"$1" || { echo "    '$2' not in: $1"; return 1; }; }

# ---- a small typed CSV ----
cat >"$T/a.csv" <<'EOF'
id,name,price,when,day,ok,note
1,apple,1.50,2024-01-02T03:04:05Z,2024-01-02,true,"has, comma"
2,"pear ""green""",2.25,2024-01-02T03:04:05.123+02:00,2024-02-29,false,
3,,0,2023-12-31 23:59:59,2023-12-31,true,"multi
line"
EOF
"$SLUICE" convert "$T/a.csv" "$T/a.parquet" --quiet
check "csv -> parquet exits 0" [ $? -eq 0 ]
out=$(Q "SELECT count(*) n, sum(id) s, max(price) p FROM '$T/a.parquet'")
check "csv values read by DuckDB" eq "$out" '{"n":"3","s":"6","p":2.25}'
out=$(Q "SELECT name, note FROM '$T/a.parquet' ORDER BY id")
check "quoted fields, doubled quotes, empty = null, quoted newline" eq "$out" \
  "$(printf '%s\n%s\n%s' '{"name":"apple","note":"has, comma"}' '{"name":"pear \"green\"","note":null}' '{"name":null,"note":"multi\nline"}')"
out=$(Q "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '$T/a.parquet')")
check "inferred types" eq "$(echo "$out" | tr -d '\n')" \
  '{"column_name":"id","column_type":"BIGINT"}{"column_name":"name","column_type":"VARCHAR"}{"column_name":"price","column_type":"DOUBLE"}{"column_name":"when","column_type":"TIMESTAMP WITH TIME ZONE"}{"column_name":"day","column_type":"DATE"}{"column_name":"ok","column_type":"BOOLEAN"}{"column_name":"note","column_type":"VARCHAR"}'

# ---- schema pinning ----
cat >"$T/schema.json" <<'EOF'
{"fields":[{"name":"id","type":"int32","nullable":false},{"name":"name","type":"string"},
 {"name":"price","type":"decimal(6,2)"},{"name":"when","type":"timestamp[ms, UTC]"},
 {"name":"day","type":"date"},{"name":"ok","type":"bool"},{"name":"note","type":"string"}]}
EOF
"$SLUICE" convert "$T/a.csv" "$T/s.parquet" --schema "$T/schema.json" --quiet
out=$(Q "SELECT column_type FROM (DESCRIBE SELECT * FROM '$T/s.parquet')" | tr -d '\n')
check "--schema pins types" eq "$out" \
  '{"column_type":"INTEGER"}{"column_type":"VARCHAR"}{"column_type":"DECIMAL(6,2)"}{"column_type":"TIMESTAMP WITH TIME ZONE"}{"column_type":"DATE"}{"column_type":"BOOLEAN"}{"column_type":"VARCHAR"}'
out=$(Q "SELECT epoch_ms(\"when\") ms FROM '$T/s.parquet' ORDER BY id" | tr -d '\n')
check "timestamps with offsets become UTC" eq "$out" '{"ms":"1704164645000"}{"ms":"1704157445123"}{"ms":"1704067199000"}'

# ---- JSON Lines ----
cat >"$T/e.jsonl" <<'EOF'
{"id":1,"tags":["a","b"],"v":1.5,"s":"caf\u00e9","obj":{"k":1}}
{"id":2,"v":null,"s":"\ud83d\ude00","extra":true}

{"s":"x","id":3,"tags":[],"v":2}
EOF
"$SLUICE" convert "$T/e.jsonl" "$T/e.parquet" --quiet
out=$(Q "SELECT id, s, CAST(tags AS VARCHAR) t FROM '$T/e.parquet' ORDER BY id" | tr -d '\n')
check "jsonl: escapes, surrogate pairs, nested as json, key order, blank line" eq "$out" \
  '{"id":"1","s":"café","t":"[\"a\",\"b\"]"}{"id":"2","s":"😀","t":null}{"id":"3","s":"x","t":"[]"}'

echo '{"fields":[{"name":"id","type":"int64"},{"name":"s","type":"string"}]}' >"$T/es.json"
"$SLUICE" convert "$T/e.jsonl" "$T/keep.parquet" --schema "$T/es.json" --unknown-fields keep --quiet
check "--unknown-fields keep: unknown keys in _extra" eq \
  "$(Q "SELECT id, CAST(_extra AS VARCHAR) x FROM '$T/keep.parquet' ORDER BY id" | tr -d '\n')" \
  '{"id":"1","x":"{\"tags\":[\"a\",\"b\"],\"v\":1.5,\"obj\":{\"k\":1}}"}{"id":"2","x":"{\"v\":null,\"extra\":true}"}{"id":"3","x":"{\"tags\":[],\"v\":2}"}'
err=$("$SLUICE" convert "$T/e.jsonl" "$T/rej2.parquet" --schema "$T/es.json" --unknown-fields reject --on-error skip 2>&1)
check "--unknown-fields reject: rows with unknown keys rejected" contains "$err" "0 rows written, 3 rejected"
"$SLUICE" convert "$T/e.jsonl" "$T/ign.parquet" --schema "$T/es.json" --quiet
check "--unknown-fields ignore (default)" eq "$(Q "SELECT count(*) n FROM '$T/ign.parquet'")" '{"n":"3"}'

# ---- compressed input, stdin, stdout, text outputs ----
gzip -c "$T/a.csv" >"$T/a.csv.gz"
zstd -q -c "$T/a.csv" >"$T/a.csv.zst"
"$SLUICE" convert "$T/a.csv.gz" "$T/gz.parquet" --quiet
check "gzip input" eq "$(Q "SELECT count(*) n FROM '$T/gz.parquet'")" '{"n":"3"}'
if [ -s "$T/a.csv.zst" ]; then
  "$SLUICE" convert "$T/a.csv.zst" "$T/zst.parquet" --quiet
  check "zstd input" eq "$(Q "SELECT count(*) n FROM '$T/zst.parquet'")" '{"n":"3"}'
fi
head -c 40 "$T/a.csv.gz" >"$T/trunc.csv.gz"
err=$("$SLUICE" convert "$T/trunc.csv.gz" "$T/trunc.parquet" 2>&1)
rc=$?
check "truncated gzip: exit 1" [ $rc -eq 1 ]
check "truncated gzip: message" contains "$err" "truncated"
check "truncated gzip: no output left" [ ! -e "$T/trunc.parquet" ]
"$SLUICE" convert - "$T/stdin.parquet" --format csv --quiet <"$T/a.csv"
check "stdin input" eq "$(Q "SELECT count(*) n FROM '$T/stdin.parquet'")" '{"n":"3"}'
out=$("$SLUICE" convert "$T/a.csv" - --to ndjson --quiet | head -1)
check "ndjson to stdout" eq "$out" '{"id":1,"name":"apple","price":1.5,"when":"2024-01-02T03:04:05Z","day":"2024-01-02","ok":true,"note":"has, comma"}'
"$SLUICE" convert "$T/a.csv" "$T/back.csv" --quiet
"$SLUICE" convert "$T/back.csv" "$T/back.parquet" --quiet
check "csv output reads back to the same table" eq \
  "$(Q "SELECT * FROM '$T/back.parquet' EXCEPT SELECT * FROM '$T/a.parquet'")" ""

printf '\xef\xbb\xbf"a","b"\r\n1,x\r\n2,y' >"$T/bom.csv"
"$SLUICE" convert "$T/bom.csv" "$T/bom.parquet" --quiet
check "UTF-8 BOM, CRLF, no final newline" eq "$(Q "SELECT a, b FROM '$T/bom.parquet' ORDER BY a" | tr -d '\n')" \
  '{"a":"1","b":"x"}{"a":"2","b":"y"}'
printf 'a;b\n1;2\n' >"$T/semi.csv"
"$SLUICE" convert "$T/semi.csv" "$T/semi.parquet" --delimiter ';' --quiet
check "--delimiter" eq "$(Q "SELECT a + b s FROM '$T/semi.parquet'")" '{"s":"3"}'
printf '1,NA\n2,3\n' >"$T/nohdr.csv"
"$SLUICE" convert "$T/nohdr.csv" "$T/nohdr.parquet" --no-header --null NA --quiet
check "--no-header names columns, --null token" eq "$(Q "SELECT column1, column2 FROM '$T/nohdr.parquet' ORDER BY 1" | tr -d '\n')" \
  '{"column1":"1","column2":null}{"column1":"2","column2":"3"}'

# ---- errors and policies ----
cat >"$T/bad.csv" <<'EOF'
id,amount
1,10
2,abc
3,30
4,99999999999999999999
5,50
EOF
err=$("$SLUICE" convert "$T/bad.csv" "$T/bad.parquet" --schema <(echo '{"fields":[{"name":"id","type":"int64"},{"name":"amount","type":"int64"}]}') 2>&1)
rc=$?
check "bad row, --on-error fail: exit 1" [ $rc -eq 1 ]
check "bad row: message names line 3 and column amount" contains "$err" "line 3, column amount"
check "bad row: hint" contains "$err" "hint:"
check "bad row: no output left" [ ! -e "$T/bad.parquet" ]
check "bad row: no temp file left" [ -z "$(ls "$T" | grep sluice-tmp)" ]
err=$("$SLUICE" convert "$T/bad.csv" "$T/skip.parquet" --on-error skip --schema <(echo '{"fields":[{"name":"id","type":"int64"},{"name":"amount","type":"int64"}]}') 2>&1)
check "skip: exit 0" [ $? -eq 0 ]
check "skip: summary counts" contains "$err" "3 rows written, 2 rejected"
check "skip: ids kept" eq "$(Q "SELECT list(id ORDER BY id) l FROM '$T/skip.parquet'")" '{"l":["1","3","5"]}'
"$SLUICE" convert "$T/bad.csv" "$T/rej.parquet" --rejects "$T/rej.ndjson" --quiet --schema <(echo '{"fields":[{"name":"id","type":"int64"},{"name":"amount","type":"int64"}]}')
check "rejects: exit 0" [ $? -eq 0 ]
check "rejects: two lines" eq "$(wc -l <"$T/rej.ndjson" | tr -d ' ')" 2
first=$(head -1 "$T/rej.ndjson")
check "rejects: line, field, code, raw" node -e '
  const r = JSON.parse(process.argv[1]);
  if (r.line !== 3 || r.field !== "amount" || r.code !== "type" || r.raw !== "2,abc") { console.log(r); process.exit(1); }' "$first"
second=$(sed -n 2p "$T/rej.ndjson")
check "rejects: out of range" contains "$second" '"code":"range"'
printf 'a,b\n1,2\n3\n4,5,6\n' >"$T/ragged.csv"
err=$("$SLUICE" convert "$T/ragged.csv" "$T/ragged.parquet" --on-error skip 2>&1)
check "ragged rows are rejected with their line" contains "$err" "line 3"
printf 'a\n"unterminated\n' >"$T/unterm.csv"
err=$("$SLUICE" convert "$T/unterm.csv" "$T/unterm.parquet" 2>&1)
check "unterminated quote: exit 1" [ $? -eq 1 ]
check "unterminated quote: message" contains "$err" "line 2"
printf '{"a":1}\n{"a":2,\n{"a":3}\n' >"$T/bad.jsonl"
err=$("$SLUICE" convert "$T/bad.jsonl" "$T/badj.parquet" --on-error skip 2>&1)
check "jsonl syntax error rejected with its line" contains "$err" "line 2"
check "jsonl: good rows kept" eq "$(Q "SELECT count(*) n FROM '$T/badj.parquet'")" '{"n":"2"}'

# ---- usage errors ----
"$SLUICE" convert >/dev/null 2>&1
check "no arguments: exit 2" [ $? -eq 2 ]
"$SLUICE" convert a b --compression brotli >/dev/null 2>&1
check "unknown codec: exit 2" [ $? -eq 2 ]
err=$("$SLUICE" convert "$T/missing.csv" "$T/x.parquet" 2>&1)
check "missing input: exit 1 with the path" contains "$err" "missing.csv"
err=$("$SLUICE" convert "$T/a.csv" "$T/a.parquet" --schema "$T/nope.json" 2>&1)
check "missing schema file reported" contains "$err" "nope.json"
echo '{"fields":[{"name":"x","type":"int128"}]}' >"$T/badschema.json"
err=$("$SLUICE" convert "$T/a.csv" "$T/a2.parquet" --schema "$T/badschema.json" 2>&1)
check "bad schema type reported" contains "$err" "int128"

# ---- threads: identical output; progress bar on a terminal ----
gcc -O2 -o "$T/gen" "$SL_SRC/bench/gen_bench_data.c"
"$T/gen" 200000 "$T/big.csv" "$T/big.jsonl"
for f in csv jsonl; do
  "$SLUICE" convert "$T/big.$f" "$T/t1.parquet" --threads 1 --quiet --row-group-size 8M
  "$SLUICE" convert "$T/big.$f" "$T/t3.parquet" --threads 3 --quiet --row-group-size 8M
  check "$f: 1 and 3 threads give identical files" cmp -s "$T/t1.parquet" "$T/t3.parquet"
  check "$f: all rows" eq "$(Q "SELECT count(*) n, count(DISTINCT id) d FROM '$T/t3.parquet'")" '{"n":"200000","d":"200000"}'
done
out=$(script -qec "$SLUICE convert $T/big.csv $T/tty.parquet --threads 2" /dev/null | tr '\r' '\n')
check "progress bar and summary on a terminal" contains "$out" "rows/s"
out=$("$SLUICE" convert "$T/big.csv" "$T/pipe.parquet" 2>&1 | tr '\r' '\n' | grep -c 'ETA' || true)
check "no progress bar in a pipe" eq "$out" 0

echo "$((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
