#!/usr/bin/env bash
# RabbitMQ unit sink (seed 004) against a RabbitMQ 3.10 started here (tests/services/rabbitmq.sh):
# events posted to /v1/events become persistent JSON messages in a durable queue, confirmed by
# the broker before the WAL range is released; the messages survive a broker restart; RabbitMQ
# stopped while events are acknowledged then restarted -> every event arrives.
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

# persistent messages in a durable queue survive a broker restart
rmq_stop
rmq_restart || exit 1
check "9 messages still there after a broker restart (persistent, durable)" wait_count 9

# broker down while events are acknowledged
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
check "after the broker is back: 9 + 15 messages" wait_count 24
ids=$(for _ in $(seq 1 24); do amqp-get -u "$AMQP_URL" -q events; echo; done | sed -nE 's/.*"event_id":"(m-[0-9]+)".*/\1/p' | sort -u | wc -l)
check "24 distinct events among them" eq "$ids" 24
stop_server
check "clean stop at the end" [ $? -eq 0 ]
check "no sanitizer report in the server log" bash -c "! grep -E 'runtime error|AddressSanitizer|LeakSanitizer|ThreadSanitizer' '$D.log'"
echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
