#!/usr/bin/env bash
# sluice serve with the Kafka sink (SLUICE_SINK=kafka) on librdkafka's mock cluster
# (tests/tools/kafka_mock.c): broker down at start (readyz says why, rows wait in the WAL, then
# are delivered when the broker comes up), topic + .dlq auto-creation, message values, keys and
# headers, dead-letter messages with their headers, idempotent retries under injected Produce
# errors (no duplicates), a broker outage mid-stream longer than the delivery timeout (the unit
# is retried from the WAL), a fatal producer error (a new producer, the unit sent again),
# per-stream routing with CSV values, and with the default delivery timeout: /readyz 503 with
# the reason from the start, kafka_unavailable warnings in ingest, events and job answers, ready
# again once the broker is up. Each check prints "ok - ...".
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
T=$(mktemp -d)
SPID=
MOCK_PID_a=
MOCK_PID_b=
trap '[ -n "$SPID" ] && kill -KILL $SPID 2>/dev/null; for m in "$MOCK_PID_a" "$MOCK_PID_b"; do [ -n "$m" ] && kill -KILL $m 2>/dev/null; done; rm -rf "$T"' EXIT
fails=0
n=0
ok() { n=$((n + 1)); echo "ok - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
eq() { [ "$1" = "$2" ] || { echo "    expected: $2"; echo "    got:      $1"; return 1; }; }
contains() { grep -qF -- "$2" <<<"$1" || { echo "    '$2' not in: $1"; return 1; }; }
. "$SL_SRC/tests/support/serve_lib.sh"
. "$SL_SRC/tests/support/kafka_lib.sh"
command -v kcat >/dev/null || { echo "not ok - kcat not installed (scripts/deps.sh)"; exit 1; }

# summary TOPIC: "count distinct_seq" of the topic's messages (sluice.seq header)
summary() {
  topic_json "$KB" "$1" | python3 -c '
import json, sys
seqs = []
for l in sys.stdin:
    m = json.loads(l)
    h = m.get("headers") or []
    d = dict(zip(h[0::2], h[1::2]))
    seqs.append(d.get("sluice.seq"))
print(len(seqs), len(set(seqs)))'
}

# wait_for SECONDS CMD...: retries CMD every 0.2 s
wait_for() {
  local s=$1
  shift
  for _ in $(seq 1 $((s * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  "$@"
}

D=$T/d1
mkdir -p "$D/models"
cat >"$D/models/orders.json" <<'EOF'
{"fields":[{"name":"id","type":"int64","nullable":false},{"name":"name","type":"string"},{"name":"amount","type":"decimal(10,2)"}]}
EOF
KPORT=$(free_port)
KB=127.0.0.1:$KPORT

# ---- broker down at start ----
export SLUICE_SINK=kafka KAFKA_BROKERS=$KB SLUICE_KAFKA_KEY=id SLUICE_KAFKA_TIMEOUT=2
start_server "$D" --flush-interval 0.2 || exit 1
check "server starts with Kafka offline" true
check "start log names the unreachable sink" contains "$(cat "$D.log")" 'sink not reachable at start'
{
  echo 'id,name,amount'
  for i in $(seq 1 10); do echo "$i,item $i,$i.50"; done
  echo 'x,bad id,1.00'
  echo '12,bad amount,abc'
} >"$T/a.csv"
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/a.csv" \
  "$URL/v1/streams/orders/ingest?model=orders")
check "ingest while Kafka is down -> 200 (rows durable in the WAL)" contains "$r" '"rows_accepted":10,"rows_rejected":2'
check "... with a warning: kafka_unavailable" contains "$r" '"warning":{"code":"kafka_unavailable"'
not_ready() { curl -s "$URL/readyz" | grep -q '"ready":false'; }
lane_failing() { curl -s "$URL/readyz" | grep -q 'kafka sink failing'; }
wait_for 15 lane_failing # the lane's own failure (first delivery timeout) comes first
r=$(curl -s "$URL/readyz")
check "readyz: not ready, says the kafka sink fails" contains "$r" 'kafka sink failing'
check "readyz: actionable hint names KAFKA_BROKERS" contains "$r" "check KAFKA_BROKERS=$KB"
check "readyz: kafka_unavailable" contains "$r" 'kafka_unavailable'
r=$(curl -s "$URL/metrics")
check "sink failures counted with sink=kafka" contains "$r" 'sluice_sink_failures_total{sink="kafka"'

# ---- the broker comes up (a forwarder on the configured port) ----
mock_start a --port "$KPORT" || exit 1
ready() { curl -s "$URL/readyz" | grep -q '"ready":true'; }
wait_for 40 ready
check "readyz recovers once the broker is up" ready
topics=$(kcat -L -b "$KB" 2>/dev/null)
check "topic auto-created on first produce" contains "$topics" 'topic "orders"'
check "dead-letter topic auto-created" contains "$topics" 'topic "orders.dlq"'
check "all 10 rows delivered once" eq "$(summary orders)" "10 10"
r=$(topic_json "$KB" orders | python3 -c '
import json, sys
rows = {}
for l in sys.stdin:
    m = json.loads(l)
    v = json.loads(m["payload"])
    assert m["key"] == str(v["id"]), (m["key"], v)
    h = dict(zip(m["headers"][0::2], m["headers"][1::2]))
    assert h["sluice.stream"] == "orders"
    rows[v["id"]] = (v["name"], v["amount"])
print(rows[1], rows[10], len(rows))')
check "values are JSON rows, key = id, headers sluice.stream/seq" eq "$r" "('item 1', '1.50') ('item 10', '10.50') 10"
r=$(topic_json "$KB" orders | python3 -c '
import json, sys
for l in sys.stdin:
    m = json.loads(l); v = json.loads(m["payload"])
    if v["id"] == 3: print(m["key"], v["name"], v["amount"])')
check "row 3: key, name and decimal amount" eq "$r" "3 item 3 3.50"
r=$(topic_json "$KB" orders.dlq | python3 -c '
import json, sys
out = []
for l in sys.stdin:
    m = json.loads(l)
    h = dict(zip(m["headers"][0::2], m["headers"][1::2]))
    p = json.loads(m["payload"])
    out.append("%s|%s|%s|%s|%s|%s|%s" % (h.get("line"), h.get("column"), h.get("field"), h.get("code"), h.get("stream"), p["raw"], "reason" in h and len(h["reason"]) > 5))
print(";".join(sorted(out)))')
check "DLQ: both rejected rows with line, column, field, code, stream, reason headers" eq "$r" \
  "12|1|id|type|orders|x,bad id,1.00|True;13|3|amount|type|orders|12,bad amount,abc|True"

# ---- idempotence: injected retriable Produce errors do not duplicate ----
mock_cmd a err 0 6 3 && mock_cmd a err 0 19 3
check "mock: Produce errors queued (NOT_LEADER x3, NOT_ENOUGH_REPLICAS x3)" true
# post_orders N FIRST NAME: N rows with ids FIRST.. to stream orders; prints the answer, status
post_orders() {
  python3 -c "
print('id,name,amount')
for i in range($1): print('%d,$3 %d,1.00' % ($2 + i, i))" >"$T/o.csv"
  curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/o.csv" "$URL/v1/streams/orders/ingest?model=orders"
}
for k in 1 2 3 4 5; do post_orders 100 $((1000 * k)) row >/dev/null; done
got510() { [ "$(summary orders)" = "510 510" ]; }
wait_for 30 got510
check "after injected errors: 510 messages, 510 distinct (retries deduplicated)" eq "$(summary orders)" "510 510"

# ---- broker outage mid-stream, longer than the delivery timeout ----
mock_cmd a down 1
check "mock: broker 1 down" true
r=$(post_orders 200 9000 late)
check "ingest during the outage -> 200" contains "$r" ' 200'
wait_for 15 not_ready
check "readyz reports the outage" contains "$(curl -s "$URL/readyz")" 'kafka_unavailable'
mock_cmd a up 1
wait_for 40 ready
got710() { [ "$(summary orders)" = "710 710" ]; }
wait_for 30 got710
check "after the outage: 710 messages, each once" eq "$(summary orders)" "710 710"

# ---- a fatal producer error: the broker answers the head-of-line Produce request with
# OUT_OF_ORDER_SEQUENCE_NUMBER, which librdkafka's idempotent producer treats as fatal (a real
# one, rd_kafka_fatal_error, not a test hook); sluice makes a new producer and the lane sends the
# unit again, no restart of sluice ----
check "metrics: no producer restart so far" contains "$(curl -s "$URL/metrics")" 'sluice_kafka_producer_restarts_total 0'
mock_cmd a err 0 45 1
check "mock: next Produce fails with OUT_OF_ORDER_SEQUENCE_NUMBER" true
r=$(post_orders 50 9500 fatal)
check "ingest -> 200" contains "$r" ' 200'
got760() { [ "$(summary orders | cut -d' ' -f2)" = 760 ]; }
wait_for 40 got760
check "fatal error: logged with librdkafka's reason" contains "$(cat "$D.log")" 'fatal producer error; making a new producer'
check "... the reason names the sequence error" contains "$(grep 'fatal producer error' "$D.log")" 'OUT_OF_ORDER_SEQUENCE_NUMBER'
check "... sluice_kafka_producer_restarts_total 1" contains "$(curl -s "$URL/metrics")" 'sluice_kafka_producer_restarts_total 1'
s760=$(summary orders)
check "... the unit sent again by the new producer: all 760 rows there ($s760: messages, distinct)" eq "$(cut -d' ' -f2 <<<"$s760")" 760
wait_for 20 ready
check "... ready again, same process" ready
stop_server
check "clean stop" [ $? -eq 0 ]

# ---- routing one stream to Kafka, CSV values ----
unset SLUICE_SINK SLUICE_KAFKA_KEY
D2=$T/d2
mkdir -p "$D2"
SLUICE_ROUTES='logs*=kafka' SLUICE_KAFKA_FORMAT=csv SLUICE_KAFKA_TOPIC='sl.{stream}' \
  start_server "$D2" --flush-interval 0.2 || exit 1
printf 'a,b\n1,"x,y"\n2,z\n' | curl -s -o /dev/null -H 'Content-Type: text/csv' --data-binary @- "$URL/v1/streams/logs1/ingest"
printf 'a,b\n3,w\n' | curl -s -o /dev/null -H 'Content-Type: text/csv' --data-binary @- "$URL/v1/streams/other/ingest"
has2() { [ "$(topic_json "$KB" sl.logs1 | wc -l)" = 2 ]; }
wait_for 20 has2
r=$(topic_json "$KB" sl.logs1 | python3 -c '
import json, sys
print(sorted(json.loads(l)["payload"] for l in sys.stdin))')
check "routed stream logs1 -> topic sl.logs1 as CSV lines" eq "$r" "['1,\"x,y\"', '2,z']"
# no SLUICE_KAFKA_KEY: a stream whose model has an event_key is keyed by that column
curl -s -o /dev/null -d '{"name":"keyed","schema":{"fields":[{"name":"order_id","type":"string"},{"name":"n","type":"int64"}],"event_key":"order_id"}}' "$URL/v1/models"
printf 'order_id,n\nA-1,1\nB-2,2\n' | curl -s -o /dev/null -H 'Content-Type: text/csv' --data-binary @- "$URL/v1/streams/logs2/ingest?model=keyed"
has2k() { [ "$(topic_json "$KB" sl.logs2 | wc -l)" = 2 ]; }
wait_for 20 has2k
r=$(topic_json "$KB" sl.logs2 | python3 -c '
import sys, json
print(sorted((json.loads(l)["key"], json.loads(l)["payload"]) for l in sys.stdin))')
check "model event_key keys the messages (no SLUICE_KAFKA_KEY)" eq "$r" "[('A-1', 'A-1,1'), ('B-2', 'B-2,2')]"
files() { ls "$D2"/out/other/dt=*/part-*.parquet >/dev/null 2>&1; }
wait_for 10 files
check "other stream still goes to Parquet files" files
stop_server
mock_stop a

# ---- Kafka down and the queue full: API answers say why (429 kafka_unavailable) ----
DEAD=$(free_port)
D4=$T/d4
mkdir -p "$D4"
SLUICE_SINK=kafka KAFKA_BROKERS=127.0.0.1:$DEAD SLUICE_KAFKA_TIMEOUT=1 \
  start_server "$D4" --flush-interval 0.1 --queue-capacity 5 || exit 1
r=$(printf 'a\n1\n2\n3\n4\n5\n6\n' | curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @- "$URL/v1/streams/q/ingest")
check "rows accepted while Kafka is down (durable in the WAL)" contains "$r" ' 200'
wait_for 15 not_ready
r=$(printf 'a\n7\n' | curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @- "$URL/v1/streams/q/ingest")
check "queue full while Kafka is down -> 429" contains "$r" ' 429'
check "... error code kafka_unavailable" contains "$r" '"code":"kafka_unavailable"'
check "... hint: check KAFKA_BROKERS" contains "$r" "\"hint\":\"check KAFKA_BROKERS=127.0.0.1:$DEAD"
stop_server

# ---- broker down at start, default delivery timeout (30 s): /readyz says why at once ----
# (the start check, re-run in the background; not the first delivery timeout), API answers
# carry a kafka_unavailable warning, and once the broker is up: ready again, data delivered.
KP5=$(free_port)
D5=$T/d5
mkdir -p "$D5"
t0=$(date +%s.%N)
SLUICE_SINK=kafka KAFKA_BROKERS=127.0.0.1:$KP5 start_server "$D5" --flush-interval 0.2 || exit 1
r=$(curl -s -w ' %{http_code}' "$URL/readyz")
secs=$(echo "$(date +%s.%N) - $t0" | bc)
check "down at start: /readyz 503 from its first answer" contains "$r" ' 503'
check "... reason: the kafka sink is not reachable, kafka_unavailable" contains "$r" '"reason":"kafka sink not reachable: kafka_unavailable: no Kafka broker answers'
check "... hint: check KAFKA_BROKERS" contains "$r" "hint: check KAFKA_BROKERS=127.0.0.1:$KP5"
check "... well before the 30 s delivery timeout (launch incl. the 3 s start check: ${secs}s)" [ "$(echo "$secs < 15" | bc)" = 1 ]
check "... sluice_sink_up 0" contains "$(curl -s "$URL/metrics")" 'sluice_sink_up 0'
r=$(printf 'id,name\n1,a\n2,b\n' | curl -s -H 'Content-Type: text/csv' --data-binary @- "$URL/v1/streams/late/ingest")
check "ingest: 200, durable, with warning kafka_unavailable and the hint" contains "$r" '"durable":true,"warning":{"code":"kafka_unavailable","message":"kafka sink not reachable: kafka_unavailable: no Kafka broker answers'
check "... warning hint names KAFKA_BROKERS" contains "$r" "\"hint\":\"check KAFKA_BROKERS=127.0.0.1:$KP5"
r=$(printf '{"event_id":"e1","type":"t","occurred_at":"2024-05-01T00:00:00Z"}' | curl -s -H 'Content-Type: application/json' --data-binary @- "$URL/v1/events")
check "events: 200 with warning kafka_unavailable" contains "$r" '"warning":{"code":"kafka_unavailable"'
curl -s -o /dev/null -d '{"name":"m5","schema":{"fields":[{"name":"id","type":"int64"},{"name":"name","type":"string"}]}}' "$URL/v1/models"
r=$(printf 'id,name\n7,x\n' | curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @- "$URL/v1/jobs?model=m5")
check "job upload: 202 with warning kafka_unavailable" contains "$r" '"warning":{"code":"kafka_unavailable"'
check "... and the 202" contains "$r" ' 202'
r=$(curl -s "$URL/readyz")
check "before the first delivery timeout, /readyz still gives the start check's reason" contains "$r" 'kafka sink not reachable'
mock_start b --port "$KP5" || exit 1
t1=$(date +%s.%N)
wait_for 20 ready
secs=$(echo "$(date +%s.%N) - $t1" | bc)
check "broker up: ready again (${secs}s)" ready
r=$(printf 'id,name\n3,c\n' | curl -s -H 'Content-Type: text/csv' --data-binary @- "$URL/v1/streams/late/ingest")
check "... ingest answers carry no warning any more" eq "$(grep -c warning <<<"$r")" 0
has3() { [ "$(topic_json "127.0.0.1:$KP5" late | wc -l)" = 3 ]; }
wait_for 60 has3
check "... the rows that waited in the WAL are delivered (3 messages, each once)" eq "$(topic_json "127.0.0.1:$KP5" late | python3 -c '
import json, sys
print(sorted(json.loads(json.loads(l)["payload"])["id"] for l in sys.stdin))')" "[1, 2, 3]"
stop_server
mock_stop b

# ---- nothing leaves before the request is durable ----
# The lane takes a request as soon as its COMMIT record is written, before the fsync that
# acknowledges it; Kafka's rows() sends at once, so the lane waits for that fsync first. With
# every group-commit fsync slowed to 1.5 s, each message is created (producer timestamp) at
# least ~1.5 s after the request was sent; then each row arrives once.
KP6=$(free_port)
mock_start b --port "$KP6" || exit 1
SLUICE_SINK=kafka KAFKA_BROKERS=127.0.0.1:$KP6 SLUICE_TEST_WAL_SYNC_DELAY_MS=1500 start_server "$T/d6" --flush-interval 0.05 || exit 1
t0=$(date +%s%3N)
r=$(printf 'id,name\n1,a\n2,b\n3,c\n' | curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/csv' \
  --data-binary @- "$URL/v1/streams/slow/ingest")
check "slow fsync: acknowledged" eq "$r" 200
has3s() { [ "$(topic_json "127.0.0.1:$KP6" slow | wc -l)" = 3 ]; }
wait_for 30 has3s
r=$(topic_json "127.0.0.1:$KP6" slow | python3 -c '
import json, sys
ms = [json.loads(l) for l in sys.stdin]
ids = sorted(json.loads(m["payload"])["id"] for m in ms)
early = min(m["ts"] for m in ms) - '"$t0"'
print(ids, "after the fsync" if early >= 1400 else "only %d ms after the request" % early)')
check "Kafka: each row once, no message before the request was durable" eq "$r" "[1, 2, 3] after the fsync"
stop_server
mock_stop b

# ---- bad configuration is refused with a reason ----
r=$(SLUICE_SINK=kafka KAFKA_PROPERTIES='no.such.property=1' "$SLUICE" serve --data-dir "$T/d3" 2>&1)
check "unknown librdkafka property -> exit 2 with the reason" contains "$r" 'No such configuration property: "no.such.property"'

echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
