#!/usr/bin/env bash
# sluice serve over real HTTP (curl and raw sockets): CSV and JSON Lines, Content-Length and
# chunked, gzip and zstd, strict and dlq modes with dead letters, every error status (400 framing,
# 401, 404, 405, 411, 413, 415, 422, 429, 431), models, keep-alive, metrics checked by promtool,
# readiness while a sink fails, graceful shutdown with an upload in flight, and the output read
# back by DuckDB. Each check prints "ok - ..." or "not ok - ...".
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
T=$(mktemp -d)
SPID=
trap '[ -n "$SPID" ] && kill -KILL $SPID 2>/dev/null; rm -rf "$T"' EXIT
. "$SL_SRC/tests/support/check_lib.sh"
Q() { node "$SL_SRC/tests/readers/query.mjs" "$1"; }
. "$SL_SRC/tests/support/serve_lib.sh"

D=$T/d1
mkdir -p "$D"
start_server "$D" --flush-interval 0.3 --max-body-bytes 1M --max-header-bytes 4K || exit 1
check "server is up" true

# ---- CSV, JSONL, chunked, gzip, zstd ----
printf 'id,name,amount,ts\n1,apple,1.50,2026-11-23T10:00:00Z\n2,"pear, green",2.25,2026-11-23T11:00:00Z\n' >"$T/a.csv"
r=$(post text/csv "$T/a.csv")
check "CSV with Content-Length -> 200" contains "$r" '200 {"stream":"default","rows_accepted":2,"rows_rejected":0'
r=$(printf 'id,name,amount,ts\n3,plum,3.00,2026-11-23T12:00:00Z\n' | curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' -H 'Transfer-Encoding: chunked' --data-binary @- "$URL/ingest")
check "CSV chunked -> 200" contains "$r" '"rows_accepted":1'
check "chunked status" contains "$r" ' 200'
printf 'amount,id,ts,name\n4.5,4,2026-11-23T13:00:00Z,kiwi\n' | gzip >"$T/b.csv.gz"
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' -H 'Content-Encoding: gzip' --data-binary @"$T/b.csv.gz" "$URL/ingest")
check "gzip body, columns in another order -> 200" contains "$r" '"rows_accepted":1'
printf 'id,name,amount,ts\n5,fig,5.5,2026-11-23T14:00:00Z\n' | zstd -q -c >"$T/c.csv.zst"
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv; charset=utf-8' -H 'Content-Encoding: zstd' --data-binary @"$T/c.csv.zst" "$URL/ingest")
check "zstd body -> 200" contains "$r" '"rows_accepted":1'
printf 'junk' >"$T/bad.gz"
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' -H 'Content-Encoding: gzip' --data-binary @"$T/bad.gz" "$URL/ingest")
check "corrupt gzip -> 400 bad_gzip" contains "$r" '"code":"bad_gzip"'

printf '{"user":"u1","n":1,"tags":["a"]}\n{"user":"u2","n":2,"tags":[]}\n\n{"user":"u3","n":3}\n' >"$T/e.jsonl"
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: application/x-ndjson' --data-binary @"$T/e.jsonl" "$URL/v1/streams/events/ingest")
check "JSONL to a named stream -> 200, 3 rows" contains "$r" '"stream":"events","rows_accepted":3'
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: application/jsonl' --data-binary '{"user":"u4","n":4}' "$URL/v1/streams/events/ingest")
check "application/jsonl, no final newline -> 200" contains "$r" '"rows_accepted":1'

# ---- dlq (default) and strict ----
printf 'id,name,amount,ts\n6,ok,6,2026-11-23T15:00:00Z\n7,bad,notanumber,2026-11-23T15:00:00Z\n8,"unterminated,8,x\n' >"$T/bad.csv"
r=$(post text/csv "$T/bad.csv")
check "dlq: good rows accepted, bad ones counted" contains "$r" '"rows_accepted":1,"rows_rejected":2'
check "dlq: error with line, column, field, code" contains "$r" '{"line":3,"column":3,"field":"amount","code":"type"'
check "dlq: dead letters location" contains "$r" '"dead_letters":'
r=$(curl -s -o "$T/resp" -w '%{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/bad.csv" "$URL/ingest?mode=strict"; echo " $(cat "$T/resp")")
check "strict: 422" contains "$r" '422 {"error":{"code":"rows_rejected"'
check "strict: nothing ingested" contains "$r" '"rows_accepted":0,"rows_rejected":2'
check "strict: errors listed" contains "$r" '"line":3'
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: application/x-ndjson' --data-binary $'{"user":"x","n":"nan?"}\n{"user":"y",\n' "$URL/v1/streams/events/ingest?mode=strict")
check "strict JSONL: 422 with type and syntax errors" contains "$r" '"rows_rejected":2'

# ---- models ----
mkdir -p "$D/models"
cat >"$D/models/orders.json" <<'EOF'
{"fields":[{"name":"order_id","type":"int64","nullable":false},{"name":"total","type":"decimal(10,2)"},{"name":"at","type":"timestamp[us, UTC]"}]}
EOF
printf 'order_id,total,at\n10,12.34,2026-11-23T00:00:00Z\n,1.00,2026-11-23T00:00:00Z\n' >"$T/o.csv"
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/o.csv" "$URL/v1/streams/orders/ingest?model=orders")
check "model=orders: typed, null in non-nullable rejected" contains "$r" '"rows_accepted":1,"rows_rejected":1'
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/o.csv" "$URL/v1/streams/orders/ingest?model=other")
check "another model on the stream -> 409" contains "$r" '409'
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/o.csv" "$URL/v1/streams/fresh/ingest?model=nope")
check "unknown model -> 404 model_not_found" contains "$r" '"code":"model_not_found"'
printf 'total,at\n1.00,2026-11-23T00:00:00Z\n' >"$T/o2.csv"
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/o2.csv" "$URL/v1/streams/orders/ingest")
check "CSV header without a required column -> 422 csv_header" contains "$r" '"code":"csv_header"'
r=$(curl -s "$URL/v1/streams")
check "GET /v1/streams lists streams with schemas" contains "$r" '"name":"orders","model":"orders","schema":'

# ---- HTTP errors ----
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/plain' --data-binary @"$T/a.csv" "$URL/ingest")
check "unknown Content-Type -> 415" contains "$r" '"code":"unsupported_media_type"'
r=$(curl -s -w ' %{http_code}' --data-binary @"$T/a.csv" -H 'Content-Type:' "$URL/ingest")
check "no Content-Type -> 415" contains "$r" ' 415'
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' -H 'Content-Encoding: br' --data-binary @"$T/a.csv" "$URL/ingest")
check "unknown Content-Encoding -> 415" contains "$r" '"code":"unsupported_encoding"'
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv; charset=latin1' --data-binary @"$T/a.csv" "$URL/ingest")
check "non-UTF-8 charset -> 415" contains "$r" ' 415'
head -c 1100000 /dev/zero | tr '\0' 'a' >"$T/big"
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/big" "$URL/ingest")
check "Content-Length over --max-body-bytes -> 413" contains "$r" '"code":"body_too_large"'
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" "$URL/ingest")
check "chunked body over the limit -> 413" contains "$r" ' 413'
r=$(curl -s -w ' %{http_code}' "$URL/nope")
check "unknown path -> 404 JSON" contains "$r" '"code":"not_found"'
r=$(curl -s -w ' %{http_code}' "$URL/ingest")
check "GET /ingest -> 405" contains "$r" ' 405'
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/a.csv" "$URL/v1/streams/..bad/ingest")
check "bad stream name -> 400" contains "$r" '"code":"bad_stream_name"'
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/a.csv" "$URL/ingest?mode=maybe")
check "bad mode -> 400" contains "$r" '"code":"bad_mode"'
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' -H "X-Big: $(head -c 6000 /dev/zero | tr '\0' 'x')" --data-binary @"$T/a.csv" "$URL/ingest")
check "huge header -> 431" contains "$r" '431'
# libmicrohttpd's per-connection memory is larger than the header limit (a bigger read buffer):
# headers and the URL are limited by our own checks, JSON answers included
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' 'x')" --data-binary @"$T/a.csv" "$URL/ingest")
check "100 KB header -> 431 JSON" contains "$r" '"code":"headers_too_large"'
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/a.csv" "$URL/ingest?model=$(head -c 20000 /dev/zero | tr '\0' 'm')")
check "20 KB URL -> 414 JSON" contains "$r" '"code":"uri_too_long"'

printf 'POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nid\n1\n' >"$T/raw1"
check "two Content-Length headers -> 400" eq "$(rawreq "$T/raw1")" 400
printf 'POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nid\n1\n\r\n0\r\n\r\n' >"$T/raw2"
check "Content-Length + Transfer-Encoding -> 400" eq "$(rawreq "$T/raw2")" 400
printf 'POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked, identity\r\n\r\n5\r\nid\n1\n\r\n0\r\n\r\n' >"$T/raw3"
check "Transfer-Encoding other than chunked -> 400" eq "$(rawreq "$T/raw3")" 400
printf 'POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n\r\n' >"$T/raw4"
check "POST without a length -> 411" eq "$(rawreq "$T/raw4")" 411
printf 'POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nno colon here\r\nContent-Length: 5\r\n\r\nid\n1\n' >"$T/raw5"
check "malformed header line -> 400" eq "$(rawreq "$T/raw5")" 400
printf 'POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 12x\r\n\r\nid\n1\n' >"$T/raw6"
check "invalid Content-Length -> 400" eq "$(rawreq "$T/raw6")" 400

# ---- keep-alive: two requests, one connection ----
r=$(curl -s -v -H 'Content-Type: text/csv' --data-binary @"$T/a.csv" "$URL/v1/streams/ka/ingest" "$URL/v1/streams/ka/ingest" 2>&1)
check "keep-alive: second request reuses the connection" contains "$r" 'Re-using existing connection'

# ---- metrics, health ----
curl -s "$URL/metrics" >"$T/metrics"
check "metrics: rows per stream" grep -q '^sluice_ingest_rows_total{stream="default"} [1-9]' "$T/metrics"
check "metrics: latency histogram" grep -q 'sluice_http_request_duration_seconds_bucket{route="ingest",le="0.005"}' "$T/metrics"
check "metrics: fsync histogram" grep -q '^sluice_wal_fsync_duration_seconds_count [1-9]' "$T/metrics"
check "metrics: RSS" grep -q '^sluice_process_resident_memory_bytes [1-9]' "$T/metrics"
if command -v promtool >/dev/null; then
  out=$(promtool check metrics <"$T/metrics" 2>&1)
  check "promtool check metrics is clean" eq "$out" ""
else
  bad "promtool missing (scripts/deps.sh installs the prometheus package)"
fi
r=$(curl -s -w ' %{http_code}' "$URL/readyz")
check "/readyz ready" contains "$r" '{"ready":true'

# ---- output read back ----
sleep 1
r=$(Q "SELECT count(*) n, sum(id) s FROM read_parquet('$D/out/default/dt=*/part-*.parquet')")
check "default stream: 6 rows in Parquet (2+1+1+1+1 dlq)" eq "$r" '{"n":"6","s":"21"}'
r=$(Q "SELECT name FROM read_parquet('$D/out/default/dt=*/part-*.parquet') WHERE id = 2")
check "quoted CSV value intact" eq "$r" '{"name":"pear, green"}'
r=$(Q "SELECT count(*) n, sum(n) s FROM read_parquet('$D/out/events/dt=*/part-*.parquet')")
check "events stream: 4 rows (strict request added none)" eq "$r" '{"n":"4","s":"10"}'
r=$(Q "SELECT typeof(total) t, total::VARCHAR v FROM read_parquet('$D/out/orders/dt=*/part-*.parquet')")
check "model types in the file (decimal)" eq "$r" '{"t":"DECIMAL(10,2)","v":"12.34"}'
rej=$(cat "$D"/out/default/_rejects/dt=*/rejects-*.ndjson 2>/dev/null)
check "dead letters: 2 rejects in NDJSON" eq "$(grep -c . <<<"$rej")" 2
check "dead letter has reason and raw row" contains "$rej" '"code":"type"'
check "dead letter raw text" contains "$rej" '"raw":"7,bad,notanumber,2026-11-23T15:00:00Z"'
names=$(ls "$D"/out/default/dt=*/)
seg=$((16#$(basename "$(ls "$D"/wal/*.wal | head -1)" .wal)))
check "file names from WAL segment and row range" contains "$names" "part-$seg-000000000000-"
# a new log numbers its segments from the wall clock in ms: a new data directory publishing
# where an old one did (same prefix, stream, day) never reuses its names
age=$(($(date +%s%3N) - seg))
check "a new log's first segment is the wall clock in ms (${age} ms ago)" [ "$age" -ge 0 -a "$age" -lt 3600000 ]

# ---- graceful shutdown with an upload in flight ----
python3 - "$PORT" "$T/slow.started" >"$T/slow.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
body = b"id,name,amount,ts\n" + b"".join(b"%d,slow,1,2026-11-23T00:00:00Z\n" % i for i in range(100, 200))
s.sendall(b"POST /v1/streams/slow/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n" % len(body))
s.sendall(body[:50]); open(sys.argv[2], "w").close(); time.sleep(1.0); s.sendall(body[50:])
print(s.recv(65536).split(b"\r\n", 1)[0].decode())
PY
CPID=$!
for _ in $(seq 1 100); do [ -e "$T/slow.started" ] && break; sleep 0.05; done
sleep 0.2
kill -TERM "$SPID"
wait "$CPID"
check "in-flight upload finished with 200 during shutdown" contains "$(cat "$T/slow.out")" "200"
rc=0
wait "$SPID" || rc=$?
SPID=
check "SIGTERM -> exit 0" eq "$rc" 0
check "in-flight upload flushed at shutdown" eq "$(parquet_rows "$D" slow)" 100
check "shutdown logged" grep -q '"msg":"stopped"' "$D.log"

# ---- auth ----
D2=$T/d2
mkdir -p "$D2"
start_server "$D2" --auth-tokens 'tok-one, tok-two' || exit 1
r=$(curl -s -D - -o /dev/null -H 'Content-Type: text/csv' --data-binary @"$T/a.csv" "$URL/ingest")
check "no token -> 401" contains "$r" '401'
check "401 carries WWW-Authenticate: Bearer" contains "$r" 'WWW-Authenticate: Bearer'
r=$(curl -s -w ' %{http_code}' -H 'Authorization: Bearer tok-onf' -H 'Content-Type: text/csv' --data-binary @"$T/a.csv" "$URL/ingest")
check "wrong token -> 401" contains "$r" ' 401'
r=$(curl -s -w ' %{http_code}' -H 'Authorization: Bearer tok-two' -H 'Content-Type: text/csv' --data-binary @"$T/a.csv" "$URL/ingest")
check "second token works" contains "$r" ' 200'
check "/healthz open without a token" eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" 200
check "/metrics open without a token" eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics")" 200
check "/v1/streams needs a token" eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/streams")" 401
stop_server
start_server "$D2" --auth-tokens tok --open-endpoints none || exit 1
check "--open-endpoints none protects /metrics" eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/metrics")" 401
stop_server

# ---- a failing sink: 429 under backlog, /readyz says why, delivery resumes ----
D3=$T/d3
mkdir -p "$D3/out"
touch "$D3/out/stuck" # a file where the stream's directory must go
start_server "$D3" --flush-interval 0.2 --queue-capacity 3 || exit 1
printf 'id\n1\n2\n' >"$T/two.csv"
acked=0
for i in 1 2 3; do
  c=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/two.csv" "$URL/v1/streams/stuck/ingest")
  [ "$c" = 200 ] && acked=$((acked + 1))
done
check "the first requests are acknowledged while the sink fails ($acked)" [ "$acked" -ge 2 ]
sleep 1.2
r=$(curl -s -D - -H 'Content-Type: text/csv' --data-binary @"$T/two.csv" "$URL/v1/streams/stuck/ingest")
check "backlog over QUEUE_CAPACITY -> 429" contains "$r" '429'
check "429 with Retry-After" contains "$r" 'Retry-After: 1'
# a 3.4 MB body sent at once (no Expect: 100-continue) over the queue limit: the 429 must reach
# the client (before: answered and closed unread -> broken pipe / reset)
got=$(python3 - "$PORT" <<'PY'
import socket, sys
body = b"id\n" + b"".join(b"%d\n" % i for i in range(500000))
head = b"POST /v1/streams/stuck/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n" % len(body)
out = []
for _ in range(3):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    try:
        s.sendall(head + body)
        out.append(s.recv(65536).split(b" ", 2)[1].decode())
    except Exception as e:
        out.append(type(e).__name__)
    s.close()
print(" ".join(out))
PY
)
check "429 for a 3.4 MB body sent without Expect is read, not reset ($got)" eq "$got" "429 429 429"
r=$(curl -s -w ' %{http_code}' "$URL/readyz")
check "/readyz not ready, names the failing sink" contains "$r" '"ready":false,"reason":"stream stuck: '
check "sink failures counted" grep -q '^sluice_sink_failures_total{sink="local"} [1-9]' <(curl -s "$URL/metrics")
rm -f "$D3/out/stuck"
for _ in $(seq 1 80); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" = 200 ] && break
  sleep 0.25
done
check "sink back: ready again" eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" 200
check "sink back: 200 again" eq "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/two.csv" "$URL/v1/streams/stuck/ingest")" 200
stop_server
check "every acknowledged row delivered once after the failure" eq "$(parquet_rows "$D3" stuck)" $((acked * 2 + 2))

# ---- WAL size limit: an upload that cannot fit gets 503 (nothing acknowledged), then 429 ----
D4=$T/d4
mkdir -p "$D4"
start_server "$D4" --wal-max-bytes 1M --chunk-bytes 64K --wal-segment-bytes 256K --flush-interval 60 --upload-stall-timeout 1 || exit 1
seq 1 300000 | sed '1i id' >"$T/many.csv"
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/many.csv" "$URL/v1/streams/w/ingest")
check "Content-Length larger than the WAL -> 413" contains "$r" '"code":"body_too_large"'
r=$(curl -s -w ' %{http_code}' -H 'Content-Type: text/csv' -H 'Transfer-Encoding: chunked' --data-binary @"$T/many.csv" "$URL/v1/streams/w/ingest")
check "chunked upload that cannot fit the WAL -> 503 wal_full" contains "$r" '"code":"wal_full"'
seq 1 20000 | sed '1i id' >"$T/some.csv"
codes=""
for i in $(seq 1 12); do
  codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/some.csv" "$URL/v1/streams/w/ingest")"
done
check "WAL full of undelivered rows -> 429 (codes:$codes)" contains "$codes" "429"
check "... after some 200s" contains "$codes" "200"
n200=$(grep -o 200 <<<"$codes" | wc -l)
stop_server
check "every acknowledged request delivered at shutdown" eq "$(parquet_rows "$D4" w)" $((n200 * 20000))

# ---- restart keeps streams; crash before flush loses nothing ----
D5=$T/d5
mkdir -p "$D5"
start_server "$D5" --flush-interval 3600 || exit 1
for i in 1 2 3; do post text/csv "$T/a.csv" >/dev/null; done
kill9_server
check "kill -9 before any flush: no output yet" eq "$(parquet_rows "$D5")" 0
start_server "$D5" --flush-interval 0.2 || exit 1
sleep 1
check "restart replays the WAL: 6 rows" eq "$(parquet_rows "$D5")" 6
stop_server
start_server "$D5" --flush-interval 0.2 || exit 1
stop_server
check "a second restart adds nothing" eq "$(parquet_rows "$D5")" 6

# ---- regression: a published request whose DATA records were released with their segment
# while its COMMIT stayed in a later one must not stop the next start ----
D6=$T/d6
mkdir -p "$D6"
start_server "$D6" --flush-interval 0.2 --chunk-bytes 16K --wal-segment-bytes 64K || exit 1
seq 1 40000 | sed '1i id' >"$T/forty.csv"
post text/csv "$T/forty.csv" >/dev/null
sleep 1
post text/csv "$T/two.csv" >/dev/null
sleep 1
stop_server
check "request spanning segments published" eq "$(parquet_rows "$D6")" 40002
if start_server "$D6" --flush-interval 0.2 --chunk-bytes 16K --wal-segment-bytes 64K; then
  ok "restart after its DATA segments were released"
  stop_server
else
  bad "restart after its DATA segments were released"
  SPID=
fi
check "nothing published twice after that restart" eq "$(parquet_rows "$D6")" 40002

# ---- QUEUE_CAPACITY below BATCH_SIZE: the lane publishes early instead of stalling clients
# until the flush interval (before: the 5th request got 429 for 60 s) ----
D7=$T/d7
mkdir -p "$D7"
start_server "$D7" --queue-capacity 20000 --batch-size 1000000 --flush-interval 60 || exit 1
seq 1 5000 | sed '1i id' >"$T/five.csv"
codes=""
for i in $(seq 1 12); do
  codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/five.csv" "$URL/v1/streams/q/ingest")"
  sleep 0.05
done
check "12 x 5000 rows under QUEUE_CAPACITY 20000, BATCH_SIZE 1M: all 200 (codes:$codes)" eq "$(grep -o 200 <<<"$codes" | wc -l)" 12
check "flushes by the queue trigger counted" grep -q '^sluice_flushes_total{stream="q",reason="queue"} [1-9]' <(curl -s "$URL/metrics")
stop_server
check "... every row delivered once" eq "$(parquet_rows "$D7" q)" 60000

# ---- one request spanning two files: once both are published nothing stays queued (before:
# the request stayed retained, counted in QUEUE_CAPACITY and held its WAL, until a later flush) --
D8=$T/d8
mkdir -p "$D8"
start_server "$D8" --batch-size 100000 --flush-interval 60 || exit 1
seq 1 200000 | sed '1i id' >"$T/twohundred.csv"
curl -s -o /dev/null -H 'Content-Type: text/csv' --data-binary @"$T/twohundred.csv" "$URL/v1/streams/span/ingest"
q=""
for _ in $(seq 1 50); do
  q=$(curl -s "$URL/metrics" | awk '/^sluice_queue_rows / {print $2}')
  [ "$q" = 0 ] && break
  sleep 0.1
done
check "request cut into two files by BATCH_SIZE: queue empty once both are published ($q)" eq "$q" 0
stop_server
check "... 200000 rows delivered" eq "$(parquet_rows "$D8" span)" 200000

# ---- requests not kept in memory (--cache-bytes 1) are parsed again from the WAL, a big one by
# helper threads ahead of the lane: the file must hold exactly the good rows in request order,
# and the dead letters the bad ones in line order, as a serial re-parse gives ----
D9=$T/d9
mkdir -p "$D9"
start_server "$D9" --cache-bytes 1 --chunk-bytes 16K --batch-size 1000000 --flush-interval 60 || exit 1
# (bad values only after the first piece, from which the stream's schema is inferred)
awk 'BEGIN { print "id,v"; for (i = 1; i <= 60000; i++) print i "," (i > 10000 && i % 997 == 0 ? "bad" : i * 3) }' >"$T/reparse.csv"
r=$(curl -s -H 'Content-Type: text/csv' --data-binary @"$T/reparse.csv" "$URL/v1/streams/rp/ingest")
check "uncached request of ~45 pieces: 60000 - 50 rows accepted" contains "$r" '"rows_accepted":59950'
sleep 0.5
curl -s "$URL/metrics" >"$T/rp_metrics.txt"
# the unit stays open (flush interval 60 s): its Parquet writer has its encoders, one per core
# by default (--threads 0; before, the lane encoded alone and fell behind fast parsers)
names() { cat /proc/"$SPID"/task/*/comm 2>/dev/null; }
for _ in $(seq 1 40); do names | grep -q '^sl-lane$' && break; sleep 0.05; done
enc=$(nproc); [ "$enc" -gt 4 ] && enc=4
check "start log: encode_threads = cores, at most 4" grep -q "\"encode_threads\":$enc[,}]" "$D9.log"
check "open unit: $((enc - 1)) encoder helper thread(s) beside the lane" eq "$(names | grep -c '^sl-encode$')" "$((enc - 1))"
stop_server
f=$(ls "$D9"/out/rp/dt=*/part-*.parquet 2>/dev/null | head -1)
if [ -n "$f" ] && "$SLUICE" convert "$f" "$T/reparse_out.csv" --quiet; then
  awk -F, 'NR == 1 || $2 != "bad"' "$T/reparse.csv" >"$T/reparse_want.csv"
  check "re-parsed rows identical and in request order" cmp -s "$T/reparse_out.csv" "$T/reparse_want.csv"
else
  bad "re-parsed rows identical and in request order (no file)"
fi
want_lines=$(awk -F, 'NR > 1 && $2 == "bad" { printf "%s ", NR }' "$T/reparse.csv")
got_lines=$(cat "$D9"/out/rp/_rejects/dt=*/*.ndjson 2>/dev/null | jq -r '.line' | tr '\n' ' ')
check "dead letters in line order, each once" eq "$got_lines" "$want_lines"
check "helper threads re-parsed it (metric)" grep -q '^sluice_reparsed_pieces_total{by="helpers"} [1-9]' "$T/rp_metrics.txt"

# ---- DATA/origin: made once and kept; a data directory of an older sluice (a checkpoint, no
# origin file, a log numbered from 1) gets '' (the range markers its sinks wrote carry none);
# a lost or damaged file refuses to start, with a hint (another origin would deliver the units
# in flight again) ----
o1=$(cat "$D9/origin")
check "origin: 16 hex digits" grep -qE '^[0-9a-f]{16}$' <<<"$o1"
start_server "$D9" || exit 1
stop_server
check "origin kept across a restart" eq "$(cat "$D9/origin")" "$o1"
rm "$D9/origin"
"$SLUICE" serve --listen 127.0.0.1:1 --data-dir "$D9" >"$T/noorigin.out" 2>&1
check "a lost origin file: cannot start (exit 3), with a hint" eq "$?:$(grep -q 'origin is missing, but this data directory was made with one' "$T/noorigin.out" && echo hint)" "3:hint"
echo "not-hex" >"$D9/origin"
"$SLUICE" serve --listen 127.0.0.1:1 --data-dir "$D9" >"$T/badorigin.out" 2>&1
check "a damaged origin file: cannot start (exit 3), with a hint" eq "$?:$(grep -q 'is not 16 hex digits; restore it' "$T/badorigin.out" && echo hint)" "3:hint"
D10=$T/d10
mkdir -p "$D10"
SLUICE_TEST_WAL_FIRST_SEGMENT=1 start_server "$D10" || exit 1
curl -s -o /dev/null -H 'Content-Type: text/csv' --data-binary $'a\n1\n' "$URL/v1/streams/old/ingest"
stop_server
rm "$D10/origin"
start_server "$D10" || exit 1
stop_server
check "a data directory of an older sluice gets ''" eq "$(cat "$D10/origin")" ""

# A request goes to its lane as soon as its COMMIT record is written, before the fsync that
# acknowledges it (the lane encodes meanwhile), but nothing of it may be published before that
# fsync: with every group-commit fsync slowed to 1.5 s and a 50 ms flush interval, no file holds
# its rows and the stream reports nothing committed until the answer; then they are there.
D11=$T/d11
mkdir -p "$D11"
SLUICE_TEST_WAL_SYNC_DELAY_MS=1500 start_server "$D11" --flush-interval 0.05 || exit 1
curl -s -o "$T/slow.json" -w '%{http_code}' -H 'Content-Type: text/csv' \
  --data-binary $'id\n1\n2\n3\n' "$URL/ingest" >"$T/slow.code" &
CP=$!
sleep 0.8
files=$(find "$D11/out" -name '*.parquet' 2>/dev/null | wc -l)
committed=$(curl -s "$URL/v1/streams/default" | jq -r '.rows.next, .rows.committed' | tr '\n' ' ')
wait "$CP"
check "logged, not yet durable: rows numbered, no file, nothing committed ($files file(s), next/committed $committed)" \
  eq "$files:$committed" "0:3 0 "
check "then acknowledged" eq "$(cat "$T/slow.code")" 200
committed=$(curl -s "$URL/v1/streams/default?wait_rows=3&timeout=10" | jq -r .rows.committed)
stop_server
check "and published once durable ($committed committed, $(parquet_rows "$D11") in files)" \
  eq "$committed:$(parquet_rows "$D11")" "3:3"

# Released WAL segments are kept as spares (at most --wal-spare-segments) and later segments are
# written into them: same rows out, fewer new files.
D12=$T/d12
mkdir -p "$D12"
start_server "$D12" --flush-interval 3600 --chunk-bytes 64K --wal-segment-bytes 1M --wal-spare-segments 2 || exit 1
seq 1 100000 | sed '1i id' >"$T/ids.csv" # ~590 KB
post_ids() { curl -s -o /dev/null -w '%{http_code} ' -H 'Content-Type: text/csv' --data-binary @"$T/ids.csv" "$URL/ingest"; }
codes=$(for _ in 1 2 3 4 5; do post_ids; done)
curl -s -o /dev/null "$URL/v1/streams/default?wait_rows=500000&timeout=30"
spares=$(find "$D12/wal" -name '*.wal.spare' | wc -l)
m=$(curl -s "$URL/metrics")
metric=$(awk '/^sluice_wal_spare_segments /{print $2}' <<<"$m")
check "5 requests, then a flush: released segments kept as spares, at most 2 ($codes; $spares files, metric $metric)" \
  eq "$spares:$metric" "2:2"
codes=$(for _ in 1 2 3; do post_ids; done)
curl -s -o /dev/null "$URL/v1/streams/default?wait_rows=800000&timeout=30"
recycled=$(curl -s "$URL/metrics" | awk '/^sluice_wal_recycled_segments_total /{print $2}')
check "later segments were written into the spares ($codes; sluice_wal_recycled_segments_total $recycled)" \
  [ "${recycled:-0}" -ge 2 ]
stop_server
check "every row delivered once" eq "$(parquet_rows "$D12")" 800000
start_server "$D12" --wal-spare-segments 1 || exit 1
stop_server
check "a lower limit at start deletes the extra spares" eq "$(find "$D12/wal" -name '*.wal.spare' | wc -l)" 1

echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
