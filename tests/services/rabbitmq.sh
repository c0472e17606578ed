# rabbitmq.sh: a throwaway RabbitMQ 3.10 on 127.0.0.1 for integration tests (sourced), with its
# own epmd (no global one is left running) and all state in DIR/rmq.
#   rmq_start DIR   start on free ports; sets RMQ_PID, RMQ_PORT, AMQP_URL (amqp://guest:guest@127.0.0.1:PORT)
#   rmq_stop        SIGTERM to the server and epmd (by PID) and wait
#   rmq_restart     start again (same ports, same data: durable queues and persistent messages stay)
#   rmq_count Q     messages in queue Q, ready and unacked (rabbitmqctl)
#   rmq_unacked Q   messages of Q delivered and not yet acked
# Needs free_port (tests/support/serve_lib.sh). Start takes ~8 s.
_rmq_env() {
  export HOME=$RMQ_DIR RABBITMQ_NODENAME=rabbit_$RMQ_PORT@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$RMQ_PORT RABBITMQ_DIST_PORT=$RMQ_DIST RABBITMQ_MNESIA_BASE=$RMQ_DIR/mnesia
  export RABBITMQ_LOG_BASE=$RMQ_DIR/log RABBITMQ_CONFIG_FILE=$RMQ_DIR/rabbitmq
  export RABBITMQ_ENABLED_PLUGINS_FILE=$RMQ_DIR/enabled_plugins ERL_EPMD_PORT=$RMQ_EPMD
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-start_epmd false"
}

rmq_start() {
  RMQ_DIR=$1/rmq
  mkdir -p "$RMQ_DIR/mnesia" "$RMQ_DIR/log"
  RMQ_PORT=$(free_port)
  RMQ_DIST=$(free_port)
  RMQ_EPMD=$(free_port)
  echo "[]." >"$RMQ_DIR/enabled_plugins"
  printf 'loopback_users = none\nlisteners.tcp.default = %s\n' "$RMQ_PORT" >"$RMQ_DIR/rabbitmq.conf"
  AMQP_URL="amqp://guest:guest@127.0.0.1:$RMQ_PORT"
  rmq_restart
}

rmq_restart() {
  ( exec epmd -address 127.0.0.1 -port "$RMQ_EPMD" ) >/dev/null 2>&1 &
  RMQ_EPMD_PID=$!
  ( _rmq_env; exec /usr/lib/rabbitmq/bin/rabbitmq-server ) >>"$RMQ_DIR/server.out" 2>&1 &
  RMQ_PID=$!
  for _ in $(seq 1 300); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$RMQ_PORT") 2>/dev/null && amqp-declare-queue -u "$AMQP_URL" -q sluice_probe >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$RMQ_PID" 2>/dev/null; then echo "    rabbitmq exited:"; tail -5 "$RMQ_DIR/server.out"; return 1; fi
    sleep 0.1
  done
  echo "    rabbitmq did not come up"; return 1
}

rmq_stop() {
  [ -n "${RMQ_PID:-}" ] && { kill -TERM "$RMQ_PID" 2>/dev/null; wait "$RMQ_PID" 2>/dev/null; }
  [ -n "${RMQ_EPMD_PID:-}" ] && { kill -TERM "$RMQ_EPMD_PID" 2>/dev/null; wait "$RMQ_EPMD_PID" 2>/dev/null; }
  RMQ_PID=
  RMQ_EPMD_PID=
}

rmq_count() {
  ( _rmq_env; /usr/lib/rabbitmq/bin/rabbitmqctl -q list_queues name messages 2>/dev/null ) | awk -v q="$1" '$1 == q {print $2}'
}

# rmq_unacked Q: messages of queue Q delivered to a consumer and not yet acked (rabbitmqctl)
rmq_unacked() {
  ( _rmq_env; /usr/lib/rabbitmq/bin/rabbitmqctl -q list_queues name messages_unacknowledged 2>/dev/null ) | awk -v q="$1" '$1 == q {print $2}'
}
