// Loading and strict validation of EXPECTED.json (written by the C test
// generator).  A malformed EXPECTED.json is reported as an error of its own,
// so a generator bug can never make a reader check pass by accident.
//
// Format:
//   { "columns": [ {"name", "type", "nullable", ...type parameters} ],
//     "num_rows": N,
//     "rows": [ [v, v, ...], ... ] }          row-major, canonical values
// See README.md for the canonical value forms.

import fs from 'node:fs';

export class ExpectedError extends Error {}

const TYPES = new Set(['bool', 'int32', 'int64', 'float', 'double', 'string', 'binary', 'json', 'date', 'timestamp', 'decimal']);
const INT_RE = /^(0|-?[1-9][0-9]*)$/;
const RANGES = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  date: [-(2n ** 31n), 2n ** 31n - 1n],
  timestamp: [-(2n ** 63n), 2n ** 63n - 1n],
};

/** Human-readable form of a column's type, e.g. "timestamp(us, utc)" or "decimal(10,2)". */
export function ourTypeName(col) {
  if (col.type === 'timestamp') return `timestamp(${col.unit}${col.utc ? ', utc' : ''})`;
  if (col.type === 'decimal') return `decimal(${col.precision},${col.scale})`;
  return col.type;
}

function checkColumn(c, i) {
  const where = `columns[${i}]`;
  if (typeof c !== 'object' || c === null) throw new ExpectedError(`${where} is not an object`);
  if (typeof c.name !== 'string' || c.name === '') throw new ExpectedError(`${where}.name must be a non-empty string`);
  if (!TYPES.has(c.type)) throw new ExpectedError(`${where} (${c.name}): unknown type ${JSON.stringify(c.type)}`);
  if (typeof c.nullable !== 'boolean') throw new ExpectedError(`${where} (${c.name}): "nullable" must be true or false`);
  if (c.type === 'timestamp') {
    if (!['ms', 'us', 'ns'].includes(c.unit)) throw new ExpectedError(`${where} (${c.name}): timestamp "unit" must be ms, us or ns`);
    if (typeof c.utc !== 'boolean') throw new ExpectedError(`${where} (${c.name}): timestamp "utc" must be true or false`);
  }
  if (c.type === 'decimal') {
    const { precision: p, scale: s } = c;
    if (!Number.isInteger(p) || p < 1 || p > 38) throw new ExpectedError(`${where} (${c.name}): decimal precision must be 1..38`);
    if (!Number.isInteger(s) || s < 0 || s > p) throw new ExpectedError(`${where} (${c.name}): decimal scale must be 0..precision`);
  }
}

function decimalRegex(col) {
  const intDigits = col.precision - col.scale;
  // Integer part: "0" or up to intDigits digits without a leading zero.
  const intPart = intDigits > 0 ? `(0|[1-9][0-9]{0,${intDigits - 1}})` : '0';
  return new RegExp(`^-?${intPart}${col.scale > 0 ? `\\.[0-9]{${col.scale}}` : ''}$`);
}

const scratch = new DataView(new ArrayBuffer(8));

const HEX_DIGIT = new Uint8Array(128);
for (let i = 0; i < 16; i++) HEX_DIGIT['0123456789abcdef'.charCodeAt(i)] = i;

/** Lowercase hex -> bytes (the caller has validated the hex). */
function bytesFromHex(h) {
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (HEX_DIGIT[h.charCodeAt(2 * i)] << 4) | HEX_DIGIT[h.charCodeAt(2 * i + 1)];
  return out;
}

/**
 * Returns a function(v, rowIndex) that throws ExpectedError unless `v` is a
 * canonical value for `col`, and otherwise returns the value decoded for fast
 * comparison (see compare.mjs):
 *   bool -> boolean; int32/int64/timestamp -> bigint; date -> number (days);
 *   float/double -> number (exact, NaN for "NaN"); string/json -> string;
 *   binary -> Uint8Array; decimal -> bigint unscaled at the column's scale.
 */
function makeValueDecoder(col) {
  const floatRe = col.type === 'float' ? /^f32:[0-9a-f]{8}$/ : /^f64:[0-9a-f]{16}$/;
  const decRe = col.type === 'decimal' ? decimalRegex(col) : null;
  return (v, row) => decodeValue(col, v, row, floatRe, decRe);
}

// (No closures per value: this runs for every expected value.)
const notCanonical = (col, row, v, why) =>
  new ExpectedError(`column ${col.name} row ${row}: ${JSON.stringify(v)} is not a canonical ${col.type} value (${why})`);

