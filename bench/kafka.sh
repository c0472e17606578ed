#!/usr/bin/env bash
# bench/kafka.sh: Kafka produce and consume throughput (rows/s), sluice vs kcat, moving the same
# messages on the same librdkafka mock cluster (tests/tools/kafka_mock.c) in one run.
#
#   produce: kcat -P (idempotent, acks=all, one message per JSON line of the file) vs
#            sluice serve with SLUICE_SINK=kafka: POST the same JSON Lines (WAL fsync on), time
#            until every row is acknowledged by the broker (queued_rows back to 0)
#   consume: kcat -C from the beginning to the end of the topic into /dev/null vs
#            sluice serve --source kafka://... (consumer group, parse, Parquet files, offsets
#            committed after each file), time until files cover every message
#
# Usage: bench/kafka.sh [ROWS] (default 100000; PARTS=8 partitions). Needs a release build (make build) and kcat.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${1:-100000}
# the mock cluster keeps about 5 MiB per partition (older messages are dropped like by
# retention): enough partitions that every message stays readable
PARTS=${PARTS:-8}
BATCH=100000
B=build/release
SL_BIN=$B
T=$(mktemp -d)
SPID=
trap '[ -n "$SPID" ] && kill -KILL $SPID 2>/dev/null; [ -n "${MOCK_PID_b:-}" ] && kill -KILL $MOCK_PID_b 2>/dev/null; rm -rf "$T"' EXIT
. tests/support/kafka_lib.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now() { date +%s.%N; }
rate() { python3 -c "import sys; n=int(sys.argv[1]); s=float(sys.argv[2]); print('%d rows in %.2f s = %.0f rows/s' % (n, s, n/s))" "$1" "$2"; }

python3 - "$ROWS" >"$T/rows.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"id": i, "user": "user-%d" % (i % 9973), "event": ["view", "click", "buy"][i % 3],
                      "amount": round(i * 0.37 % 1000, 2), "ts": "2026-11-23T10:%02d:%02dZ" % (i // 60 % 60, i % 60)},
                     separators=(",", ":")))
PY
echo "kafka bench: $ROWS JSON rows ($(du -h "$T/rows.jsonl" | cut -f1)), mock cluster with 1 broker, topics of $PARTS partitions"
mock_start b --topic kcat_p:$PARTS --topic sl_p:$PARTS || exit 1
BOOT=$MOCK_BOOT

# ---- produce ----
t0=$(now)
kcat -P -b "$BOOT" -t kcat_p -X enable.idempotence=true -X acks=all -l "$T/rows.jsonl"
t1=$(now)
kcat_prod=$(python3 -c "print($t1 - $t0)")

PORT=$(free_port)
SLUICE_SINK=kafka KAFKA_BROKERS=$BOOT SLUICE_KAFKA_TOPIC=sl_p SLUICE_KAFKA_CREATE_TOPICS=false \
  "$B/sluice" serve --listen 127.0.0.1:$PORT --data-dir "$T/d" --flush-interval 0.2 \
  --batch-size $BATCH >"$T/serve.log" 2>&1 &
SPID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.05; done
t0=$(now)
curl -s -o /dev/null -H 'Content-Type: application/x-ndjson' --data-binary @"$T/rows.jsonl" \
  "http://127.0.0.1:$PORT/v1/streams/bench/ingest"
t_ack=$(now)
# every unit committed = every message of it acknowledged by the broker
units=$(( (ROWS + BATCH - 1) / BATCH ))
while :; do
  u=$(curl -s "http://127.0.0.1:$PORT/metrics" |
    awk '/^sluice_files_written_total\{stream="bench",kind="parquet"\}/ {print $2}')
  [ "${u:-0}" = "$units" ] && break
  sleep 0.02
done
t1=$(now)
sl_prod=$(python3 -c "print($t1 - $t0)")
sl_ack=$(python3 -c "print($t_ack - $t0)")
kill -TERM $SPID; wait $SPID || true; SPID=
n_kcat=$(kcat -C -b "$BOOT" -t kcat_p -e -q -f 'x\n' | wc -l)
n_sl=$(kcat -C -b "$BOOT" -t sl_p -e -q -f 'x\n' | wc -l)
[ "$n_kcat" = "$ROWS" ] && [ "$n_sl" = "$ROWS" ] || echo "WARNING: not every message is in the topics (mock retention? raise PARTS)"

# ---- consume ----
t0=$(now)
kcat -C -b "$BOOT" -t kcat_p -o beginning -e -q -f '%s\n' >/dev/null
t1=$(now)
kcat_cons=$(python3 -c "print($t1 - $t0)")

PORT=$(free_port)
t0=$(now)
"$B/sluice" serve --listen 127.0.0.1:$PORT --data-dir "$T/c" \
  --source "kafka://$BOOT/kcat_p?group=bench&batch=100000&age=0.5" >"$T/src.log" 2>&1 &
SPID=$!
covered() {
  python3 - "$T/c/out/kcat_p" <<'PY'
import os, re, sys
n = 0
d = sys.argv[1]
if os.path.isdir(d):
    for f in os.listdir(d):
        m = re.fullmatch(r"kcat_p-\d+-(\d+)-(\d+)\.parquet", f)
        if m:
            n += int(m[2]) - int(m[1]) + 1
print(n)
PY
}
while [ "$(covered)" -lt "$ROWS" ]; do sleep 0.05; done
t1=$(now)
sl_cons=$(python3 -c "print($t1 - $t0)")
# without the start and the group join: from the first partition assignment
t_asg=$(python3 - "$T/src.log" <<'PY'
import datetime, json, sys
for l in open(sys.argv[1]):
    if "partition assigned" in l:
        ts = json.loads(l)["ts"].replace("Z", "+00:00")
        print(datetime.datetime.fromisoformat(ts).timestamp())
        break
PY
)
sl_cons_run=$(python3 -c "print($t1 - $t_asg)")
kill -TERM $SPID; wait $SPID || true; SPID=
mock_stop b

echo
echo "messages in the topics: kcat $n_kcat, sluice $n_sl (expected $ROWS each)"
echo "produce  kcat -P (idempotent, acks=all)           : $(rate "$ROWS" "$kcat_prod")"
echo "produce  sluice POST -> WAL -> Kafka sink, acked    : $(rate "$ROWS" "$sl_prod") (HTTP answer after $(printf '%.2f' "$sl_ack") s)"
echo "consume  kcat -C -> /dev/null                      : $(rate "$ROWS" "$kcat_cons")"
echo "consume  sluice --source -> Parquet files committed : $(rate "$ROWS" "$sl_cons_run") from the partition assignment"
echo "         (with process start and consumer-group join  : $(rate "$ROWS" "$sl_cons"))"
