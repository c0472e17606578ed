# serve_lib.sh: helpers for the `sluice serve` integration tests (sourced, not run).
# Needs SLUICE (the binary), T (a temp dir) and the check helpers of the caller.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_server DATA_DIR [args...]: starts sluice serve on a free port; sets SPID, PORT, URL.
# The log goes to $DATA_DIR.log. Waits until /healthz answers (10 s at most).
start_server() {
  local dir=$1
  shift
  PORT=$(free_port)
  URL="http://127.0.0.1:$PORT"
  "$SLUICE" serve --listen "127.0.0.1:$PORT" --data-dir "$dir" "$@" >>"$dir.log" 2>&1 &
  SPID=$!
  for _ in $(seq 1 200); do
    if curl -s -o /dev/null "$URL/healthz" 2>/dev/null; then return 0; fi
    if ! kill -0 "$SPID" 2>/dev/null; then
      echo "    server exited at start:"; tail -5 "$dir.log"; return 1
    fi
    sleep 0.05
  done
  echo "    server did not come up"; return 1
}

# stop_server: SIGTERM and wait; returns the server's exit code.
stop_server() {
  kill -TERM "$SPID" 2>/dev/null
  local rc=0
  wait "$SPID" || rc=$?
  SPID=
  return $rc
}

kill9_server() {
  kill -KILL "$SPID" 2>/dev/null
  wait "$SPID" 2>/dev/null
  SPID=
}

# rawreq BYTES_FILE: sends raw bytes to the server, prints the status code of the first answer.
rawreq() {
  python3 - "$PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(open(sys.argv[2], "rb").read())
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data:
            head, _, rest = data.partition(b"\r\n\r\n")
            cl = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            if cl and len(rest) >= int(cl[0].split(b":")[1]):
                break
except socket.timeout:
    pass
line = data.split(b"\r\n", 1)[0].decode("latin-1")
print(line.split(" ")[1] if line.startswith("HTTP/") else "none")
PY
}

# post CT FILE [curl args...]: POST a file to $URL/ingest; prints "STATUS BODY".
post() {
  local ct=$1 file=$2
  shift 2
  curl -s -o "$T/resp" -w '%{http_code}' -H "Content-Type: $ct" --data-binary @"$file" "$@" "$URL/ingest"
  echo " $(cat "$T/resp")"
}

# parquet_rows DIR [STREAM]: rows in every Parquet file of a stream, via DuckDB.
parquet_rows() {
  local dir=$1 stream=${2:-default}
  if ! ls "$dir"/out/"$stream"/dt=*/part-*.parquet >/dev/null 2>&1; then echo 0; return; fi
  node "$SL_SRC/tests/readers/query.mjs" \
    "SELECT count(*) AS n FROM read_parquet('$dir/out/$stream/dt=*/part-*.parquet')" |
    sed -E 's/.*"n":"?([0-9]+)"?.*/\1/'
}
