#!/usr/bin/env bash
# bench/serve.sh: `sluice serve` ingest throughput, ack latency and memory, next to
# `sluice convert` on the same data in the same run. Prints rows/s, MB/s, p50/p95/p99 ack
# latency and the server's peak RSS per format and request size, and the ratios
# serve rows/s / convert rows/s.
#
# usage: bench/serve.sh     (ROWS=2000000 CLIENTS=8 BIG_CLIENTS=2 SMALL_SECS=8 HALF_SECS=10
#                            BIG_MIB=1024 FORMATS="csv jsonl" REPS=3)
# Steps, each server fresh (new data dir under TMPDIR, WAL fsync on: the default), on a free
# 127.0.0.1 port, stopped with SIGTERM by PID and its Parquet output counted afterwards:
#   0. client ceiling: tests/tools/sl_load against bench/echo_server.c (answers without doing
#      anything), 1 KiB requests: the most requests/s the load generator can produce here.
#   1. sluice convert CSV / JSONL -> Parquet, median of REPS: the reference rows/s.
#   2. serve: the dataset posted in requests of 64 KiB and 8 MiB (one pass, CLIENTS and
#      BIG_CLIENTS connections; median of REPS runs by end-to-end rows/s), and of 1 KiB
#      (closed loop for SMALL_SECS seconds, CLIENTS).
#   3. latency at half load: 1 KiB requests open loop (sl_load --rate) at half the req/s of
#      step 2's 1 KiB CSV run, for HALF_SECS seconds; target p95 < 10 ms.
#   4. one chunked upload of ~BIG_MIB MiB of CSV (the dataset repeated) streamed from a pipe
#      by curl: rows/s and the server's peak RSS (target < 300 MiB).
# Peak RSS is the server's VmHWM, sampled from /proc every 100 ms until it exits.
# Two throughputs: "ack" = rows acknowledged (durable in the WAL) per second of the upload;
# "end to end" = the same rows over the upload plus the drain (SIGTERM to exit, while the server
# encodes and closes the Parquet of rows it had acknowledged but not yet written), comparable
# with convert, which also ends with a closed Parquet file.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-2000000}
CLIENTS=${CLIENTS:-8}
BIG_CLIENTS=${BIG_CLIENTS:-2}
SMALL_SECS=${SMALL_SECS:-8}
HALF_SECS=${HALF_SECS:-10}
BIG_MIB=${BIG_MIB:-1024}
FORMATS=${FORMATS:-"csv jsonl"}
REPS=${REPS:-3}
D=bench/data
B=build/bench
SLUICE=build/release/sluice
LOAD=build/release/sl_load
mkdir -p "$D" "$B"
make -s build >/dev/null 2>&1 || echo "warning: make build failed (someone's unfinished file?); using the binaries already built" >&2
[ -x "$SLUICE" ] && [ -x "$LOAD" ] || { echo "need $SLUICE and $LOAD (make build)" >&2; exit 1; }
[ -d tests/readers/node_modules ] || scripts/deps.sh
gcc -O2 -o "$D/gen" bench/gen_bench_data.c
gcc -O2 -o "$B/echo_server" bench/echo_server.c -lmicrohttpd -lz
if [ ! -f "$D/bench-$ROWS.csv" ] || [ ! -f "$D/bench-$ROWS.jsonl" ]; then
  echo "generating $ROWS rows ..."
  "$D/gen" "$ROWS" "$D/bench-$ROWS.csv" "$D/bench-$ROWS.jsonl"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-serve-bench.XXXXXX")
