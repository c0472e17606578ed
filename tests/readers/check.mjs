#!/usr/bin/env node
// Independent-reader check: read a Parquet file with several independent
// readers and compare what each one sees (row count, column names and order,
// column types as that reader names them, every value) with EXPECTED.json.
//
//   node check.mjs EXPECTED.json FILE.parquet [--readers duckdb,polars,arrow,hyparquet,pandas] [--json]
//   node check.mjs --batch LIST.txt            [--readers ...] [--json] [--jobs N]
//
// LIST.txt: one "EXPECTED.json FILE.parquet" pair per line (whitespace
// separated, paths relative to LIST.txt's directory; blank lines and lines
// starting with # are ignored).  Batch mode starts node and the readers once
// (once per worker thread with --jobs N; default 1).
//
// Exit status: 0 all checks passed, 1 some check failed, 2 usage error.
// See README.md for the canonical value forms and the type mapping table.

import fs from 'node:fs';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadExpected, ExpectedError } from './lib/expected.mjs';
import { compareResult } from './lib/compare.mjs';
import { probePandas } from './lib/readers/pandas.mjs';

const ALL_READERS = ['duckdb', 'polars', 'arrow', 'hyparquet', 'pandas'];
const OPENERS = {
  duckdb: async () => (await import('./lib/readers/duckdb.mjs')).openDuckDB(),
  polars: async () => (await import('./lib/readers/polars.mjs')).openPolars(),
  arrow: async () => (await import('./lib/readers/arrow.mjs')).openArrow(),
  hyparquet: async () => (await import('./lib/readers/hyparquet.mjs')).openHyparquet(),
  pandas: async () => (await import('./lib/readers/pandas.mjs')).openPandas(),
};

const USAGE = `usage: node check.mjs EXPECTED.json FILE.parquet [--readers LIST] [--json]
       node check.mjs --batch LIST.txt [--readers LIST] [--json] [--jobs N]
readers: ${ALL_READERS.join(',')} (default: all)
--jobs N: files checked in parallel by N worker threads (default 1)`;

function usage(msg) {
  if (msg) console.error(`check.mjs: ${msg}`);
  console.error(USAGE);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { readers: ALL_READERS, json: false, batch: null, jobs: null, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--batch') opts.batch = argv[++i] ?? usage('--batch needs a file');
    else if (a === '--jobs') {
      opts.jobs = Number(argv[++i]);
      if (!Number.isInteger(opts.jobs) || opts.jobs < 1) usage('--jobs needs a positive integer');
    } else if (a === '--readers') opts.readers = (argv[++i] ?? usage('--readers needs a list')).split(',').filter(Boolean);
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else opts.positional.push(a);
  }
  for (const r of opts.readers) if (!ALL_READERS.includes(r)) usage(`unknown reader ${r}`);
  if (opts.batch ? opts.positional.length !== 0 : opts.positional.length !== 2) usage();
  return opts;
}

/** The [{expected, file}] jobs of a run. */
function jobsFrom(opts) {
  if (!opts.batch) return [{ expected: opts.positional[0], file: opts.positional[1] }];
  let text;
  try {
    text = fs.readFileSync(opts.batch, 'utf8');
  } catch (e) {
    usage(`cannot read ${opts.batch}: ${e.message}`);
  }
  const dir = path.dirname(opts.batch);
  const jobs = [];
  text.split('\n').forEach((line, n) => {
    line = line.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) usage(`${opts.batch}:${n + 1}: expected "EXPECTED.json FILE.parquet"`);
    jobs.push({ expected: path.resolve(dir, parts[0]), file: path.resolve(dir, parts[1]), shown: parts[1] });
  });
  if (jobs.length === 0) usage(`${opts.batch}: no files listed`);
  return jobs;
}

// ---------------------------------------------------------------------------
// Output.  Text mode prints as it goes; --json collects and prints at the end.

// "ok   duckdb   FILE ...": status in 5 columns, reader name in 9 (hyparquet
// being 9 letters long gets one space).
const INDENT = ' '.repeat(14);
const line = (status, reader, text) => `${status.padEnd(5)}${`${reader} `.padEnd(9)}${text}`;

function printReaderResult(file, r) {
  if (r.ok) {
    console.log(line('ok', r.reader, `${file} (${r.rows} rows, ${r.columns} columns)`));
  } else {
    const count = `${r.mismatches} mismatch${r.mismatches === 1 ? '' : 'es'}`;
    console.log(line('FAIL', r.reader, `${file}: ${count}: ${r.messages[0]}`));
    for (const m of r.messages.slice(1)) console.log(`${INDENT}${m}`);
    if (r.mismatches > r.messages.length) console.log(`${INDENT}(${r.mismatches - r.messages.length} more not shown)`);
  }
  for (const n of r.notes) console.log(line('note', r.reader, `${file}: ${n}`));
}

// ---------------------------------------------------------------------------
// Checking.  Used directly (one file, or --jobs 1) or inside worker threads.

