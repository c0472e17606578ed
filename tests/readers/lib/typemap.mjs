// Type mapping table: for each column type of ours (EXPECTED.json), the type
// name each reader reports.  Discovered by experiment with the pinned versions
// in package.json (see README.md for the same table and how it was found).
//
// Entries are patterns in a tiny syntax so that the few legitimately variable
// parts (Parquet annotations a writer may or may not add) are explicit:
//   [x]       x is optional
//   {a|b|c}   one of a, b, c
// Everything else matches literally.

/** Compile a mapping pattern into a RegExp. */
export function compilePattern(pattern) {
  let re = '';
  for (const ch of pattern) {
    if (ch === '[') re += '(?:';
    else if (ch === ']') re += ')?';
    else if (ch === '{') re += '(?:';
    else if (ch === '}') re += ')';
    else if (ch === '|') re += '|';
    else re += ch.replace(/[.*+?^$()\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const TS_UNIT_ARROW = { ms: 'MILLISECOND', us: 'MICROSECOND', ns: 'NANOSECOND' };
const TS_UNIT_PARQUET = { ms: 'MILLIS', us: 'MICROS', ns: 'NANOS' };

/** Smallest FIXED_LEN_BYTE_ARRAY length that holds `precision` decimal digits. */
export function minDecimalBytes(precision) {
  const max = 10n ** BigInt(precision) - 1n;
  let n = 1;
  while ((1n << BigInt(8 * n - 1)) - 1n < max) n++;
  return n;
}

// ---------------------------------------------------------------------------
// DuckDB (@duckdb/node-api, engine v1.5.x): String(DuckDBType) of the result
// columns of SELECT * FROM read_parquet(...).
function duckdb(col) {
  switch (col.type) {
    case 'bool': return 'BOOLEAN';
    case 'int32': return 'INTEGER';
    case 'int64': return 'BIGINT';
    case 'float': return 'FLOAT';
    case 'double': return 'DOUBLE';
    case 'string': return 'VARCHAR';
    case 'binary': return 'BLOB';
    case 'json': return 'VARCHAR'; // the JSON logical type is read as plain VARCHAR
    case 'date': return 'DATE';
    case 'timestamp':
      // Any UTC-adjusted timestamp becomes TIMESTAMPTZ, which is microseconds:
      // ms is widened exactly, ns is truncated (lossy; compare.mjs notes it).
      if (col.utc) return 'TIMESTAMP WITH TIME ZONE';
      // Local ms is widened to TIMESTAMP (µs) exactly; ns stays TIMESTAMP_NS.
      return col.unit === 'ns' ? 'TIMESTAMP_NS' : 'TIMESTAMP';
    case 'decimal': return `DECIMAL(${col.precision},${col.scale})`;
  }
}

// ---------------------------------------------------------------------------
// Polars (nodejs-polars 0.26.x): the JS DataType, rendered by
// readers/polars.mjs as variant + parameters, e.g. "Datetime(us, UTC)".
// Binary has no JS DataType (nodejs-polars throws "DataType Binary is not
// supported for JS conversion"); the adapter reports it as "Binary".
function polars(col) {
  switch (col.type) {
    case 'bool': return 'Bool';
    case 'int32': return 'Int32';
    case 'int64': return 'Int64';
    case 'float': return 'Float32';
    case 'double': return 'Float64';
    case 'string': return 'String';
    case 'binary': return 'Binary';
    case 'json': return 'Binary'; // polars does not map the JSON logical type to String
    case 'date': return 'Date';
    case 'timestamp': return `Datetime(${col.unit}${col.utc ? ', UTC' : ''})`;
    case 'decimal': return `Decimal(${col.precision}, ${col.scale})`;
  }
}

// ---------------------------------------------------------------------------
// parquet-rs (parquet-wasm, Rust parquet/arrow 59.x) -> Arrow JS
// (apache-arrow): String(field.type), except decimals, which Arrow JS prints
// without their bit width ("Decimal[10e+2]"); readers/arrow.mjs renders them
// as "Decimal128(10, 2)".
function arrow(col) {
  switch (col.type) {
    case 'bool': return 'Bool';
    case 'int32': return 'Int32';
    case 'int64': return 'Int64';
    case 'float': return 'Float32';
    case 'double': return 'Float64';
    case 'string': return 'Utf8';
    case 'binary': return 'Binary';
    case 'json': return 'Utf8';
    case 'date': return 'Date32<DAY>';
    case 'timestamp': return `Timestamp<${TS_UNIT_ARROW[col.unit]}${col.utc ? ', UTC' : ''}>`;
    case 'decimal': return `Decimal128(${col.precision}, ${col.scale})`;
  }
}

// ---------------------------------------------------------------------------
// hyparquet: it has no type system of its own; it works from the Parquet
// schema element, which readers/hyparquet.mjs renders as
//   PHYSICAL[/CONVERTED_TYPE][ LOGICAL_TYPE]
// e.g. "INT64/TIMESTAMP_MICROS TIMESTAMP(MICROS,utc=true)".
// The alternatives below are the annotations with which hyparquet returns the
// right values.  NB hyparquet keys DECIMAL, DATE and JSON on the legacy
// converted_type only, so those are required.
function hyparquet(col) {
  switch (col.type) {
    case 'bool': return 'BOOLEAN';
    case 'int32': return 'INT32[/INT_32][ INTEGER(32,signed)]';
    case 'int64': return 'INT64[/INT_64][ INTEGER(64,signed)]';
    case 'float': return 'FLOAT';
    case 'double': return 'DOUBLE';
    case 'string': return 'BYTE_ARRAY{/UTF8[ STRING]| STRING}';
    case 'binary': return 'BYTE_ARRAY';
    case 'json': return 'BYTE_ARRAY/JSON[ JSON]';
    case 'date': return 'INT32/DATE[ DATE]';
    case 'timestamp': {
      const u = TS_UNIT_PARQUET[col.unit];
      const logical = `TIMESTAMP(${u},utc=${col.utc})`;
      // Legacy TIMESTAMP_MILLIS/MICROS exist for ms and us only.  (DuckDB also
      // writes them for local timestamps, next to the logical type.)
      if (col.unit === 'ns') return `INT64 ${logical}`;
      const converted = `/TIMESTAMP_${u}`;
      return col.utc ? `INT64{${converted}[ ${logical}]| ${logical}}` : `INT64[${converted}] ${logical}`;
    }
    case 'decimal': {
      const p = col.precision;
      const d = `DECIMAL(${p},${col.scale})`;
      const physical = ['BYTE_ARRAY'];
      if (p <= 9) physical.push('INT32');
      if (p <= 18) physical.push('INT64');
      for (let n = minDecimalBytes(p); n <= 16; n++) physical.push(`FIXED_LEN_BYTE_ARRAY(${n})`);
      return `{${physical.join('|')}}/${d}[ ${d}]`;
    }
  }
}

// ---------------------------------------------------------------------------
// pandas: could not be discovered (Debian 12 has no Parquet engine for
// pandas), so pandas types are reported but not checked.
const MAPPERS = { duckdb, polars, arrow, hyparquet };

/** Short description of what `reader` should report for `col` (null: not checked). */
export function expectedTypePattern(reader, col) {
  const f = MAPPERS[reader];
  return f ? f(col) : null;
}

/** Human-friendly rendering of a pattern (long FLBA alternatives folded). */
export function describePattern(pattern) {
  return pattern.replace(/FIXED_LEN_BYTE_ARRAY\((\d+)\)(?:\|FIXED_LEN_BYTE_ARRAY\((\d+)\))+/g, (m, first) => {
    const last = /\((\d+)\)$/.exec(m)[1];
    return `FIXED_LEN_BYTE_ARRAY(${first}..${last})`;
  });
}

const compiled = new Map();
/** Does `reported` (the reader's type name) match the mapping for `col`? */
export function typeMatches(reader, col, reported) {
  const pattern = expectedTypePattern(reader, col);
  if (pattern === null) return true;
  let re = compiled.get(pattern);
  if (!re) compiled.set(pattern, (re = compilePattern(pattern)));
  return re.test(reported);
}
