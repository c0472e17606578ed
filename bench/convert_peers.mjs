// convert_peers.mjs: one peer conversion of the benchmark table, CSV or JSONL -> Parquet
// (SNAPPY), as its own process so /usr/bin/time measures its wall time and peak RSS.
// usage: node convert_peers.mjs duckdb|polars csv|jsonl IN OUT THREADS
// Both engines infer types the way their users would run them (no schema given), and both
// write with their defaults apart from the codec. Prints the row count it wrote.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../tests/readers/package.json'));
const [engine, fmt, input, output, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg || 1);
if (!engine || !fmt || !input || !output) {
  console.error('usage: node convert_peers.mjs duckdb|polars csv|jsonl IN OUT THREADS');
  process.exit(2);
}

if (engine === 'duckdb') {
  const { DuckDBInstance } = require('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await inst.connect();
  const src = fmt === 'csv' ? `read_csv('${input}', header=true)`
    : `read_json('${input}', format='newline_delimited')`;
  await con.run(`COPY (SELECT * FROM ${src}) TO '${output}' (FORMAT parquet, COMPRESSION snappy)`);
  const r = await con.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${output}')`);
  console.log(`rows ${r.getRowObjectsJson()[0].n}`);
} else if (engine === 'polars') {
  // POLARS_MAX_THREADS must be set before polars loads (convert.sh sets it)
  const pl = require('nodejs-polars');
  const lf = fmt === 'csv' ? pl.scanCSV(input) : pl.scanJson(input);
  lf.sinkParquet(output, { compression: 'snappy' }).collectSync();
  const n = pl.scanParquet(output).select(pl.len()).collectSync().getColumn('len')[0];
  console.log(`rows ${n}`);
} else {
  console.error(`unknown engine ${engine}`);
  process.exit(2);
}
