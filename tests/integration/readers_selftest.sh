#!/usr/bin/env bash
# The reader harness checks itself: files written by DuckDB and parquet-rs with hand-written
# expected values must pass every reader, and each corrupted expectation must fail.
set -euo pipefail
: "${SL_SRC:?set by ctest}"
cd "$SL_SRC/tests/readers"
node selftest.mjs
