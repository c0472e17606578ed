# clickhouse.sh: a throwaway ClickHouse (Debian 12: 18.16) on 127.0.0.1 for integration tests
# (sourced). Config written to DIR/ch (<yandex> root, default user without password).
#   ch_start DIR   start on free HTTP and TCP ports; sets CH_PID, CH_HTTP, CH_URL (http://127.0.0.1:PORT)
#   ch_stop        SIGTERM to CH_PID and wait
#   ch_restart     start again (same ports and data)
#   ch_sql SQL     runs SQL over HTTP, TabSeparated answer
# Needs free_port (tests/support/serve_lib.sh). Stops by PID only.
ch_start() {
  CH_DIR=$1/ch
  mkdir -p "$CH_DIR/data" "$CH_DIR/tmp" "$CH_DIR/log"
  CH_HTTP=$(free_port)
  CH_TCP=$(free_port)
  CH_URL="http://127.0.0.1:$CH_HTTP"
  cat >"$CH_DIR/users.xml" <<XML
<yandex>
  <profiles><default/></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default/></quotas>
</yandex>
XML
  cat >"$CH_DIR/config.xml" <<XML
<yandex>
  <logger><level>warning</level><log>$CH_DIR/log/server.log</log><errorlog>$CH_DIR/log/error.log</errorlog></logger>
  <http_port>$CH_HTTP</http_port>
  <tcp_port>$CH_TCP</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$CH_DIR/data/</path>
  <tmp_path>$CH_DIR/tmp/</tmp_path>
  <users_config>$CH_DIR/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709</mark_cache_size>
</yandex>
XML
  [ "$(id -u)" = 0 ] && chown -R clickhouse:clickhouse "$CH_DIR" 2>/dev/null
  ch_restart
}

ch_restart() {
  local as=()
  [ "$(id -u)" = 0 ] && id clickhouse >/dev/null 2>&1 && as=(setpriv --reuid=clickhouse --regid=clickhouse --init-groups --)
  ( exec "${as[@]}" clickhouse-server --config-file="$CH_DIR/config.xml" >>"$CH_DIR/stdout.log" 2>&1 ) &
  CH_PID=$!
  for _ in $(seq 1 200); do
    if [ "$(curl -s "$CH_URL/ping")" = "Ok." ]; then return 0; fi
    if ! kill -0 "$CH_PID" 2>/dev/null; then echo "    clickhouse exited:"; tail -5 "$CH_DIR/stdout.log" "$CH_DIR/log/error.log"; return 1; fi
    sleep 0.05
  done
  echo "    clickhouse did not come up"; return 1
}

ch_stop() {
  [ -n "${CH_PID:-}" ] || return 0
  kill -TERM "$CH_PID" 2>/dev/null
  wait "$CH_PID" 2>/dev/null
  CH_PID=
}

ch_sql() {
  curl -sS --data-binary "$1" "$CH_URL/"
}
