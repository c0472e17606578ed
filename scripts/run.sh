#!/usr/bin/env bash
# make run: the embedded default. The HTTP service (issue 5) does not exist yet, so this
# converts the bundled sample with `sluice convert` into ./data/out and shows what
# `sluice inspect` reads back.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "sluice: the HTTP server is not built yet; converting samples/events.csv to ./data/out instead"
mkdir -p data/out
build/release/sluice convert samples/events.csv data/out/events.parquet
build/release/sluice inspect data/out/events.parquet
