# mariadb.sh: a throwaway MariaDB 10.11 on 127.0.0.1 for integration tests (sourced).
#   my_start DIR   install a data directory in DIR/my (as user mysql when run as root), start on
#                  a free port, create database sluice and TCP user sluice/sluice;
#                  sets MY_PID, MY_PORT, MY_URL (mysql://sluice:sluice@127.0.0.1:PORT/sluice)
#   my_stop        SIGTERM to MY_PID and wait
#   my_restart     start again (same port, same data)
#   my_sql SQL     runs SQL as root over the socket, tab-separated, no headers
# Needs free_port (tests/support/serve_lib.sh). Always --no-defaults. Stops by PID only.
_my_as=()
[ "$(id -u)" = 0 ] && _my_as=(setpriv --reuid=mysql --regid=mysql --init-groups --)

my_start() {
  MY_DIR=$1/my
  mkdir -p "$MY_DIR"
  [ "$(id -u)" = 0 ] && chown mysql:mysql "$MY_DIR"
  "${_my_as[@]}" mariadb-install-db --no-defaults --datadir="$MY_DIR/data" \
    --auth-root-authentication-method=socket --skip-test-db >"$MY_DIR/install.log" 2>&1 ||
    { echo "    mariadb-install-db failed:"; tail -5 "$MY_DIR/install.log"; return 1; }
  MY_PORT=$(free_port)
  MY_URL="mysql://sluice:sluice@127.0.0.1:$MY_PORT/sluice"
  my_restart || return 1
  my_sql "CREATE DATABASE sluice; CREATE USER 'sluice'@'%' IDENTIFIED BY 'sluice'; GRANT ALL ON sluice.* TO 'sluice'@'%';"
}

my_restart() {
  ( exec "${_my_as[@]}" mariadbd --no-defaults --datadir="$MY_DIR/data" --socket="$MY_DIR/s.sock" \
      --port="$MY_PORT" --bind-address=127.0.0.1 --skip-log-bin --innodb-flush-log-at-trx-commit=2 \
      --pid-file="$MY_DIR/m.pid" >>"$MY_DIR/server.log" 2>&1 ) &
  MY_PID=$!
  for _ in $(seq 1 200); do
    if mariadb-admin --no-defaults -S "$MY_DIR/s.sock" -uroot ping >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$MY_PID" 2>/dev/null; then echo "    mariadbd exited:"; tail -5 "$MY_DIR/server.log"; return 1; fi
    sleep 0.05
  done
  echo "    mariadbd did not come up"; return 1
}

my_stop() {
  [ -n "${MY_PID:-}" ] || return 0
  kill -TERM "$MY_PID" 2>/dev/null
  wait "$MY_PID" 2>/dev/null
  MY_PID=
}

my_sql() {
  mariadb --no-defaults -S "$MY_DIR/s.sock" -uroot -N -B -e "$1"
}
