#!/usr/bin/env bash
# ClickHouse unit sink over HTTP (seed 001) against the Debian ClickHouse (18.16) started here
# (tests/services/clickhouse.sh): events and a CSV stream inserted as JSONEachRow into tables
# sluice creates (ReplacingMergeTree), the same event_id twice -> one row (FINAL), ClickHouse
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
D=$T/d1
mkdir -p "$D"
ROUTES='events=clickhouse,rows=clickhouse'
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
check "CSV column types" eq "$(ch_sql "SELECT groupArray(type) FROM system.columns WHERE table='rows' AND database='default' FORMAT TSV")" "['UInt64','Nullable(Int64)','Nullable(String)','Nullable(Float64)','Nullable(Date)']"
check "CSV values" eq "$(ch_sql "SELECT _sluice_seq, id, name, amount, day FROM rows ORDER BY id FORMAT TSV")" $'0\t1\tapple\t1.5\t2026-11-23\n1\t2\t\\N\t-2\t2026-11-24'

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
check "one marker per unit" eq "$(ch_sql "SELECT count() - uniqExact(stream, row0) FROM sluice_units")" 0

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
ch_stop
echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
