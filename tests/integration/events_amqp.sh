#!/usr/bin/env bash
# RabbitMQ unit sink (seed 004) against a RabbitMQ 3.10 started here (tests/services/rabbitmq.sh):
# events posted to /v1/events become persistent JSON messages in a durable queue, confirmed by
# the broker before the WAL range is released; the messages survive a broker restart; RabbitMQ
# stopped while events are acknowledged then restarted -> every event arrives. RabbitMQ source:
# the chain API -> sluice -> RabbitMQ -> sluice -> PostgreSQL with SIGKILLs stores every event
# once, and a message is acked only after PostgreSQL committed it (unacked while it is down).
# Each check prints "ok - ..." or "not ok - ...".
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && command -v amqp-get >/dev/null ||
  { echo "ok - SKIP: rabbitmq-server / amqp-tools are not installed (scripts/deps.sh installs them)"; exit 0; }
T=$(mktemp -d)
chmod 0755 "$T"
SPID=
RMQ_PID=
RMQ_EPMD_PID=
trap '[ -n "$SPID" ] && kill -KILL $SPID 2>/dev/null; rmq_stop 2>/dev/null; rm -rf "$T"' EXIT
fails=0
n=0
ok() { n=$((n + 1)); echo "ok - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
eq() { [ "$1" = "$2" ] || { echo "    expected: $2"; echo "    got:      $1"; return 1; }; }
contains() { grep -qF -- "$2" <<<"$1" || { echo "    '$2' not in: $1"; return 1; }; }
. "$SL_SRC/tests/support/serve_lib.sh"
. "$SL_SRC/tests/services/rabbitmq.sh"

rmq_start "$T" || exit 1
check "RabbitMQ is up" true
export AMQP_URL
D=$T/d1
mkdir -p "$D"
start_server "$D" --flush-interval 0.1 --routes events=amqp || exit 1
post_events() { # FROM TO
  local body="" i
  for i in $(seq "$1" "$2"); do
    body+="{\"event_id\":\"m-$i\",\"type\":\"t\",\"occurred_at\":\"2026-11-23T10:00:00Z\",\"payload\":{\"i\":$i}}"$'\n'
  done
  curl -s -H 'Content-Type: application/x-ndjson' --data-binary "$body" "$URL/v1/events"
}
wait_count() {
  local got
  for _ in $(seq 1 150); do
    got=$(rmq_count events); [ "$got" = "$1" ] && return 0; sleep 0.1
  done
  echo "    expected $1 messages, got '$got'"; return 1
}

r=$(post_events 1 10)
check "10 events acknowledged" contains "$r" '"rows_accepted":10'
check "10 messages in the durable queue 'events'" wait_count 10
m=$(amqp-get -u "$AMQP_URL" -q events)
check "a message is the event as JSON" contains "$m" '{"event_id":"m-1","type":"t","occurred_at":"2026-11-23T10:00:00Z","payload":{"i":1},"received_at":'
check "9 left after one get" wait_count 9
stop_server
check "clean stop" [ $? -eq 0 ]

# broker down while events are acknowledged (the 9 messages must survive its restart:
# persistent messages in a durable queue)
start_server "$D" --flush-interval 0.1 --routes events=amqp --amqp-timeout 5 || exit 1
rmq_stop
r=$(post_events 11 25)
check "15 events acknowledged while RabbitMQ is down" contains "$r" '"rows_accepted":15'
ready=""
for _ in $(seq 1 100); do
  ready=$(curl -s "$URL/readyz"); grep -q RabbitMQ <<<"$ready" && break; sleep 0.1
done
check "/readyz names RabbitMQ with a hint" contains "$ready" 'is RabbitMQ up at AMQP_URL'
rmq_restart || exit 1
check "after the broker is back: 9 + 15 messages (the 9 survived the restart)" wait_count 24
ids=$(for _ in $(seq 1 24); do amqp-get -u "$AMQP_URL" -q events; echo; done | sed -nE 's/.*"event_id":"(m-[0-9]+)".*/\1/p' | sort -u | wc -l)
check "24 distinct events among them" eq "$ids" 24
stop_server
check "clean stop" [ $? -eq 0 ]
check "no sanitizer report in the server log" bash -c "! grep -E 'runtime error|AddressSanitizer|LeakSanitizer|ThreadSanitizer' '$D.log'"

# ---- seed 004's chain: API -> sluice A -> RabbitMQ -> sluice B (source) -> PostgreSQL,
#      B killed with SIGKILL twice while it consumes: every event exactly once in the table ----
if [ -x /usr/lib/postgresql/15/bin/postgres ]; then
  . "$SL_SRC/tests/services/postgres.sh"
  pg_start "$T" || exit 1
  trap '[ -n "$SPID" ] && kill -KILL $SPID 2>/dev/null; [ -n "${APID:-}" ] && kill -KILL $APID 2>/dev/null; rmq_stop 2>/dev/null; [ -n "$PG_PID" ] && { kill -INT $PG_PID; wait $PG_PID; } 2>/dev/null; rm -rf "$T"' EXIT
  amqp-delete-queue -u "$AMQP_URL" -q events >/dev/null 2>&1
  A=$T/a
  mkdir -p "$A"
  start_server "$A" --flush-interval 0.05 --routes events=amqp --events-stream events || exit 1
  APID=$SPID AURL=$URL SPID=
  N=10000
  for b in $(seq 0 99); do
    body=""
    for i in $(seq $((b * 100)) $((b * 100 + 99))); do
      body+="{\"event_id\":\"q-$i\",\"type\":\"chain\",\"occurred_at\":\"2026-11-23T10:00:00Z\",\"payload\":{\"i\":$i}}"$'\n'
    done
    curl -s -o /dev/null -H 'Content-Type: application/x-ndjson' --data-binary "$body" "$AURL/v1/events"
  done
  check "$N messages published by sluice A" wait_count $N
  B=$T/b
  mkdir -p "$B"
  export POSTGRES_URL=$PG_URL
  bopts=(--flush-interval 0.1 --routes events=postgres --amqp-source-queue events --amqp-prefetch 50)
  start_server "$B" "${bopts[@]}" || exit 1
  sleep 0.3
  kill9_server
  echo "# B killed with $(pg_sql 'SELECT count(*) FROM events') of $N in PostgreSQL"
  start_server "$B" "${bopts[@]}" || exit 1
  sleep 0.3
  kill9_server
  start_server "$B" "${bopts[@]}" || exit 1
  got=""
  for _ in $(seq 1 300); do
    got=$(pg_sql 'SELECT count(*) FROM events'); [ "$got" = "$N" ] && break; sleep 0.05
  done
  check "every message in PostgreSQL" eq "$got" "$N"
  check "each exactly once" eq "$(pg_sql "SELECT count(DISTINCT event_id) FROM events WHERE event_id LIKE 'q-%'")" "$N"
  check "the queue is drained (all acked)" wait_count 0
  stop_server
  check "B: clean stop" [ $? -eq 0 ]
  SPID=$APID; APID=
  stop_server
  check "A: clean stop" [ $? -eq 0 ]

  # ---- the source acks only after the sink committed: PostgreSQL down -> the messages stay
  #      unacked in RabbitMQ although the WAL has them; PostgreSQL back -> acked, each once ----
  amqp-declare-queue -u "$AMQP_URL" -d -q acks >/dev/null
  pg_stop
  for i in $(seq 1 40); do
    amqp-publish -u "$AMQP_URL" -r acks -p -b "{\"event_id\":\"u-$i\",\"type\":\"ack\",\"occurred_at\":\"2026-11-23T10:00:00Z\"}"
  done
  C=$T/c
  mkdir -p "$C"
  # its own stream (and table): the range markers in sluice_units are per stream name, and B's
  # stream "events" already committed rows [0, ...)
  start_server "$C" --flush-interval 0.1 --routes acked=postgres --events-stream acked --amqp-source-queue acks --amqp-prefetch 100 || exit 1
  inwal=""
  for _ in $(seq 1 100); do
    inwal=$(curl -s "$URL/v1/streams/acked" | sed -nE 's/.*"rows":\{"next":([0-9]+),.*/\1/p'); [ "$inwal" = 40 ] && break; sleep 0.1
  done
  check "PostgreSQL down: the source posted all 40 messages (in the WAL)" eq "$inwal" 40
  sleep 1.5 # the old source acked right after the WAL fsync; give it time to
  r=$(curl -s "$URL/v1/streams/acked")
  check "GET /v1/streams/acked: nothing committed" contains "$r" '"rows":{"next":40,"committed":0}'
  check "40 messages unacked in RabbitMQ while PostgreSQL is down" eq "$(rmq_unacked acks)" 40
  check "none of them ready (all held by the consumer)" eq "$(rmq_count acks)" 40
  pg_restart || exit 1
  acked=""
  for _ in $(seq 1 300); do
    acked=$(rmq_count acks); [ "$acked" = 0 ] && break; sleep 0.1
  done
  check "PostgreSQL back: all 40 acked (queue empty)" eq "$acked" 0
  check "every message in the table exactly once" eq "$(pg_sql "SELECT count(*), count(DISTINCT event_id) FROM acked")" '40|40'
  r=$(curl -s "$URL/v1/streams/acked?wait_rows=40&timeout=5")
  check "GET /v1/streams/acked?wait_rows=40: committed" contains "$r" '"wait_satisfied":true'
  stop_server
  check "C: clean stop" [ $? -eq 0 ]
  check "no sanitizer report in the logs" bash -c "! grep -E 'runtime error|AddressSanitizer|LeakSanitizer|ThreadSanitizer' '$A.log' '$B.log' '$C.log'"
  pg_stop
fi
echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
