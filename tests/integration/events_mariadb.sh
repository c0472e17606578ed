#!/usr/bin/env bash
# The MariaDB projection of the PostgreSQL events table (seed 004), against real PostgreSQL 15
# and MariaDB 10.11 started here: events posted to /v1/events reach PostgreSQL and then
# MariaDB with the same values; MariaDB stopped -> events still acknowledged and stored in
# PostgreSQL at once, the lag shows in /metrics (sluice_projection_lag_rows, _up 0), /readyz
# stays ready; MariaDB back -> the projection catches up (every event once), lag 0; a sluice
# restart resumes from the stored cursor. Each check prints "ok - ..." or "not ok - ...".
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
for b in /usr/lib/postgresql/15/bin/postgres mariadbd; do
  command -v "$b" >/dev/null || { echo "ok - SKIP: $b is not installed (scripts/deps.sh installs it)"; exit 0; }
done
T=$(mktemp -d)
chmod 0755 "$T"
SPID=
PG_PID=
MY_PID=
trap '[ -n "$SPID" ] && kill -KILL $SPID 2>/dev/null; [ -n "$PG_PID" ] && { kill -INT $PG_PID; wait $PG_PID; } 2>/dev/null; [ -n "$MY_PID" ] && { kill -TERM $MY_PID; wait $MY_PID; } 2>/dev/null; rm -rf "$T"' EXIT
fails=0
n=0
ok() { n=$((n + 1)); echo "ok - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
eq() { [ "$1" = "$2" ] || { echo "    expected: $2"; echo "    got:      $1"; return 1; }; }
contains() { grep -qF -- "$2" <<<"$1" || { echo "    '$2' not in: $1"; return 1; }; }
. "$SL_SRC/tests/support/serve_lib.sh"
. "$SL_SRC/tests/services/postgres.sh"
. "$SL_SRC/tests/services/mariadb.sh"

pg_start "$T" || exit 1
my_start "$T" || exit 1
check "PostgreSQL and MariaDB are up" true
export POSTGRES_URL=$PG_URL MYSQL_URL=$MY_URL
D=$T/d1
mkdir -p "$D"
start_server "$D" --flush-interval 0.1 --routes events=postgres --projection-interval 0.05 || exit 1

post_events() { # FROM TO [PREFIX]
  local body="" i
  for i in $(seq "$1" "$2"); do
    body+="{\"event_id\":\"${3:-p}-$i\",\"type\":\"t$((i % 3))\",\"occurred_at\":\"2026-11-23T10:00:0$((i % 10)).25Z\",\"payload\":{\"i\":$i,\"s\":\"it's \\\"q\\\"\"}}"$'\n'
  done
  curl -s -H 'Content-Type: application/x-ndjson' --data-binary "$body" "$URL/v1/events"
}
wait_eq() { # DESCRIPTION-less: CMD EXPECTED, 15 s
  local got
  for _ in $(seq 1 300); do
    got=$(eval "$1" 2>/dev/null)
    [ "$got" = "$2" ] && return 0
    sleep 0.05
  done
  echo "    expected $2, got '$got' from: $1"; return 1
}
metric() { curl -s "$URL/metrics" | awk -v m="$1" '$1 ~ "^"m"[{ ]" || $1 == m {print $2}' | head -1; }

r=$(post_events 1 10)
check "10 events acknowledged" contains "$r" '"rows_accepted":10'
check "10 events in PostgreSQL" wait_eq "pg_sql 'SELECT count(*) FROM events'" 10
check "10 events in MariaDB" wait_eq "my_sql 'SELECT count(*) FROM sluice.events'" 10
check "same values in MariaDB (id, type, occurred_at UTC, payload JSON, received_at)" eq \
  "$(my_sql "SELECT event_id, type, occurred_at, JSON_VALUE(payload, '$.s'), received_at > NOW() - INTERVAL 1 DAY FROM sluice.events WHERE event_id = 'p-7'")" \
  $'p-7\tt1\t2026-11-23 10:00:07.250000\tit\'s "q"\t1'
check "lag 0 when caught up" wait_eq "metric sluice_projection_lag_rows" 0
check "projection up" eq "$(metric sluice_projection_up)" 1

# ---- MariaDB down: the primary path is not affected ----
my_stop
t0=$(date +%s.%N)
r=$(post_events 11 40)
t1=$(date +%s.%N)
check "30 events acknowledged while MariaDB is down" contains "$r" '"rows_accepted":30'
check "acknowledged without waiting for MariaDB (< 1 s)" awk "BEGIN {exit !($t1 - $t0 < 1)}"
check "all 40 in PostgreSQL while MariaDB is down" wait_eq "pg_sql 'SELECT count(*) FROM events'" 40
check "/metrics: lag 30 rows" wait_eq "metric sluice_projection_lag_rows" 30
check "/metrics: projection down" eq "$(metric sluice_projection_up)" 0
check "/metrics: lag seconds > 0" awk "BEGIN {exit !($(metric sluice_projection_lag_seconds) > 0)}"
check "/readyz still ready (MariaDB is best effort)" eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" 200
check "the log says the projection is behind" grep -q 'MariaDB projection behind' "$D.log"

# ---- MariaDB back: catch up ----
my_restart || exit 1
check "projection caught up: 40 in MariaDB" wait_eq "my_sql 'SELECT count(*) FROM sluice.events'" 40
check "lag back to 0" wait_eq "metric sluice_projection_lag_rows" 0
check "projection up again" wait_eq "metric sluice_projection_up" 1
check "cursor stored in MariaDB = max seq in PostgreSQL" eq "$(my_sql "SELECT last_seq FROM sluice.sluice_projection WHERE name='events'")" "$(pg_sql 'SELECT max(seq) FROM events')"

# ---- restart sluice: resumes from the cursor, no duplicates; duplicates in PG are skipped ----
stop_server
start_server "$D" --flush-interval 0.1 --routes events=postgres --projection-interval 0.05 || exit 1
r=$(post_events 35 50)
check "16 more (6 already known) acknowledged" contains "$r" '"rows_accepted":16'
check "50 distinct in PostgreSQL" wait_eq "pg_sql 'SELECT count(*) FROM events'" 50
check "50 in MariaDB after the restart" wait_eq "my_sql 'SELECT count(*) FROM sluice.events'" 50
check "MariaDB and PostgreSQL hold the same ids" eq "$(my_sql "SELECT GROUP_CONCAT(event_id ORDER BY event_id) FROM sluice.events")" "$(pg_sql "SELECT string_agg(event_id, ',' ORDER BY event_id) FROM events")"
stop_server
check "clean stop" [ $? -eq 0 ]

# ---- sluice started while MariaDB is down ----
my_stop
start_server "$D" --flush-interval 0.1 --routes events=postgres --projection-interval 0.05 || exit 1
r=$(post_events 51 55)
check "events accepted with MariaDB down at start" contains "$r" '"rows_accepted":5'
check "stored in PostgreSQL" wait_eq "pg_sql 'SELECT count(*) FROM events'" 55
my_restart || exit 1
check "and projected once MariaDB is up" wait_eq "my_sql 'SELECT count(*) FROM sluice.events'" 55
stop_server
check "clean stop at the end" [ $? -eq 0 ]
check "no sanitizer report in the server log" bash -c "! grep -E 'runtime error|AddressSanitizer|LeakSanitizer|ThreadSanitizer' '$D.log'"
my_stop
pg_stop
echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
