#!/usr/bin/env bash
# S3 delivery against a real S3-compatible server: npm s3rver behind tests/services/sigv4_proxy.mjs
# (checks every SigV4 signature, payload hash and Content-MD5; can inject faults), both started
# here on free 127.0.0.1 ports and stopped by PID.
#   - client (tests/tools/sl_s3): PUT of a key with odd characters, wrong secret (403, no retry,
#     hint), missing bucket (hint), a 200 MiB multipart upload (bytes compared, RSS bounded),
#     retries after 503 SlowDown and connection resets, abort after a permanent part failure
#     (no upload left), cleanup of leftover uploads;
#   - sluice convert IN s3://BUCKET/KEY (multipart path), read back by DuckDB; failure leaves nothing;
#   - sluice serve with the s3 sink: prefix with spaces/unicode/'='; leftover uploads aborted at
#     the first publish; wrong secret and missing bucket: server starts, /readyz and the log say
#     what to do, sluice_sink_failures_total grows, data delivered once fixed; S3 stopped and
#     restarted mid-stream; kill -9 during a multipart upload then restart. Every acknowledged
#     row is in the bucket exactly once (DuckDB over s3rver's object files).
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
S3T="$SL_BIN/sl_s3"
LOAD="$SL_BIN/sl_load"
T=$(mktemp -d)
SPID=
LPID=
S3PROXY_PID=
S3RVER_PID=
cleanup() {
  [ -n "$SPID" ] && kill -KILL "$SPID" 2>/dev/null
  [ -n "$LPID" ] && kill -KILL "$LPID" 2>/dev/null
  s3_stop
  rm -rf "$T"
}
trap cleanup EXIT
. "$SL_SRC/tests/support/check_lib.sh"
Q() { node "$SL_SRC/tests/readers/query.mjs" "$1"; }
. "$SL_SRC/tests/support/serve_lib.sh"
. "$SL_SRC/tests/services/s3_lib.sh"

