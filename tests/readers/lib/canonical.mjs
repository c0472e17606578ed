// Canonical value forms shared by every reader adapter.
//
// Each reader adapter turns what its library returns into a small set of
// "intermediate" JS values, and canonicalize() below turns those into the
// canonical strings used in EXPECTED.json.  Keeping the formatting in one place
// means every reader is held to exactly the same rules.
//
// Intermediate values an adapter may produce:
//   null                       SQL NULL
//   boolean                    bool columns
//   bigint                     integer columns (int32 and int64)
//   number                     float / double columns (JS double; float32
//                              values widened exactly)
//   string                     string / json columns
//   Uint8Array                 binary columns (also accepted for string/json:
//                              decoded as strict UTF-8)
//   { days }                   date: days since 1970-01-01
//   { ts, unit }               timestamp: bigint count of `unit` ('s','ms','us','ns')
//   { unscaled, scale }        decimal: bigint unscaled value and its scale
//   { json }                   a JSON value the reader already parsed
//   { invalid }                a value the adapter could not convert (message)

export class CanonError extends Error {}

const scratch = new DataView(new ArrayBuffer(8));
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** IEEE-754 binary32 bits of a float as "f32:xxxxxxxx"; any NaN -> "NaN". */
export function f32Canon(x) {
  if (typeof x !== 'number') throw new CanonError(`expected a number, got ${describe(x)}`);
  if (Number.isNaN(x)) return 'NaN';
  // A float32 column must hold values that are exactly representable in
  // binary32; anything else means the reader (or file) is not float32.
  if (Math.fround(x) !== x) throw new CanonError(`${x} is not a binary32 value`);
  scratch.setFloat32(0, x);
  return 'f32:' + scratch.getUint32(0).toString(16).padStart(8, '0');
}

/** IEEE-754 binary64 bits of a double as "f64:" + 16 hex digits; any NaN -> "NaN". */
export function f64Canon(x) {
  if (typeof x !== 'number') throw new CanonError(`expected a number, got ${describe(x)}`);
  if (Number.isNaN(x)) return 'NaN';
  scratch.setFloat64(0, x);
  return 'f64:' + scratch.getBigUint64(0).toString(16).padStart(16, '0');
}

/** Lowercase hex of a byte array. */
export function hex(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return s;
}

/** Strict UTF-8 decode (throws CanonError on invalid UTF-8). */
export function utf8(bytes) {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new CanonError(`invalid UTF-8 bytes 0x${hex(bytes.subarray(0, 32))}${bytes.length > 32 ? '…' : ''}`);
  }
}

/** Canonical decimal string for an unscaled bigint: exactly `scale` fraction digits. */
export function decimalCanon(unscaled, scale) {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
  }
  return (neg ? '-' : '') + digits;
}

/** Two's complement integer from big-endian bytes (Parquet FLBA/BYTE_ARRAY decimals). */
export function bigIntFromBE(bytes) {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (bytes[0] & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return v;
}

/** Two's complement integer from little-endian 32-bit words (Arrow Decimal128/256 buffers). */
export function bigIntFromLEWords(words) {
  let v = 0n;
  for (let i = words.length - 1; i >= 0; i--) v = (v << 32n) | BigInt(words[i] >>> 0);
  if (words[words.length - 1] & 0x80000000) v -= 1n << BigInt(words.length * 32);
  return v;
}

// Multipliers between time units, relative to seconds.
export const UNIT_PER_SECOND = { s: 1n, ms: 1000n, us: 1000000n, ns: 1000000000n };
export const UNIT_LABEL = { s: 's', ms: 'ms', us: 'µs', ns: 'ns' };

/** Integer division truncating toward zero (BigInt '/' already does this). */
export const truncDiv = (a, b) => a / b;

/**
 * Canonicalize one intermediate value for the expected column `col`.
 * Returns null, a boolean, a canonical string, or { json } for parsed JSON.
 * Throws CanonError when the value cannot be put in canonical form exactly.
 *
 * Timestamps in a unit coarser than the column's are NOT handled here: they
 * cannot be represented exactly, see compare.mjs (lossy comparison + note).
 */
export function canonicalize(col, v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object' && 'invalid' in v) throw new CanonError(v.invalid);
  switch (col.type) {
    case 'bool':
      if (typeof v !== 'boolean') throw new CanonError(`expected a boolean, got ${describe(v)}`);
      return v;
    case 'int32':
    case 'int64':
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
      throw new CanonError(`expected an integer, got ${describe(v)}`);
    case 'float':
      return f32Canon(v);
    case 'double':
      return f64Canon(v);
    case 'string':
      if (typeof v === 'string') return v;
      if (v instanceof Uint8Array) return utf8(v);
      throw new CanonError(`expected text, got ${describe(v)}`);
    case 'json':
      if (typeof v === 'string') return v;
      if (v instanceof Uint8Array) return utf8(v);
      if (typeof v === 'object' && 'json' in v) return v;
      throw new CanonError(`expected JSON text, got ${describe(v)}`);
    case 'binary':
      if (v instanceof Uint8Array) return hex(v);
      throw new CanonError(`expected bytes, got ${describe(v)}`);
    case 'date':
      if (typeof v === 'object' && 'days' in v) return String(v.days);
      throw new CanonError(`expected a date, got ${describe(v)}`);
    case 'timestamp': {
      if (!(typeof v === 'object' && 'ts' in v)) throw new CanonError(`expected a timestamp, got ${describe(v)}`);
      const from = UNIT_PER_SECOND[v.unit];
      const to = UNIT_PER_SECOND[col.unit];
      if (from === to) return v.ts.toString();
      if (from > to) {
        // Reader unit is finer (e.g. DuckDB reads ms as µs): exact if divisible.
        const f = from / to;
        if (v.ts % f === 0n) return (v.ts / f).toString();
        throw new CanonError(`${v.ts} ${UNIT_LABEL[v.unit]} is not a whole number of ${UNIT_LABEL[col.unit]}`);
      }
      throw new CanonError(`internal: coarser timestamp unit must be compared by compare.mjs`);
    }
    case 'decimal': {
      if (!(typeof v === 'object' && 'unscaled' in v)) throw new CanonError(`expected a decimal, got ${describe(v)}`);
      let { unscaled, scale } = v;
      // Bring to the column's scale when that is exact; the reader's own type
      // (and so its scale) is checked separately by the type mapping.
      if (scale < col.scale) {
        unscaled *= 10n ** BigInt(col.scale - scale);
        scale = col.scale;
      } else if (scale > col.scale) {
        const f = 10n ** BigInt(scale - col.scale);
        if (unscaled % f !== 0n) return decimalCanon(unscaled, scale); // shows the extra digits
        unscaled /= f;
        scale = col.scale;
      }
      return decimalCanon(unscaled, scale);
    }
    default:
      throw new CanonError(`unknown column type ${col.type}`);
  }
}

/** Short human description of an arbitrary value for error messages. */
export function describe(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof Uint8Array) return `bytes 0x${hex(v.subarray(0, 32))}${v.length > 32 ? '…' : ''}`;
  if (v instanceof Date) return `Date ${v.toISOString()}`;
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));
    } catch {
      return String(v);
    }
  }
  return String(v);
}
