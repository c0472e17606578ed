#!/usr/bin/env bash
# The whole suite, as CI runs it (make test). Builds the ASan+UBSan debug tree and runs every
# unit and integration test under it, builds the release tree (warnings differ at -O2), runs
# each fuzz target briefly on its corpus, and prints a final "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc)
passed=0
failed=0
failures=()

step() { # name, command...
  local name=$1
  shift
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "!!! FAILED: $name"
  fi
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

step "build release" make -s build
step "build asan" make -s asan
if [ -d build/asan ]; then
  echo "=== ctest (ASan+UBSan)"
  (cd build/asan && ctest --output-on-failure -j "$JOBS") 2>&1 | tee build/ctest.log
  # "NN% tests passed, F tests failed out of T"
  summary=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' build/ctest.log | tail -1)
  if [ -n "$summary" ]; then
    f=$(echo "$summary" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
    t=$(echo "$summary" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/')
    passed=$((passed + t - f))
    failed=$((failed + f))
    [ "$f" -eq 0 ] || failures+=("ctest")
  else
    failed=$((failed + 1))
    failures+=("ctest (no summary)")
  fi
fi
# threaded code under ThreadSanitizer (clang): the unit tests, without the allocation-failure
# ones (they wrap malloc, which TSan intercepts itself)
tsan_units() {
  make -s tsan && (cd build/tsan && TSAN_OPTIONS=halt_on_error=1 ctest -R '^unit\.' -E '_oom_test' --output-on-failure -j "$JOBS")
}
# the threaded convert pipeline (reader, workers, ordered writer, column pool) under TSan
tsan_convert() {
  local t
  t=$(mktemp -d)
  gcc -O2 -o "$t/gen" bench/gen_bench_data.c && "$t/gen" 60000 "$t/d.csv" "$t/d.jsonl" &&
    printf 'id,amount\n1,x\n' >>"$t/d.csv" &&
    TSAN_OPTIONS=halt_on_error=1 build/tsan/sluice convert "$t/d.csv" "$t/a.parquet" --threads 4 --on-error skip --quiet &&
    TSAN_OPTIONS=halt_on_error=1 build/tsan/sluice convert "$t/d.jsonl" "$t/b.parquet" --threads 3 --rejects "$t/r.ndjson" --quiet &&
    { TSAN_OPTIONS=halt_on_error=1 build/tsan/sluice convert "$t/d.csv" "$t/c.parquet" --threads 4 --quiet; [ $? -eq 1 ]; }
  local rc=$?
  rm -rf "$t"
  return $rc
}
# the server under TSan: HTTP threads, group commit, lanes and the column pool, with several
# streams at once, a flush by rows, by age and for commit waiters, small WAL segments released
# into spares and reused while requests append, and a graceful stop; then
# requests re-parsed from the WAL by helper threads (--cache-bytes 1)
tsan_serve() {
  local t rc=0 port spid
  t=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  TSAN_OPTIONS="halt_on_error=1 exitcode=66" build/tsan/sluice serve --listen "127.0.0.1:$port" \
    --data-dir "$t/d" --batch-size 3000 --flush-interval 0.3 --chunk-bytes 16K \
    --wal-segment-bytes 256K --wal-spare-segments 2 >"$t/log" 2>&1 &
  spid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  for s in a b c; do
    build/tsan/sl_load --url "http://127.0.0.1:$port/v1/streams/$s/ingest" --gen-ids 1 \
      --rows-per-request 150 --clients 3 --duration 4 --ack-log "$t/acks.$s" --quiet >/dev/null 2>&1 &
  done
  curl -s "http://127.0.0.1:$port/metrics" >/dev/null
  # commit waiters (GET /v1/streams/NAME?wait_rows=..) against the lanes flushing for them
  sleep 1
  for w in 1000 3000 6000; do
    curl -s -o /dev/null "http://127.0.0.1:$port/v1/streams/a?wait_rows=$w&timeout=2" &
  done
  wait $(jobs -p | grep -v "^$spid$") 2>/dev/null
  curl -s "http://127.0.0.1:$port/metrics" | grep -q '^sluice_wal_recycled_segments_total [1-9]' ||
    { echo "tsan_serve: no WAL segment was recycled"; rc=1; }
  kill -TERM "$spid"
  wait "$spid" || rc=$?
  for s in a b c; do
    [ -s "$t/acks.$s" ] || { echo "tsan_serve: no request to stream $s was acknowledged"; rc=1; }
  done
  # requests not kept in memory (--cache-bytes 1): big ones re-parsed by helper threads ahead
  # of the lanes, two streams at once
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  TSAN_OPTIONS="halt_on_error=1 exitcode=66" build/tsan/sluice serve --listen "127.0.0.1:$port" \
    --data-dir "$t/d2" --cache-bytes 1 --chunk-bytes 16K --flush-interval 0.3 >>"$t/log" 2>&1 &
  spid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
  awk 'BEGIN { print "id,v"; for (i = 1; i <= 40000; i++) print i "," i * 3 }' >"$t/big.csv"
  for s in e f e f; do
    curl -s -o /dev/null -H 'Content-Type: text/csv' --data-binary @"$t/big.csv" \
      "http://127.0.0.1:$port/v1/streams/$s/ingest" &
  done
  wait $(jobs -p | grep -v "^$spid$") 2>/dev/null
  sleep 1
  curl -s "http://127.0.0.1:$port/metrics" | grep -q '^sluice_reparsed_pieces_total{by="helpers"} [1-9]' ||
    { echo "tsan_serve: no request was re-parsed by helper threads"; rc=1; }
  kill -TERM "$spid"
  wait "$spid" || rc=$?
  if [ $rc -ne 0 ] || grep -q "ThreadSanitizer" "$t/log"; then
    grep -A30 "ThreadSanitizer" "$t/log" | head -60
    echo "tsan_serve: exit $rc"
    rc=1
  fi
  rm -rf "$t"
  return $rc
}
# the S3 client's concurrent multipart upload (part workers, shared part counter, retries, abort
# after a failed part) under TSan, against s3rver behind the SigV4 proxy
tsan_s3() {
  local t rc=0
  t=$(mktemp -d)
  (
    . tests/services/s3_lib.sh
    trap 's3_stop' EXIT
    s3_start "$t" >/dev/null || exit 1
    head -c 30000000 /dev/urandom >"$t/f"
    export TSAN_OPTIONS="halt_on_error=1 exitcode=66" SLUICE_S3_PART_SIZE=5M SLUICE_S3_CONCURRENCY=4
    build/tsan/sl_s3 put "$t/f" t/a.bin >/dev/null || exit 1
    s3_ctl 'fault?op=part&count=2&status=503' >/dev/null
    build/tsan/sl_s3 put "$t/f" t/b.bin >/dev/null || exit 1
    s3_ctl 'fault?op=part&count=1&status=400&code=InvalidPart' >/dev/null
    build/tsan/sl_s3 put "$t/f" t/c.bin >/dev/null 2>"$t/err"
    [ $? -eq 1 ] || { cat "$t/err"; exit 1; }
  ) || rc=1
  rm -rf "$t"
  return $rc
}
step "unit tests under TSan" tsan_units
step "sluice serve under TSan" tsan_serve
step "threaded convert under TSan" tsan_convert
step "S3 multipart upload under TSan" tsan_s3
# models and jobs under TSan: HTTP threads, two job workers converting on two threads each,
# progress and a cancel from other threads; waits for the first job, then stops gracefully with
# the others running (they go back to queued)
tsan_jobs() {
  local t rc=0 port spid url ids
  t=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  url="http://127.0.0.1:$port"
  SLUICE_JOB_WORKERS=2 TSAN_OPTIONS="halt_on_error=1 exitcode=66" build/tsan/sluice serve \
    --listen "127.0.0.1:$port" --data-dir "$t/d" >"$t/log" 2>&1 &
  spid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "$url/healthz" && break; sleep 0.1; done
  gcc -O2 -o "$t/gen" bench/gen_bench_data.c && "$t/gen" 150000 "$t/d.csv" "$t/d.jsonl"
  printf '{"fields":[{"name":"id","type":"int64"},{"name":"amount","type":"double"},{"name":"email","type":"string"}]}' >"$t/m.json"
  build/tsan/sluice model create m "$t/m.json" --url "$url" >/dev/null || rc=1
  ids=""
  for f in d.csv d.jsonl d.csv d.jsonl; do
    ids="$ids $(build/tsan/sluice job create m "$t/$f" --url "$url" | jq -r .id)"
  done
  build/tsan/sluice job cancel "$(awk '{print $2}' <<<"$ids")" --url "$url" >/dev/null
  build/tsan/sluice job list --url "$url" >/dev/null
  for id in $(awk '{print $1}' <<<"$ids"); do
    for _ in $(seq 1 600); do # the first job
      s=$(build/tsan/sluice job show "$id" --url "$url" | jq -r .status)
      [ "$s" = queued ] || [ "$s" = running ] || break
      sleep 0.1
    done
  done
  kill -TERM "$spid"
  wait "$spid" || rc=$?
  if [ $rc -ne 0 ] || grep -q "ThreadSanitizer" "$t/log"; then
    grep -A30 "ThreadSanitizer" "$t/log" | head -60
    echo "tsan_jobs: exit $rc"
    rc=1
  fi
  rm -rf "$t"
  return $rc
}
step "models and jobs under TSan" tsan_jobs
# the Kafka sink (lanes producing, the poll thread counting delivery reports and replacing the
# producer after a fatal error) and the Kafka source (consumer thread, rebalance callbacks, file
# publishing) under TSan, on the mock cluster with a broker outage in the middle; then a broker
# down at start (the sink watch thread beside HTTP threads reading its reason)
tsan_kafka() {
  local t rc=0 port spid
  t=$(mktemp -d)
  (
    T=$t SL_BIN=build/tsan
    . tests/support/kafka_lib.sh
    trap 'mock_stop k' EXIT
    mock_start k --topic src:2 || { echo "tsan_kafka: mock did not start"; exit 1; }
    python3 -c "
import json
for i in range(3000): print(json.dumps({'id': i, 'v': i * 0.5}))" | kcat -P -b "$MOCK_BOOT" -t src 2>/dev/null
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$PWD/tests/support/tsan_librdkafka.supp" SLUICE_SINK=kafka KAFKA_BROKERS="$MOCK_BOOT" \
      SLUICE_KAFKA_TIMEOUT=2 build/tsan/sluice serve --listen "127.0.0.1:$port" --data-dir "$t/d" \
      --batch-size 2000 --flush-interval 0.3 \
      --source "kafka://$MOCK_BOOT/src?group=tsan&batch=500&age=0.5" >"$t/log" 2>&1 &
    spid=$!
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
    local loads=()
    for s in a b; do
      build/tsan/sl_load --url "http://127.0.0.1:$port/v1/streams/$s/ingest" --gen-ids 1 \
        --rows-per-request 150 --clients 2 --duration 5 --ack-log "$t/acks.$s" --quiet >/dev/null 2>&1 &
      loads+=($!)
    done
    sleep 1.5
    mock_cmd k down 1
    sleep 2.5
    mock_cmd k up 1
    sleep 0.5
    mock_cmd k err 0 45 1 # a fatal producer error under load: a new producer (kafka_sink.c)
    wait "${loads[@]}" 2>/dev/null
    for _ in $(seq 1 100); do
      curl -s "http://127.0.0.1:$port/readyz" | grep -q '"ready":true' && break
      sleep 0.2
    done
    for _ in $(seq 1 150); do
      curl -s "http://127.0.0.1:$port/metrics" >"$t/metrics"
      grep -q 'sluice_kafka_source_files_total{topic="src"' "$t/metrics" && break
      sleep 0.2
    done
    kill -TERM "$spid"
    wait "$spid" || { echo "tsan_kafka: sluice exit $?"; exit 1; }
    grep -q 'sluice_kafka_source_files_total{topic="src"' "$t/metrics" || { echo "tsan_kafka: no source files"; exit 1; }
    [ -s "$t/acks.a" ] || { echo "tsan_kafka: nothing acknowledged"; exit 1; }
    grep -q 'new producer ready' "$t/log" || { echo "tsan_kafka: no producer restart after the fatal error"; exit 1; }
    # broker down at start: the sink watch thread re-checks while requests read its reason
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$PWD/tests/support/tsan_librdkafka.supp" SLUICE_SINK=kafka \
      KAFKA_BROKERS=127.0.0.1:1 SLUICE_KAFKA_TIMEOUT=2 build/tsan/sluice serve --listen "127.0.0.1:$port" --data-dir "$t/d2" \
      --flush-interval 0.3 >>"$t/log" 2>&1 &
    spid=$!
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
    curl -s "http://127.0.0.1:$port/readyz" | grep -q 'kafka sink not reachable' || { echo "tsan_kafka: readyz without the start check's reason"; exit 1; }
    for i in $(seq 1 20); do
      curl -s "http://127.0.0.1:$port/readyz" >/dev/null
      printf 'a\n%d\n' "$i" | curl -s -o /dev/null -H 'Content-Type: text/csv' --data-binary @- "http://127.0.0.1:$port/v1/streams/w/ingest"
      sleep 0.2
    done
    curl -s "http://127.0.0.1:$port/readyz" | grep -q 'kafka_unavailable' || { echo "tsan_kafka: readyz does not say kafka_unavailable"; exit 1; }
    kill -TERM "$spid"
    wait "$spid" || { echo "tsan_kafka: sluice (broker down) exit $?"; exit 1; }
  ) || rc=1
  if [ $rc -ne 0 ] || grep -q "ThreadSanitizer" "$t/log"; then
    grep -A30 "ThreadSanitizer" "$t/log" | head -60
    rc=1
  fi
  rm -rf "$t"
  return $rc
}
step "Kafka sink and source under TSan" tsan_kafka
step "fuzz smoke" scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

echo
if ((${#failures[@]})); then
  echo "failed steps: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#failures[@]} -eq 0 ]
