#!/usr/bin/env bash
# Disk full under sluice serve: the data directory on a small tmpfs. Requests that cannot be
# logged get 507 with a JSON error (nothing acknowledged that is not durable), the server keeps
# running and answering, and once space is back every acknowledged row is delivered.
# Needs mount (root); without it the test says so and passes as skipped.
set -uo pipefail
: "${SL_BIN:?set by ctest}" "${SL_SRC:?set by ctest}"
SLUICE="$SL_BIN/sluice"
T=$(mktemp -d)
SPID=
M=$T/mnt
mkdir -p "$M"
cleanup() {
  [ -n "$SPID" ] && kill -KILL "$SPID" 2>/dev/null
  mountpoint -q "$M" && umount "$M"
  rm -rf "$T"
}
trap cleanup EXIT
. "$SL_SRC/tests/support/check_lib.sh"
. "$SL_SRC/tests/support/serve_lib.sh"

if ! mount -t tmpfs -o size=6m tmpfs "$M" 2>"$T/mount.err"; then
  echo "# SKIP: cannot mount a tmpfs here ($(cat "$T/mount.err")); disk-full behaviour not tested"
  exit 0
fi
D=$M/data
mkdir -p "$D"
start_server "$D" --flush-interval 3600 --chunk-bytes 64K --wal-segment-bytes 1M || exit 1
seq 1 100000 | sed '1i id' >"$T/body.csv" # ~590 KB
acked=0
codes=""
for i in $(seq 1 20); do
  c=$(curl -s -o "$T/resp" -w '%{http_code}' -H 'Content-Type: text/csv' --data-binary @"$T/body.csv" "$URL/ingest")
  codes="$codes $c"
  [ "$c" = 200 ] && acked=$((acked + 1))
  [ "$c" = 507 ] && break
done
check "disk full -> 507 (codes:$codes)" grep -q '"code":"disk_full"' "$T/resp"
check "some requests were acknowledged before ($acked)" [ "$acked" -gt 0 ]
check "server still answers" eq "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" 200
kill9_server
# more space, restart: every acknowledged row is delivered, the refused ones are not
mount -o remount,size=64m "$M"
start_server "$D" --flush-interval 0.2 || exit 1
stop_server
rows=$(parquet_rows "$D")
check "all acknowledged rows delivered after space came back ($rows)" eq "$rows" $((acked * 100000))
echo "# $n checks, $fails failed"
[ "$fails" -eq 0 ]
