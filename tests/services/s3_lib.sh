# s3_lib.sh: an S3-compatible server for tests and benchmarks (sourced, not run): npm s3rver
# (path-style, one bucket) on 127.0.0.1, behind tests/services/sigv4_proxy.mjs, which checks
# every SigV4 signature (s3rver does not), adds ListMultipartUploads/AbortMultipartUpload and
# injects faults on request. Both run on free ports and are stopped by PID.
#
#   s3_start DIR [BUCKET]   data in DIR/s3rver; sets S3_ENDPOINT (the proxy), S3_RAW_ENDPOINT
#                           (s3rver itself), S3_BUCKET, AWS_* (S3RVER/S3RVER), S3_DATA
#   s3_stop                 stops both (SIGTERM, wait)
#   s3_restart              starts both again on the same ports with the same data
#   s3_ctl PATH             control request to the proxy, e.g. s3_ctl 'fault?op=part&count=2'
#   s3_object_path KEY      where s3rver keeps the bytes of KEY
# Needs node and tests/services/node_modules (scripts/deps.sh installs them).

_S3_SVC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

_s3_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

_s3_launch() {
  node "$_S3_SVC_DIR/node_modules/s3rver/bin/s3rver.js" -d "$S3_DATA" -a 127.0.0.1 -p "$S3_RAW_PORT" \
    --no-vhost-buckets --service-endpoint localhost --configure-bucket "$S3_BUCKET" --silent >>"$S3_LOG" 2>&1 &
  S3RVER_PID=$!
  node "$_S3_SVC_DIR/sigv4_proxy.mjs" --port "$S3_PROXY_PORT" --upstream "$S3_RAW_PORT" \
    --s3rver-dir "$S3_DATA" --access-key S3RVER --secret S3RVER --region us-east-1 >>"$S3_LOG" 2>&1 &
  S3PROXY_PID=$!
  local i
  for i in $(seq 1 150); do
    if curl -s -o /dev/null "http://127.0.0.1:$S3_RAW_PORT/" && curl -s -o /dev/null "http://127.0.0.1:$S3_PROXY_PORT/__sluice/log"; then
      return 0
    fi
    sleep 0.1
  done
  echo "s3_lib: s3rver or the proxy did not come up; log:" >&2
  tail -20 "$S3_LOG" >&2
  return 1
}

s3_start() {
  local dir=$1
  S3_BUCKET=${2:-sluice-test}
  S3_DATA=$dir/s3rver
  S3_LOG=$dir/s3.log
  mkdir -p "$S3_DATA"
  S3_RAW_PORT=$(_s3_free_port)
  S3_PROXY_PORT=$(_s3_free_port)
  export S3_ENDPOINT="http://127.0.0.1:$S3_PROXY_PORT" S3_BUCKET
  export S3_RAW_ENDPOINT="http://127.0.0.1:$S3_RAW_PORT"
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER S3_REGION=us-east-1 S3_PATH_STYLE=true
  _s3_launch
}

s3_stop() {
  local p
  for p in ${S3PROXY_PID:-} ${S3RVER_PID:-}; do
    kill -TERM "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  S3PROXY_PID=
  S3RVER_PID=
}

s3_restart() {
  _s3_launch
}

s3_ctl() {
  curl -s -X POST "http://127.0.0.1:$S3_PROXY_PORT/__sluice/$1"
}

s3_log() {
  curl -s "http://127.0.0.1:$S3_PROXY_PORT/__sluice/log"
}

# s3rver keeps an object KEY of bucket B as DATA/B/KEY._S3rver_object
s3_object_path() {
  echo "$S3_DATA/$S3_BUCKET/$1._S3rver_object"
}
