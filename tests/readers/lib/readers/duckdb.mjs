// DuckDB reader (@duckdb/node-api).  One in-process database is opened per
// run and reused for every file.
//
// Values come from DuckDB's own value classes, which are exact:
//   BIGINT -> bigint, INTEGER -> number, FLOAT/DOUBLE -> number,
//   VARCHAR -> string, BLOB -> DuckDBBlobValue.bytes,
//   DATE -> DuckDBDateValue.days, TIMESTAMP / TIMESTAMPTZ -> .micros,
//   TIMESTAMP_NS -> .nanos, TIMESTAMP_MS -> .millis, TIMESTAMP_S -> .seconds,
//   DECIMAL -> DuckDBDecimalValue.value (bigint, unscaled; scale from the type).

import { DuckDBInstance } from '@duckdb/node-api';

// DuckDB reserves the extreme values for ±infinity: a timestamp of
// ±(2^63 - 1) (in any unit) or a date of ±(2^31 - 1) days reads back as
// 'infinity' / '-infinity', not as that instant.  Report those as such.
const TS_INFINITY = 2n ** 63n - 1n;
const DATE_INFINITY = 2 ** 31 - 1;
const ts = (x) => (x === TS_INFINITY || x === -TS_INFINITY ? { invalid: `DuckDB reads ${x} as ${x < 0n ? '-' : ''}infinity` } : x);
const days = (x) => (x === DATE_INFINITY || x === -DATE_INFINITY ? { invalid: `DuckDB reads ${x} days as ${x < 0 ? '-' : ''}infinity` } : x);

/**
 * How to read a column of this DuckDB type: { kind, unit?, scale?, get(v) }
 * (kinds are described in compare.mjs).
 */
function columnReader(type) {
  const t = String(type);
  const plain = (kind) => ({ kind, get: (v) => v });
  if (t === 'BOOLEAN') return plain('bool');
  if (/^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT))$/.test(t)) return plain('int');
  if (t === 'FLOAT' || t === 'DOUBLE') return plain('float');
  if (t === 'VARCHAR' || t === 'JSON') return plain('text');
  if (t === 'BLOB') return { kind: 'bytes', get: (v) => v.bytes };
  if (t === 'DATE') return { kind: 'days', get: (v) => days(v.days) };
  if (t === 'TIMESTAMP' || t === 'TIMESTAMP WITH TIME ZONE') return { kind: 'ts', unit: 'us', get: (v) => ts(v.micros) };
  if (t === 'TIMESTAMP_NS') return { kind: 'ts', unit: 'ns', get: (v) => ts(v.nanos) };
  if (t === 'TIMESTAMP_MS') return { kind: 'ts', unit: 'ms', get: (v) => ts(v.millis) };
  if (t === 'TIMESTAMP_S') return { kind: 'ts', unit: 's', get: (v) => ts(v.seconds) };
  if (t.startsWith('DECIMAL(')) return { kind: 'decimal', scale: type.scale, get: (v) => v.value };
  // Not one of our types (LIST, STRUCT, …): let the comparison report it.
  return { kind: 'other', get: (v) => ({ invalid: `DuckDB ${t} value ${String(v)}` }) };
}

export async function openDuckDB() {
  // No extension may be fetched: the machine has no network besides registries.
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();

  return {
    name: 'duckdb',
    async read(file) {
      const reader = await conn.runAndReadAll('SELECT * FROM read_parquet($1)', [file]);
      const names = reader.columnNames();
      const types = reader.columnTypes();
      const raw = reader.getColumns();
      return {
        numRows: reader.currentRowCount,
        notes: [],
        columns: names.map((name, i) => {
          const { get, ...how } = columnReader(types[i]);
          const column = raw[i] ?? []; // a 0-row result has no chunks at all
          return { name, type: String(types[i]), ...how, values: column.map((v) => (v === null ? null : get(v))) };
        }),
      };
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
