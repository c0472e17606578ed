# kafka_lib.sh: the mock Kafka cluster (tests/tools/kafka_mock.c) for tests and benchmarks
# (sourced). Needs SL_BIN and T.

# mock_start NAME [kafka_mock args...]: starts a mock cluster; sets MOCK_PID_<NAME>,
# MOCK_BOOT (its bootstrap address) and opens a control pipe; waits until it is ready.
mock_start() {
  local name=$1
  shift
  rm -f "$T/mock_$name.ctl"
  mkfifo "$T/mock_$name.ctl"
  "$SL_BIN/kafka_mock" "$@" <"$T/mock_$name.ctl" >"$T/mock_$name.out" 2>"$T/mock_$name.err" &
  eval "MOCK_PID_$name=$!"
  # keep the pipe open for writing: the helper stops at end of input
  eval "exec {MOCK_FD_$name}>\"$T/mock_$name.ctl\""
  for _ in $(seq 1 100); do
    if grep -q '^bootstrap ' "$T/mock_$name.out" 2>/dev/null; then
      MOCK_BOOT=$(awk '/^bootstrap /{print $2; exit}' "$T/mock_$name.out")
      return 0
    fi
    sleep 0.05
  done
  echo "    kafka_mock did not start: $(cat "$T/mock_$name.err")"
  return 1
}

# mock_cmd NAME COMMAND...: sends a command (see kafka_mock.c), waits for its answer line.
mock_cmd() {
  local name=$1
  shift
  local fd before
  fd=$(eval "echo \$MOCK_FD_$name")
  before=$(wc -l <"$T/mock_$name.out")
  echo "$*" >&"$fd"
  for _ in $(seq 1 100); do
    [ "$(wc -l <"$T/mock_$name.out")" -gt "$before" ] && break
    sleep 0.02
  done
  tail -1 "$T/mock_$name.out" | grep -q '^ok' || { echo "    mock: $*: $(tail -1 "$T/mock_$name.out")"; return 1; }
}

# mock_stop NAME: ends the helper (by closing its input, then by PID).
mock_stop() {
  local name=$1 pid fd
  pid=$(eval "echo \${MOCK_PID_$name:-}")
  fd=$(eval "echo \${MOCK_FD_$name:-}")
  [ -n "$fd" ] && eval "exec $fd>&-"
  if [ -n "$pid" ]; then
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  eval "MOCK_PID_$name="
  eval "MOCK_FD_$name="
}

# topic_json BOOT TOPIC: every message of the topic as kcat JSON lines (one per message).
topic_json() {
  kcat -C -b "$1" -t "$2" -e -J -q 2>/dev/null
}
