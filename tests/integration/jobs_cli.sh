#!/usr/bin/env bash
# Models, jobs and the sluice CLI end to end (seed 002): the CLI drives a running `sluice serve`.
# Models: create (versions), list, show, delete (refused while a job runs), invalid schemas.
# Jobs: CSV, JSON Lines and Parquet (ours and DuckDB's) converted to Parquet and read back by
# DuckDB; rejected rows in the dead letters with line, column and reason; list filters and
# pages; cancel; status after kill -9 and after SIGTERM in the middle of a job; an upload cut
# before its answer leaves nothing. Errors: unreachable, auth, model not found (lists models),
# file too big, wrong format, empty file, bad Content-Type; exit codes. Output: compact JSON in
# a pipe, pretty colored JSON on a terminal, tables. Last: a 1 GiB CSV generated on the fly,
# streamed by the CLI, with the server's peak RSS bounded (SL_JOBS_BIG_MB overrides the size;
# under ASan the default is 64 MiB); disk full on a small tmpfs (skipped if mount fails). Each
# check prints "ok - ..." or "not ok - ...".
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
T=$(mktemp -d)
SPID=
BGPIDS=()
MNT=
cleanup() {
  [ -n "$SPID" ] && kill -KILL "$SPID" 2>/dev/null
  [ -n "$MNT" ] && { sleep 0.2; umount "$MNT"; }
  for p in "${BGPIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
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
qn() { Q "$1" | sed -E 's/.*:"?([0-9.]+)"?}/\1/'; } # one number
. "$SL_SRC/tests/support/serve_lib.sh"

# run ARGS...: the CLI with stdout a pipe; sets OUT, ERR, RC
run() {
  OUT=$("$SLUICE" "$@" 2>"$T/err")
  RC=$?
  ERR=$(cat "$T/err")
}
j() { jq -r "$1" <<<"$OUT"; }
# wait_status ID STATUS... : until the job has one of the statuses (30 s)
wait_status() {
  local id=$1 s
  shift
  for _ in $(seq 1 300); do
    s=$("$SLUICE" job show "$id" 2>/dev/null | jq -r .status)
    for want in "$@"; do [ "$s" = "$want" ] && return 0; done
    sleep 0.1
  done
  echo "    job $id still '$s', wanted $*"
  return 1
}
# wait_rows ID: until the running job has processed some rows
wait_rows() {
  for _ in $(seq 1 300); do
    [ "$("$SLUICE" job show "$1" 2>/dev/null | jq -r '.rows.read')" -gt 0 ] 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

export SLUICE_TOKEN=s3cret
# each 4 MiB chunk of a job takes >= 40 ms: kill, stop and cancel land in the middle of a job
export SLUICE_TEST_JOB_DELAY_MS=40
export SLUICE_AUTH_TOKENS=s3cret,other
D=$T/data
mkdir -p "$D"
start_server "$D" || exit 1
export SLUICE_URL=$URL

cat >"$T/orders.json" <<'EOF'
{"fields":[{"name":"id","type":"int64","nullable":false},{"name":"name","type":"string"},
 {"name":"amount","type":"decimal(12,2)"},{"name":"ts","type":"timestamp[us, UTC]"}]}
EOF
cat >"$T/orders2.json" <<'EOF'
{"fields":[{"name":"id","type":"int64","nullable":false},{"name":"name","type":"string"},
 {"name":"amount","type":"decimal(12,2)"},{"name":"ts","type":"timestamp[us, UTC]"},
 {"name":"note","type":"string"}]}
EOF

# ---- models ----------------------------------------------------------------------------------
run model create orders "$T/orders.json"
check "model create: exit 0, version 1, created" eq "$RC $(j .version) $(j .created)" "0 1 true"
check "model create in a pipe: compact JSON on one line" eq "$(wc -l <<<"$OUT")" 1
run model create orders "$T/orders.json"
check "same schema again: still version 1, not created" eq "$RC $(j .version) $(j .created)" "0 1 false"
run model create orders "$T/orders2.json"
check "changed schema: version 2" eq "$RC $(j .version) $(j .versions)" "0 2 2"
run model show orders
check "model show: latest version, 5 fields" eq "$RC $(j .version) $(j '.schema.fields|length')" "0 2 5"
run model show orders --version 1
check "model show --version 1: the old schema" eq "$RC $(j .version) $(j '.schema.fields|length')" "0 1 4"
check "model file written for ingest (?model=)" eq "$(jq -c '.fields|length' "$D/models/orders.json")" 5
run model create events "$T/orders.json"
run model list
check "model list: both models, sorted" eq "$RC $(j '[.models[].name]|join(",")')" "0 events,orders"
run model list -o table
check "model list -o table" contains "$OUT" "orders                                   2"
run model show orders -o table
check "model show -o table lists fields" contains "$OUT" "amount                           decimal(12,2)"
out=$(script -qec "$SLUICE model show orders" /dev/null)
check "model show on a terminal: pretty, colored JSON" contains "$out" $'\033[1;34m"version"\033[0m: \033[36m2\033[0m'
printf '{"fields":[{"name":"id","type":"int64"},{"name":"x","type":"int128"}]}' >"$T/bad_type.json"
run model create bad "$T/bad_type.json"
check "invalid type: exit 6, field named" eq "$RC $(grep -c 'schema.fields\[1\].type: unknown type' <<<"$ERR")" "6 1"
printf '{"fields":[{"name":"id","type":"int64"},{"name":"id","type":"string"}]}' >"$T/dup.json"
run model create bad "$T/dup.json"
check "duplicate field: exit 6 (invalid_schema)" eq "$RC $(grep -c invalid_schema <<<"$ERR")" "6 1"
printf '{"fields":[' >"$T/trunc.json"
run model create bad "$T/trunc.json"
check "schema file not JSON: exit 6 before any request" eq "$RC $(grep -c 'not valid JSON' <<<"$ERR")" "6 1"
run model create 'bad name!' "$T/orders.json"
check "invalid model name: exit 6 (bad_model_name)" eq "$RC $(grep -c bad_model_name <<<"$ERR")" "6 1"
run model show nope
check "model not found: exit 5, hint lists the models" eq "$RC $(grep -c 'existing models: events, orders' <<<"$ERR")" "5 1"
r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $SLUICE_TOKEN" -d '{"name":"x","schema":{"fields":[]},"extra":1}' "$URL/v1/models")
check "API: unknown field in the body -> 400" contains "$r" '"code":"unknown_field"'
r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $SLUICE_TOKEN" -d '{"name":"x",' "$URL/v1/models")
check "API: body not JSON -> 400 bad_json with position" contains "$r" 'not valid JSON: a member name (string) was expected at byte 12'
r=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $SLUICE_TOKEN" "$URL/v1/models")
check "API: PUT /v1/models -> 405" eq "$r" 405

# ---- jobs: CSV, JSON Lines, Parquet -------------------------------------------------------
{
  echo "id,name,amount,ts,note"
  for i in $(seq 1 2000); do echo "$i,name $i,$i.25,2026-11-23T10:00:00Z,n"; done
} >"$T/good.csv"
run job create orders "$T/good.csv" --wait
JOB1=$(j .id)
check "CSV job --wait: exit 0, succeeded, 2000 rows, model version 2" eq "$RC $(j .status) $(j .rows.accepted) $(j .model_version)" "0 succeeded 2000 2"
PQ1=$(j '.outputs[0].location')
check "CSV job output read by DuckDB: rows and sum" eq "$(Q "SELECT count(*) n, sum(amount)::VARCHAR s FROM '$PQ1'")" '{"n":"2000","s":"2001500.00"}'
check "output key is deterministic: jobs/MODEL/ID/part-00000.parquet" eq "$(j '.outputs[0].key')" "jobs/orders/$JOB1/part-00000.parquet"
check "no dead letters for a clean file" eq "$(j .dead_letters)" null
check "the uploaded file is removed after the job" eq "$(ls "$D/jobs" | wc -l)" 0

for i in $(seq 1 500); do echo "{\"id\":$i,\"name\":\"j$i\",\"amount\":\"1.10\",\"ts\":\"2026-11-23T10:00:00Z\"}"; done >"$T/good.jsonl"
run job create orders "$T/good.jsonl" --wait
check "JSON Lines job: succeeded, 500 rows, format jsonl" eq "$RC $(j .status) $(j .rows.accepted) $(j .format)" "0 succeeded 500 jsonl"

"$SLUICE" convert "$T/good.csv" "$T/ours.parquet" --schema "$T/orders2.json" --quiet
run job create orders "$T/ours.parquet" --wait
check "Parquet job (written by sluice): succeeded, 2000 rows" eq "$RC $(j .status) $(j .rows.accepted) $(j .format)" "0 succeeded 2000 parquet"
Q "COPY (SELECT i::BIGINT AS id, 'd' || i AS name, (i / 4)::DECIMAL(12,2) AS amount, TIMESTAMPTZ '2026-11-23 10:00:00+00' AS ts FROM range(1, 3001) t(i)) TO '$T/duck.parquet' (FORMAT parquet, COMPRESSION zstd)" >/dev/null
cp "$T/duck.parquet" "$T/duck.bin" # no extension: detected by its magic bytes
run job create orders "$T/duck.bin" --wait
PQ2=$(j '.outputs[0].location')
check "Parquet job (written by DuckDB, detected by magic): 3000 rows" eq "$RC $(j .status) $(j .rows.accepted) $(j .format)" "0 succeeded 3000 parquet"
check "... values survive" eq "$(Q "SELECT sum(amount)::VARCHAR s FROM '$PQ2'")" '{"s":"1125375.00"}'
Q "COPY (SELECT [1,2] AS id, 'x' AS name) TO '$T/nested.parquet' (FORMAT parquet)" >/dev/null
run job create orders "$T/nested.parquet" --wait
check "Parquet with a nested model column: failed, clear error" eq "$RC $(j .status) $(j .error.code) $(j .error.message)" "1 failed unsupported_input the uploaded file: column 'id' is a LIST (nested types are not supported)"

{ echo "id,name,amount,ts"; for i in $(seq 1 300); do echo "$i,z,1,2026-11-23T10:00:00Z"; done; } | gzip >"$T/gz.csv.gz"
run job create orders "$T/gz.csv.gz" --wait
check "gzip-compressed CSV: detected and decompressed, 300 rows" eq "$RC $(j .status) $(j .rows.accepted)" "0 succeeded 300"
zstd -q -c "$T/good.jsonl" >"$T/z.jsonl.zst"
run job create orders "$T/z.jsonl.zst" --wait
check "zstd-compressed JSON Lines: 500 rows" eq "$RC $(j .status) $(j .rows.accepted)" "0 succeeded 500"

# ---- dead letters ---------------------------------------------------------------------------
printf 'id,name,amount,ts\n1,a,1.5,2026-11-23T10:00:00Z\nx,b,2,2026-11-23T10:00:00Z\n3,c,notanumber,2026-11-23T10:00:00Z\n4,d,4,2026-11-23T10:00:00Z\n,e,5,2026-11-23T10:00:00Z\n' >"$T/some_bad.csv"
run job create orders "$T/some_bad.csv" --wait
check "some rows bad: exit 1, partially_failed, 2 accepted, 3 rejected" eq "$RC $(j .status) $(j .rows.accepted) $(j .rows.rejected)" "1 partially_failed 2 3"
DL=$(j .dead_letters)
check "dead letters published under _rejects" contains "$DL" "/jobs/orders/$(j .id)/_rejects/rejects-00000.ndjson"
check "dead letters: one line per rejected row" eq "$(wc -l <"$DL")" 3
check "dead letters: line, column, field and reason" eq "$(jq -c '[.line,.column,.field,.code]' "$DL" | tr '\n' ' ')" '[3,1,"id","type"] [4,3,"amount","type"] [6,1,"id","null_value"] '
check "dead letters keep the raw row" eq "$(jq -r 'select(.line==4).raw' "$DL")" "3,c,notanumber,2026-11-23T10:00:00Z"
printf 'id,name\nx,a\ny,b\n' >"$T/all_bad.csv"
run job create orders "$T/all_bad.csv" --wait
check "every row bad: exit 1, failed, all_rows_rejected" eq "$RC $(j .status) $(j .error.code) $(j '.outputs|length')" "1 failed all_rows_rejected 0"

# ---- list, show, filters, pages -------------------------------------------------------------
run job show "$JOB1"
check "job show: status, counts, timing" eq "$RC $(j .status) $(j .rows.read) $(j '.duration_seconds > 0')" "0 succeeded 2000 true"
run job list
check "job list: newest first, 9 jobs" eq "$RC $(j .count) $(j '.jobs[-1].id')" "0 9 $JOB1"
run job list --status partially_failed
check "job list --status" eq "$(j '[.jobs[].status]|unique|join(",")') $(j .count)" "partially_failed 1"
run job list --model events
check "job list --model (no jobs)" eq "$RC $(j .count)" "0 0"
run job list --limit 3
c1=$(j .next_cursor)
first=$(j '[.jobs[].id]|join(",")')
run job list --limit 3 --cursor "$c1"
check "pages: 3 + next page, no overlap" eq "$(j .count) $(grep -c "$(j '.jobs[0].id')" <<<"$first")" "3 0"
run job list -o table
check "job list -o table" contains "$OUT" "partially_failed"
run job show "$JOB1" -o table
check "job show -o table" contains "$OUT" "rows:          2000 read, 2000 accepted, 0 rejected"
m=$(curl -s "$URL/metrics")
check "metrics: jobs by final status, rows, upload bytes" eq "$(grep -cE '^sluice_jobs_finished_total\{status="(succeeded|partially_failed|failed)"\} [1-9]|^sluice_job_rows_total\{result="rejected"\} 5$|^sluice_job_upload_bytes_total [1-9]|^sluice_job_duration_seconds_count [1-9]' <<<"$m")" 6
r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $SLUICE_TOKEN" "$URL/v1/jobs?status=weird")
check "API: bad status filter -> 400" contains "$r" '"code":"bad_status"'
printf 'id,name,amount,ts,note\n77,x,1,2026-11-23T10:00:00Z,y\n' >"$T/one.csv"
r=$(curl -s -H "Authorization: Bearer $SLUICE_TOKEN" -H 'Content-Type: text/csv' --data-binary @"$T/one.csv" "$URL/v1/streams/s1/ingest?model=orders")
check "ingest ?model=orders uses the model file the API wrote" contains "$r" '"rows_accepted":1'

# ---- error paths ----------------------------------------------------------------------------
run job create nope "$T/good.csv"
check "job for a missing model: exit 5, lists the models" eq "$RC $(grep -c "model 'nope' does not exist" <<<"$ERR") $(grep -c 'existing models: events, orders' <<<"$ERR")" "5 1 1"
head -c 4096 /dev/urandom >"$T/random.bin"
printf 'PNG\x00\x01' | cat - "$T/random.bin" >"$T/image.csv"
run job create orders "$T/image.csv"
check "binary file: exit 6 (wrong_format) before uploading" eq "$RC $(grep -c wrong_format <<<"$ERR")" "6 1"
r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $SLUICE_TOKEN" -H 'Content-Type: application/octet-stream' --data-binary @"$T/image.csv" "$URL/v1/jobs?model=orders")
check "API: binary upload -> 415 wrong_format" contains "$r" '"code":"wrong_format"'
r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $SLUICE_TOKEN" -H 'Content-Type: application/vnd.apache.parquet' --data-binary @"$T/good.csv" "$URL/v1/jobs?model=orders")
check "API: Content-Type Parquet, CSV body -> 415" contains "$r" "says Parquet but the file does not start with PAR1"
r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $SLUICE_TOKEN" -H 'Content-Type: image/png' --data-binary @"$T/good.csv" "$URL/v1/jobs?model=orders")
check "API: unsupported Content-Type -> 415" contains "$r" '"code":"unsupported_media_type"'
: >"$T/empty.csv"
run job create orders "$T/empty.csv"
check "empty file: exit 6" eq "$RC $(grep -c 'is empty' <<<"$ERR")" "6 1"
r=$(curl -s -w ' %{http_code}' -H "Authorization: Bearer $SLUICE_TOKEN" -H 'Content-Type: text/csv' --data-binary @"$T/good.csv" "$URL/v1/jobs")
check "API: no model= -> 400 model_required" contains "$r" '"code":"model_required"'
run job create orders "$T/does-not-exist.csv"
check "missing file: exit 2" eq "$RC" 2
run job show job_00000000deadbeef
check "unknown job: exit 5" eq "$RC $(grep -c job_not_found <<<"$ERR")" "5 1"
run job cancel "$JOB1"
check "cancel a finished job: exit 7 (job_finished)" eq "$RC $(grep -c job_finished <<<"$ERR")" "7 1"
run model list --url "http://127.0.0.1:$(free_port)"
check "server unreachable: exit 3 with a hint" eq "$RC $(grep -c "cannot reach the sluice server" <<<"$ERR")" "3 1"
SLUICE_TOKEN=wrong run model list
check "wrong token: exit 4, hint names SLUICE_AUTH_TOKENS" eq "$RC $(grep -c SLUICE_AUTH_TOKENS <<<"$ERR")" "4 1"
SLUICE_TOKEN= run job list
check "no token: exit 4, hint says set SLUICE_TOKEN" eq "$RC $(grep -c 'set SLUICE_TOKEN' <<<"$ERR")" "4 1"
run job frobnicate
check "unknown subcommand: exit 2" eq "$RC" 2

# ---- cancel, delete while running --------------------------------------------------------
gcc -O2 -o "$T/gen" "$SL_SRC/bench/gen_bench_data.c"
cat >"$T/bench.json" <<'EOF'
{"fields":[{"name":"id","type":"int64"},{"name":"user_id","type":"int64"},{"name":"amount","type":"double"},
 {"name":"qty","type":"int32"},{"name":"active","type":"bool"},{"name":"created_at","type":"timestamp[us, UTC]"},
 {"name":"day","type":"date"},{"name":"country","type":"string"},{"name":"email","type":"string"},
 {"name":"note","type":"string"},{"name":"score","type":"double"},{"name":"category","type":"string"}]}
EOF
run model create bench "$T/bench.json"
"$T/gen" 1000000 "$T/mid.csv" /dev/null
MIDROWS=$(($(wc -l <"$T/mid.csv") - 1))
run job create bench "$T/mid.csv"
JC=$(j .id)
run model delete bench
check "model delete while its job is queued/running: exit 7 (model_in_use)" eq "$RC $(grep -c model_in_use <<<"$ERR")" "7 1"
wait_status "$JC" running succeeded >/dev/null
run job cancel "$JC"
check "cancel a running job: cancelled" eq "$RC $(j .status)" "0 cancelled"
run model delete bench
check "model delete once nothing runs: exit 0" eq "$RC $(j .deleted)" "0 bench"
run model show bench
check "deleted model: not found" eq "$RC" 5
run model create bench "$T/bench.json"
check "created again: versions continue (2)" eq "$RC $(j .version)" "0 2"
out=$(script -qec "$SLUICE job create bench $T/mid.csv --wait" /dev/null | tr '\r' '\n')
check "on a terminal: upload bar with MB/s and ETA" grep -qE 'uploading 100% \[#+\] .* MB/s  ETA 0:00' <<<"$out"
check "... rows processed while waiting, percent and ETA" grep -qE 'running: +[0-9]+% [0-9]+ rows processed \(0 rejected\), [0-9]+ s, ETA [0-9]+:[0-9]{2}' <<<"$out"

# ---- restart: kill -9 and SIGTERM in the middle of a job --------------------------------------
run job create bench "$T/mid.csv"
JK=$(j .id)
wait_status "$JK" running >/dev/null && wait_rows "$JK"
run job show "$JK"
check "running job: progress between 0 and 1" eq "$(j '.progress > 0 and .progress < 1')" true
kill9_server
start_server "$D" || exit 1
export SLUICE_URL=$URL
wait_status "$JK" succeeded failed partially_failed
run job show "$JK"
check "kill -9 mid-job: resumed after the restart, succeeded on attempt 2" eq "$(j .status) $(j .attempts) $(j .rows.accepted)" "succeeded 2 $MIDROWS"
check "... its output holds every row once" eq "$(qn "SELECT count(*) n FROM '$D/out/jobs/bench/$JK/*.parquet'")" "$MIDROWS"
run job create bench "$T/mid.csv"
JT=$(j .id)
wait_status "$JT" running >/dev/null && wait_rows "$JT"
stop_server
s=$(sqlite3 "$D/meta.db" "SELECT status FROM jobs WHERE id='$JT'")
check "SIGTERM mid-job: not left running (back to queued, or it had just finished): $s" test "$s" = queued -o "$s" = succeeded
start_server "$D" || exit 1
export SLUICE_URL=$URL
wait_status "$JT" succeeded failed
check "... and it completes after the restart" eq "$(sqlite3 "$D/meta.db" "SELECT status, rows_accepted FROM jobs WHERE id='$JT'")" "succeeded|$MIDROWS"
before=$(sqlite3 "$D/meta.db" "SELECT count(*) FROM jobs")
curl -s -o /dev/null -H "Authorization: Bearer $SLUICE_TOKEN" -H 'Content-Type: text/csv' --limit-rate 2M --data-binary @"$T/mid.csv" "$URL/v1/jobs?model=bench" &
CP=$!
BGPIDS+=("$CP")
sleep 1
kill9_server
kill -KILL "$CP" 2>/dev/null
wait "$CP" 2>/dev/null
start_server "$D" || exit 1
export SLUICE_URL=$URL
check "upload cut by a crash: no job recorded, its spool removed at start" eq "$(sqlite3 "$D/meta.db" "SELECT count(*) FROM jobs") $(ls "$D/jobs" | wc -l)" "$before 0"
stop_server

# limits on a second server: SLUICE_JOB_MAX_BYTES
D2=$T/data2
mkdir -p "$D2"
SLUICE_JOB_MAX_BYTES=100000 start_server "$D2" || exit 1
export SLUICE_URL=$URL
run model create bench "$T/bench.json" --url "$URL"
run job create bench "$T/mid.csv" --url "$URL"
check "file over the server's limit: exit 6 (file_too_large) before the upload" eq "$RC $(grep -c file_too_large <<<"$ERR")" "6 1"
r=$(head -c 200000 "$T/mid.csv" | curl -s -w ' %{http_code}' -H "Authorization: Bearer $SLUICE_TOKEN" -H 'Content-Type: text/csv' -H 'Transfer-Encoding: chunked' --data-binary @- "$URL/v1/jobs?model=bench")
check "chunked upload over the limit: 413" contains "$r" ' 413'
stop_server

# disk full: the data directory on a small tmpfs
if mkdir -p "$T/small" && mount -t tmpfs -o size=24m tmpfs "$T/small" 2>/dev/null; then
  MNT=$T/small
  start_server "$MNT/d" || exit 1
  export SLUICE_URL=$URL
  run model create orders "$T/orders.json"
  { echo "id,name,amount,ts"; seq 1 500000 | sed 's/$/,name,1.5,2026-11-23T10:00:00Z/'; } | head -c 15000000 | sed '$d' >"$T/15m.csv"
  run job create orders "$T/15m.csv"
  check "no room in the data directory: refused before the upload (507, exit 8)" eq "$RC $(grep -c insufficient_storage <<<"$ERR")" "8 1"
  check "... nothing left behind" eq "$(ls "$MNT/d/jobs" | wc -l)" 0
  stop_server
  umount "$MNT"
  MNT=
else
  echo "# skipped the disk-full checks: cannot mount a tmpfs here"
fi

unset SLUICE_TEST_JOB_DELAY_MS
# ---- 1 GiB ---------------------------------------------------------------------------------
big_mb=${SL_JOBS_BIG_MB:-1024}
case "$SL_BIN" in *asan* | *tsan*) big_mb=${SL_JOBS_BIG_MB:-64} ;; esac
echo "# large file: $big_mb MiB (SL_JOBS_BIG_MB)"
"$T/gen" $((big_mb * 7400)) "$T/all.csv" /dev/null
head -c $((big_mb * 1048576)) "$T/all.csv" | sed '$d' >"$T/big.csv"
rm -f "$T/all.csv" "$T/mid.csv"
BIGROWS=$(($(wc -l <"$T/big.csv") - 1))
start_server "$D" || exit 1
export SLUICE_URL=$URL
t0=$(date +%s.%N)
run job create bench "$T/big.csv" --wait --timeout 600
t1=$(date +%s.%N)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SPID/status")
echo "# $(stat -c %s "$T/big.csv") bytes, $BIGROWS rows: $(j .status) in $(echo "$t1 - $t0" | bc) s (upload + conversion), conversion $(j .duration_seconds) s, $(j .rows_per_second) rows/s; server peak RSS $((hwm / 1024)) MiB"
check "large CSV ($big_mb MiB) streamed by the CLI: succeeded, every row" eq "$RC $(j .status) $(j .rows.accepted)" "0 succeeded $BIGROWS"
check "... DuckDB counts the same rows" eq "$(qn "SELECT count(*) n FROM '$(j '.outputs[0].location')'")" "$BIGROWS"
check "... server peak RSS under 300 MiB ($((hwm / 1024)) MiB)" test "$hwm" -lt $((300 * 1024))
stop_server
check "server stops cleanly (exit 0)" eq "$?" 0

echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
