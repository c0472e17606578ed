// duckdb_encode.mjs: the same table as bench/encode_bench.c, written to Parquet by DuckDB.
//
// usage: node bench/duckdb_encode.mjs [--rows N] [--codec LIST] [--threads LIST] [--reps R]
//                                     [--dir DIR]
//        node bench/duckdb_encode.mjs --rows N --verify FILE...
//
//   --rows N       rows (default 10000000)
//   --codec LIST   comma-separated: none,snappy,zstd,lz4_raw,gzip (the default, all five)
//   --threads LIST DuckDB thread counts to time (SET threads = t), default 1,2
//   --reps R       timed runs per codec and thread count; the median is reported (default 3)
//   --dir DIR      where the Parquet files go (default $TMPDIR or /tmp); deleted after each run
//   --sluice BIN   also time sluice: run BIN (build/bench/encode_bench) --serve with the same
//                  rows and directory, and alternate sluice and DuckDB run by run (for each
//                  repetition, thread count and codec: one sluice encode, one DuckDB COPY, the
//                  order swapped every repetition), so that both meet the same load on a shared
//                  machine; also reports, per codec and thread count, the median of the per-pair
//                  speed ratios sluice / DuckDB
//   --verify FILE  no timing: checks that each FILE (written by encode_bench --keep with the same
//                  --rows) holds exactly this table, and that its statistics do not make DuckDB
//                  skip row groups that hold a value; exits 1 on any difference
//
// The table is built with SQL over range(0, N) from the formulas in encode_bench.c (see its top
// comment): splitmix64 over 5*i+k with the 64-bit wrap-around done in UHUGEINT, one subquery per
// splitmix step. It is materialized into an in-memory table before any timing; each timed run is
// `COPY bench TO 'file' (FORMAT parquet, COMPRESSION c)` with DuckDB's default writer options
// (e.g. row groups of 122880 rows). MB is the same as in encode_bench.c:
// 10^6 bytes of raw data, 53 fixed bytes a row plus the bytes of every non-null string.
//
// Timing: wall time of the COPY statement (process.hrtime), median of --reps runs, and the CPU
// time of the whole process (user + system, all DuckDB threads) over the same span.
//
// Output: human-readable lines, plus one machine-readable line per tool, codec and thread count:
//   result<TAB>duckdb-<t>t<TAB>codec<TAB>rows<TAB>raw_bytes<TAB>median_s<TAB>min_s<TAB>max_s
//         <TAB>file_bytes<TAB>median_cpu_s
// (tool sluice-<t>t with --sluice) and with --sluice one line per codec and thread count:
//   pair<TAB><t>t<TAB>codec<TAB>median<TAB>min<TAB>max   of (DuckDB seconds / sluice seconds)

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

