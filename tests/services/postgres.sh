# postgres.sh: a throwaway PostgreSQL 15 on 127.0.0.1 for integration tests (sourced).
#   pg_start DIR    initdb in DIR/pg (as user postgres when run as root), start on a free port;
#                   sets PG_PID, PG_PORT, PG_URL (postgresql://postgres@127.0.0.1:PORT/postgres)
#   pg_stop         SIGINT (fast shutdown) to PG_PID and wait
#   pg_restart      start again on the same port and data directory
#   pg_sql SQL      runs SQL with psql, unaligned tuples only
# Needs free_port (tests/support/serve_lib.sh). Stops by PID only.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

_pg_as() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else "$@"; fi
}

pg_start() {
  PG_DIR=$1/pg
  mkdir -p "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR" && chmod 0700 "$PG_DIR"
  _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --no-sync -E UTF8 \
    --locale=C >"$PG_DIR/initdb.log" 2>&1 || { echo "    initdb failed:"; tail -5 "$PG_DIR/initdb.log"; return 1; }
  PG_PORT=$(free_port)
  PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
  pg_restart
}

pg_restart() {
  local as=()
  [ "$(id -u)" = 0 ] && as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  ( exec "${as[@]}" "$PG_BIN/postgres" -D "$PG_DIR/data" -k "$PG_DIR" -p "$PG_PORT" \
      -h 127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off \
      >>"$PG_DIR/server.log" 2>&1 ) &
  PG_PID=$!
  for _ in $(seq 1 200); do
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; then return 0; fi
    if ! kill -0 "$PG_PID" 2>/dev/null; then echo "    postgres exited:"; tail -5 "$PG_DIR/server.log"; return 1; fi
    sleep 0.05
  done
  echo "    postgres did not come up"; return 1
}

pg_stop() {
  [ -n "${PG_PID:-}" ] || return 0
  kill -INT "$PG_PID" 2>/dev/null
  wait "$PG_PID" 2>/dev/null
  PG_PID=
}

pg_sql() {
  psql -X -q -A -t -v ON_ERROR_STOP=1 "$PG_URL" -c "$1"
}
