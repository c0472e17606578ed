#!/usr/bin/env bash
# Jobs with a row sink: SLUICE_SINK=kafka on librdkafka's mock cluster (tests/tools/kafka_mock.c).
# A job's rows go to its own topic jobs.MODEL.ID and its rejected rows to jobs.MODEL.ID.dlq (with
# their reasons in headers); with SLUICE_ROUTES='jobs.*=kafka' and the default local sink, only
# jobs go to Kafka. Each check prints "ok - ..." or "not ok - ...".
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
T=$(mktemp -d)
SPID=
MOCK_PID_a=
trap '[ -n "$SPID" ] && kill -KILL $SPID 2>/dev/null; [ -n "$MOCK_PID_a" ] && kill -KILL $MOCK_PID_a 2>/dev/null; rm -rf "$T"' EXIT
fails=0
n=0
ok() { n=$((n + 1)); echo "ok - $1"; }
bad() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
eq() { [ "$1" = "$2" ] || { echo "    expected: $2"; echo "    got:      $1"; return 1; }; }
. "$SL_SRC/tests/support/serve_lib.sh"
. "$SL_SRC/tests/support/kafka_lib.sh"
command -v kcat >/dev/null || { echo "not ok - kcat not installed (scripts/deps.sh)"; exit 1; }
run() {
  OUT=$("$SLUICE" "$@" 2>"$T/err")
  RC=$?
  ERR=$(cat "$T/err")
}
j() { jq -r "$1" <<<"$OUT"; }

mock_start a || exit 1
printf '{"fields":[{"name":"id","type":"int64","nullable":false},{"name":"city","type":"string"}]}' >"$T/m.json"
{ echo "id,city"; for i in $(seq 1 100); do echo "$i,c$i"; done; echo "x,bad"; echo ",null id"; } >"$T/c.csv"

D=$T/d1
mkdir -p "$D"
SLUICE_SINK=kafka KAFKA_BROKERS=$MOCK_BOOT start_server "$D" || exit 1
export SLUICE_URL=$URL
run model create cities "$T/m.json"
run job create cities "$T/c.csv" --wait
ID=$(j .id)
check "job to Kafka: partially_failed, 100 accepted, 2 rejected" eq "$RC $(j .status) $(j .rows.accepted) $(j .rows.rejected)" "1 partially_failed 100 2"
check "output: the kafka sink, stream jobs.cities.ID" eq "$(j '.outputs[0].sink') $(j '.outputs[0].stream')" "kafka jobs.cities.$ID"
msgs=$(topic_json "$MOCK_BOOT" "jobs.cities.$ID")
check "100 messages in the job's topic" eq "$(grep -c . <<<"$msgs")" 100
check "message values are the rows" eq "$(jq -r 'select(.payload | fromjson | .id == 7) | .payload | fromjson | .city' <<<"$msgs")" c7
dlq=$(topic_json "$MOCK_BOOT" "jobs.cities.$ID.dlq")
check "2 dead letters in the job's .dlq topic" eq "$(grep -c . <<<"$dlq")" 2
check "dead letters carry line, field and code headers" eq "$(jq -c '.headers as $h | [range(0; $h|length; 2)] | map({($h[.]): $h[.+1]}) | add | [.line, .field, .code]' <<<"$dlq" | sort | tr '\n' ' ')" '["102","id","type"] ["103","id","null_value"] '
check "dead letters location names the sink" eq "$(j .dead_letters)" "kafka:jobs.cities.$ID (dead letters)"
stop_server

D2=$T/d2
mkdir -p "$D2"
SLUICE_ROUTES='jobs.*=kafka' KAFKA_BROKERS=$MOCK_BOOT start_server "$D2" || exit 1
export SLUICE_URL=$URL
run model create cities "$T/m.json"
run job create cities "$T/c.csv" --wait
ID2=$(j .id)
check "SLUICE_ROUTES jobs.*=kafka: the job goes to Kafka" eq "$(j '.outputs[0].sink') $(grep -c . <<<"$(topic_json "$MOCK_BOOT" "jobs.cities.$ID2")")" "kafka 100"
r=$(curl -s -H 'Content-Type: text/csv' --data-binary @"$T/c.csv" "$URL/v1/streams/plain/ingest?model=cities")
check "... while ingest streams stay on the local sink" eq "$(jq -r .rows_accepted <<<"$r")" 100
stop_server
mock_stop a
echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