SPID="" SAMPLER="" EPID=""
cleanup() {
  [ -n "$SPID" ] && kill -KILL "$SPID" 2>/dev/null
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  [ -n "$EPID" ] && kill -KILL "$EPID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_http() { # URL PID
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
j() { jq -r "$2" "$1"; }
# children_cpu: sets CHILD_CPU to the user+sys seconds of this shell's reaped children so far
# (bash `times` must run in this shell, not in $(...): a subshell starts from zero)
children_cpu() {
  times >"$T/times"
  CHILD_CPU=$(sed -n 2p "$T/times" | awk '{ s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } printf "%.3f\n", s }')
}
f() { printf "%.${2:-0}f" "$1"; }
calc() { echo "$1" | bc -l; }

# start_server ARGS...: fresh data dir $T/srv, sets SPID, URL; samples VmHWM into $T/hwm
start_server() {
  rm -rf "$T/srv" "$T/hwm"
  mkdir -p "$T/srv"
  local port
  port=$(free_port)
  URL="http://127.0.0.1:$port"
  "$SLUICE" serve --listen "127.0.0.1:$port" --data-dir "$T/srv" --log-level warn "$@" \
    >"$T/server.log" 2>&1 &
  SPID=$!
  if ! wait_http "$URL/healthz" "$SPID"; then
    echo "server did not start:" >&2
    tail -5 "$T/server.log" >&2
    exit 1
  fi
  # the sampler forks nothing per tick (its children's CPU would count as the server's)
  (
    exec {sfd}<> <(:)
    while [ -r "/proc/$SPID/status" ]; do
      while read -r k v _; do
        if [ "$k" = "VmHWM:" ]; then echo "$v" >"$T/hwm"; fi
      done <"/proc/$SPID/status" 2>/dev/null || break
      read -r -t 0.1 -u "$sfd" _ || true
    done
  ) &
  SAMPLER=$!
}

# stop_server: SIGTERM, wait (120 s at most); sets RSS_MIB (peak RSS) and DRAIN (seconds from
# SIGTERM to exit: the server encodes and closes what it acknowledged but had not written yet)
stop_server() {
  local rc=0 t0 wd c0
  children_cpu
  c0=$CHILD_CPU
  t0=$(date +%s.%N)
  kill -TERM "$SPID"
  (sleep 120 && echo "  SERVER DID NOT STOP within 120 s of SIGTERM; killed" >&2 && kill -KILL "$SPID") &
  wd=$!
  wait "$SPID" || rc=$?
  DRAIN=$(calc "$(date +%s.%N) - $t0")
  children_cpu
  SERVER_CPU=$(calc "$CHILD_CPU - $c0") # the server's whole life: reaped just now
  kill "$wd" 2>/dev/null || true
  wait "$wd" 2>/dev/null || true
  wait "$SAMPLER" 2>/dev/null || true
  SPID="" SAMPLER=""
  RSS_MIB=$(calc "$(cat "$T/hwm" 2>/dev/null || echo 0) / 1024")
  [ "$rc" = 0 ] || { echo "  SERVER EXIT STATUS $rc; log:" >&2; tail -5 "$T/server.log" >&2; }
}

# parquet_check EXPECTED [DISTINCT_IDS]: rows in the server's Parquet output must equal EXPECTED
parquet_check() {
  local want=$1 glob="$T/srv/out/default/dt=*/part-*.parquet" got distinct
  if ! ls $glob >/dev/null 2>&1; then
    got=0
  else
    read -r got distinct < <(node tests/readers/query.mjs \
      "SELECT count(*) AS n, count(DISTINCT id) AS d FROM read_parquet('$glob')" | jq -r '"\(.n) \(.d)"')
  fi
  if [ "$got" != "$want" ]; then
    echo "  PARQUET MISMATCH: $got rows in the output, $want acknowledged" >&2
    CHECK=FAIL
  elif [ -n "${2:-}" ] && [ "$distinct" != "$2" ]; then
    echo "  PARQUET MISMATCH: $distinct distinct ids, expected $2" >&2
    CHECK=FAIL
  else
    CHECK=ok
  fi
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg), data dir on $(stat -f -c %T "$T")"

# ---- 0. client ceiling ----
EPORT=$(free_port)
"$B/echo_server" "$EPORT" 1 2>/dev/null &
EPID=$!
wait_http "http://127.0.0.1:$EPORT/" "$EPID" || { echo "echo_server did not start" >&2; exit 1; }
/usr/bin/time -f "%U %S" -o "$T/ltime" "$LOAD" --url "http://127.0.0.1:$EPORT/ingest" \
  --file "$D/bench-$ROWS.csv" --request-bytes 1K --clients "$CLIENTS" --duration 3 --json --quiet >"$T/echo.json"
kill -TERM "$EPID"; wait "$EPID" 2>/dev/null || true; EPID=""
us=$(calc "($(tr ' ' + <"$T/ltime" | tail -1)) * 1000000 / $(j "$T/echo.json" .ok)")
echo "client ceiling (sl_load -> echo_server, 1 KiB, $CLIENTS clients, both on this machine): $(f "$(j "$T/echo.json" .req_per_s)") req/s; sl_load spends $(f "$us") us of CPU per request"

# ---- 1. convert ----
declare -A CONV CONV_CPU
for fmt in $FORMATS; do
  in="$D/bench-$ROWS.$fmt"
  runs=()
  for ((i = 0; i < REPS; i++)); do
    rm -f "$T/conv.parquet"
    /usr/bin/time -f "%e %U %S %M" -o "$T/ctime" "$SLUICE" convert "$in" "$T/conv.parquet" --quiet
    runs+=("$(cat "$T/ctime")")
  done
  read -r med cu cs crss < <(printf '%s\n' "${runs[@]}" | sort -n | sed -n "$(((REPS + 1) / 2))p")
  CONV[$fmt]=$(calc "$ROWS / $med")
  CONV_CPU[$fmt]=$(calc "($cu + $cs) * 1000000 / $ROWS")
  echo "convert $fmt: $(f "${CONV[$fmt]}") rows/s ($(f "$(calc "$(stat -c %s "$in") / 1000000 / $med")" 1) MB/s, median of $REPS), $(f "${CONV_CPU[$fmt]}" 2) CPU s per million rows, RSS $(f "$(calc "$crss / 1024")") MiB"
  rm -f "$T/conv.parquet"
done

# ---- 2. serve ----
# run_serve FMT SIZE CLIENTS [sl_load args...]: one fresh server, one sl_load run; appends a row
declare -a TABLE
run_serve() {
  local fmt=$1 size=$2 clients=$3
  shift 3
  start_server
  local rc=0
  /usr/bin/time -f "%U %S" -o "$T/ltime" "$LOAD" --url "$URL/ingest" --file "$D/bench-$ROWS.$fmt" \
    --request-bytes "$size" --clients "$clients" --json --quiet "$@" >"$T/load.json" || rc=$?
  [ "$rc" = 0 ] || echo "  sl_load failed (exit $rc) for $fmt $size" >&2
  stop_server
  local rows
  rows=$(j "$T/load.json" .rows)
  if [[ " $* " == *" --duration "* ]]; then parquet_check "$rows"; else parquet_check "$rows" "$ROWS"; fi
  local rps e2e
  rps=$(j "$T/load.json" .rows_per_s)
  e2e=$(calc "$rows / ($(j "$T/load.json" .seconds) + $DRAIN)")
  local scpu
  scpu=$(calc "$SERVER_CPU * 1000000 / $rows")
  local st
  st=$(jq -r '.status | to_entries | map("\(.key):\(.value)") | join(" ")' "$T/load.json")
  local cpu
  cpu=$(calc "($(tr ' ' + <"$T/ltime" | tail -1)) / $(j "$T/load.json" .seconds) * 100")
  TABLE+=("$(printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.2fx | %.2fx | %.2fx |' \
    "$fmt" "$size" "$clients" "$(f "$rps")" "$(f "$(j "$T/load.json" .mb_per_s)" 1)" \
    "$(f "$(j "$T/load.json" .req_per_s)")" "$(f "$(j "$T/load.json" .lat_ms.p50)" 2)" \
    "$(f "$(j "$T/load.json" .lat_ms.p95)" 2)" "$(f "$(j "$T/load.json" .lat_ms.p99)" 2)" \
    "$(f "$DRAIN" 2)" "$(f "$e2e")" "$(f "$RSS_MIB")" "$(f "$scpu" 2)" "$(f "$cpu")" "$CHECK ($st)" \
    "$(calc "$rps / ${CONV[$fmt]}")" "$(calc "$e2e / ${CONV[$fmt]}")" "$(calc "$scpu / ${CONV_CPU[$fmt]}")")")
  LAST_ROW=${TABLE[-1]}
  LAST_E2E=$e2e
  LAST_REQ_PER_S=$(j "$T/load.json" .req_per_s)
}

# run_serve_median FMT SIZE CLIENTS: REPS runs (each on a fresh server), keeps the median by
# end-to-end rows/s, like convert's median of REPS (one run on this VM varies by +-15%)
run_serve_median() {
  local runs=() i
  for ((i = 0; i < REPS; i++)); do
    run_serve "$@"
    unset 'TABLE[-1]'
    runs+=("$LAST_E2E	$LAST_ROW")
  done
  local row
  row=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n "$(((REPS + 1) / 2))p" | cut -f2-)
  TABLE+=("$row")
  echo "$row"
}