s3_start "$T" sluice-test || { echo "cannot start s3rver"; exit 1; }
echo "# s3rver on $S3_RAW_ENDPOINT, SigV4 proxy on $S3_ENDPOINT"
uploads_left() { find "$S3_DATA/$S3_BUCKET/._S3rver_uploads" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
ops() { s3_log | grep -c "\"op\":\"$1\""; }

# ---- client ----------------------------------------------------------------------------------
head -c 3000000 /dev/urandom >"$T/small"
KEY='odd dir/ré sumé=1+2~%x (copy).bin'
r=$("$S3T" put "$T/small" "$KEY" 2>"$T/err")
check "PUT with an odd key succeeds" contains "$r" '"ok":true'
check "object bytes equal" cmp -s "$T/small" "$(s3_object_path "$KEY")"
# virtual-host addressing: BUCKET.s3.localhost (curl resolves *.localhost to loopback; s3rver
# takes the bucket from such a Host with --service-endpoint localhost); the proxy checks the
# signature over that Host
VKEY='vhost/ré sumé=1.bin'
r=$(S3_ENDPOINT="http://s3.localhost:${S3_ENDPOINT##*:}" S3_PATH_STYLE=false "$S3T" put "$T/small" "$VKEY" 2>"$T/err")
check "virtual-host addressing: PUT to $S3_BUCKET.s3.localhost succeeds" contains "$r" '"ok":true'
check "virtual-host addressing: object bytes equal" cmp -s "$T/small" "$(s3_object_path "$VKEY")"
r=$(S3_ENDPOINT="http://s3.localhost:${S3_ENDPOINT##*:}" S3_PATH_STYLE=false AWS_SECRET_ACCESS_KEY=wrong "$S3T" put "$T/small" vhost/wrong 2>"$T/err")
check "virtual-host addressing: a wrong secret is still refused" contains "$(cat "$T/err")" "HTTP 403 SignatureDoesNotMatch"

s3_ctl reset >/dev/null
r=$(AWS_SECRET_ACCESS_KEY=wrong "$S3T" put "$T/small" k/wrong 2>"$T/err")
check "wrong secret fails" contains "$r" '"ok":false'
check "wrong secret: 403 SignatureDoesNotMatch named" contains "$(cat "$T/err")" "HTTP 403 SignatureDoesNotMatch"
check "wrong secret: hint names AWS_SECRET_ACCESS_KEY" contains "$(cat "$T/err")" "hint: check AWS_SECRET_ACCESS_KEY"
check "wrong secret: not retried (1 request)" eq "$(ops put)" 1
check "wrong secret: not stored" [ ! -e "$(s3_object_path k/wrong)" ]

r=$(AWS_ACCESS_KEY_ID=NOBODY "$S3T" put "$T/small" k/wrong 2>"$T/err")
check "unknown access key: hint names AWS_ACCESS_KEY_ID" contains "$(cat "$T/err")" "AWS_ACCESS_KEY_ID"
r=$(S3_BUCKET=no-such-bucket "$S3T" head 2>"$T/err")
check "missing bucket: actionable error" contains "$(cat "$T/err")" "hint: create bucket no-such-bucket or fix S3_BUCKET"

# 200 MiB multipart: 13 parts of 16 MiB, 4 at a time; peak RSS stays far below the file size
head -c $((200 << 20)) /dev/urandom >"$T/big"
s3_ctl reset >/dev/null
r=$(/usr/bin/time -f '%M' -o "$T/rss" "$S3T" put "$T/big" "big/200mib.bin" 2>"$T/err")
echo "# 200 MiB: $r"
check "200 MiB multipart upload succeeds" contains "$r" '"ok":true'
check "200 MiB object bytes equal" cmp -s "$T/big" "$(s3_object_path big/200mib.bin)"
check "200 MiB went as 13 parts" eq "$(ops part)" 13
check "one CreateMultipartUpload and one Complete" eq "$(ops create)$(ops complete)" 11
rss=$(cat "$T/rss")
check "client peak RSS bounded (${rss} KiB < 64 MiB)" [ "$rss" -lt 65536 ]
rm -f "$T/big"

# retries: 503 SlowDown on 3 parts and a connection reset on one, then success
head -c $((12 << 20)) /dev/urandom >"$T/mid"
s3_ctl reset >/dev/null
s3_ctl 'fault?op=part&count=3&status=503&code=SlowDown' >/dev/null
s3_ctl 'fault?op=create&count=1&action=reset' >/dev/null
r=$(SLUICE_S3_PART_SIZE=5M "$S3T" put "$T/mid" retry/mid.bin 2>"$T/err")
check "upload succeeds after 503 SlowDown x3 and a reset" contains "$r" '"ok":true'
check "4 retries counted" contains "$r" '"retries":4'
check "retried object bytes equal" cmp -s "$T/mid" "$(s3_object_path retry/mid.bin)"

# a permanent part failure aborts the upload: nothing visible, nothing left
s3_ctl reset >/dev/null
s3_ctl 'fault?op=part&count=1&status=400&code=InvalidPart' >/dev/null
r=$(SLUICE_S3_PART_SIZE=5M "$S3T" put "$T/mid" abort/mid.bin 2>"$T/err")
check "permanent part failure fails the upload" contains "$r" '"ok":false'
check "the upload was aborted (AbortMultipartUpload sent)" eq "$(ops abort)" 1
check "no unfinished upload left" eq "$(uploads_left)" 0
check "no object under the key" [ ! -e "$(s3_object_path abort/mid.bin)" ]

# leftover uploads (as after a crash) are listed and aborted
for k in "left/a b.parquet" "left/c=d.parquet" "other/x.parquet"; do
  enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$k")
  curl -s -o /dev/null -X POST -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
    --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER "$S3_RAW_ENDPOINT/$S3_BUCKET/$enc?uploads="
done
check "three leftover uploads created (curl, directly on s3rver)" eq "$(uploads_left)" 3
r=$("$S3T" abort-uploads left/ 2>"$T/err")
check "abort-uploads under left/ aborted 2" contains "$r" '"aborted":2'
check "the upload outside the prefix stays" eq "$(uploads_left)" 1

# ---- sluice convert to s3:// -------------------------------------------------------------------
printf 'id,name\n' >"$T/in.csv"
seq 1 5000 | awk '{print $1 ",n" $1}' >>"$T/in.csv"
s3_ctl reset >/dev/null
SLUICE_S3_MULTIPART_THRESHOLD=1 "$SLUICE" convert "$T/in.csv" "s3://$S3_BUCKET/conv/out é.parquet" --quiet 2>"$T/err"
check "convert to s3:// exits 0" eq "$?" 0
check "convert used a multipart upload" eq "$(ops complete)" 1
cp "$(s3_object_path 'conv/out é.parquet')" "$T/conv.parquet" 2>/dev/null
r=$(Q "SELECT count(*) AS n, sum(id) AS s FROM read_parquet('$T/conv.parquet')")
check "converted object read by DuckDB" eq "$r" '{"n":"5000","s":"12502500"}'
AWS_SECRET_ACCESS_KEY=wrong "$SLUICE" convert "$T/in.csv" "s3://$S3_BUCKET/conv/bad.parquet" --quiet 2>"$T/err"
check "convert with a wrong secret exits 1" eq "$?" 1
check "convert: actionable message" contains "$(cat "$T/err")" "hint: check AWS_SECRET_ACCESS_KEY"
check "convert: nothing written on failure" [ ! -e "$(s3_object_path conv/bad.parquet)" ]
"$SLUICE" convert "$T/in.csv" "s3://$S3_BUCKET" 2>"$T/err"
check "convert: s3:// without a key is a usage error (2)" eq "$?" 2

# ---- sluice serve with the s3 sink -----------------------------------------------------------
PREFIX='pré fix/a=b+c'
export S3_PREFIX="$PREFIX"
wait_ready() { # seconds
  local i
  for i in $(seq 1 $(($1 * 10))); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}
wait_not_ready() {
  local i
  for i in $(seq 1 $(($1 * 10))); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" != 200 ] && return 0
    sleep 0.1
  done
  return 1
}
wait_reason() { # seconds text: /readyz's reason contains text
  local i
  for i in $(seq 1 $(($1 * 10))); do
    curl -s "$URL/readyz" | grep -qF -- "$2" && return 0
    sleep 0.1
  done
  return 1
}
failures() { curl -s "$URL/metrics" | awk '/^sluice_sink_failures_total/ {s += $2} END {print s + 0}'; }
objects() { find "$S3_DATA/$S3_BUCKET/$PREFIX/$1" -name 'part-*._S3rver_object' 2>/dev/null | wc -l; }
P_OF() { echo "read_parquet('$S3_DATA/$S3_BUCKET/$PREFIX/$1/dt=*/hour=*/part-*.parquet._S3rver_object')"; }
# every acknowledged id exactly once
exactly_once() { # stream acks-file label
  awk 'BEGIN {print "first,last"} {print $1 "," $2}' "$2" >"$T/acks.csv"
  local P
  P=$(P_OF "$1")
  r=$(Q "SELECT count(*) AS n FROM (SELECT id FROM $P GROUP BY id HAVING count(*) > 1)")
  check "$3: no id twice" eq "$r" '{"n":"0"}'
  r=$(Q "SELECT count(*) AS n FROM (SELECT unnest(generate_series(first, last)) AS id FROM read_csv('$T/acks.csv')) a WHERE a.id NOT IN (SELECT id FROM $P)")
  check "$3: every acknowledged id in the bucket" eq "$r" '{"n":"0"}'
}

# leftover uploads under the prefix, as a crashed earlier run leaves them
enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$PREFIX/ev/old.parquet")
curl -s -o /dev/null -X POST -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
  --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER "$S3_RAW_ENDPOINT/$S3_BUCKET/$enc?uploads="
before=$(uploads_left)
D=$T/serve1
mkdir -p "$D"
start_server "$D" --flush-interval 0.3 || exit 1
printf 'id,name\n1,a\n2,b\n3,c\n' >"$T/rows.csv"
r=$(curl -s -H 'Content-Type: text/csv' --data-binary @"$T/rows.csv" "$URL/v1/streams/ev.x-1/ingest")
check "serve: ingest acknowledged" contains "$r" '"rows_accepted":3'
for _ in $(seq 1 50); do [ "$(objects ev.x-1)" -ge 1 ] && break; sleep 0.1; done
check "serve: object under the odd prefix" eq "$(objects ev.x-1)" 1
key=$(cd "$S3_DATA/$S3_BUCKET" && find "$PREFIX/ev.x-1" -name 'part-*._S3rver_object' | sed 's/._S3rver_object$//')
check "serve: key layout PREFIX/STREAM/dt=/hour=/part-SEG-FIRST-LAST.parquet" \
  eq "$(sed -E 's/dt=[0-9-]+/dt=D/; s/hour=[0-9]+/hour=H/; s/part-[0-9]{13}-/part-SEG-/' <<<"$key")" "$PREFIX/ev.x-1/dt=D/hour=H/part-SEG-000000000000-000000000002.parquet"
r=$(Q "SELECT count(*) AS n FROM $(P_OF ev.x-1)")
check "serve: DuckDB reads the object" eq "$r" '{"n":"3"}'
check "serve: leftover upload under the prefix aborted at the first publish" eq "$(uploads_left)" $((before - 1))
check "serve: the abort is logged" contains "$(cat "$D.log")" "aborted unfinished multipart uploads"
check "serve: staged file consumed" eq "$(find "$D/stage" -type f | wc -l)" 0
stop_server
check "serve: clean stop" eq "$?" 0

# a second data directory (a container restarted without its volume) into the same prefix and
# stream: its row numbers start at 0 again, but its objects must not replace the first one's
D=$T/serve1b
mkdir -p "$D"
start_server "$D" --flush-interval 0.3 || exit 1
printf 'id,name\n4,d\n5,e\n6,f\n' >"$T/rows2.csv"
r=$(curl -s -H 'Content-Type: text/csv' --data-binary @"$T/rows2.csv" "$URL/v1/streams/ev.x-1/ingest")
check "second data directory: ingest acknowledged" contains "$r" '"rows_accepted":3'
for _ in $(seq 1 50); do [ "$(objects ev.x-1)" -ge 2 ] && break; sleep 0.1; done
stop_server
check "second data directory: its object beside the first (2 objects, ids 1..6)" eq "$(objects ev.x-1) $(Q "SELECT count(DISTINCT id) AS n FROM $(P_OF ev.x-1)")" '2 {"n":"6"}'

# SLUICE_S3_MANIFEST: KEY.manifest.json next to each object, valid JSON even for odd keys
D=$T/serve-mf
mkdir -p "$D"
S3_PREFIX='man"ifest' SLUICE_S3_MANIFEST=true start_server "$D" --flush-interval 0.3 || exit 1
r=$(curl -s -H 'Content-Type: text/csv' --data-binary @"$T/rows.csv" "$URL/v1/streams/mf/ingest")
check "manifest: ingest acknowledged" contains "$r" '"rows_accepted":3'
mf=""
for _ in $(seq 1 50); do
  mf=$(find "$S3_DATA/$S3_BUCKET/man\"ifest/mf" -name '*.manifest.json._S3rver_object' 2>/dev/null | head -1)
  [ -n "$mf" ] && break
  sleep 0.1
done
stop_server
check "manifest: one per object" [ -n "$mf" ]
r=$(node -e 'const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(m.key.startsWith("man\"ifest/mf/dt=") && m.key.endsWith(".parquet") && m.bucket === process.argv[2] && m.bytes > 100)' "$mf" "$S3_BUCKET" 2>&1)
check "manifest: valid JSON naming the key, bucket and size ($r)" eq "$r" true

# Hive partitioning by a column of the data, on S3: PREFIX/STREAM/dt=/hour=/name=VALUE/part-...
D=$T/serve-part
mkdir -p "$D/models"
echo '{"fields":[{"name":"id","type":"int64"},{"name":"name","type":"string"}],"partition_by":["name"]}' >"$D/models/byname.json"
start_server "$D" --flush-interval 0.3 || exit 1
printf 'id,name\n1,a\n2,b/c\n3,a\n' >"$T/prows.csv"
r=$(curl -s -H 'Content-Type: text/csv' --data-binary @"$T/prows.csv" "$URL/v1/streams/pt/ingest?model=byname")
check "partitioned: ingest acknowledged" contains "$r" '"rows_accepted":3'
for _ in $(seq 1 50); do [ "$(objects pt)" -ge 2 ] && break; sleep 0.1; done
stop_server
parts=$(cd "$S3_DATA/$S3_BUCKET/$PREFIX/pt" 2>/dev/null && find . -name 'part-*._S3rver_object' | sed -E 's|^\./dt=[0-9-]+/hour=[0-9]+/||; s|/part-.*||' | sort | tr '\n' ' ')
check "partitioned: one object per value, Hive-escaped ($parts)" eq "$parts" "name=a name=b%2Fc "
r=$(Q "SELECT count(*) AS n FROM read_parquet('$S3_DATA/$S3_BUCKET/$PREFIX/pt/dt=*/hour=*/name=a/part-*._S3rver_object', hive_partitioning=false)")
check "partitioned: DuckDB reads the name=a object (2 rows)" eq "$r" '{"n":"2"}'

# wrong secret: starts, says why, delivers once the secret is fixed
D=$T/serve2
mkdir -p "$D"
AWS_SECRET_ACCESS_KEY=wrong start_server "$D" --flush-interval 0.2 --s3-retry-seconds 1 || exit 1
check "wrong secret: server starts, warns at start" contains "$(cat "$D.log")" "sink not reachable at start"
r=$(curl -s -w ' %{http_code}' "$URL/readyz")
check "wrong secret: /readyz 503 from the start (HEAD bucket denied)" contains "$r" '"reason":"s3 sink not reachable: HTTP 403 AccessDenied on HEAD'
r=$(curl -s -H 'Content-Type: text/csv' --data-binary @"$T/rows.csv" "$URL/v1/streams/auth/ingest")
check "wrong secret: ingest still acknowledged (WAL)" contains "$r" '"rows_accepted":3'
check "wrong secret: ... with a warning sink_unavailable" contains "$r" '"warning":{"code":"sink_unavailable"'
# the first upload's answer (SignatureDoesNotMatch, more precise than HEAD's bodyless 403)
# replaces the start check's reason
wait_reason 10 SignatureDoesNotMatch
r=$(curl -s "$URL/readyz")
check "wrong secret: /readyz names SignatureDoesNotMatch" contains "$r" "SignatureDoesNotMatch"
check "wrong secret: /readyz hint" contains "$r" "check AWS_SECRET_ACCESS_KEY"
check "wrong secret: logged with the hint" contains "$(cat "$D.log")" "check AWS_SECRET_ACCESS_KEY"
check "wrong secret: sluice_sink_failures_total > 0" [ "$(failures)" -gt 0 ]
check "wrong secret: nothing uploaded" eq "$(objects auth)" 0
stop_server
start_server "$D" --flush-interval 0.2 || exit 1
wait_ready 15
for _ in $(seq 1 50); do [ "$(objects auth)" -ge 1 ] && break; sleep 0.1; done
check "wrong secret fixed: rows delivered after restart" eq "$(Q "SELECT count(*) AS n FROM $(P_OF auth)")" '{"n":"3"}'
stop_server

# missing bucket: starts, /readyz says which bucket to create
D=$T/serve3
mkdir -p "$D"
S3_BUCKET=missing-bucket start_server "$D" --flush-interval 0.2 --s3-retry-seconds 1 || exit 1
curl -s -o /dev/null -H 'Content-Type: text/csv' --data-binary @"$T/rows.csv" "$URL/v1/streams/mb/ingest"
wait_not_ready 10
r=$(curl -s "$URL/readyz")
check "missing bucket: /readyz says create bucket missing-bucket" contains "$r" "create bucket missing-bucket or fix S3_BUCKET"
stop_server

# S3 stopped and restarted mid-stream: /readyz not ready while down, then everything once
D=$T/serve4
mkdir -p "$D"
: >"$T/acks4"
start_server "$D" --flush-interval 0.2 --batch-size 3000 --s3-retry-seconds 1 || exit 1
"$LOAD" --url "$URL/v1/streams/outage/ingest" --gen-ids 1 --rows-per-request 100 --clients 2 \
  --duration 6 --ack-log "$T/acks4" --timeout 10 --quiet >"$T/load.out" 2>&1 &
LPID=$!
sleep 1.5
s3_stop
wait_not_ready 10
r=$(curl -s "$URL/readyz")
check "outage: /readyz not ready while S3 is down" contains "$r" '"ready":false'
check "outage: reason names the connection failure and S3_ENDPOINT" contains "$r" "check S3_ENDPOINT"
f1=$(failures)
sleep 1.5
check "outage: sluice_sink_failures_total grows ($f1 -> $(failures))" [ "$(failures)" -gt "$f1" ]
s3_restart || exit 1
wait "$LPID"
LPID=
wait_ready 40
for _ in $(seq 1 100); do [ "$(curl -s "$URL/readyz" | grep -c '"queued_rows":0')" = 1 ] && break; sleep 0.2; done
check "outage: ready again after S3 came back" eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" 200
stop_server
check "outage: clean stop" eq "$?" 0
check "outage: requests acknowledged ($(wc -l <"$T/acks4"))" [ "$(wc -l <"$T/acks4")" -gt 10 ]
exactly_once outage "$T/acks4" "outage"

# kill -9 during a multipart upload, then restart: same key, once; the stale upload aborted
D=$T/serve5
mkdir -p "$D"
: >"$T/acks5"
export SLUICE_S3_MULTIPART_THRESHOLD=1 SLUICE_S3_PART_SIZE=5M
s3_ctl reset >/dev/null
base=$(uploads_left) # the one outside the prefix, left on purpose above
start_server "$D" --flush-interval 0.3 --batch-size 5000 || exit 1
"$LOAD" --url "$URL/v1/streams/crash/ingest" --gen-ids 1 --rows-per-request 200 --clients 2 \
  --duration 2 --ack-log "$T/acks5" --timeout 10 --quiet >/dev/null 2>&1
s3_ctl 'fault?op=part&count=1&action=hang' >/dev/null
"$LOAD" --url "$URL/v1/streams/crash/ingest" --gen-ids 10000000 --rows-per-request 200 --clients 2 \
  --duration 1 --ack-log "$T/acks5" --timeout 10 --quiet >/dev/null 2>&1
for _ in $(seq 1 100); do s3_log | grep -q '"fault":"hang"' && break; sleep 0.1; done
check "crash: an UploadPart is in flight (hung) when sluice is killed" contains "$(s3_log)" '"fault":"hang"'
kill9_server
check "crash: the interrupted multipart upload is left on the server" [ "$(uploads_left)" -gt "$base" ]
s3_ctl reset >/dev/null
start_server "$D" --flush-interval 0.3 --batch-size 5000 || exit 1
wait_ready 30
for _ in $(seq 1 50); do [ "$(curl -s "$URL/readyz" | grep -c '"queued_rows":0')" = 1 ] && break; sleep 0.2; done
stop_server
check "crash: clean stop after restart" eq "$?" 0
check "crash: no unfinished upload left (aborted on restart)" eq "$(uploads_left)" "$base"
check "crash: every object completed as multipart" [ "$(ops complete)" -ge 1 ]
exactly_once crash "$T/acks5" "crash"
unset SLUICE_S3_MULTIPART_THRESHOLD SLUICE_S3_PART_SIZE

# configuration errors exit 2 with a message
r=$(SLUICE_SINK=s3 S3_BUCKET= "$SLUICE" serve --data-dir "$T/cfg" 2>&1)
check "config: s3 sink without a bucket exits 2" eq "$?" 2
check "config: says to set S3_BUCKET" contains "$r" "set S3_BUCKET"
r=$("$SLUICE" serve --data-dir "$T/cfg" --s3-part-size 1M 2>&1)
check "config: part size below 5 MiB exits 2" eq "$?" 2
r=$("$SLUICE" serve --data-dir "$T/cfg" --key-layout 'x/{date}' 2>&1)
check "config: layout without {stream} exits 2" eq "$?" 2

echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
