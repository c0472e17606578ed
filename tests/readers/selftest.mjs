#!/usr/bin/env node
// Self-test of the independent-reader check harness (check.mjs).
//
// Our C writer is not what is under test here: the harness is.  So files are
// written by trusted writers and checked against EXPECTED.json files made
// independently of the harness:
//
//   A  DuckDB (COPY ... FORMAT parquet, COMPRESSION zstd): every column type,
//      a few rows of edge values, with SQL literals and expected canonical
//      values written by hand side by side below.
//   B  parquet-rs (parquet-wasm): seeded random data (all float bit patterns,
//      full-range integers and timestamps, UTC ms/ns timestamps that DuckDB
//      cannot write, REQUIRED columns, decimals stored as INT32 / INT64 /
//      FIXED_LEN_BYTE_ARRAY(9 and 16)), several row groups and pages, in
//      several compression / encoding variants.  Expected values come
//      straight from the generated data.
//
// Then it asserts that check.mjs passes on them, and FAILS on expected files
// corrupted in one value, one type, the nullability, the row count, the
// column names or order, and on a malformed EXPECTED.json.
//
//   node selftest.mjs            correctness (about 20 s)
//   node selftest.mjs --perf     also time a 40-file x 100k-row x 17-column batch
//   node selftest.mjs --keep     keep the generated files (path printed)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import * as pw from 'parquet-wasm';
import * as arrow from 'apache-arrow';
import { probePandas, PANDAS_NO_ENGINE_NOTE } from './lib/readers/pandas.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHECK = path.join(HERE, 'check.mjs');
const READERS = ['duckdb', 'polars', 'arrow', 'hyparquet'];
const PERF = process.argv.includes('--perf');
const KEEP = process.argv.includes('--keep');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-readers-selftest-'));

let passed = 0;
let failed = 0;
function assert(cond, what, detail) {
  if (cond) {
    passed++;
    console.log(`ok   ${what}`);
  } else {
    failed++;
    console.log(`FAIL ${what}`);
    if (detail) console.log(`     ${String(detail).split('\n').join('\n     ')}`);
  }
}

const writeJson = (file, doc) => fs.writeFileSync(file, JSON.stringify(doc));
const clone = (doc) => JSON.parse(JSON.stringify(doc));

