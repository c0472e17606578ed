#!/usr/bin/env bash
# bench/serve_ab.sh: A/B comparison of `sluice serve` configurations (binaries, client counts,
# server flags) on a noisy machine. For each repetition and each configuration in turn: one
# `sluice convert` of the file (the reference, same binary), then one fresh server fed the whole
# file by sl_load; prints per run the ack and end-to-end ratios to that convert and the server's
# CPU per million rows up to the last answer, then the median end-to-end ratio per configuration.
# Alternating runs, and ratios to a convert taken seconds before, are what make small
# differences visible here (runs minutes apart vary +-15% on our 2-core VMs).
#
# usage: bench/serve_ab.sh REPS FORMAT REQUEST_BYTES CONFIG...
#   CONFIG = label|binary|clients|server flags    e.g.
#   bench/serve_ab.sh 4 jsonl 8M "old|/tmp/old/sluice|2|" "new|build/release/sluice|2|" \
#     "nosync|build/release/sluice|2|--wal-sync false"
# Data: bench/data/bench-$ROWS.FORMAT (ROWS=2000000; bench/serve.sh generates it).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 4 ] || { sed -n 2,16p "$0" | sed 's/^# \{0,1\}//'; exit 2; }
REPS=$1 FMT=$2 SIZE=$3
shift 3
ROWS=${ROWS:-2000000}
IN=bench/data/bench-$ROWS.$FMT
LOAD=build/release/sl_load
[ -f "$IN" ] || { echo "no $IN: run bench/serve.sh once (it generates the data)" >&2; exit 1; }
[ -x "$LOAD" ] || { echo "no $LOAD: make build" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/sluice-serve-ab.XXXXXX")
SPID=""
trap '[ -n "$SPID" ] && kill -KILL "$SPID" 2>/dev/null; rm -rf "$T"' EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# one_run BINARY CLIENTS FLAGS...: prints "ack_ratio e2e_ratio cpu_per_M"
one_run() {
  local bin=$1 clients=$2
  shift 2
  rm -rf "$T/d" "$T/c.parquet"
  /usr/bin/time -f "%e" -o "$T/ct" "$bin" convert "$IN" "$T/c.parquet" --quiet
  local conv port
  conv=$(cat "$T/ct")
  port=$(free_port)
  "$bin" serve --listen "127.0.0.1:$port" --data-dir "$T/d" --log-level warn "$@" >"$T/log" 2>&1 &
  SPID=$!
  for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done
  "$LOAD" --url "http://127.0.0.1:$port/ingest" --file "$IN" --request-bytes "$SIZE" \
    --clients "$clients" --json --quiet >"$T/load.json"
  local t1 cpu t2 up
  t1=$(date +%s.%N)
  cpu=$(awk '{ print ($14 + $15) / 100 }' "/proc/$SPID/stat")
  kill -TERM "$SPID"
  wait "$SPID" || echo "  (server exit status $?)" >&2
  SPID=""
  t2=$(date +%s.%N)
  up=$(jq .seconds "$T/load.json")
  echo "$(echo "$conv / $up" | bc -l) $(echo "$conv / ($up + $t2 - $t1)" | bc -l) $(echo "$cpu * 1000000 / $ROWS" | bc -l)"
}

declare -A RUNS
for ((i = 1; i <= REPS; i++)); do
  for cfg in "$@"; do
    IFS='|' read -r label bin clients flags <<<"$cfg"
    # shellcheck disable=SC2086 # flags are words
    read -r ack e2e cpu < <(one_run "$bin" "$clients" $flags)
    printf '%-12s run %d: ack %.3fx  end to end %.3fx  server %.2f CPU-s/M rows\n' "$label" "$i" "$ack" "$e2e" "$cpu"
    RUNS[$label]+="$e2e "
  done
done
echo
for cfg in "$@"; do
  label=${cfg%%|*}
  printf '%-12s median end to end %.3fx over %d runs (%s)\n' "$label" \
    "$(tr ' ' '\n' <<<"${RUNS[$label]}" | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" \
    "$REPS" "$(printf '%.3f ' ${RUNS[$label]})"
done