// @duckdb/node-api is installed for the reader checks (scripts/deps.sh); use that copy.
const require = createRequire(new URL('../tests/readers/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const WORDS = [
  'pending', 'processing', 'shipped', 'delivered', 'cancelled', 'returned',
  'refunded', 'on_hold', 'backorder', 'failed', 'completed', 'in_transit',
  'awaiting', 'partial', 'disputed', 'archived', 'draft', 'scheduled',
  'expired', 'unknown',
];
const ALL_CODECS = ['none', 'snappy', 'zstd', 'lz4_raw', 'gzip'];
const DUCKDB_CODEC = { none: 'uncompressed', snappy: 'snappy', zstd: 'zstd', lz4_raw: 'lz4_raw',
  gzip: 'gzip' };

function usage() {
  console.error('usage: duckdb_encode.mjs [--rows N] [--codec LIST] [--threads LIST] [--reps R] ' +
    '[--dir DIR] [--sluice ENCODE_BENCH] | --rows N --verify FILE...');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { rows: 10_000_000, codecs: ALL_CODECS, threads: [1, 2], reps: 3,
    dir: process.env.TMPDIR || '/tmp', verify: [], sluice: null };
  for (let a = 0; a < argv.length; a++) {
    const arg = argv[a];
    const val = argv[a + 1];
    if (val === undefined) usage();
    a++;
    const posInt = (s) => {
      if (!/^[1-9][0-9]*$/.test(s)) usage();
      return Number(s);
    };
    switch (arg) {
      case '--rows': o.rows = posInt(val); break;
      case '--reps': o.reps = posInt(val); break;
      case '--dir': o.dir = val; break;
      case '--sluice': o.sluice = val; break;
      case '--threads': o.threads = val.split(',').map(posInt); break;
      case '--codec':
        o.codecs = val.split(',');
        if (!o.codecs.every((c) => c in DUCKDB_CODEC)) usage();
        break;
      case '--verify':
        o.verify.push(val);
        while (a + 1 < argv.length && !argv[a + 1].startsWith('--')) o.verify.push(argv[++a]);
        break;
      default: usage();
    }
  }
  return o;
}

// x mod 2^64 as a mask: UHUGEINT `%` is ~100x slower than `&`.
const wrap = (e) => `((${e}) & 18446744073709551615::UHUGEINT)::UBIGINT`;

// splitmix64(x) for x = 5*i + k, k = 0..4, one subquery per step (a macro would repeat its
// argument and grow the expression 8-fold).
function tableSql(n) {
  const ks = [0, 1, 2, 3, 4];
  const step = (src, f) => `SELECT i, ${ks.map((k) => `${f(`z${k}`)} AS z${k}`).join(', ')} ` +
    `FROM (${src})`;
  let q = `SELECT i, ${ks.map((k) =>
    `${wrap(`(5 * i + ${k})::UHUGEINT + 11400714819323198485::UHUGEINT`)} AS z${k}`).join(', ')} ` +
    `FROM range(0, ${n}) t(i)`;
  q = step(q, (z) => wrap(`xor(${z}, ${z} >> 30)::UHUGEINT * 13787848793156543929::UHUGEINT`));
  q = step(q, (z) => wrap(`xor(${z}, ${z} >> 27)::UHUGEINT * 10723151780598845931::UHUGEINT`));
  q = `SELECT i, ${ks.map((k) => `xor(z${k}, z${k} >> 31) AS r${k}`).join(', ')} FROM (${q})`;
  const words = `([${WORDS.map((w) => `'${w}'`).join(', ')}]::VARCHAR[])`;
  const u = (v) => `${v}::UBIGINT`;
  const tsUs = `(1577836800000000 + i * 2500000 + ((r4 >> 40) % ${u(1000000)})::BIGINT)`;
  return `
    SELECT
      i::BIGINT AS id,
      ((r0 & ${u(0xffffffff)}) % ${u(1000)})::INTEGER AS qty,
      (r2 >> 24)::BIGINT - 549755813888 AS val,
      (r1 >> 11)::DOUBLE / 9007199254740992::DOUBLE * 1000::DOUBLE AS price,
      ((r2 & ${u(0xfffff)}) % ${u(100000)})::FLOAT / 100::FLOAT AS ratio,
      ((r0 >> 32) & ${u(3)}) = 0 AS flag,
      ${words}[((r0 >> 40) % ${u(20)})::INTEGER + 1] AS status,
      'user-' || ((r3 & ${u(0xffffffff)}) % ${u(1000003)})::VARCHAR AS user_id,
      DATE '1970-01-01' + (${tsUs} // 86400000000)::INTEGER AS day,
      make_timestamp(${tsUs})::TIMESTAMPTZ AS ts,
      ((((r3 >> 32) % ${u(100000000)})::BIGINT - 20000000)::DECIMAL(12, 0)
        * 0.01::DECIMAL(3, 2))::DECIMAL(12, 2) AS amount,
      CASE WHEN (r0 >> 56) % ${u(10)} = 0 THEN NULL
           ELSE ${words}[((r4 & ${u(255)}) % ${u(20)})::INTEGER + 1] || ' ' ||
                ${words}[(((r4 >> 32) & ${u(255)}) % ${u(20)})::INTEGER + 1] || ' #' ||
                (((r4 >> 8) & ${u(0xffffff)}) % ${u(10000)})::VARCHAR
      END AS note
    FROM (${q})
    ORDER BY i`;
}

const COLUMNS = ['id', 'qty', 'val', 'price', 'ratio', 'flag', 'status', 'user_id', 'day', 'ts',
  'amount', 'note'];

async function one(conn, sql) {
  const r = await conn.runAndReadAll(sql);
  return r.getRowObjectsJson()[0];
}

// Row counts and EXCEPT ALL both ways, then for each column a few values looked up with a
// constant filter (pushed into the Parquet scan, so wrong min/max statistics would hide rows).
async function verify(conn, file, rows) {
  const f = `read_parquet('${file.replaceAll("'", "''")}')`;
  const problems = [];
  const types = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${f}`)).getRowObjectsJson();
  const want = (await conn.runAndReadAll('DESCRIBE bench')).getRowObjectsJson();
  const ts = (t) => t.map((x) => `${x.column_name} ${x.column_type}`).join(', ');
  if (ts(types) !== ts(want)) problems.push(`schema: file [${ts(types)}] table [${ts(want)}]`);
  const c = await one(conn, `SELECT (SELECT count(*) FROM ${f}) AS file_rows,
      (SELECT count(*) FROM (SELECT * FROM bench EXCEPT ALL SELECT * FROM ${f})) AS only_table,
      (SELECT count(*) FROM (SELECT * FROM ${f} EXCEPT ALL SELECT * FROM bench)) AS only_file`);
  if (Number(c.file_rows) !== rows) problems.push(`file has ${c.file_rows} rows, want ${rows}`);
  if (Number(c.only_table) || Number(c.only_file))
    problems.push(`${c.only_table} table rows missing from the file, ${c.only_file} extra rows`);
  for (const col of COLUMNS) {
    const typ = want.find((x) => x.column_name === col).column_type;
    const picks = await conn.runAndReadAll(`SELECT DISTINCT v FROM (
        SELECT min(${col})::VARCHAR AS v FROM bench UNION ALL
        SELECT max(${col})::VARCHAR FROM bench UNION ALL
        SELECT ${col}::VARCHAR FROM bench WHERE id IN (${Math.floor(rows / 2)}, ${rows - 1}))
        WHERE v IS NOT NULL`);
    for (const { v } of picks.getRowObjectsJson()) {
      const lit = `CAST('${v.replaceAll("'", "''")}' AS ${typ})`;
      const r = await one(conn, `SELECT
          (SELECT count(*) FROM bench WHERE ${col} = ${lit}) AS t,
          (SELECT count(*) FROM ${f} WHERE ${col} = ${lit}) AS p`);
      if (r.t !== r.p) problems.push(`${col} = ${v}: table has ${r.t} rows, file ${r.p}`);
    }
  }
  for (const p of problems) console.log(`  MISMATCH ${file}: ${p}`);
  console.log(`verify ${file}: ${problems.length ? 'FAILED' : 'ok'} (${rows} rows, 12 columns)`);
  return problems.length === 0;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const o = parseArgs(process.argv.slice(2));

// sluice's side, when interleaving: encode_bench --serve builds its table while DuckDB builds
// its own, then answers one timed encode per request line.
let sluice = null;
if (o.sluice && !o.verify.length) {
  const child = spawn(o.sluice, ['--serve', '--rows', String(o.rows), '--dir', o.dir],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('encode_bench --serve exited early');
    return value;
  };
  sluice = {
    child,
    nextLine,
    // the header lines up to "ready"
    async ready() {
      const head = [];
      for (let l = await nextLine(); l !== 'ready'; l = await nextLine()) head.push(l);
      return head;
    },
    async run(codec, threads) {
      child.stdin.write(`${codec} ${threads}\n`);
      const f = (await nextLine()).split('\t');
      if (f[0] !== 'run') throw new Error(`encode_bench: unexpected answer ${f.join(' ')}`);
      return { secs: Number(f[5]), cpu: Number(f[6]), bytes: Number(f[7]) };
    },
  };
}

// No extension may be fetched: the machine has no network besides registries.
const instance = await DuckDBInstance.create(':memory:', {
  autoinstall_known_extensions: 'false',
  autoload_known_extensions: 'false',
});
const conn = await instance.connect();
await conn.run("SET TimeZone = 'UTC'");
const version = (await one(conn, 'SELECT version() AS v')).v;

const tb = process.hrtime.bigint();
await conn.run(`CREATE TABLE bench AS ${tableSql(o.rows)}`);
const genS = Number(process.hrtime.bigint() - tb) / 1e9;
const raw = BigInt((await one(conn, `SELECT 53 * count(*) + sum(strlen(status) + strlen(user_id)
    + coalesce(strlen(note), 0)) AS raw FROM bench`)).raw);

if (o.verify.length) {
  console.log(`raw in-memory size: ${raw} bytes`);
  let ok = true;
  for (const file of o.verify) ok = (await verify(conn, file, o.rows)) && ok;
  process.exit(ok ? 0 : 1);
}

const rssTable = process.resourceUsage().maxRSS;
if (sluice) for (const l of await sluice.ready()) console.log(l);
console.log(`DuckDB ${version} (@duckdb/node-api): ${o.rows} rows x 12 columns ` +
  `(built in ${genS.toFixed(1)} s, not timed)`);
console.log(`raw in-memory size: ${raw} bytes = ${(Number(raw) / 1e6).toFixed(1)} MB ` +
  '(MB = 10^6 bytes)');
console.log(`writer: COPY TO (FORMAT parquet) with default options; output: files in ${o.dir}`);
console.log(`peak RSS after building the table: ${(rssTable / 1024).toFixed(0)} MiB`);

async function duckRun(codec, threads) {
  const file = join(o.dir, `duckdb_${threads}t_${codec}.parquet`);
  await conn.run(`SET threads = ${threads}`);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await conn.run(`COPY bench TO '${file}' (FORMAT parquet, COMPRESSION '${DUCKDB_CODEC[codec]}')`);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const c1 = process.cpuUsage(c0);
  const bytes = statSync(file).size;
  unlinkSync(file);
  return { secs, cpu: (c1.user + c1.system) / 1e6, bytes };
}

// samples[tool][codec] = [{secs, cpu, bytes}], ratios[threads][codec] = [duckdb s / sluice s]
const samples = {};
const ratios = {};
const add = (tool, codec, x) => ((samples[tool] ??= {})[codec] ??= []).push(x);
if (sluice) console.log('runs, interleaved (s):');
for (let r = 0; r < o.reps; r++) {
  for (const threads of o.threads) {
    for (const codec of o.codecs) {
      let d, sl;
      if (!sluice) {
        d = await duckRun(codec, threads);
      } else if (r % 2 === 0) {
        sl = await sluice.run(codec, threads);
        d = await duckRun(codec, threads);
      } else {
        d = await duckRun(codec, threads);
        sl = await sluice.run(codec, threads);
      }
      add(`duckdb-${threads}t`, codec, d);
      if (sl) {
        add(`sluice-${threads}t`, codec, sl);
        ((ratios[threads] ??= {})[codec] ??= []).push(d.secs / sl.secs);
        console.log(`  rep ${r + 1}/${o.reps} ${threads}t ${codec.padEnd(7)} ` +
          `sluice ${sl.secs.toFixed(2)}  DuckDB ${d.secs.toFixed(2)}`);
      }
    }
  }
}

console.log(`${'tool'.padEnd(10)} ${'codec'.padEnd(8)} ${'rows/s'.padStart(10)} ` +
  `${'MB/s'.padStart(9)} ${'MB/cpu-s'.padStart(9)} ${'file bytes'.padStart(12)} ` +
  `${'ratio'.padStart(7)}  runs (s)`);
const out = [];
for (const threads of o.threads) {
  for (const tool of [...(sluice ? ['sluice'] : []), 'duckdb']) {
    const name = `${tool}-${threads}t`;
    for (const codec of o.codecs) {
      const xs = samples[name][codec];
      const secs = xs.map((x) => x.secs);
      const med = median(secs);
      const medCpu = median(xs.map((x) => x.cpu));
      const bytes = xs[xs.length - 1].bytes;
      console.log(`${name.padEnd(10)} ${codec.padEnd(8)} ${(o.rows / med).toFixed(0).padStart(10)} ` +
        `${(Number(raw) / 1e6 / med).toFixed(1).padStart(9)} ` +
        `${(Number(raw) / 1e6 / medCpu).toFixed(1).padStart(9)} ` +
        `${String(bytes).padStart(12)} ${(Number(raw) / bytes).toFixed(2).padStart(7)}  ` +
        `${secs.map((x) => x.toFixed(2)).join(' ')}`);
      out.push(['result', name, codec, o.rows, raw, med.toFixed(6), Math.min(...secs).toFixed(6),
        Math.max(...secs).toFixed(6), bytes, medCpu.toFixed(6)].join('\t'));
    }
  }
  if (sluice)
    for (const codec of o.codecs) {
      const q = ratios[threads][codec];
      out.push(['pair', `${threads}t`, codec, median(q).toFixed(4), Math.min(...q).toFixed(4),
        Math.max(...q).toFixed(4)].join('\t'));
    }
}
for (const l of out) console.log(l);
if (sluice) {
  sluice.child.stdin.end();
  for (;;) {
    const { value, done } = await sluice.nextLine().then((v) => ({ value: v }),
      () => ({ done: true }));
    if (done) break;
    console.log(`sluice: ${value}`);
  }
}
console.log(`DuckDB: peak RSS at the end: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
conn.closeSync();
instance.closeSync();
