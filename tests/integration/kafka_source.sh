#!/usr/bin/env bash
# sluice serve --source kafka://...: a consumer group writing Parquet files named
# TOPIC-PARTITION-FIRST-LAST on librdkafka's mock cluster (tests/tools/kafka_mock.c).
#  1. a crash after a file is published but before its offsets are committed (test failpoint),
#     then a restart with a different batch size: the recorded cut (the intent in the commit
#     metadata) makes the same file again under the same name; every message exactly once;
#     bad messages in _rejects with their partition and offset.
#  2. two instances in one group split the partitions; one is killed (kill -9) mid-batch while
#     messages are being produced, then restarted: every message exactly once in the files,
#     no two files overlap.
#  3. model=NAME created through POST /v1/models after the start (the source waits for it):
#     every file has the model's schema, a message violating it is rejected with its reason and
#     counted; without a model the schema is inferred per file (and differs).
# Each check prints "ok - ..." or "not ok - ...".
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
T=$(mktemp -d)
PIDS=()
MOCK_PID_a=
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [ -n "$MOCK_PID_a" ] && kill -KILL "$MOCK_PID_a" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
fails=0
n=0
ok() { n=$((n + 1)); echo "ok - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
eq() { [ "$1" = "$2" ] || { echo "    expected: $2"; echo "    got:      $1"; return 1; }; }
contains() { grep -qF -- "$2" <<<"$1" || { echo "    '$2' not in: $1"; return 1; }; }
Q() { node "$SL_SRC/tests/readers/query.mjs" "$1"; }
. "$SL_SRC/tests/support/serve_lib.sh"
. "$SL_SRC/tests/support/kafka_lib.sh"
command -v kcat >/dev/null || { echo "not ok - kcat not installed (scripts/deps.sh)"; exit 1; }

# produce TOPIC FROM TO: JSON messages with ids FROM..TO-1, keys spread over partitions
produce() {
  python3 -c "
import json, sys
for i in range($2, $3): print('k%d|%s' % (i % 13, json.dumps({'id': i, 'name': 'n%d' % i, 'v': i * 0.5})))" |
    kcat -P -b "$MOCK_BOOT" -t "$1" -K '|' 2>>"$T/kcat.err"
}
# rows DIR TOPIC: "count distinct" of ids in the topic's Parquet files
rows() {
  ls "$1"/"$2"/*.parquet >/dev/null 2>&1 || { echo "0 0"; return; }
  Q "SELECT count(*) AS n, count(DISTINCT id) AS d FROM read_parquet('$1/$2/*.parquet')" |
    python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print(r["n"], r["d"])'
}
# no_overlap DIR TOPIC: file ranges of each partition are disjoint
no_overlap() {
  python3 - "$1/$2" "$2" <<'PY'
import os, re, sys
d, t = sys.argv[1], sys.argv[2]
parts = {}
for f in os.listdir(d):
    m = re.fullmatch(re.escape(t) + r"-(\d+)-(\d+)-(\d+)\.parquet", f)
    if m:
        parts.setdefault(int(m[1]), []).append((int(m[2]), int(m[3])))
for p, rs in parts.items():
    rs.sort()
    for (a0, a1), (b0, b1) in zip(rs, rs[1:]):
        if b0 <= a1:
            print(f"    partition {p}: {a0}-{a1} overlaps {b0}-{b1}")
            sys.exit(1)
PY
}
wait_for() {
  local s=$1
  shift
  for _ in $(seq 1 $((s * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  "$@"
}
# start NAME DATA_DIR URL [env...]: a sluice instance in the background; pid in PID_<NAME>
start() {
  local name=$1 dir=$2 url=$3
  shift 3
  mkdir -p "$dir"
  env "$@" "$SLUICE" serve --listen "127.0.0.1:$(free_port)" --data-dir "$dir" --source "$url" \
    >>"$dir.log" 2>&1 &
  eval "PID_$name=$!"
  PIDS+=($!)
}

mock_start a --topic ev:4 --topic ev2:4 || exit 1

# ---- 1. crash between publish and commit; restart with another batch size ----
produce ev 0 1000
printf '{bad json\n{"id":"not a number"}\n' | kcat -P -b "$MOCK_BOOT" -t ev -p 2 2>>"$T/kcat.err"
D=$T/one
mkdir -p "$D/models"
echo '{"fields":[{"name":"id","type":"int64","nullable":false},{"name":"name","type":"string"},{"name":"v","type":"double"}]}' >"$D/models/ev.json"
start x "$D" "kafka://$MOCK_BOOT/ev?group=g1&model=ev&batch=100&age=30&session_ms=6000" SLUICE_TEST_KAFKA_CRASH_AFTER_PUBLISH=3
wait "$PID_x"
rc=$?
check "failpoint: the instance exits right after its 3rd file is published (before the commit)" eq "$rc" 99
before=$(cd "$D/out/ev" && ls *.parquet | sort)
check "3 files before the crash" eq "$(wc -l <<<"$before")" 3
start x "$D" "kafka://$MOCK_BOOT/ev?group=g1&model=ev&batch=37&age=0.5&session_ms=6000"
all1000() { [ "$(rows "$D/out" ev)" = "1000 1000" ]; }
wait_for 40 all1000
check "after the restart: 1000 messages, each exactly once" eq "$(rows "$D/out" ev)" "1000 1000"
after=$(cd "$D/out/ev" && ls *.parquet | sort)
missing=$(comm -23 <(echo "$before") <(echo "$after"))
check "the files of the crashed run are still the same names (the cut was recorded)" eq "$missing" ""
check "no two files of a partition overlap" no_overlap "$D/out" ev
check "restart with batch=37 cut the later files at 37 messages" contains "$after" '-36.parquet'
pending() { grep -qE '"pending_cut":[0-9]+' "$D.log"; }
check "the restarted instance found the crashed run's recorded cut (pending_cut in the log)" pending
rej=$(cat "$D"/out/ev/_rejects/*.ndjson 2>/dev/null)
check "bad messages in _rejects with topic, partition and offset" contains "$rej" '{"topic":"ev","partition":2,"offset":'
check "both bad messages rejected" eq "$(wc -l <<<"$rej")" 2
m=$(curl -s "http://$(grep -o '"address":"[^"]*"' "$D.log" | tail -1 | cut -d'"' -f4)/metrics")
check "metrics: messages per partition" contains "$m" 'sluice_kafka_source_messages_total{topic="ev",partition="2"}'
check "metrics: lag per partition" contains "$m" 'sluice_kafka_source_lag_messages{topic="ev",partition="0"} 0'
kill -TERM "$PID_x"
wait "$PID_x"
check "clean stop" eq "$?" 0

# ---- 2. two instances, one killed mid-batch ----
SH=$T/shared # both instances publish into one directory, like one bucket
mkdir -p "$SH" "$T/A" "$T/B"
ln -s "$SH" "$T/A/out"
ln -s "$SH" "$T/B/out"
URL2="kafka://$MOCK_BOOT/ev2?group=g2&batch=50&age=0.5&session_ms=6000"
start A "$T/A" "$URL2"
start B "$T/B" "$URL2"
both() { grep -q 'partition assigned' "$T/A.log" && grep -q 'partition assigned' "$T/B.log"; }
wait_for 30 both
check "both instances got partitions" both
(for k in $(seq 0 19); do produce ev2 $((k * 200)) $((k * 200 + 200)); sleep 0.15; done) &
PROD=$!
sleep 1.2
kill -KILL "$PID_A"
wait "$PID_A" 2>/dev/null
check "instance A killed (kill -9) while messages arrive" true
sleep 2
start A "$T/A" "$URL2"
wait "$PROD"
all4000() { [ "$(rows "$SH" ev2)" = "4000 4000" ]; }
wait_for 60 all4000
check "every message exactly once in the files (4000 rows, 4000 ids)" eq "$(rows "$SH" ev2)" "4000 4000"
check "no two files of a partition overlap" no_overlap "$SH" ev2
for p in A B; do kill -TERM "$(eval echo \$PID_$p)" 2>/dev/null; done
wait "$PID_B"
check "clean stop of B" eq "$?" 0
mock_stop a

# ---- 3. a model created through the API after the start: every file gets its schema ----
# Inferred per file, `v` would be int64 in a file of whole numbers and double in the next; with
# model=m3 both files have the model's schema, a message that does not fit it is rejected with
# its reason and counted, the others are there once each.
mock_start a --topic ev3:1 || exit 1
python3 -c "
import json
for i in range(5): print(json.dumps({'id': i, 'name': 'w%d' % i, 'v': i}))
print(json.dumps({'id': 'seven', 'name': 'bad', 'v': 1}))
for i in range(5, 9): print(json.dumps({'id': i, 'name': 'f%d' % i, 'v': i + 0.5}))" |
  kcat -P -b "$MOCK_BOOT" -t ev3 2>>"$T/kcat.err"
D3=$T/three
mkdir -p "$D3"
P3=$(free_port)
"$SLUICE" serve --listen "127.0.0.1:$P3" --data-dir "$D3" \
  --source "kafka://$MOCK_BOOT/ev3?group=g3&model=m3&batch=5&age=30" >>"$D3.log" 2>&1 &
PID_m=$!
PIDS+=($PID_m)
up3() { curl -s -o /dev/null "http://127.0.0.1:$P3/healthz"; }
wait_for 20 up3
waiting() { grep -q 'waiting for the model' "$D3.log"; }
wait_for 10 waiting
check "model not created yet: the source starts and waits for it (nothing consumed)" eq "$(ls "$D3"/out/ev3/*.parquet 2>/dev/null | wc -l)" 0
r=$(curl -s -w ' %{http_code}' -d '{"name":"m3","schema":{"fields":[{"name":"id","type":"int64","nullable":false},{"name":"name","type":"string"},{"name":"v","type":"double"}]}}' "http://127.0.0.1:$P3/v1/models")
check "model m3 created through POST /v1/models" contains "$r" ' 201'
two_files() { [ "$(ls "$D3"/out/ev3/*.parquet 2>/dev/null | wc -l)" = 2 ]; }
wait_for 30 two_files
check "two files of 5 messages each" eq "$(cd "$D3/out/ev3" && ls *.parquet | tr '\n' ' ')" "ev3-0-0-4.parquet ev3-0-5-9.parquet "
schema_of() { Q "SELECT name, type, converted_type, logical_type FROM parquet_schema('$1') ORDER BY name" | tr -d '\n'; }
s1=$(schema_of "$D3/out/ev3/ev3-0-0-4.parquet")
s2=$(schema_of "$D3/out/ev3/ev3-0-5-9.parquet")
check "both files have the same schema (DuckDB parquet_schema)" eq "$s1" "$s2"
check "... the model's: v is DOUBLE though the first file's values are whole numbers" eq "$(Q "SELECT typeof(v) AS t FROM read_parquet('$D3/out/ev3/ev3-0-0-4.parquet') LIMIT 1")" '{"t":"DOUBLE"}'
check "the other messages once each (9 rows, 9 ids)" eq "$(rows "$D3/out" ev3)" "9 9"
rej=$(cat "$D3"/out/ev3/_rejects/*.ndjson 2>/dev/null)
check "the message violating the model is rejected: offset, field and reason" contains "$rej" '{"topic":"ev3","partition":0,"offset":5,'
check "... with its field and reason" python3 -c '
import json, sys
r = json.loads(sys.argv[1])
assert r["field"] == "id" and len(r.get("reason") or r.get("message") or "") > 5, r' "$rej"
check "... counted: sluice_kafka_source_rejected_total 1" contains "$(curl -s "http://127.0.0.1:$P3/metrics")" 'sluice_kafka_source_rejected_total{topic="ev3",partition="0"} 1'
kill -TERM "$PID_m"
wait "$PID_m"
check "clean stop" eq "$?" 0
# the same messages without a model: the schemas differ between the files (why model= matters)
D3b=$T/three-b
start y "$D3b" "kafka://$MOCK_BOOT/ev3?group=g3b&batch=5&age=30"
two_b() { [ "$(ls "$D3b"/out/ev3/*.parquet 2>/dev/null | wc -l)" = 2 ]; }
wait_for 30 two_b
t1=$(Q "SELECT typeof(v) AS t FROM read_parquet('$D3b/out/ev3/ev3-0-0-4.parquet') LIMIT 1")
t2=$(Q "SELECT typeof(v) AS t FROM read_parquet('$D3b/out/ev3/ev3-0-5-9.parquet') LIMIT 1")
check "without a model, v is inferred per file ($t1 vs $t2)" [ "$t1" != "$t2" ]
kill -TERM "$PID_y"
wait "$PID_y"
mock_stop a

# ---- configuration errors ----
r=$("$SLUICE" serve --data-dir "$T/c" --source 'kafka://127.0.0.1:1/ev' 2>&1)
check "source without group= -> reason" contains "$r" 'group=NAME is required'
r=$("$SLUICE" serve --data-dir "$T/c" --source 'kafka://127.0.0.1:1/ev?group=g&format=csv' 2>&1)
check "csv without model or columns -> reason" contains "$r" 'format=csv needs model=NAME or columns='

echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
