#!/usr/bin/env bash
# events_pg.sh: POST /v1/events -> PostgreSQL (batched COPY + INSERT ... ON CONFLICT per unit)
# next to a plain `psql \copy` of the same rows into the same kind of table, in one run, on a
# PostgreSQL 15 started here (tests/services/postgres.sh, fsync=off for both sides).
#
#   bench/events_pg.sh [EVENTS=200000] [CLIENTS=8] [REQUEST_BYTES=64K]
#
# sluice side: sl_load posts the NDJSON file in requests of REQUEST_BYTES with CLIENTS
# connections (acknowledged = in the WAL, fsync'd); the clock stops when every event is in the
# table (SELECT count(*)), so the figure is end-to-end ingest + delivery. p50/p95/p99 are the
# ack latencies sl_load measured. psql side: \copy of the same events as TSV into an identical
# table (no conflict handling, no WAL of ours, no validation): the floor for loading those rows.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
CLIENTS=${2:-8}
RB=${3:-64K}
B=${SL_BIN:-build/release}
[ -x "$B/sluice" ] && [ -x "$B/sl_load" ] || make -s build >/dev/null
SLUICE=$B/sluice
T=$(mktemp -d)
chmod 0755 "$T"
SPID=
PG_PID=
trap '[ -n "$SPID" ] && kill -KILL $SPID 2>/dev/null; [ -n "$PG_PID" ] && { kill -INT $PG_PID; wait $PG_PID; } 2>/dev/null; rm -rf "$T"' EXIT
. tests/support/serve_lib.sh
. tests/services/postgres.sh

python3 - "$N" "$T/events.ndjson" "$T/events.tsv" <<'PY'
import json, sys
n, nd, tsv = int(sys.argv[1]), open(sys.argv[2], "w"), open(sys.argv[3], "w")
for i in range(n):
    e = {"event_id": f"ev-{i:09d}", "type": ("view", "click", "buy")[i % 3],
         "occurred_at": f"2026-11-23T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000000:06d}Z",
         "payload": {"user": f"u{i % 10007}", "amount": i % 1000 / 10, "tags": ["a", "b"]}}
    nd.write(json.dumps(e, separators=(",", ":")) + "\n")
    tsv.write("\t".join([e["event_id"], e["type"], e["occurred_at"], json.dumps(e["payload"], separators=(",", ":")),
                         "2026-11-23T00:00:00Z"]) + "\n")
PY
echo "# $N events, $(du -h "$T/events.ndjson" | cut -f1) NDJSON; $(nproc) cores; PostgreSQL $(/usr/lib/postgresql/15/bin/postgres --version | awk '{print $3}')"
pg_start "$T" >/dev/null
export POSTGRES_URL=$PG_URL
mkdir -p "$T/d"
start_server "$T/d" --routes events=postgres --flush-interval 0.2 --batch-size 50000 >/dev/null

t0=$(date +%s.%N)
"$B/sl_load" --url "$URL/v1/events" --file "$T/events.ndjson" --format jsonl --request-bytes "$RB" \
  --clients "$CLIENTS" --json --quiet >"$T/load.json"
t_ack=$(date +%s.%N)
while [ "$(pg_sql 'SELECT count(*) FROM events')" != "$N" ]; do sleep 0.02; done
t1=$(date +%s.%N)
read -r p50 p95 p99 reqs < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); l=d["lat_ms"]; print(l["p50"], l["p95"], l["p99"], d["requests"])' "$T/load.json")
stop_server || true

pg_sql "CREATE TABLE events_copy (seq bigserial NOT NULL UNIQUE, event_id varchar PRIMARY KEY, type text NOT NULL, occurred_at timestamptz NOT NULL, payload jsonb, received_at timestamptz NOT NULL)"
c0=$(date +%s.%N)
psql -X -q "$PG_URL" -c "\\copy events_copy (event_id, type, occurred_at, payload, received_at) FROM '$T/events.tsv'"
c1=$(date +%s.%N)
check=$(pg_sql "SELECT count(*) FROM events e JOIN events_copy c USING (event_id) WHERE e.payload = c.payload AND e.occurred_at = c.occurred_at")
pg_stop

python3 - "$N" "$t0" "$t_ack" "$t1" "$c0" "$c1" "$p50" "$p95" "$p99" "$reqs" "$check" "$CLIENTS" "$RB" <<'PY'
import sys
n, t0, ta, t1, c0, c1, p50, p95, p99, reqs, same, clients, rb = sys.argv[1:]
n = int(n); t0, ta, t1, c0, c1 = map(float, (t0, ta, t1, c0, c1))
print(f"| path | seconds | events/s |")
print(f"|---|---|---|")
print(f"| sluice POST /v1/events, acknowledged (WAL fsync'd), {clients} clients, {rb} requests ({reqs}) | {ta - t0:.2f} | {n / (ta - t0):,.0f} |")
print(f"| sluice end to end: posted -> all in PostgreSQL | {t1 - t0:.2f} | {n / (t1 - t0):,.0f} |")
print(f"| psql \\copy of the same rows (TSV) | {c1 - c0:.2f} | {n / (c1 - c0):,.0f} |")
print(f"ack latency ms: p50 {float(p50):.2f}  p95 {float(p95):.2f}  p99 {float(p99):.2f}")
print(f"rows equal in both tables (event_id, payload, occurred_at): {same} of {n}")
PY
