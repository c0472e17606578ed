// parquet_read_peers.mjs: how fast DuckDB or Polars read a whole Parquet file, for
// bench/parquet_read.sh. usage: node bench/parquet_read_peers.mjs duckdb|polars FILE THREADS REPS
// DuckDB: one aggregate touching every column (sum of numbers, total string length, count of
// the rest); Polars: readParquet (eager, every column decoded) then null counts. Prints
// "rows best_seconds" (best of REPS, timed inside the process: startup excluded).
// Polars' thread count comes from POLARS_MAX_THREADS, set by the caller.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tests/readers/package.json'));
const [tool, file, threads, reps] = process.argv.slice(2);
let best = Infinity, rows = 0;
if (tool === 'duckdb') {
  const { DuckDBInstance } = require('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await inst.connect();
  const cols = (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjectsJson();
  const agg = cols.map((c, i) => {
    const n = `"${c.column_name}"`;
    if (/INT|DOUBLE|FLOAT|DECIMAL/.test(c.column_type)) return `sum(${n}) AS a${i}`;
    if (/VARCHAR|BLOB/.test(c.column_type)) return `sum(octet_length(${n}::BLOB)) AS a${i}`;
    return `count(${n}) AS a${i}`;
  });
  for (let r = 0; r < Number(reps); r++) {
    const t0 = performance.now();
    const res = await con.runAndReadAll(`SELECT count(*)::BIGINT AS n, ${agg.join(', ')} FROM read_parquet('${file}')`);
    const t = (performance.now() - t0) / 1000;
    rows = Number(res.getRowObjectsJson()[0].n);
    best = Math.min(best, t);
  }
} else {
  const pl = require('nodejs-polars');
  for (let r = 0; r < Number(reps); r++) {
    const t0 = performance.now();
    const df = pl.readParquet(file);
    df.nullCount();
    const t = (performance.now() - t0) / 1000;
    rows = df.height;
    best = Math.min(best, t);
  }
}
console.log(`${rows} ${best.toFixed(3)}`);