hdr='| format | request | clients | ack rows/s | MB/s | req/s | p50 ms | p95 ms | p99 ms | drain s | end-to-end rows/s | server RSS MiB | server CPU s / M rows | sl_load CPU % | rows check (status) | ack / convert | end-to-end / convert | CPU per row serve / convert |'
sep='|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|'
echo
echo "$hdr"
echo "$sep"
PEAK_1K=""
for fmt in $FORMATS; do
  run_serve "$fmt" 1K "$CLIENTS" --duration "$SMALL_SECS"
  echo "$LAST_ROW"
  [ "$fmt" = csv ] && PEAK_1K=$LAST_REQ_PER_S
  run_serve_median "$fmt" 64K "$CLIENTS"
  run_serve_median "$fmt" 8M "$BIG_CLIENTS"
done

# ---- 3. latency at half load ----
if [ -n "$PEAK_1K" ]; then
  half=$(calc "$PEAK_1K / 2")
  start_server
  "$LOAD" --url "$URL/ingest" --file "$D/bench-$ROWS.csv" --request-bytes 1K --clients "$CLIENTS" \
    --duration "$HALF_SECS" --rate "$half" --json --quiet >"$T/half.json" || true
  stop_server
  parquet_check "$(j "$T/half.json" .rows)"
  HALF_LINE=$(printf 'half load: 1 KiB CSV at %s req/s (half of %s), open loop, %s s: p50 %s ms, p95 %s ms (target < 10), p99 %s ms, max %s ms; achieved %s req/s; client send lag p95 %s ms; rows check %s' \
    "$(f "$half")" "$(f "$PEAK_1K")" "$HALF_SECS" "$(f "$(j "$T/half.json" .lat_ms.p50)" 2)" \
    "$(f "$(j "$T/half.json" .lat_ms.p95)" 2)" "$(f "$(j "$T/half.json" .lat_ms.p99)" 2)" \
    "$(f "$(j "$T/half.json" .lat_ms.max)" 2)" "$(f "$(j "$T/half.json" .req_per_s)")" \
    "$(f "$(j "$T/half.json" .send_lag_ms.p95)" 2)" "$CHECK")
  echo
  echo "$HALF_LINE"
