// parquet_gen.mjs: writes Parquet files with other writers for tests/integration/parquet_read.sh
// (sluice's Parquet reader). usage: node parquet_gen.mjs OUTDIR [ROWS]
//
// One table (every flat type DuckDB has a Parquet mapping for, nulls, low- and high-cardinality
// strings, unicode) is written by
//   DuckDB 1.5     duck_<codec>_<v1|v2>.parquet: 5 codecs x PARQUET_VERSION v1/v2 (v2 brings
//                  DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, BYTE_STREAM_SPLIT), row groups
//                  of 1000 rows (dictionary where DuckDB chooses it)
//   polars         pl_<codec>.parquet (its own Rust writer)
//   parquet-rs     rs_<variant>.parquet via parquet-wasm: dictionary v1, v2 without dictionary
//                  with DELTA_* encodings, BYTE_STREAM_SPLIT floats, RLE booleans, small pages
// and files that must fail: pl_brotli.parquet (BROTLI) and duck_nested.parquet (LIST, STRUCT).
// Prints one file name per line: "<name> <expect>" with expect ok | fail.
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import pl from 'nodejs-polars';
import * as pw from 'parquet-wasm';

const out = process.argv[2];
const rows = Number(process.argv[3] || 5000);
if (!out) {
  console.error('usage: node parquet_gen.mjs OUTDIR [ROWS]');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
const listed = [];
const emit = (name, expect) => listed.push(`${name} ${expect}`);

const inst = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
const con = await inst.connect();
await con.run(`CREATE TABLE t AS SELECT
  i::INTEGER AS id,
  CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 2 = 0) END AS c_bool,
  CASE WHEN i % 13 = 0 THEN NULL ELSE (i % 200 - 100)::TINYINT END AS c_i8,
  ((i * 7) % 60000 - 30000)::SMALLINT AS c_i16,
  CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 104729 % 2000000000 - 1000000000)::INTEGER END AS c_i32,
  CASE WHEN i = 1 THEN -9223372036854775808 WHEN i = 2 THEN 9223372036854775807
       ELSE (hash(i) >> 1)::BIGINT - 4611686018427387904 END AS c_i64,
  (i % 250)::UTINYINT AS c_u8, (i * 3 % 65000)::USMALLINT AS c_u16,
  CASE WHEN i = 3 THEN 4294967295 ELSE hash(i) % 4294967295 END::UINTEGER AS c_u32,
  CASE WHEN i = 4 THEN 18446744073709551615 ELSE hash(i) END::UBIGINT AS c_u64,
  CASE WHEN i % 7 = 0 THEN NULL WHEN i = 8 THEN 'nan'::FLOAT WHEN i = 9 THEN '-inf'::FLOAT
       WHEN i = 10 THEN -0.0::FLOAT ELSE (i / 8.0)::FLOAT END AS c_f32,
  CASE WHEN i = 8 THEN 'inf'::DOUBLE WHEN i = 9 THEN 5e-324 ELSE (i * 1.0 / 3)::DOUBLE END AS c_f64,
  CASE WHEN i % 9 = 0 THEN NULL ELSE 'str_' || (i % 50) END AS c_str_dict,
  CASE WHEN i = 5 THEN '' ELSE md5(i::VARCHAR) || CASE WHEN i % 3 = 0 THEN 'é漢🙂' ELSE '' END END AS c_str_uniq,
  CASE WHEN i % 4 = 0 THEN NULL WHEN i = 6 THEN ''::BLOB WHEN i = 7 THEN '\\x00\\xFF\\x10'::BLOB
       ELSE encode(md5(i::VARCHAR)) END AS c_blob,
  (DATE '2000-01-01' + (i % 20000 - 10000)::INTEGER) AS c_date,
  CASE WHEN i % 8 = 0 THEN NULL ELSE TIMESTAMP '2020-01-01' + to_microseconds(i::BIGINT * 123456789) END AS c_ts,
  (TIMESTAMP '1969-12-31 23:59:59' + to_microseconds(i::BIGINT * 1000))::TIMESTAMP_MS AS c_ts_ms,
  (TIMESTAMP '2020-01-01' + to_microseconds(i::BIGINT * 3))::TIMESTAMP_NS AS c_ts_ns,
  TIMESTAMPTZ '2020-01-01 00:00:00+00' + to_microseconds(i::BIGINT * 777) AS c_tstz,
  CASE WHEN i % 6 = 0 THEN NULL ELSE ((i % 10000) - 5000) / 100.0 END::DECIMAL(4,2) AS c_dec4,
  ((hash(i) % 1000000000)::BIGINT - 500000000)::DECIMAL(9,0) AS c_dec9,
  (((hash(i) % 1000000000000000)::BIGINT - 500000000000000) / 1000)::DECIMAL(18,3) AS c_dec18,
  ((hash(i)::HUGEINT * 1000 - 12345)::DECIMAL(38,0) / 10000000000)::DECIMAL(38,10) AS c_dec38,
  md5(i::VARCHAR)::UUID AS c_uuid
  FROM range(${rows}) t(i)`);

const codecs = ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4_raw'];
for (const c of codecs)
  for (const v of ['v1', 'v2']) {
    const f = `duck_${c}_${v}.parquet`;
    await con.run(`COPY t TO '${path.join(out, f)}' (FORMAT parquet, COMPRESSION ${c}, PARQUET_VERSION ${v}, ROW_GROUP_SIZE 1000)`);
    emit(f, 'ok');
  }
await con.run(`COPY (SELECT id, [id, id + 1] AS l, {'a': id} AS s FROM range(10) r(id)) TO '${path.join(out, 'duck_nested.parquet')}' (FORMAT parquet)`);
emit('duck_nested.parquet', 'fail');

// polars reads DuckDB's v1 file (UUID becomes binary) and writes its own files
const base = pl.readParquet(path.join(out, 'duck_snappy_v1.parquet'));
for (const c of ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4']) {
  const f = `pl_${c}.parquet`;
  base.writeParquet(path.join(out, f), { compression: c });
  emit(f, 'ok');
}
base.writeParquet(path.join(out, 'pl_brotli.parquet'), { compression: 'brotli' });
emit('pl_brotli.parquet', 'fail');

// parquet-rs through parquet-wasm, from polars' Arrow IPC stream
const wasmTable = () => pw.Table.fromIPCStream(base.writeIPCStream());
const rsVariants = {
  dict_zstd_v1: (b) => b.setCompression(pw.Compression.ZSTD),
  plain_snappy_v1: (b) => b.setCompression(pw.Compression.SNAPPY).setDictionaryEnabled(false),
  v2_delta: (b) => b.setCompression(pw.Compression.ZSTD).setWriterVersion(pw.WriterVersion.V2)
    .setDictionaryEnabled(false)
    .setColumnEncoding('id', pw.Encoding.DELTA_BINARY_PACKED)
    .setColumnEncoding('c_i32', pw.Encoding.DELTA_BINARY_PACKED)
    .setColumnEncoding('c_i64', pw.Encoding.DELTA_BINARY_PACKED)
    .setColumnEncoding('c_ts', pw.Encoding.DELTA_BINARY_PACKED)
    .setColumnEncoding('c_str_uniq', pw.Encoding.DELTA_BYTE_ARRAY)
    .setColumnEncoding('c_str_dict', pw.Encoding.DELTA_BYTE_ARRAY)
    .setColumnEncoding('c_blob', pw.Encoding.DELTA_LENGTH_BYTE_ARRAY),
  v2_default_gzip: (b) => b.setCompression(pw.Compression.GZIP).setWriterVersion(pw.WriterVersion.V2)
    .setDictionaryEnabled(false),
  bss_lz4raw: (b) => b.setCompression(pw.Compression.LZ4_RAW).setDictionaryEnabled(false)
    .setColumnEncoding('c_f32', pw.Encoding.BYTE_STREAM_SPLIT)
    .setColumnEncoding('c_f64', pw.Encoding.BYTE_STREAM_SPLIT)
    .setColumnEncoding('c_bool', pw.Encoding.RLE),
  v2_uncompressed_dict: (b) => b.setCompression(pw.Compression.UNCOMPRESSED).setWriterVersion(pw.WriterVersion.V2),
};
for (const [tag, props] of Object.entries(rsVariants)) {
  let b = new pw.WriterPropertiesBuilder().setMaxRowGroupSize(1700).setDataPageSizeLimit(4096);
  b = props(b);
  const f = `rs_${tag}.parquet`;
  fs.writeFileSync(path.join(out, f), pw.writeParquet(wasmTable(), b.build()));
  emit(f, 'ok');
}
console.log(listed.join('\n'));