function decodeValue(col, v, row, floatRe, decRe) {
  if (v === null) {
    if (!col.nullable) throw new ExpectedError(`column ${col.name} row ${row}: null in a column declared "nullable": false`);
    return null;
  }
  switch (col.type) {
    case 'bool':
      if (typeof v !== 'boolean') throw notCanonical(col, row, v, 'expected JSON true/false');
      return v;
    case 'int32':
    case 'int64':
    case 'date':
    case 'timestamp': {
      if (typeof v !== 'string' || !INT_RE.test(v)) throw notCanonical(col, row, v, 'expected a decimal integer string');
      const [lo, hi] = RANGES[col.type];
      const n = BigInt(v);
      if (n < lo || n > hi) throw notCanonical(col, row, v, 'out of range');
      return col.type === 'date' ? Number(n) : n;
    }
    case 'float':
    case 'double': {
      if (v === 'NaN') return NaN;
      const isFloat = col.type === 'float';
      if (typeof v !== 'string' || !floatRe.test(v)) {
        throw notCanonical(col, row, v, `expected "NaN" or "${isFloat ? 'f32:' : 'f64:'}" + ${isFloat ? 8 : 16} lowercase hex digits`);
      }
      let x;
      if (isFloat) {
        scratch.setUint32(0, parseInt(v.slice(4), 16));
        x = scratch.getFloat32(0);
      } else {
        scratch.setBigUint64(0, BigInt('0x' + v.slice(4)));
        x = scratch.getFloat64(0);
      }
      if (Number.isNaN(x)) throw notCanonical(col, row, v, 'a NaN must be written as "NaN"');
      return x;
    }
    case 'string':
      if (typeof v !== 'string') throw notCanonical(col, row, v, 'expected a JSON string');
      return v;
    case 'json':
      if (typeof v !== 'string') throw notCanonical(col, row, v, 'expected the JSON text as a string');
      try {
        JSON.parse(v);
      } catch {
        throw notCanonical(col, row, v, 'not valid JSON text');
      }
      return v;
    case 'binary':
      if (typeof v !== 'string' || !/^([0-9a-f]{2})*$/.test(v)) throw notCanonical(col, row, v, 'expected lowercase hex');
      return bytesFromHex(v);
    case 'decimal':
      if (typeof v !== 'string' || !decRe.test(v) || /^-0(\.0*)?$/.test(v)) {
        throw notCanonical(col, row, v, `expected exactly ${col.scale} fraction digits, at most ${col.precision - col.scale} integer digits, no "+", no "-0"`);
      }
      return BigInt(v.replace('.', ''));
  }
}

/**
 * Validate a parsed EXPECTED.json object; returns it (columns, num_rows, rows)
 * with a non-enumerable `decoded` property: per column, the decoded values.
 */
export function validateExpected(doc) {
  if (typeof doc !== 'object' || doc === null) throw new ExpectedError('top level is not an object');
  if (!Array.isArray(doc.columns) || doc.columns.length === 0) throw new ExpectedError('"columns" must be a non-empty array');
  doc.columns.forEach(checkColumn);
  const names = new Set();
  for (const c of doc.columns) {
    if (names.has(c.name)) throw new ExpectedError(`duplicate column name ${JSON.stringify(c.name)}`);
    names.add(c.name);
  }
  if (!Number.isSafeInteger(doc.num_rows) || doc.num_rows < 0) throw new ExpectedError('"num_rows" must be a non-negative integer');
  if (!Array.isArray(doc.rows)) throw new ExpectedError('"rows" must be an array');
  if (doc.rows.length !== doc.num_rows) throw new ExpectedError(`"num_rows" is ${doc.num_rows} but "rows" has ${doc.rows.length} entries`);
  const ncol = doc.columns.length;
  const decoders = doc.columns.map(makeValueDecoder);
  // Column-major decoded values, for fast comparison (not part of the format).
  const decoded = doc.columns.map(() => new Array(doc.rows.length));
  for (let r = 0; r < doc.rows.length; r++) {
    const row = doc.rows[r];
    if (!Array.isArray(row) || row.length !== ncol) throw new ExpectedError(`rows[${r}] must be an array of ${ncol} values`);
    for (let c = 0; c < ncol; c++) decoded[c][r] = decoders[c](row[c], r);
  }
  Object.defineProperty(doc, 'decoded', { value: decoded, enumerable: false });
  return doc;
}

/** Read and validate an EXPECTED.json file. */
export function loadExpected(path) {
  let text;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new ExpectedError(`cannot read: ${e.message}`);
  }
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ExpectedError(`not valid JSON: ${e.message}`);
  }
  return validateExpected(doc);
}