/** Run check.mjs; returns { status, stdout, stderr, json (with --json) }. */
function runCheck(args) {
  const r = spawnSync(process.execPath, [CHECK, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  let json = null;
  if (args.includes('--json')) {
    try {
      json = JSON.parse(r.stdout);
    } catch {
      /* reported by the caller */
    }
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

// ===========================================================================
// File A: DuckDB, hand-written.
// ===========================================================================

// [name, DuckDB type, EXPECTED.json column]
const A_COLUMNS = [
  ['c_bool', 'BOOLEAN', { type: 'bool' }],
  ['c_i32', 'INTEGER', { type: 'int32' }],
  ['c_i64', 'BIGINT', { type: 'int64' }],
  ['c_f32', 'FLOAT', { type: 'float' }],
  ['c_f64', 'DOUBLE', { type: 'double' }],
  ['c_str', 'VARCHAR', { type: 'string' }],
  ['c_bin', 'BLOB', { type: 'binary' }],
  ['c_json', 'JSON', { type: 'json' }],
  ['c_date', 'DATE', { type: 'date' }],
  ['c_ts_ms', 'TIMESTAMP_MS', { type: 'timestamp', unit: 'ms', utc: false }],
  ['c_ts_us', 'TIMESTAMP', { type: 'timestamp', unit: 'us', utc: false }],
  ['c_ts_ns', 'TIMESTAMP_NS', { type: 'timestamp', unit: 'ns', utc: false }],
  ['c_tstz', 'TIMESTAMPTZ', { type: 'timestamp', unit: 'us', utc: true }],
  ['c_d4', 'DECIMAL(4,2)', { type: 'decimal', precision: 4, scale: 2 }],
  ['c_d9', 'DECIMAL(9,0)', { type: 'decimal', precision: 9, scale: 0 }],
  ['c_d18', 'DECIMAL(18,3)', { type: 'decimal', precision: 18, scale: 3 }],
  ['c_d38', 'DECIMAL(38,10)', { type: 'decimal', precision: 38, scale: 10 }],
];

/** SQL string literal. */
const q = (s) => `'${s.replaceAll("'", "''")}'`;

// One row per array, one [SQL expression, expected canonical value] per column,
// in A_COLUMNS order.  Epoch counts were computed independently (Python
// datetime), float bits from IEEE-754 tables.
const A_ROWS = [
  // zeros and empties
  [['false', false], ['0', '0'], ['0', '0'], [q('0'), 'f32:00000000'], [q('0'), 'f64:0000000000000000'],
    [q(''), ''], ["from_hex('')", ''], [q('{}'), '{}'], [q('1970-01-01'), '0'],
    [q('1970-01-01 00:00:00'), '0'], [q('1970-01-01 00:00:00'), '0'], [q('1970-01-01 00:00:00'), '0'], [q('1970-01-01 00:00:00+00'), '0'],
    [q('0'), '0.00'], [q('0'), '0'], [q('0'), '0.000'], [q('0'), '0.0000000000']],
  // minimums, negative zero, just before the epoch
  [['true', true], ['-2147483648', '-2147483648'], [q('-9223372036854775808'), '-9223372036854775808'],
    [q('-0.0'), 'f32:80000000'], [q('-0.0'), 'f64:8000000000000000'],
    [q('héllo wörld 😀 — ✓ e\u0301'), 'héllo wörld 😀 — ✓ e\u0301'], ["from_hex('00ff10')", '00ff10'],
    [q('{"a": [1, 2.50], "ü": null}'), '{"a": [1, 2.50], "ü": null}'], [q('0001-01-01'), '-719162'],
    [q('1969-12-31 23:59:59.999'), '-1'], [q('1969-12-31 23:59:59.999999'), '-1'],
    [q('1969-12-31 23:59:59.999999999'), '-1'], [q('1969-12-31 23:59:59.999999+00'), '-1'],
    [q('-99.99'), '-99.99'], [q('-999999999'), '-999999999'], [q('-999999999999999.999'), '-999999999999999.999'],
    [q('-9999999999999999999999999999.9999999999'), '-9999999999999999999999999999.9999999999']],
  // maximums
  [['false', false], ['2147483647', '2147483647'], ['9223372036854775807', '9223372036854775807'],
    [q('3.4028235e38'), 'f32:7f7fffff'], [q('1.7976931348623157e308'), 'f64:7fefffffffffffff'],
    [q('tab\there\nnew line "quotes" \\ back\\slash'), 'tab\there\nnew line "quotes" \\ back\\slash'],
    ["from_hex('ffffffffffffffff')", 'ffffffffffffffff'], [q('[true, false, null, "x"]'), '[true, false, null, "x"]'],
    [q('9999-12-31'), '2932896'], [q('2262-04-11 23:47:16.854'), '9223372036854'],
    [q('9999-12-31 23:59:59.999999'), '253402300799999999'], [q('2262-04-11 23:47:16.854775806'), '9223372036854775806'],
    [q('9999-12-31 23:59:59.999999+00'), '253402300799999999'],
    [q('99.99'), '99.99'], [q('999999999'), '999999999'], [q('999999999999999.999'), '999999999999999.999'],
    [q('9999999999999999999999999999.9999999999'), '9999999999999999999999999999.9999999999']],
  // NaN, a leap day, sub-unit fractions
  [['true', true], ['1', '1'], ['-1', '-1'], [q('NaN'), 'NaN'], [q('NaN'), 'NaN'],
    [q('ascii'), 'ascii'], ["from_hex('00')", '00'], [q('"just a string"'), '"just a string"'], [q('2000-02-29'), '11016'],
    [q('2024-02-29 12:34:56.789'), '1709210096789'], [q('2024-02-29 12:34:56.789012'), '1709210096789012'],
    [q('2024-02-29 12:34:56.789012345'), '1709210096789012345'], [q('2024-02-29 12:34:56.789012+00'), '1709210096789012'],
    [q('-0.05'), '-0.05'], [q('1'), '1'], [q('0.001'), '0.001'], [q('0.0000000001'), '0.0000000001']],
  // infinities, integers just above 2^53, far past
  [['false', false], ['123456789', '123456789'], ['9007199254740993', '9007199254740993'],
    [q('inf'), 'f32:7f800000'], [q('-inf'), 'f64:fff0000000000000'],
    [q('日本語テキスト'), '日本語テキスト'], ["from_hex('0001020304')", '0001020304'],
    [q('{"nested": {"k": [1, {"z": "é"}]}}'), '{"nested": {"k": [1, {"z": "é"}]}}'], [q('1582-10-04'), '-141438'],
    [q('1900-01-01 00:00:00.001'), '-2208988799999'], [q('1900-01-01 00:00:00.000001'), '-2208988799999999'],
    [q('1700-01-01 00:00:00.000000001'), '-8520335999999999999'], [q('1900-01-01 00:00:00.000001+00'), '-2208988799999999'],
    [q('12.30'), '12.30'], [q('-1'), '-1'], [q('-0.001'), '-0.001'], [q('-0.0000000001'), '-0.0000000001']],
  // subnormals, decimals beyond double precision
  [['true', true], ['-1', '-1'], [q('-9007199254740993'), '-9007199254740993'],
    [q('1e-45'), 'f32:00000001'], [q('5e-324'), 'f64:0000000000000001'],
    [q('  leading and trailing spaces  '), '  leading and trailing spaces  '], ["from_hex('00000000')", '00000000'],
    [q('123'), '123'], [q('1969-12-31'), '-1'],
    [q('1970-01-01 00:00:00.001'), '1'], [q('1970-01-01 00:00:00.000001'), '1'],
    [q('1970-01-01 00:00:00.000000001'), '1'], [q('1970-01-01 00:00:00.000001+00'), '1'],
    [q('0.01'), '0.01'], [q('123456789'), '123456789'], [q('123456789012345.678'), '123456789012345.678'],
    [q('1234567890123456789012345678.9012345678'), '1234567890123456789012345678.9012345678']],
  // 0.1 (inexact in binary), a timestamptz given with a non-UTC offset
  [['false', false], ['42', '42'], ['42', '42'], [q('0.1'), 'f32:3dcccccd'], [q('0.1'), 'f64:3fb999999999999a'],
    [q('x'), 'x'], ["from_hex('7f')", '7f'], [q('{"spaced" :  1 }'), '{"spaced" :  1 }'], [q('1970-01-02'), '1'],
    [q('2024-07-01 01:00:00'), '1719795600000'], [q('2024-07-01 01:00:00'), '1719795600000000'],
    [q('2024-07-01 01:00:00'), '1719795600000000000'], [q('2024-06-30 23:00:00-02'), '1719795600000000'],
    [q('-12.34'), '-12.34'], [q('-123456789'), '-123456789'], [q('-123456789012345.678'), '-123456789012345.678'],
    [q('-1234567890123456789012345678.9012345678'), '-1234567890123456789012345678.9012345678']],
  // all NULL
  A_COLUMNS.map(() => ['NULL', null]),
];

async function writeFileA(conn, file) {
  await conn.run(`CREATE OR REPLACE TABLE a (${A_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')})`);
  const values = A_ROWS.map((row) => `(${row.map(([sql]) => sql).join(', ')})`).join(',\n');
  await conn.run(`INSERT INTO a VALUES ${values}`);
  await conn.run(`COPY a TO ${q(file)} (FORMAT parquet, COMPRESSION zstd)`);
  return {
    columns: A_COLUMNS.map(([name, , col]) => ({ name, ...col, nullable: true })), // DuckDB writes OPTIONAL columns
    num_rows: A_ROWS.length,
    rows: A_ROWS.map((row) => row.map(([, v]) => v)),
  };
}

// ===========================================================================
// File B: parquet-rs (parquet-wasm), generated.
// ===========================================================================

/** mulberry32: small seeded PRNG, uint32 per call. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const hexOf = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Decimal text of an unscaled bigint (written independently of lib/canonical.mjs). */
function decimalText(unscaled, scale) {
  const sign = unscaled < 0n ? '-' : '';
  const abs = (unscaled < 0n ? -unscaled : unscaled).toString();
  if (scale === 0) return sign + abs;
  const padded = abs.length <= scale ? '0'.repeat(scale - abs.length + 1) + abs : abs;
  return `${sign}${padded.slice(0, -scale)}.${padded.slice(-scale)}`;
}

/**
 * Build table B: returns { table (Arrow JS), expected (EXPECTED.json doc) }.
 * Each column spec: name, arrow type, our column, nullable, gen(i) -> { raw, exp }.
 */
function buildB(numRows, seed) {
  const rnd = prng(seed);
  const u32 = () => rnd();
  const int = (lo, hi) => lo + Math.floor((u32() / 2 ** 32) * (hi - lo + 1)); // small ranges only
  const i64 = (bits) => BigInt.asIntN(bits, (BigInt(u32()) << 32n) | BigInt(u32()));
  const pick = (edges, i, gen) => (i < edges.length ? edges[i] : gen());
  const f32buf = new DataView(new ArrayBuffer(8));

  const randomText = () => {
    const n = int(0, 12);
    let s = '';
    for (let k = 0; k < n; k++) {
      const kind = int(0, 3);
      let cp = kind === 0 ? int(0x20, 0x7e) : kind === 1 ? int(0xa0, 0x7ff) : kind === 2 ? int(0x800, 0xd7ff) : int(0x10000, 0x10ffff);
      s += String.fromCodePoint(cp);
    }
    return s;
  };
  const randomDecimal = (precision) => {
    const digits = int(1, precision);
    let s = '';
    for (let k = 0; k < digits; k++) s += String(int(0, 9));
    const v = BigInt(s);
    return int(0, 1) ? -v : v;
  };
  const maxDec = (p) => 10n ** BigInt(p) - 1n;

  const specs = [
    { name: 'b_bool', type: new arrow.Bool(), col: { type: 'bool' }, nullable: true,
      gen: () => { const v = int(0, 1) === 1; return { raw: v, exp: v }; } },
    { name: 'b_i32', type: new arrow.Int32(), col: { type: 'int32' }, nullable: false,
      gen: (i) => { const v = pick([-(2 ** 31), 2 ** 31 - 1, 0, -1], i, () => u32() | 0); return { raw: v, exp: String(v) }; } },
    { name: 'b_i64', type: new arrow.Int64(), col: { type: 'int64' }, nullable: true,
      gen: (i) => { const v = pick([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n], i, () => i64(64)); return { raw: v, exp: v.toString() }; } },
    { name: 'b_f32', type: new arrow.Float32(), col: { type: 'float' }, nullable: true,
      gen: () => {
        // Random bit patterns: normals, subnormals, ±0, ±inf, NaNs with payloads.
        const bits = u32();
        f32buf.setUint32(0, bits);
        const v = f32buf.getFloat32(0);
        return { raw: v, exp: Number.isNaN(v) ? 'NaN' : `f32:${bits.toString(16).padStart(8, '0')}` };
      } },
    { name: 'b_f64', type: new arrow.Float64(), col: { type: 'double' }, nullable: true,
      gen: () => {
        const bits = BigInt.asUintN(64, i64(64));
        f32buf.setBigUint64(0, bits);
        const v = f32buf.getFloat64(0);
        return { raw: v, exp: Number.isNaN(v) ? 'NaN' : `f64:${bits.toString(16).padStart(16, '0')}` };
      } },
    { name: 'b_str', type: new arrow.Utf8(), col: { type: 'string' }, nullable: true,
      // Half repeated values (dictionary pages), half random text.
      gen: () => { const v = int(0, 1) ? `cat-${int(0, 19)}` : randomText(); return { raw: v, exp: v }; } },
    { name: 'b_bin', type: new arrow.Binary(), col: { type: 'binary' }, nullable: true,
      gen: () => { const v = Uint8Array.from({ length: int(0, 20) }, () => int(0, 255)); return { raw: v, exp: hexOf(v) }; } },
    { name: 'b_date', type: new arrow.DateDay(), col: { type: 'date' }, nullable: false,
      gen: (i) => { const v = pick([-719162, 2932896, 0, -1], i, () => int(-719162, 2932896)); return { raw: v, exp: String(v) }; } },
    { name: 'b_ts_ms_utc', type: new arrow.Timestamp(arrow.TimeUnit.MILLISECOND, 'UTC'), col: { type: 'timestamp', unit: 'ms', utc: true }, nullable: true,
      gen: (i) => { const v = pick([-1n, 0n, 1n], i, () => i64(51)); return { raw: v, exp: v.toString() }; } },
    { name: 'b_ts_us', type: new arrow.Timestamp(arrow.TimeUnit.MICROSECOND), col: { type: 'timestamp', unit: 'us', utc: false }, nullable: true,
      gen: (i) => { const v = pick([-1n, 0n, 1n], i, () => i64(61)); return { raw: v, exp: v.toString() }; } },
    { name: 'b_ts_ns_utc', type: new arrow.Timestamp(arrow.TimeUnit.NANOSECOND, 'UTC'), col: { type: 'timestamp', unit: 'ns', utc: true }, nullable: true,
      // Sub-µs negative values: DuckDB truncates these toward zero.
      gen: (i) => { const v = pick([-1n, -999n, -1001n, -1000000001n, 1n, 999n], i, () => i64(63)); return { raw: v, exp: v.toString() }; } },
    { name: 'b_ts_ns', type: new arrow.Timestamp(arrow.TimeUnit.NANOSECOND), col: { type: 'timestamp', unit: 'ns', utc: false }, nullable: false,
      gen: (i) => { const v = pick([-1n, 0n, 1n], i, () => i64(63)); return { raw: v, exp: v.toString() }; } },
    ...[
      [9, 2, false], // INT32 in Parquet
      [18, 0, true], // INT64
      [20, 4, true], // FIXED_LEN_BYTE_ARRAY(9)
      [38, 10, true], // FIXED_LEN_BYTE_ARRAY(16)
      [38, 38, true], // all digits after the point
    ].map(([p, s, nullable]) => ({
      name: `b_dec_${p}_${s}`, type: new arrow.Decimal(s, p, 128), col: { type: 'decimal', precision: p, scale: s }, nullable,
      gen: (i) => { const v = pick([maxDec(p), -maxDec(p), 0n, 1n, -1n], i, () => randomDecimal(p)); return { raw: v, exp: decimalText(v, s) }; },
    })),
  ];

  const children = {};
  const fields = [];
  const rows = Array.from({ length: numRows }, () => new Array(specs.length));
  specs.forEach((spec, ci) => {
    const raws = new Array(numRows);
    for (let i = 0; i < numRows; i++) {
      // About 10% nulls in nullable columns (never in the edge-value rows).
      if (spec.nullable && i >= 8 && int(0, 9) === 0) {
        raws[i] = null;
        rows[i][ci] = null;
      } else {
        const { raw, exp } = spec.gen(i);
        raws[i] = raw;
        rows[i][ci] = exp;
      }
    }
    children[spec.name] = makeVector(spec.type, raws);
    fields.push(new arrow.Field(spec.name, spec.type, spec.nullable));
  });
  const table = new arrow.Table(new arrow.Schema(fields), children);
  const expected = {
    columns: specs.map((s) => ({ name: s.name, ...s.col, nullable: s.nullable })),
    num_rows: numRows,
    rows,
  };
  return { table, expected };
}

/** Arrow vector from JS values (null = null), with explicit buffers where Arrow JS builders would convert. */
function makeVector(type, values) {
  const n = values.length;
  const nullBitmap = new Uint8Array(Math.ceil(n / 8));
  let nullCount = 0;
  values.forEach((v, i) => (v === null ? nullCount++ : (nullBitmap[i >> 3] |= 1 << (i & 7))));
  const base = { type, length: n, nullCount, nullBitmap };
  switch (type.typeId) {
    case arrow.Type.Timestamp:
      return arrow.makeVector(arrow.makeData({ ...base, data: BigInt64Array.from(values, (v) => v ?? 0n) }));
    case arrow.Type.Date:
      return arrow.makeVector(arrow.makeData({ ...base, data: Int32Array.from(values, (v) => v ?? 0) }));
    case arrow.Type.Decimal: {
      const words = new Uint32Array(n * 4);
      values.forEach((v, i) => {
        const u = BigInt.asUintN(128, v ?? 0n);
        for (let w = 0; w < 4; w++) words[i * 4 + w] = Number((u >> BigInt(32 * w)) & 0xffffffffn);
      });
      return arrow.makeVector(arrow.makeData({ ...base, data: words }));
    }
    default:
      return arrow.vectorFromArray(values, type);
  }
}

/**
 * parquet-rs stores the Arrow schema in the footer (key "ARROW:schema"), and
 * parquet-rs and polars prefer it to the Parquet types.  Sluice files will not
 * have it, so rename the key in place (same length, footer stays valid) to make
 * every reader work from the Parquet logical types alone.
 */
function hideArrowSchema(bytes) {
  const buf = Buffer.from(bytes);
  const key = Buffer.from('ARROW:schema');
  const at = buf.lastIndexOf(key);
  if (at < 0 || buf.indexOf(key) !== at) throw new Error('expected exactly one ARROW:schema key');
  buf[at + key.length - 1] = 'X'.charCodeAt(0); // "ARROW:schemX"
  return buf;
}

const B_VARIANTS = [
  { tag: 'zstd', props: (b) => b.setCompression(pw.Compression.ZSTD) },
  { tag: 'snappy', props: (b) => b.setCompression(pw.Compression.SNAPPY) },
  { tag: 'gzip', props: (b) => b.setCompression(pw.Compression.GZIP) },
  { tag: 'lz4raw', props: (b) => b.setCompression(pw.Compression.LZ4_RAW) },
  // Data page v2, no dictionaries, delta encodings where parquet-rs allows them.
  { tag: 'v2-delta', props: (b) => b
      .setCompression(pw.Compression.ZSTD)
      .setWriterVersion(pw.WriterVersion.V2)
      .setDictionaryEnabled(false)
      .setColumnEncoding('b_i32', pw.Encoding.DELTA_BINARY_PACKED)
      .setColumnEncoding('b_i64', pw.Encoding.DELTA_BINARY_PACKED)
      .setColumnEncoding('b_ts_ns', pw.Encoding.DELTA_BINARY_PACKED)
      .setColumnEncoding('b_str', pw.Encoding.DELTA_BYTE_ARRAY)
      .setColumnEncoding('b_bin', pw.Encoding.DELTA_LENGTH_BYTE_ARRAY)
      // parquet-rs' v2 default for FIXED_LEN_BYTE_ARRAY is DELTA_BYTE_ARRAY, which
      // polars cannot read (see FLBA_DELTA below): keep those PLAIN here.
      .setColumnEncoding('b_dec_20_4', pw.Encoding.PLAIN)
      .setColumnEncoding('b_dec_38_10', pw.Encoding.PLAIN)
      .setColumnEncoding('b_dec_38_38', pw.Encoding.PLAIN) },
];

// Known reader limitation, asserted so that it stays documented: polars
// cannot decode optional FIXED_LEN_BYTE_ARRAY pages encoded DELTA_BYTE_ARRAY.
const FLBA_DELTA = { tag: 'v2-flba-delta', props: (b) => b.setWriterVersion(pw.WriterVersion.V2).setDictionaryEnabled(false) };

function writeParquetRs(table, variant, file, rowGroupSize) {
  let builder = new pw.WriterPropertiesBuilder().setMaxRowGroupSize(rowGroupSize).setDataPageSizeLimit(16 * 1024);
  builder = variant.props(builder);
  const wasmTable = pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
  fs.writeFileSync(file, hideArrowSchema(pw.writeParquet(wasmTable, builder.build())));
}

// ===========================================================================
// Assertions.
// ===========================================================================

/** Per-file, per-reader results of a --json run, as [[{reader: result}]] in list order. */
function readerResults(json) {
  return json.files.map((f) => Object.fromEntries(f.readers.map((r) => [r.reader, r])));
}

async function main() {
  console.log(`# files in ${TMP}`);
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();

  // ---- A: write and check ----------------------------------------------------
  const aFile = path.join(TMP, 'a.parquet');
  const aExp = await writeFileA(conn, aFile);
  const aJson = path.join(TMP, 'a.json');
  writeJson(aJson, aExp);
  conn.closeSync();
  instance.closeSync();

  const pandas = probePandas();
  {
    const r = runCheck([aJson, aFile]);
    assert(r.status === 0, 'A (DuckDB, every type): check passes', r.stdout + r.stderr);
    for (const reader of READERS) {
      const want = `ok   ${`${reader} `.padEnd(9)}${aFile} (${A_ROWS.length} rows, ${A_COLUMNS.length} columns)`;
      assert(r.stdout.split('\n').includes(want), `A: "ok" line for ${reader}`, r.stdout);
    }
    if (!pandas.available && pandas.note === PANDAS_NO_ENGINE_NOTE) {
      const noteLine = `note pandas   ${PANDAS_NO_ENGINE_NOTE}`;
      const count = r.stdout.split('\n').filter((l) => l === noteLine).length;
      assert(count === 1, 'A: pandas has no engine: exactly one note line, not a failure', r.stdout);
    } else {
      console.log(`# pandas: ${pandas.available ? `engine ${pandas.engine} present, checked like the others` : pandas.note}`);
    }
  }

  // ---- B: write variants and check in one batch --------------------------------
  const { table: bTable, expected: bExp } = buildB(30000, 1234);
  const bJson = path.join(TMP, 'b.json');
  writeJson(bJson, bExp);
  const list = [];
  for (const v of B_VARIANTS) {
    const f = path.join(TMP, `b-${v.tag}.parquet`);
    writeParquetRs(bTable, v, f, 7000);
    list.push(`b.json b-${v.tag}.parquet`);
  }
  const bList = path.join(TMP, 'b-list.txt');
  fs.writeFileSync(bList, `# parquet-rs variants\n${list.join('\n')}\n`);
  {
    const t0 = Date.now();
    const r = runCheck(['--batch', bList, '--json', '--readers', READERS.join(',')]);
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    assert(r.status === 0 && r.json?.ok, `B (parquet-rs, 30000 rows, ${B_VARIANTS.map((v) => v.tag).join('/')}): check passes [${secs} s]`, r.json ? JSON.stringify(r.json.files.flatMap((f) => f.readers.filter((x) => !x.ok)), null, 1) : r.stdout + r.stderr);
    const duck = r.json?.files?.[0]?.readers.find((x) => x.reader === 'duckdb');
    assert(duck?.notes.some((n) => n.startsWith('column b_ts_ns_utc: reader has µs only')), 'B: DuckDB ns UTC -> µs truncation is reported as a note', JSON.stringify(duck?.notes));
  }
  {
    const f = path.join(TMP, `b-${FLBA_DELTA.tag}.parquet`);
    writeParquetRs(bTable, FLBA_DELTA, f, 7000);
    const r = runCheck([bJson, f, '--json', '--readers', READERS.join(',')]);
    const res = Object.fromEntries((r.json?.files[0].readers ?? []).map((x) => [x.reader, x]));
    const polarsMsg = res.polars?.messages?.[0] ?? '';
    assert(
      res.duckdb?.ok && res.arrow?.ok && res.hyparquet?.ok && !res.polars?.ok && /DeltaByteArray/.test(polarsMsg),
      'known limitation: polars fails on DELTA_BYTE_ARRAY FIXED_LEN_BYTE_ARRAY pages, the others pass',
      JSON.stringify(res, null, 1),
    );
  }

  // ---- corruptions: every one must make the check fail --------------------------
  const col = (doc, name) => doc.columns.findIndex((c) => c.name === name);
  const setValue = (doc, name, row, v) => (doc.rows[row][col(doc, name)] = v);
  const corruptions = [
    // [label, base (a|b), mutate(doc), readers expected to fail, text that the first message must contain]
    ['int64 above 2^53 off by one', 'a', (d) => setValue(d, 'c_i64', 2, '9223372036854775806'), READERS, 'column c_i64 row 2'],
    ['-0.0 float written as +0.0', 'a', (d) => setValue(d, 'c_f32', 1, 'f32:00000000'), READERS, 'column c_f32 row 1'],
    ['double NaN expected as null', 'a', (d) => setValue(d, 'c_f64', 3, null), READERS, 'column c_f64 row 3'],
    ['double 0.1 off by one ulp', 'a', (d) => setValue(d, 'c_f64', 6, 'f64:3fb999999999999b'), READERS, 'column c_f64 row 6'],
    ['unicode string: combining accent dropped', 'a', (d) => setValue(d, 'c_str', 1, 'héllo wörld 😀 — ✓ e'), READERS, 'column c_str row 1'],
    ['binary last byte', 'a', (d) => setValue(d, 'c_bin', 2, 'fffffffffffffffe'), READERS, 'column c_bin row 2'],
    ['json text differs (same JSON value)', 'a', (d) => setValue(d, 'c_json', 1, '{"a": [1, 2.5], "ü": null}'), READERS, 'column c_json row 1'],
    ['date off by one day', 'a', (d) => setValue(d, 'c_date', 4, '-141437'), READERS, 'column c_date row 4'],
    ['timestamp ms off by one', 'a', (d) => setValue(d, 'c_ts_ms', 1, '-2'), READERS, 'column c_ts_ms row 1'],
    ['timestamp ns off by one ns', 'a', (d) => setValue(d, 'c_ts_ns', 3, '1709210096789012346'), READERS, 'column c_ts_ns row 3'],
    ['timestamptz off by one µs', 'a', (d) => setValue(d, 'c_tstz', 6, '1719795600000001'), READERS, 'column c_tstz row 6'],
    ['decimal(38,10) last digit', 'a', (d) => setValue(d, 'c_d38', 5, '1234567890123456789012345678.9012345679'), READERS, 'column c_d38 row 5'],
    ['decimal(18,3) last digit (beyond 2^53)', 'a', (d) => setValue(d, 'c_d18', 5, '123456789012345.679'), READERS, 'column c_d18 row 5'],
    ['null expected, value present', 'a', (d) => setValue(d, 'c_bool', 0, null), READERS, 'column c_bool row 0'],
    ['value expected, null present', 'a', (d) => setValue(d, 'c_d4', 7, '0.00'), READERS, 'column c_d4 row 7'],
    ['type: int32 declared int64', 'a', (d) => (d.columns[col(d, 'c_i32')].type = 'int64'), READERS, 'column c_i32: type expected'],
    ['type: decimal(4,2) declared decimal(5,2)', 'a', (d) => (d.columns[col(d, 'c_d4')].precision = 5), READERS, 'column c_d4: type expected'],
    ['type: timestamptz declared local', 'a', (d) => (d.columns[col(d, 'c_tstz')].utc = false), READERS, 'column c_tstz: type expected'],
    // DuckDB and Arrow report JSON and strings alike; polars and hyparquet tell them apart.
    ['type: json declared string', 'a', (d) => (d.columns[col(d, 'c_json')].type = 'string'), ['polars', 'hyparquet'], 'column c_json: type expected'],
    // DuckDB reads local ms timestamps as TIMESTAMP (µs): it cannot tell ms from µs.
    ['type: timestamp ms declared us (values scaled)', 'a', (d) => {
      const c = col(d, 'c_ts_ms');
      d.columns[c].unit = 'us';
      for (const row of d.rows) if (row[c] !== null) row[c] = (BigInt(row[c]) * 1000n).toString();
    }, ['polars', 'arrow', 'hyparquet'], 'column c_ts_ms: type expected'],
    ['row count: last row missing', 'a', (d) => { d.rows.pop(); d.num_rows--; }, READERS, 'rows: expected'],
    ['column renamed', 'a', (d) => (d.columns[col(d, 'c_date')].name = 'c_day'), READERS, 'columns: expected'],
    ['two columns swapped', 'a', (d) => {
      const [i, j] = [col(d, 'c_i32'), col(d, 'c_i64')];
      [d.columns[i], d.columns[j]] = [d.columns[j], d.columns[i]];
      for (const row of d.rows) [row[i], row[j]] = [row[j], row[i]];
    }, READERS, 'columns: expected'],
    // Only arrow and hyparquet expose the Parquet repetition.
    ['REQUIRED column declared nullable', 'b', (d) => (d.columns[col(d, 'b_i32')].nullable = true), ['arrow', 'hyparquet'], 'column b_i32: nullable expected true got false'],
    ['random f32 bit pattern', 'b', (d) => {
      const c = col(d, 'b_f32');
      // A finite value, so that the changed bits cannot become a NaN pattern.
      const r = d.rows.findIndex((row) => row[c] !== null && row[c] !== 'NaN' && !/^f32:[7f]f8/.test(row[c]));
      d.rows[r][c] = d.rows[r][c].slice(0, -1) + (d.rows[r][c].endsWith('0') ? '1' : '0');
    }, READERS, 'column b_f32 row'],
    ['ns UTC timestamp off by one µs', 'b', (d) => setValue(d, 'b_ts_ns_utc', 1, '-1999'), READERS, 'column b_ts_ns_utc row 1'],
    ['decimal(38,38) last digit', 'b', (d) => setValue(d, 'b_dec_38_38', 3, decimalText(2n, 38)), READERS, 'column b_dec_38_38 row 3'],
  ];

  const cList = [];
  corruptions.forEach(([, base, mutate], i) => {
    const doc = clone(base === 'a' ? aExp : bExp);
    mutate(doc);
    writeJson(path.join(TMP, `corrupt-${i}.json`), doc);
    cList.push(`corrupt-${i}.json ${base === 'a' ? 'a.parquet' : 'b-zstd.parquet'}`);
  });
  // A malformed EXPECTED.json must be an error too, not a pass.
  const malformed = clone(aExp);
  malformed.rows[0][col(malformed, 'c_d4')] = '0.0'; // scale 2 needs "0.00"
  writeJson(path.join(TMP, 'malformed.json'), malformed);
  cList.push('malformed.json a.parquet');
  const cListFile = path.join(TMP, 'corrupt-list.txt');
  fs.writeFileSync(cListFile, cList.join('\n') + '\n');

  const r = runCheck(['--batch', cListFile, '--json', '--readers', READERS.join(',')]);
  assert(r.status === 1 && r.json && !r.json.ok, 'corruptions: check exits 1', r.stdout.slice(0, 2000) + r.stderr);
  if (r.json) {
    const results = readerResults(r.json);
    corruptions.forEach(([label, , , mustFail, text], i) => {
      const got = results[i];
      const problems = [];
      for (const reader of READERS) {
        const res = got[reader];
        if (mustFail.includes(reader)) {
          if (res.ok) problems.push(`${reader} passed`);
          else if (!res.messages.some((m) => m.includes(text))) problems.push(`${reader}: no message with ${JSON.stringify(text)}: ${JSON.stringify(res.messages)}`);
        } else if (!res.ok) {
          problems.push(`${reader} failed unexpectedly: ${JSON.stringify(res.messages)}`);
        }
      }
      const who = mustFail.length === READERS.length ? 'every reader fails' : `${mustFail.join(' + ')} fail${mustFail.length === 1 ? 's' : ''}, the others pass`;
      assert(problems.length === 0, `corruption "${label}": ${who}`, problems.join('\n'));
    });
    const m = r.json.files[corruptions.length];
    assert(m.error?.includes('column c_d4 row 0') && m.readers.length === 0, 'malformed EXPECTED.json: reported as an error, no reader run', JSON.stringify(m));
  }

  // ---- text output of a failure ------------------------------------------------
  {
    const r = runCheck([path.join(TMP, 'corrupt-0.json'), aFile, '--readers', 'duckdb,polars']);
    const want = `FAIL duckdb   ${aFile}: 1 mismatch: column c_i64 row 2: expected "9223372036854775806" got "9223372036854775807"`;
    assert(r.status === 1 && r.stdout.includes(want) && r.stdout.includes('readers: 0 passed, 2 failed'), 'text output of a failure', r.stdout);
    const typeCase = corruptions.findIndex(([label]) => label === 'type: int32 declared int64');
    const t = runCheck([path.join(TMP, `corrupt-${typeCase}.json`), aFile, '--readers', 'duckdb']);
    assert(t.stdout.includes('column c_i32: type expected "BIGINT" (our int64) got "INTEGER"'), 'text output of a type mismatch', t.stdout);
  }

  // ---- optional: throughput ----------------------------------------------------
  if (PERF) {
    const rows = 100000;
    const perfList = [];
    const { table, expected } = buildB(rows, 99);
    writeJson(path.join(TMP, 'perf.json'), expected);
    B_VARIANTS.slice(0, 4).forEach((v) => writeParquetRs(table, v, path.join(TMP, `perf-${v.tag}.parquet`), 50000));
    for (let i = 0; i < 40; i++) perfList.push(`perf.json perf-${B_VARIANTS[i % 4].tag}.parquet`);
    fs.writeFileSync(path.join(TMP, 'perf-list.txt'), perfList.join('\n') + '\n');
    const t0 = Date.now();
    const p = runCheck(['--batch', path.join(TMP, 'perf-list.txt'), '--json']);
    const secs = (Date.now() - t0) / 1000;
    const millions = (40 * rows * expected.columns.length) / 1e6;
    // Reported, not asserted: the time depends on the machine's load.
    assert(p.status === 0, `perf: 40 files x ${rows} rows x ${expected.columns.length} columns (${millions} M values), all readers: ${secs.toFixed(1)} s, ${(secs / millions).toFixed(1)} s per million values`, p.stdout.slice(0, 2000) + p.stderr);
  }

  if (!KEEP) fs.rmSync(TMP, { recursive: true, force: true });
  console.log(`selftest: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

await main();
