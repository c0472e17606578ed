// meta_check.mjs: checks the footer of every file pq_gen wrote, as independent readers decode
// it (DuckDB's parquet_metadata()/parquet_file_metadata()/parquet_kv_metadata(), and hyparquet's
// metadata parser for typed statistics), against what the EXPECTED.json rows imply:
//   - created_by is "sluice version X.Y.Z (build HASH)", every column has TYPE_ORDER,
//     sluice.schema in the key-value metadata lists the columns with their types;
//   - the codec of each file, row-group sizes, dictionary use per case;
//   - per column chunk: null_count exact, min/max exact for integers, floats (NaN ignored,
//     -0.0 as a zero min, +0.0 as a zero max, none when only NaN), and byte arrays (exact when
//     <= 64 bytes, otherwise a truncated lower bound / incremented upper bound).
// usage: node meta_check.mjs DIR     (DIR/list.txt as written by pq_gen)
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetMetadataAsync, asyncBufferFromFile } from 'hyparquet';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node meta_check.mjs DIR');
  process.exit(2);
}
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const q = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();

let failures = 0;
let checks = 0;
function check(cond, file, what) {
  checks++;
  if (!cond) {
    failures++;
    console.log(`FAIL meta ${file}: ${what}`);
  }
}

const codecOf = {
  types_none: 'UNCOMPRESSED', types_v2_none: 'UNCOMPRESSED', types_snappy: 'SNAPPY',
  types_gzip: 'GZIP', types_zstd: 'ZSTD', types_v2_zstd: 'ZSTD', types_lz4raw: 'LZ4_RAW',
};

const enc = new TextEncoder();
function cmpBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
const hexToBytes = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
function f64(s) { // canonical "f64:hex" / "f32:hex" -> number
  if (s === 'NaN') return NaN;
  const dv = new DataView(new ArrayBuffer(8));
  if (s.startsWith('f32:')) { dv.setUint32(0, parseInt(s.slice(4), 16)); return dv.getFloat32(0); }
  dv.setBigUint64(0, BigInt('0x' + s.slice(4)));
  return dv.getFloat64(0);
}

