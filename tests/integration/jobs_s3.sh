#!/usr/bin/env bash
# Jobs with the S3 sink: a job's Parquet file and its dead letters land in the bucket under
# jobs/MODEL/ID/ (s3rver behind the SigV4-checking proxy, tests/services/s3_lib.sh), DuckDB reads
# the object; with a wrong secret the job fails with sink_failed and an actionable hint, and the
# server keeps serving. Each check prints "ok - ..." or "not ok - ...".
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
T=$(mktemp -d)
SPID=
S3PROXY_PID=
S3RVER_PID=
cleanup() {
  [ -n "$SPID" ] && kill -KILL "$SPID" 2>/dev/null
  s3_stop
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
. "$SL_SRC/tests/services/s3_lib.sh"
run() {
  OUT=$("$SLUICE" "$@" 2>"$T/err")
  RC=$?
  ERR=$(cat "$T/err")
}
j() { jq -r "$1" <<<"$OUT"; }

s3_start "$T" sluice-jobs || { echo "cannot start s3rver"; exit 1; }
export S3_PREFIX=lake
D=$T/data
mkdir -p "$D"
start_server "$D" || exit 1
export SLUICE_URL=$URL
printf '{"fields":[{"name":"id","type":"int64","nullable":false},{"name":"city","type":"string"}]}' >"$T/m.json"
run model create cities "$T/m.json"
check "model created" eq "$RC" 0
{ echo "id,city"; for i in $(seq 1 1000); do echo "$i,c$i"; done; echo "oops,x"; } >"$T/c.csv"
run job create cities "$T/c.csv" --wait
ID=$(j .id)
check "job to S3: partially_failed (1 bad row), 1000 rows" eq "$RC $(j .status) $(j .rows.accepted) $(j .rows.rejected)" "1 partially_failed 1000 1"
check "output key under S3_PREFIX, location in the bucket" eq "$(j '.outputs[0].key') $(j '.outputs[0].location')" "lake/jobs/cities/$ID/part-00000.parquet s3://sluice-jobs/lake/jobs/cities/$ID/part-00000.parquet"
OBJ=$(s3_object_path "lake/jobs/cities/$ID/part-00000.parquet")
check "the object exists and DuckDB reads 1000 rows" eq "$(Q "SELECT count(*) n FROM read_parquet('$OBJ')")" '{"n":"1000"}'
check "dead letters located in the bucket" eq "$(j .dead_letters)" "s3://sluice-jobs/lake/jobs/cities/$ID/_rejects/rejects-00000.ndjson"
check "dead letters object: the bad row with its reason" eq "$(jq -c '[.line,.field,.code]' "$(s3_object_path "lake/jobs/cities/$ID/_rejects/rejects-00000.ndjson")")" '[1002,"id","type"]'
stop_server

AWS_SECRET_ACCESS_KEY=wrong start_server "$D" || exit 1
export SLUICE_URL=$URL
run job create cities "$T/c.csv" --wait
check "wrong S3 secret: job failed with sink_failed (exit 1)" eq "$RC $(j .status) $(j .error.code)" "1 failed sink_failed"
check "... and a hint about the credentials" contains "$(j .error.hint)" "AWS_SECRET_ACCESS_KEY"
run job list --status failed
check "server still serves the API" eq "$RC $(j .count)" "0 1"
stop_server
echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
