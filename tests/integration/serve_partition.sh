#!/usr/bin/env bash
# Hive partitioning of sluice serve's Parquet output: a model with partition_by splits each
# flushed unit into one file per distinct value combination, under col=value directories
# (escaped like Hive; null and "" -> __HIVE_DEFAULT_PARTITION__). Checks the layout, the
# contents through DuckDB, that a crash before the flush replays into the same keys (no
# duplicates), and the errors for a bad partition column.
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
T=$(mktemp -d)
SPID=
trap '[ -n "$SPID" ] && kill -KILL $SPID 2>/dev/null; rm -rf "$T"' EXIT
. "$SL_SRC/tests/support/check_lib.sh"
Q() { node "$SL_SRC/tests/readers/query.mjs" "$1"; }
. "$SL_SRC/tests/support/serve_lib.sh"

D=$T/data
mkdir -p "$D/models"
cat >"$D/models/geo.json" <<'JSON'
{"fields":[{"name":"id","type":"int64","nullable":false},{"name":"country","type":"string"},
 {"name":"day","type":"date"},{"name":"amount","type":"double"}],
 "partition_by":["country","day"]}
JSON
cat >"$D/models/badpart.json" <<'JSON'
{"fields":[{"name":"id","type":"int64"},{"name":"amount","type":"double"}],"partition_by":["amount"]}
JSON
cat >"$T/a.csv" <<'CSV'
id,country,day,amount
1,DE,2026-11-01,1.5
2,US,2026-11-02,2.5
3,DE,2026-11-01,3.5
4,a/b=c,2026-11-01,4.5
5,,2026-11-03,5.5
6,US,2026-11-02,6.5
7,DE,,7.5
CSV
start_server "$D" --flush-interval 0.3 || exit 1
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/a.csv" "$URL/v1/streams/geo/ingest?model=geo")
check "ingest with a partitioned model -> 200 ($r)" grep -q ' 200$' <<<"$r"
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary $'id,amount\n1,2\n' "$URL/v1/streams/bp/ingest?model=badpart")
check "partition by a double column -> 422 ($r)" grep -q ' 422$' <<<"$r"
check "... naming the column and what to do" grep -q "partition column 'amount'.*partition by a string" <<<"$r"
check "... and no definition kept for that stream" [ ! -e "$D/streams/bp.schema.json" ]
sleep 1
stop_server
check "clean stop" [ $? -eq 0 ]
O=$D/out/geo
files=$(cd "$O" && find . -name 'part-*.parquet' | sed -E 's|^\./dt=[0-9-]+/||; s|/part-[0-9-]+\.parquet$||' | sort | tr '\n' ' ')
check "one file per partition, Hive-escaped ($files)" eq "$files" \
  "country=DE/day=2026-11-01 country=DE/day=__HIVE_DEFAULT_PARTITION__ country=US/day=2026-11-02 country=__HIVE_DEFAULT_PARTITION__/day=2026-11-03 country=a%2Fb%3Dc/day=2026-11-01 "
r=$(Q "SELECT count(*) AS n, sum(amount) AS s FROM read_parquet('$O/**/*.parquet', hive_partitioning=false)")
check "every row once (DuckDB: $r)" eq "$r" '{"n":"7","s":31.5}'
r=$(Q "SELECT string_agg(CAST(id AS VARCHAR), ',' ORDER BY id) AS ids FROM read_parquet('$O/dt=*/country=DE/day=2026-11-01/*.parquet', hive_partitioning=false)")
check "the DE/2026-11-01 file holds rows 1 and 3 ($r)" eq "$r" '{"ids":"1,3"}'
r=$(Q "SELECT count(*) AS n FROM read_parquet('$O/**/*.parquet', hive_partitioning=true) WHERE country = 'US' AND day = DATE '2026-11-02'")
check "DuckDB's Hive reading agrees ($r)" eq "$r" '{"n":"2"}'

# kill -9 before the flush: the replayed unit must land in the same keys, once
D2=$T/d2
mkdir -p "$D2/models"
cp "$D/models/geo.json" "$D2/models/"
start_server "$D2" --flush-interval 3600 || exit 1
for i in 1 2 3; do
  awk -v k="$i" 'NR == 1 {print; next} {$0 = $0; sub(/^[0-9]+/, ($1 + 0) + k * 100); print}' FS=, "$T/a.csv" >"$T/b$i.csv"
  curl -s -o /dev/null -H 'Content-Type: text/csv' --data-binary @"$T/b$i.csv" "$URL/v1/streams/geo/ingest?model=geo"
done
kill9_server
start_server "$D2" --flush-interval 0.2 || exit 1
sleep 1
stop_server
start_server "$D2" --flush-interval 0.2 || exit 1
stop_server
r=$(Q "SELECT count(*) AS n, count(DISTINCT id) AS d FROM read_parquet('$D2/out/geo/**/*.parquet', hive_partitioning=false)")
check "after kill -9 and two restarts: 21 rows, no duplicates ($r)" eq "$r" '{"n":"21","d":"21"}'
nf=$(find "$D2/out/geo" -name 'part-*.parquet' | wc -l)
check "one file per partition after the replay ($nf)" eq "$nf" 5
check "partition columns persisted with the stream" eq "$(cat "$D2/streams/geo.partition")" "country,day"

echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