for (const line of readFileSync(`${dir}/list.txt`, 'utf8').split('\n').filter(Boolean)) {
  const [expPath, file] = line.split(' ');
  const name = basename(file, '.parquet');
  const exp = JSON.parse(readFileSync(expPath, 'utf8'));
  const fm = (await q(`SELECT * FROM parquet_file_metadata('${file}')`))[0];
  check(/^sluice version \d+\.\d+\.\d+ \(build [0-9a-z]+\)$/.test(fm.created_by), name, `created_by ${fm.created_by}`);
  check(BigInt(fm.num_rows) === BigInt(exp.num_rows), name, `num_rows ${fm.num_rows}`);
  check(fm.column_orders.length === exp.columns.length &&
        fm.column_orders.every((o) => o.includes('TYPE_ORDER')), name, 'column_orders');
  const kv = await q(`SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${file}')`);
  const schemaKv = kv.find((r) => r.k === 'sluice.schema');
  check(schemaKv, name, 'sluice.schema key-value missing');
  if (schemaKv) {
    const sch = JSON.parse(schemaKv.v);
    check(sch.fields.map((f) => f.name).join() === exp.columns.map((c) => c.name).join(), name, 'sluice.schema names');
    sch.fields.forEach((f, i) => {
      const c = exp.columns[i];
      const t = c.type === 'timestamp' ? `timestamp[${c.unit}${c.utc ? ', UTC' : ''}]`
        : c.type === 'decimal' ? `decimal(${c.precision},${c.scale})` : c.type;
      check(f.type === t && f.nullable === c.nullable, name, `sluice.schema ${f.name}: ${f.type}`);
    });
  }

  // stats_min_value/stats_max_value are only selected for decimal columns: DuckDB fails to
  // render ns timestamp statistics near the int64 limits ("Date out of range")
  const md = await q(`SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, num_values,
      stats_null_count, compression, encodings, dictionary_page_offset, min_is_exact
    FROM parquet_metadata('${file}') ORDER BY row_group_id, column_id`);
  const decCols = exp.columns.filter((c) => c.type === 'decimal').map((c) => `'${c.name}'`);
  const decStats = decCols.length ? await q(`SELECT row_group_id, column_id, stats_min_value, stats_max_value
      FROM parquet_metadata('${file}') WHERE path_in_schema IN (${decCols.join(',')})`) : [];
  for (const d of decStats) {
    const r = md.find((x) => x.row_group_id === d.row_group_id && x.column_id === d.column_id);
    r.stats_min_value = d.stats_min_value;
    r.stats_max_value = d.stats_max_value;
  }
  // raw parsers: integers, dates and timestamps as their stored integers, byte arrays as bytes
  const id = (x) => x;
  const hmeta = await parquetMetadataAsync(await asyncBufferFromFile(file), {
    parsers: { dateFromDays: id, timestampFromMilliseconds: id, timestampFromMicroseconds: id,
      timestampFromNanoseconds: id, stringFromBytes: id },
  });
  if (codecOf[name]) check(md.every((r) => r.compression === codecOf[name]), name, `codec ${md[0]?.compression}`);
  const rgRows = [...new Set(md.map((r) => r.row_group_id))].map((id) => Number(md.find((r) => r.row_group_id === id).row_group_num_rows));
  if (name === 'many_row_groups') check(rgRows.length === 10 && rgRows.every((n) => n === 1000), name, `row groups ${rgRows}`);
  if (name === 'zero_rows') check(md.length === 0, name, 'zero rows has row groups');
  if (name === 'no_dictionary') check(md.every((r) => !r.encodings.includes('DICTIONARY')), name, 'dictionary used');
  if (name === 'dict_fallback') {
    const s = md.find((r) => r.path_in_schema === 's');
    check(s.encodings.includes('RLE_DICTIONARY') && s.encodings.includes('PLAIN') && s.dictionary_page_offset !== null, name, `s encodings ${s.encodings}`);
  }
  if (name === 'types_zstd') {
    const s = md.find((r) => r.path_in_schema === 'c_str');
    check(s.encodings.includes('RLE_DICTIONARY'), name, `low-cardinality c_str not dictionary-encoded: ${s.encodings}`);
  }

  // per chunk statistics from the expected rows
  let start = 0;
  rgRows.forEach((nrows, rg) => {
    exp.columns.forEach((col, ci) => {
      const r = md.find((x) => Number(x.row_group_id) === rg && Number(x.column_id) === ci);
      const hs = hmeta.row_groups[rg].columns[ci].meta_data.statistics;
      const vals = exp.rows.slice(start, start + nrows).map((row) => row[ci]);
      const nonNull = vals.filter((v) => v !== null);
      const where = `rg ${rg} ${col.name}`;
      check(BigInt(r.stats_null_count) === BigInt(vals.length - nonNull.length), name, `${where} null_count ${r.stats_null_count}`);
      check(BigInt(r.num_values) === BigInt(nrows), name, `${where} num_values`);
      if (['int32', 'int64', 'date', 'timestamp', 'decimal'].includes(col.type)) {
        if (!nonNull.length) { check(hs.min_value === undefined, name, `${where} bounds without values`); return; }
        const big = nonNull.map((v) => BigInt(col.type === 'decimal' ? v.replace('.', '') : v));
        const mn = big.reduce((a, b) => (b < a ? b : a)), mx = big.reduce((a, b) => (b > a ? b : a));
        if (col.type === 'decimal') {
          // hyparquet scales decimals to floats; DuckDB prints them exactly
          const unscaled = (t) => BigInt(t.replace('.', ''));
          check(unscaled(r.stats_min_value) === mn && unscaled(r.stats_max_value) === mx, name, `${where} min/max ${r.stats_min_value}/${r.stats_max_value} want ${mn}/${mx}`);
        } else {
          check(BigInt(hs.min_value) === mn && BigInt(hs.max_value) === mx, name, `${where} min/max ${hs.min_value}/${hs.max_value} want ${mn}/${mx}`);
        }
      } else if (col.type === 'float' || col.type === 'double') {
        const nums = nonNull.map(f64).filter((x) => !Number.isNaN(x));
        if (!nums.length) { check(hs.min_value === undefined && hs.max_value === undefined, name, `${where} NaN-only chunk has bounds`); return; }
        const mn = Math.min(...nums), mx = Math.max(...nums);
        check(hs.min_value === mn && hs.max_value === mx, name, `${where} min/max ${hs.min_value}/${hs.max_value} want ${mn}/${mx}`);
        if (mn === 0) check(Object.is(hs.min_value, -0), name, `${where} zero min must be -0.0`);
        if (mx === 0) check(Object.is(hs.max_value, 0), name, `${where} zero max must be +0.0`);
      } else if (col.type === 'string' || col.type === 'binary' || col.type === 'json') {
        if (!nonNull.length) { check(hs.min_value === undefined, name, `${where} bounds without values`); return; }
        const bytes = nonNull.map((v) => (col.type === 'binary' ? hexToBytes(v) : enc.encode(v)));
        bytes.sort(cmpBytes);
        const tmin = bytes[0], tmax = bytes[bytes.length - 1];
        const smin = hs.min_value, smax = hs.max_value;
        const asBytes = (v) => (v === undefined ? undefined : typeof v === 'string' ? enc.encode(v) : new Uint8Array(v));
        const bmin = asBytes(smin), bmax = asBytes(smax);
        check(bmin && bmin.length <= 64 && cmpBytes(bmin, tmin) <= 0, name, `${where} min is not a lower bound`);
        if (tmin.length <= 64) check(bmin && cmpBytes(bmin, tmin) === 0, name, `${where} min not exact`);
        if (bmax) check(bmax.length <= 64 && cmpBytes(bmax, tmax) >= 0, name, `${where} max is not an upper bound`);
        if (tmax.length <= 64) check(bmax && cmpBytes(bmax, tmax) === 0, name, `${where} max not exact`);
        if (tmax.length > 64 || tmin.length > 64) check(r.min_is_exact === (tmin.length <= 64), name, `${where} min_is_exact`);
      }
    });
    start += nrows;
  });
}
console.log(`meta: ${checks - failures} checks passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