/** Open each reader once; a reader that cannot even load fails every file. */
async function openReaders(names) {
  const readers = [];
  for (const name of ALL_READERS.filter((r) => names.includes(r))) {
    try {
      readers.push(await OPENERS[name]());
    } catch (e) {
      readers.push({ name, loadError: e.message, close() {} });
    }
  }
  return readers;
}

/** Check one file with every reader: { expected, file, shown, error, errorKind, readers: [result] }. */
async function checkFile(readers, job) {
  const fileResult = { expected: job.expected, file: job.file, shown: job.shown ?? job.file, error: null, errorKind: null, readers: [] };
  let expected;
  try {
    if (!fs.existsSync(job.file)) throw new Error(`${job.file}: no such file`);
    expected = loadExpected(job.expected);
  } catch (e) {
    fileResult.error = e instanceof ExpectedError ? `${job.expected}: ${e.message}` : e.message;
    fileResult.errorKind = e instanceof ExpectedError ? 'expected' : 'file';
    return fileResult;
  }
  for (const reader of readers) {
    const r = { reader: reader.name, ok: false, rows: null, columns: null, mismatches: 0, messages: [], notes: [] };
    try {
      if (reader.loadError) throw new Error(`cannot load reader: ${reader.loadError}`);
      const result = await reader.read(job.file, expected);
      const cmp = compareResult(reader.name, expected, result);
      Object.assign(r, {
        ok: cmp.mismatches === 0,
        rows: result.numRows,
        columns: result.columns.length,
        mismatches: cmp.mismatches,
        messages: cmp.messages,
        notes: cmp.notes,
      });
    } catch (e) {
      r.mismatches = 1;
      r.messages = [`reader error: ${e.message ?? e}`];
    }
    fileResult.readers.push(r);
  }
  return fileResult;
}

/**
 * Check all jobs; calls onResult(index, fileResult) as results arrive.
 * With more than one worker, each worker thread opens its own readers and
 * takes the next file from the queue (files are independent; results are
 * printed in list order by the caller).
 */
async function checkAll(jobs, readerNames, workers, onResult) {
  if (workers <= 1) {
    const readers = await openReaders(readerNames);
    try {
      for (let i = 0; i < jobs.length; i++) onResult(i, await checkFile(readers, jobs[i]));
    } finally {
      for (const reader of readers) reader.close();
    }
    return;
  }
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, () => new Promise((resolve, reject) => {
      const w = new Worker(new URL(import.meta.url), { workerData: { readerNames } });
      const feed = () => {
        if (next < jobs.length) w.postMessage({ index: next, job: jobs[next++] });
        else w.postMessage(null); // no more work: the worker closes its readers and exits
      };
      w.on('message', (m) => {
        if (m.ready) return feed();
        onResult(m.index, m.fileResult);
        feed();
      });
      w.on('error', reject);
      w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with status ${code}`))));
    })),
  );
}

/** Worker thread: open the readers, then check files as the main thread sends them. */
async function workerMain() {
  const readers = await openReaders(workerData.readerNames);
  parentPort.on('message', async (m) => {
    if (m === null) {
      for (const reader of readers) reader.close();
      parentPort.close();
      return;
    }
    parentPort.postMessage({ index: m.index, fileResult: await checkFile(readers, m.job) });
  });
  parentPort.postMessage({ ready: true });
}

// ---------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const jobs = jobsFrom(opts);
  const summary = { ok: true, passed: 0, failed: 0, files: [], pandas: null };

  // pandas: probe once per run.
  let wanted = opts.readers;
  if (wanted.includes('pandas')) {
    const p = probePandas();
    summary.pandas = p.available ? { checked: true, version: p.version, engine: p.engine } : { checked: false, note: p.note };
    if (!p.available) wanted = wanted.filter((r) => r !== 'pandas');
  }

  // Results may arrive out of order from workers; report them in list order.
  const results = new Array(jobs.length);
  let printed = 0;
  const report = (fileResult) => {
    summary.files.push(fileResult);
    if (fileResult.error) {
      summary.failed++;
      summary.ok = false;
      if (!opts.json) console.log(line('FAIL', fileResult.errorKind, `${fileResult.shown}: ${fileResult.error}`));
      return;
    }
    for (const r of fileResult.readers) {
      if (r.ok) summary.passed++;
      else {
        summary.failed++;
        summary.ok = false;
      }
      if (!opts.json) printReaderResult(fileResult.shown, r);
    }
  };
  // One worker by default: on our 2-core machines DuckDB and polars already use
  // both cores, and a second thread (with its own readers) was measured slower.
  const workers = Math.max(1, Math.min(opts.jobs ?? 1, jobs.length));
  await checkAll(jobs, wanted, workers, (i, fileResult) => {
    results[i] = fileResult;
    while (printed < jobs.length && results[printed]) report(results[printed++]);
  });

  if (opts.json) {
    console.log(JSON.stringify(summary, null, 2));
  } else {
    if (summary.pandas && !summary.pandas.checked) console.log(line('note', 'pandas', summary.pandas.note));
    console.log(`readers: ${summary.passed} passed, ${summary.failed} failed`);
  }
  process.exitCode = summary.ok ? 0 : 1;
}

if (isMainThread) await main();
else await workerMain();
