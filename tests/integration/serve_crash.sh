#!/usr/bin/env bash
# Crash recovery of sluice serve: clients post rows with unique ids while the server is killed
# with SIGKILL at random moments (during uploads, group commits, flushes, checkpoint writes,
# recovery itself) and restarted, SL_CRASH_ROUNDS times (default 14). Batch sizes, request sizes
# and piece sizes vary per round so requests span several WAL records and files are cut inside
# requests. At the end, after a clean shutdown, DuckDB reads every Parquet file and:
#   - every acknowledged id is there exactly once,
#   - no id is there twice (ids are never sent twice, so any duplicate is sluice's),
#   - nothing was rejected, and no staged (temporary) file is left.
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
LOAD="$SL_BIN/sl_load"
T=$(mktemp -d)
SPID=
LPID=
trap '[ -n "$SPID" ] && kill -KILL $SPID 2>/dev/null; [ -n "$LPID" ] && kill -KILL $LPID 2>/dev/null; rm -rf "$T"' EXIT
. "$SL_SRC/tests/support/check_lib.sh"
Q() { node "$SL_SRC/tests/readers/query.mjs" "$1"; }
. "$SL_SRC/tests/support/serve_lib.sh"

ROUNDS=${SL_CRASH_ROUNDS:-14}
SEED=${SL_CRASH_SEED:-$RANDOM}
RANDOM=$SEED
echo "# seed $SEED, $ROUNDS rounds"
D=$T/data
mkdir -p "$D"
touch "$T/acks"
next=1
for round in $(seq 1 "$ROUNDS"); do
  batch=$((200 + RANDOM % 3000))
  if ((round % 2)); then
    rows=$((1 + RANDOM % 400))
    chunk=$((4 + RANDOM % 60))K
  else # large requests: pieces of 128 KiB+, written to the WAL with O_DIRECT (where supported)
    rows=$((3000 + RANDOM % 9000))
    chunk=$((160 + RANDOM % 800))K
  fi
  direct=$([ $((round % 2)) = 0 ] && echo true || echo false)
  start_server "$D" --flush-interval 0.$((1 + RANDOM % 9)) --batch-size "$batch" --chunk-bytes "$chunk" \
    --wal-segment-bytes 256K --wal-direct "$direct" || { bad "round $round: server start"; break; }
  "$LOAD" --url "$URL/v1/streams/crash/ingest" --gen-ids "$next" --rows-per-request "$rows" \
    --clients 4 --duration 30 --ack-log "$T/acks" --timeout 10 --quiet >"$T/load.out" 2>"$T/load.err" &
  LPID=$!
  # kill somewhere in the first 0.2-2.5 s
  sleep "$((RANDOM % 3)).$((2 + RANDOM % 8))"
  kill9_server
  kill -TERM "$LPID" 2>/dev/null
  wait "$LPID" 2>/dev/null
  LPID=
  # sl_load stops on SIGTERM and prints the next unused id; without it, skip far ahead
  nid=$(sed -nE 's/.*"next_id":([0-9]+).*/\1/p' "$T/load.out")
  if [ -n "$nid" ]; then
    next=$nid
  else
    last=$(awk '{print $2}' "$T/acks" | sort -n | tail -1)
    next=$(( (${last:-0} > next ? ${last:-0} : next) + 10000000 ))
  fi
  echo "# round $round: batch $batch, $rows rows/request, chunk $chunk, acked so far $(wc -l <"$T/acks") requests"
done

# a clean run to deliver everything, then a clean stop
start_server "$D" --flush-interval 0.2 || exit 1
for _ in $(seq 1 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" = 200 ] && break
  sleep 0.1
done
stop_server
check "clean stop after the crashes exits 0" [ $? -eq 0 ]

acked_reqs=$(wc -l <"$T/acks")
acked_rows=$(awk '{s += $2 - $1 + 1} END {print s + 0}' "$T/acks")
check "some requests were acknowledged ($acked_reqs requests, $acked_rows rows)" [ "$acked_reqs" -gt 0 ]
awk 'BEGIN {print "first,last"} {print $1 "," $2}' "$T/acks" >"$T/acks.csv"
P="read_parquet('$D/out/crash/dt=*/part-*.parquet')"
r=$(Q "SELECT count(*) AS n FROM (SELECT id FROM $P GROUP BY id HAVING count(*) > 1)")
check "no id appears twice" eq "$r" '{"n":"0"}'
r=$(Q "SELECT count(*) AS n FROM (SELECT unnest(generate_series(first, last)) AS id FROM read_csv('$T/acks.csv')) a WHERE a.id NOT IN (SELECT id FROM $P)")
check "every acknowledged id is in the output" eq "$r" '{"n":"0"}'
r=$(Q "SELECT count(*) AS n FROM $P")
total=$(sed -E 's/.*"n":"?([0-9]+)"?.*/\1/' <<<"$r")
check "output rows >= acknowledged rows ($total >= $acked_rows)" [ "${total:-0}" -ge "$acked_rows" ]
r=$(Q "SELECT count(*) AS n FROM $P WHERE name IS NULL OR amount IS NULL")
check "rows intact (no nulls in generated columns)" eq "$r" '{"n":"0"}'
check "no rejects" eq "$(find "$D/out/crash" -path '*_rejects*' -type f | wc -l)" 0
check "no staged files left" eq "$(find "$D/stage" -type f | wc -l)" 0
names=$(find "$D/out/crash" -name 'part-*.parquet' | wc -l)
check "files were cut at many points ($names files)" [ "$names" -gt "$ROUNDS" ]
grep -h '"level":"error"' "$D.log" | grep -v 'cannot read a request back' | head -5
check "no errors logged by recovery" eq "$(grep -c 'recovery: a committed request cannot be replayed\|replay produced more rows' "$D.log")" 0

# the large rounds exercised direct WAL writes where the file system allows O_DIRECT
if dd if=/dev/zero of="$D/dio-probe" bs=4096 count=1 oflag=direct 2>/dev/null; then
  check "WAL used O_DIRECT" grep -q '"wal_direct":true' "$D.log"
else
  check "no O_DIRECT here: WAL stayed buffered" grep -q '"wal_direct":false' "$D.log"
fi
rm -f "$D/dio-probe"
crashes=$(grep -v '^{' "$D.log" | grep -iE 'assert|abort|sanitizer|runtime error' | head -5)
check "the server never crashed by itself (only kill -9)" eq "$crashes" ""
echo "# $n checks, $fails failed (seed $SEED)"
[ "$fails" -eq 0 ]
