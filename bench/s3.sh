#!/usr/bin/env bash
# Upload throughput of sluice's S3 client (tests/tools/sl_s3 = src/sink/s3) against `curl` PUT of
# the same bytes, in one run, to a local s3rver: through the SigV4-verifying proxy (what the tests
# use) and directly. sluice is measured as a single PUT (like curl) and as a multipart upload
# (16 MiB parts, 4 at a time). Each figure is the best of REPS runs.
#   bench/s3.sh [SIZE_MIB=256] [REPS=3]      (needs `make build` and scripts/deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-256}
REPS=${2:-3}
BIN=${SL_BIN:-build/release}
T=$(mktemp -d)
S3PROXY_PID=
S3RVER_PID=
. tests/services/s3_lib.sh
trap 's3_stop; rm -rf "$T"' EXIT
s3_start "$T" bench >/dev/null
head -c $((SIZE << 20)) /dev/urandom >"$T/obj"
bytes=$((SIZE << 20))

best() { sort -g | head -1; }
sl_put() { # endpoint extra-env...
  local ep=$1
  shift
  for i in $(seq 1 "$REPS"); do
    env S3_ENDPOINT="$ep" "$@" "$BIN/sl_s3" put "$T/obj" "sl/obj$i" | sed -E 's/.*"seconds":([0-9.]+).*/\1/'
  done | best
}
curl_put() {
  local ep=$1
  for i in $(seq 1 "$REPS"); do
    curl -s -o /dev/null -w '%{time_total}\n' -T "$T/obj" --aws-sigv4 "aws:amz:us-east-1:s3" \
      --user S3RVER:S3RVER -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -H 'Expect:' "$ep/$S3_BUCKET/curl/obj$i"
  done | best
}
mbps() { awk -v b="$bytes" -v s="$1" 'BEGIN {printf "%.1f", b / s / 1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b / a}'; }

echo "s3 upload benchmark: $SIZE MiB random bytes, best of $REPS, $(nproc) cores"
printf '%-44s %10s %10s %8s\n' "path" "seconds" "MB/s" "vs curl"
for target in proxy direct; do
  ep=$S3_ENDPOINT
  [ "$target" = direct ] && ep=$S3_RAW_ENDPOINT
  c=$(curl_put "$ep")
  s1=$(sl_put "$ep" SLUICE_S3_MULTIPART_THRESHOLD=$((bytes + 1)))
  sm=$(sl_put "$ep")
  printf '%-44s %10.3f %10s %8s\n' "curl PUT ($target)" "$c" "$(mbps "$c")" "1.00"
  printf '%-44s %10.3f %10s %8s\n' "sluice single PUT + MD5/SHA-256 ($target)" "$s1" "$(mbps "$s1")" "$(ratio "$c" "$s1" | awk '{printf "%.2f", 1/$1}')"
  printf '%-44s %10.3f %10s %8s\n' "sluice multipart 16M x4 ($target)" "$sm" "$(mbps "$sm")" "$(ratio "$c" "$sm" | awk '{printf "%.2f", 1/$1}')"
done