fi

# ---- 4. one ~1 GiB chunked upload ----
in="$D/bench-$ROWS.csv"
size=$(stat -c %s "$in")
copies=$(((BIG_MIB * 1048576 + size - 1) / size))
big_rows=$((copies * ROWS))
start_server --max-body-bytes $(((copies * size / 1048576 + 64) * 1048576))
s0=$(date +%s.%N)
status=$({
  cat "$in"
  for ((i = 1; i < copies; i++)); do tail -n +2 "$in"; done
} | curl -sS -o "$T/big.json" -w '%{http_code}' -X POST -T - -H 'Content-Type: text/csv' \
  -H 'Transfer-Encoding: chunked' -H 'Expect:' "$URL/ingest" || true)
secs=$(calc "$(date +%s.%N) - $s0")
stop_server
e2e=$(calc "$big_rows / ($secs + $DRAIN)")
bcpu=$(calc "$SERVER_CPU * 1000000 / $big_rows")
acc=$(jq -r '.rows_accepted // "none"' "$T/big.json" 2>/dev/null || echo none)
parquet_check "$big_rows"
[ "$acc" = "$big_rows" ] || echo "  ANSWER MISMATCH: status $status, rows_accepted $acc, sent $big_rows: $(head -c 300 "$T/big.json")" >&2
BIG_LINE=$(printf 'one chunked upload: %s MiB (%s rows, CSV) from a pipe: status %s, %.1f s, %s rows/s acknowledged (%.2fx convert), %s MB/s; drain %.2f s, end to end %s rows/s (%.2fx convert); server CPU %.2f s per million rows (%.2fx convert); server peak RSS %s MiB (target < 300); rows check %s' \
  "$(f "$(calc "($copies * $size) / 1048576")")" "$big_rows" "$status" "$secs" "$(f "$(calc "$big_rows / $secs")")" \
  "$(calc "($big_rows / $secs) / ${CONV[csv]:-1}")" "$(f "$(calc "$copies * $size / 1000000 / $secs")" 1)" \
  "$DRAIN" "$(f "$e2e")" "$(calc "$e2e / ${CONV[csv]:-1}")" "$bcpu" "$(calc "$bcpu / ${CONV_CPU[csv]:-1}")" \
  "$(f "$RSS_MIB")" "$CHECK")
echo "$BIG_LINE"

echo
echo "($(nproc) cores, $ROWS rows, load $(cut -d' ' -f1-3 /proc/loadavg) at the end, $(date -u '+%Y-%m-%d %H:%M UTC'))"
