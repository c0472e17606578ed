#!/usr/bin/env bash
# Installs everything sluice needs to build, run and test on Debian 12: apt packages (only
# those missing, so a prepared machine skips apt entirely) and the npm Parquet readers used by
# the tests (tests/readers). Idempotent; safe to run before every build.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake pkg-config git clang libclang-rt-14-dev
  libsnappy-dev libzstd-dev liblz4-dev zlib1g-dev
  libcmocka-dev libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev
  librdkafka-dev kcat
  postgresql-15 postgresql-client-15 libpq-dev mariadb-server mariadb-client libmariadb-dev
  clickhouse-server clickhouse-client rabbitmq-server librabbitmq-dev amqp-tools
  curl prometheus jq sqlite3
  python3 python3-pandas zstd gzip bsdutils time bc
  nodejs npm
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  # nodejs/npm may come from elsewhere on a prepared machine: accept any working binary
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm readers: reinstall when package.json changes
stamp=tests/readers/node_modules/.sluice-stamp
want=$(sha256sum tests/readers/package.json | cut -c1-64)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "deps: installing npm readers (tests/readers)"
  (cd tests/readers && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" > "$stamp"
fi

# test services (tests/services: s3rver behind the SigV4-checking proxy): same stamp rule
stamp=tests/services/node_modules/.sluice-stamp
want=$(sha256sum tests/services/package.json | cut -c1-64)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "deps: installing npm test services (tests/services)"
  (cd tests/services && npm install --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" > "$stamp"
fi
