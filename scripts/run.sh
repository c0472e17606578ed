#!/usr/bin/env bash
# make run: the embedded default. The HTTP service (issue 5) and `sluice convert` (issue 4) do
# not exist yet, so this writes the sample round-trip corpus to ./data/out with the Parquet
# writer and shows what `sluice inspect` reads back from one file.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "sluice: the server is not built yet; writing sample Parquet files to ./data/out instead"
mkdir -p data/out
build/release/pq_gen data/out
build/release/sluice inspect data/out/types_snappy.parquet
