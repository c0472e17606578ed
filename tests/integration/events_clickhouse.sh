#!/usr/bin/env bash
# ClickHouse unit sink over HTTP (seed 001) against the Debian ClickHouse (18.16) started here
# (tests/services/clickhouse.sh): events and a CSV stream inserted as RowBinary into tables
# sluice creates (ReplacingMergeTree), a stream of every type read back exact, values a
# ClickHouse Date/DateTime cannot hold and a table of other column types refused with a clear
# error (nothing wrapped), the same event_id twice -> one row (FINAL), ClickHouse
# stopped while events are acknowledged then restarted (every event once, no re-insert thanks to
# the range marker), and sluice killed with SIGKILL during a load (every acknowledged event once
# with FINAL). Each check prints "ok - ..." or "not ok - ...".
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
command -v clickhouse-server >/dev/null || { echo "ok - SKIP: clickhouse-server is not installed (scripts/deps.sh installs it)"; exit 0; }
T=$(mktemp -d)
chmod 0755 "$T"
SPID=
CH_PID=
LPID=
trap '[ -n "$SPID" ] && kill -KILL $SPID 2>/dev/null; [ -n "$LPID" ] && kill -KILL $LPID 2>/dev/null; [ -n "$CH_PID" ] && { kill -TERM $CH_PID; wait $CH_PID; } 2>/dev/null; rm -rf "$T"' EXIT
fails=0
n=0
ok() { n=$((n + 1)); echo "ok - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
eq() { [ "$1" = "$2" ] || { echo "    expected: $2"; echo "    got:      $1"; return 1; }; }
contains() { grep -qF -- "$2" <<<"$1" || { echo "    '$2' not in: $1"; return 1; }; }
. "$SL_SRC/tests/support/serve_lib.sh"
. "$SL_SRC/tests/services/clickhouse.sh"

ch_start "$T" || exit 1
check "ClickHouse is up ($(ch_sql 'SELECT version()'))" true
export CLICKHOUSE_URL=$CH_URL
# a range-marker table as sluice made it before origins: the origin column is added
ch_sql "CREATE TABLE sluice_units (stream String, row0 UInt64, row1 UInt64, committed_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY (stream, row0)"
# and a data table as an older sluice made it (ORDER BY _sluice_seq alone), with a row of an
# older data directory at sequence number 0
ch_sql "CREATE TABLE legacy (_sluice_seq UInt64, id Nullable(Int64)) ENGINE = ReplacingMergeTree ORDER BY _sluice_seq"
ch_sql "INSERT INTO legacy VALUES (0, 100)"
D=$T/d1
mkdir -p "$D"
ROUTES='events=clickhouse,rows=clickhouse,typed*=clickhouse,legacy=clickhouse'
start_server "$D" --flush-interval 0.1 --routes "$ROUTES" || exit 1
ev() { curl -s -w ' %{http_code}' -H 'Content-Type: application/json' --data-binary "$1" "$URL/v1/events"; }
wait_eq() {
  local got
  for _ in $(seq 1 300); do
    got=$(ch_sql "$1" 2>/dev/null)
    [ "$got" = "$2" ] && return 0
    sleep 0.05
  done
  echo "    expected $2, got '$got' from: $1"; return 1
}

r=$(ev '[{"event_id":"c-1","type":"view","occurred_at":"2026-11-23T10:00:00.5Z","payload":{"page":"/a"}},
{"event_id":"c-2","type":"click","occurred_at":"2026-11-23T12:00:00+02:00","payload":[1,"x"]},
{"event_id":"c-3","type":"view","occurred_at":"2026-11-23T10:00:02Z"}]')
check "3 events -> 200" contains "$r" '"rows_accepted":3'
check "3 rows in ClickHouse" wait_eq "SELECT count() FROM events FINAL" 3
check "values (DateTime in UTC, payload as JSON text, NULL payload)" eq \
  "$(ch_sql "SELECT event_id, type, toString(occurred_at), payload, isNull(payload) FROM events FINAL ORDER BY event_id FORMAT TSV")" \
  $'c-1\tview\t2026-11-23 10:00:00\t{"page":"/a"}\t0\nc-2\tclick\t2026-11-23 10:00:00\t[1,"x"]\t0\nc-3\tview\t2026-11-23 10:00:02\t\\N\t1'
check "table engine ReplacingMergeTree ordered by event_id" contains "$(ch_sql "SELECT engine_full FROM system.tables WHERE name='events'")" 'ReplacingMergeTree ORDER BY event_id'

r=$(ev '{"event_id":"c-1","type":"view","occurred_at":"2026-11-23T10:00:00Z"}')
check "same event_id again -> 200" contains "$r" '"rows_accepted":1'
ev '{"event_id":"c-marker","type":"m","occurred_at":"2026-11-23T10:00:00Z"}' >/dev/null
check "marker event arrived" wait_eq "SELECT count() FROM events WHERE event_id='c-marker'" 1
check "same event_id twice -> one row with FINAL" eq "$(ch_sql "SELECT count() FROM events FINAL WHERE event_id='c-1'")" 1

r=$(printf 'id,name,amount,day\n1,apple,1.5,2026-11-23\n2,,-2,2026-11-24\n' | curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @- "$URL/v1/streams/rows/ingest")
check "CSV stream -> 200" contains "$r" '"rows_accepted":2'
check "CSV rows in ClickHouse" wait_eq "SELECT count() FROM rows" 2
check "CSV column types" eq "$(ch_sql "SELECT groupArray(type) FROM system.columns WHERE table='rows' AND database='default' FORMAT TSV")" "['UInt64','String','Nullable(Int64)','Nullable(String)','Nullable(Float64)','Nullable(Date)']"
check "CSV values" eq "$(ch_sql "SELECT _sluice_seq, id, name, amount, day FROM rows ORDER BY id FORMAT TSV")" $'0\t1\tapple\t1.5\t2026-11-23\n1\t2\t\\N\t-2\t2026-11-24'
check "rows and markers carry the data directory's origin" eq "$(ch_sql "SELECT DISTINCT _sluice_origin FROM rows") $(ch_sql "SELECT DISTINCT origin FROM sluice_units WHERE stream='rows'")" "$(cat "$D/origin") $(cat "$D/origin")"
check "the table is ordered by (_sluice_origin, _sluice_seq)" contains "$(ch_sql "SELECT engine_full FROM system.tables WHERE name='rows'")" 'ORDER BY (_sluice_origin, _sluice_seq)'

# ---- a new data directory into the same ClickHouse (row numbers from 0 again): its rows are new.
# Keyed by stream alone, the markers skipped them as committed, and rows ordered by _sluice_seq
# alone would have replaced the old ones at merges ----
# the older table: the new row (sequence number 0 as well) must not replace the old one at merges
r=$(printf 'id\n1\n' | curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @- "$URL/v1/streams/legacy/ingest")
check "older table: 1 row -> 200" contains "$r" '"rows_accepted":1'
check "older table: the row inserted" wait_eq "SELECT count() FROM legacy" 2
ch_sql "OPTIMIZE TABLE legacy FINAL" >/dev/null
check "older table: origin added to its key, both rows kept after a merge" eq \
  "$(ch_sql "SELECT sorting_key FROM system.tables WHERE name='legacy'") $(ch_sql "SELECT count() FROM legacy FINAL")" '_sluice_seq, _sluice_origin 2'
stop_server
D0=$D
D=$T/d_fresh
mkdir -p "$D"
start_server "$D" --flush-interval 0.1 --routes "$ROUTES" || exit 1
r=$(printf 'id,name,amount,day\n3,cherry,3.5,2026-11-25\n4,plum,4.5,2026-11-26\n' | curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @- "$URL/v1/streams/rows/ingest")
check "new data directory: 2 rows -> 200" contains "$r" '"rows_accepted":2'
check "new data directory: its rows stored beside the earlier ones (4 with FINAL)" wait_eq "SELECT count() FROM rows FINAL" 4
ch_sql "OPTIMIZE TABLE rows FINAL" >/dev/null
check "and still 4 after a merge" eq "$(ch_sql "SELECT count() FROM rows")" 4
stop_server
D=$D0
start_server "$D" --flush-interval 0.1 --routes "$ROUTES" || exit 1

# ---- every type through RowBinary, read back exact ----
model() { curl -s -w ' %{http_code}' -H 'Content-Type: application/json' --data-binary "{\"name\":\"$1\",\"schema\":{\"fields\":[$2]}}" "$URL/v1/models"; }
jsonl() { curl -s -w ' %{http_code}' -H 'Content-Type: application/x-ndjson' --data-binary "$2" "$URL/v1/streams/$1/ingest?model=$1"; }
r=$(model typed '{"name":"b","type":"bool"},{"name":"i32","type":"int32","nullable":false},{"name":"i64","type":"int64"},{"name":"f","type":"float"},{"name":"d","type":"double","nullable":false},{"name":"s","type":"string"},{"name":"bin","type":"binary"},{"name":"j","type":"json"},{"name":"day","type":"date"},{"name":"ts","type":"timestamp[us, UTC]"},{"name":"tl","type":"timestamp[ms]","nullable":false},{"name":"d9","type":"decimal(9,2)"},{"name":"d18","type":"decimal(18,4)","nullable":false},{"name":"d38","type":"decimal(38,10)"}')
check "model of every type -> 201" contains "$r" ' 201'
LONG=$(printf 'é%.0s' $(seq 1 150))  # 300 bytes: a two-byte LEB128 length
r=$(jsonl typed '{"b":true,"i32":-2147483648,"i64":9223372036854775807,"f":1.5,"d":-2.25e-300,"s":"héllo ✓ 日本","bin":"ab\u0000c","j":{"k":[1,"é"]},"day":"2026-11-23","ts":"2026-11-23T10:00:00.999999Z","tl":"2026-11-23 10:00:01.5","d9":"-1234567.89","d18":"-12345678901234.5678","d38":"-1234567890123456789012345678.0123456789"}
{"b":null,"i32":2147483647,"i64":null,"f":null,"d":0,"s":null,"bin":null,"j":null,"day":null,"ts":null,"tl":"1970-01-01T00:00:00","d9":null,"d18":"-0.0001","d38":null}
{"b":false,"i32":0,"i64":-9223372036854775808,"f":"-inf","d":"nan","s":"","bin":"","j":[],"day":"1970-01-01","ts":"1970-01-01T00:00:00.000001Z","tl":"2106-02-07T06:28:15.999","d9":"9999999.99","d18":"99999999999999.9999","d38":"9999999999999999999999999999.9999999999"}
{"b":true,"i32":1,"i64":1,"f":-0.1,"d":1e300,"s":"'"$LONG"'","bin":"\u00ff","j":"x","day":"2149-06-06","ts":"2106-02-07T06:28:15Z","tl":"2000-02-29T23:59:59.001","d9":"-0.01","d18":"1","d38":"-0.0000000001"}
')
check "4 rows of every type -> 200" contains "$r" '"rows_accepted":4'
check "4 typed rows in ClickHouse" wait_eq "SELECT count() FROM typed" 4
check "typed column types" eq "$(ch_sql "SELECT groupArray(type) FROM system.columns WHERE table='typed' AND database='default' FORMAT TSV")" "['UInt64','String','Nullable(UInt8)','Int32','Nullable(Int64)','Nullable(Float32)','Float64','Nullable(String)','Nullable(String)','Nullable(String)','Nullable(Date)','Nullable(DateTime(\\'UTC\\'))','DateTime','Nullable(Decimal(9, 2))','Decimal(18, 4)','Nullable(Decimal(38, 10))']"
# (decimals as the column prints them: 18.16's toString(Decimal128) garbles large negatives)
check "typed values exact (ints, floats, decimals of 4/8/16 bytes, NULLs)" eq \
  "$(ch_sql "SELECT _sluice_seq, b, i32, i64, f, d, d9, d18, d38 FROM typed ORDER BY _sluice_seq FORMAT TSV")" \
  $'0\t1\t-2147483648\t9223372036854775807\t1.5\t-2.25e-300\t-1234567.89\t-12345678901234.5678\t-1234567890123456789012345678.0123456789\n1\t\\N\t2147483647\t\\N\t\\N\t0\t\\N\t-0.0001\t\\N\n2\t0\t0\t-9223372036854775808\t-inf\tnan\t9999999.99\t99999999999999.9999\t9999999999999999999999999999.9999999999\n3\t1\t1\t1\t-0.1\t1e300\t-0.01\t1.0000\t-0.0000000001'
check "typed strings exact (unicode, empty, NULL, hex binary, json text)" eq \
  "$(ch_sql "SELECT s, isNull(s), bin, j FROM typed WHERE _sluice_seq < 3 ORDER BY _sluice_seq FORMAT TSV")" \
  $'héllo ✓ 日本\t0\t61620063\t{"k":[1,"é"]}\n\\N\t1\t\\N\t\\N\n\t0\t\t[]'
check "a 300-byte string (two-byte length) and the row after it exact" eq \
  "$(ch_sql "SELECT length(s), s = '$LONG', bin, j FROM typed WHERE _sluice_seq = 3 FORMAT TSV")" $'300\t1\tc3bf\t"x"'
# (as numbers: 18.16 prints no date past 2105, whatever is stored)
check "typed dates and timestamps exact (DateTime: the fraction dropped, to the UInt32/UInt16 ends)" eq \
  "$(ch_sql "SELECT toUInt16(day), toUInt32(ts), toUInt32(tl), if(_sluice_seq = 2, '-', toString(tl)) FROM typed ORDER BY _sluice_seq FORMAT TSV")" \
  $'20780\t1795428000\t1795428001\t2026-11-23 10:00:01\n\\N\t\\N\t0\t0000-00-00 00:00:00\n0\t0\t4294967295\t-\n65535\t4294967295\t951868799\t2000-02-29 23:59:59'
check "typed unit recorded" eq "$(ch_sql "SELECT row0, row1 FROM sluice_units WHERE stream='typed' FORMAT TSV")" $'0\t4'

# ---- ClickHouse down, then up: no loss, no re-insert ----
ch_stop
for i in $(seq 1 20); do
  ev "{\"event_id\":\"down-$i\",\"type\":\"t\",\"occurred_at\":\"2026-11-23T10:00:00Z\"}" >>"$T/down.out"
done
check "20 events acknowledged while ClickHouse is down" eq "$(grep -c '"durable":true' "$T/down.out")" 20
ready=""
for _ in $(seq 1 100); do
  ready=$(curl -s "$URL/readyz"); grep -q ClickHouse <<<"$ready" && break; sleep 0.05
done
check "/readyz names ClickHouse" contains "$ready" 'ClickHouse, stream events'
ch_restart || exit 1
check "after ClickHouse is back all 20 are there" wait_eq "SELECT count() FROM events WHERE event_id LIKE 'down-%'" 20
check "each exactly once even without FINAL" eq "$(ch_sql "SELECT count() - uniqExact(event_id) FROM events WHERE event_id LIKE 'down-%'")" 0
check "one marker per unit" eq "$(ch_sql "SELECT count() - uniqExact(stream, origin, row0) FROM sluice_units")" 0

# ---- kill -9 during a load ----
python3 - "$URL" "$T/acked" >"$T/load.out" 2>&1 <<'PY' &
import json, sys, urllib.request
url, path = sys.argv[1] + "/v1/events", sys.argv[2]
out = open(path, "a", buffering=1)
i = 0
while True:
    batch = [{"event_id": f"k-{i + j}", "type": "load", "occurred_at": "2026-11-23T10:00:00Z"} for j in range(50)]
    try:
        req = urllib.request.Request(url, json.dumps(batch).encode(), {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            if r.status == 200:
                out.write(f"{i} {i + 49}\n")
    except Exception:
        pass
    i += 50
PY
LPID=$!
for _ in $(seq 1 200); do [ -s "$T/acked" ] && break; sleep 0.05; done
sleep 0.5
kill9_server
start_server "$D" --flush-interval 0.1 --routes "$ROUTES" || exit 1
sleep 0.7
kill9_server
kill -TERM "$LPID" 2>/dev/null; wait "$LPID" 2>/dev/null; LPID=
start_server "$D" --flush-interval 0.1 --routes "$ROUTES" || exit 1
acked=$(awk '{s += $2 - $1 + 1} END {print s + 0}' "$T/acked")
check "events acknowledged during the kills ($acked)" [ "$acked" -gt 0 ]
awk '{for (k = $1; k <= $2; k++) print "k-" k}' "$T/acked" >"$T/acked.ids"
check "every acknowledged event is there" wait_eq "SELECT count() FROM events FINAL WHERE event_id IN ($(sed "s/.*/'&'/" "$T/acked.ids" | paste -sd,))" "$acked"
check "no event twice with FINAL" eq "$(ch_sql "SELECT count() - uniqExact(event_id) FROM events FINAL")" 0
echo "# raw rows repeated by a replay (collapsed by FINAL/merges): $(ch_sql "SELECT count() - uniqExact(event_id, _sluice_seq) FROM events")"
stop_server
check "clean stop" [ $? -eq 0 ]
check "no sanitizer report in the server log" bash -c "! grep -E 'runtime error|AddressSanitizer|LeakSanitizer|ThreadSanitizer' '$D.log'"
# ---- values ClickHouse cannot hold, and a table of other types: a clear error, nothing sent ----
# (one server each: /readyz names the first failing stream only)
refused() { # NAME FIELD JSONL WHAT
  local d=$T/$1 ready=
  mkdir -p "$d"
  start_server "$d" --flush-interval 0.1 --routes "$ROUTES" || return 1
  model "$1" "$2" >/dev/null
  contains "$(jsonl "$1" "$3")" '"durable":true' || return 1
  for _ in $(seq 1 200); do ready=$(curl -s "$URL/readyz"); grep -qF -- "$4" <<<"$ready" && break; sleep 0.05; done
  stop_server
  grep -qE 'runtime error|AddressSanitizer|LeakSanitizer' "$d.log" && { echo "    sanitizer report in $d.log"; return 1; }
  # the log says why too (it said only "invalid argument")
  grep -F 'lane failed' "$d.log" | grep -qF -- "$4" || { echo "    the log does not say why: $(grep -F 'lane failed' "$d.log" | head -1)"; return 1; }
  contains "$ready" "$4"
}
check "a date before 1970 -> the unit refused, row and column named" refused typedday '{"name":"day","type":"date"}' \
  $'{"day":"2000-01-01"}\n{"day":"1969-12-31"}\n' 'stream typedday, row 1, column day: date 1969-12-31 does not fit Date (1970-01-01..2149-06-06)'
check "a date after 2149-06-06 -> refused" refused typedday2 '{"name":"day","type":"date","nullable":false}' \
  $'{"day":"2149-06-07"}\n' 'column day: date 2149-06-07 does not fit Date ('
check "a timestamp past UInt32 seconds -> refused" refused typedts '{"name":"ts","type":"timestamp[us, UTC]"}' \
  $'{"ts":"2106-02-07T06:28:16Z"}\n' "stream typedts, row 0, column ts: timestamp 2106-02-07T06:28:16Z does not fit DateTime('UTC')"
check "a timestamp before 1970 -> refused" refused typedts2 '{"name":"ts","type":"timestamp[ms]"}' \
  $'{"ts":"1969-12-31 23:59:59.999"}\n' "column ts: timestamp 1969-12-31T23:59:59.999 does not fit DateTime ("
ch_sql "CREATE TABLE typedpre (_sluice_seq UInt64, x Int32) ENGINE = MergeTree ORDER BY _sluice_seq"
check "a table made before with another column type -> refused, the column named" refused typedpre \
  '{"name":"x","type":"int64","nullable":false}' $'{"x":1}\n' 'table `default`.`typedpre` has the column x Int32, not the type sluice sends'
check "nothing of those units inserted (no wrapped value)" eq "$(ch_sql "SELECT (SELECT count() FROM typedday) + (SELECT count() FROM typedday2) + (SELECT count() FROM typedts) + (SELECT count() FROM typedts2) + (SELECT count() FROM typedpre)")" 0
ch_stop
echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
