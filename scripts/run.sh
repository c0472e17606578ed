#!/usr/bin/env bash
# make run: the embedded default: `sluice serve` on 127.0.0.1:8080 with its data under ./data
# (WAL in ./data/wal, Parquet files in ./data/out). No external service. Settings come from the
# environment (see `sluice serve --help`), e.g. `SLUICE_LISTEN=0.0.0.0:8080 make run`.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data
cat >&2 <<'MSG'
sluice: serving on http://127.0.0.1:8080 (data in ./data); try
  curl -H 'Content-Type: text/csv' --data-binary @samples/events.csv http://127.0.0.1:8080/ingest
Parquet files appear in ./data/out/default/dt=YYYY-MM-DD/ within SLUICE_FLUSH_INTERVAL (10 s).
Ctrl-C stops it cleanly (flushes first).
MSG
exec build/release/sluice serve --data-dir ./data "$@"
