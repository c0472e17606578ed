// Comparison of one reader's view of a file with EXPECTED.json.
//
// A reader adapter returns { numRows, notes, columns: [ReaderColumn] } where
//   ReaderColumn = { name, type, nullable?, kind, unit?, scale?, values,
//                    defaultNumbers?, nanIsNull? }
//   type      the reader's own type name (checked against typemap.mjs)
//   nullable  only for readers that expose the Parquet repetition
//   kind      what `values` hold, chosen by the reader's own column type:
//               'bool'    booleans
//               'int'     bigints or integral numbers
//               'float'   JS numbers (float32 values widened exactly)
//               'text'    strings
//               'bytes'   Uint8Arrays
//               'days'    numbers, days since 1970-01-01
//               'ts'      bigints, count of `unit` ('s' | 'ms' | 'us' | 'ns')
//               'decimal' bigints, unscaled, with `scale`
//               'json'    JSON values the reader parsed itself
//               'other'   anything else (always compared the slow way)
//             null / undefined is NULL; { invalid: message } is a value the
//             adapter could not convert.
//   defaultNumbers  (hyparquet) the JS numbers it returns for decimals by default
//   nanIsNull       (pandas) float column where the reader cannot tell NaN from null
//
// Values are compared with a fast type-specific equality against the decoded
// expected values (expected.mjs); anything that is not equal goes through the
// slow path, which puts the reader's value in canonical form (canonical.mjs),
// decides, and writes the message.

import { canonicalize, CanonError, UNIT_PER_SECOND, UNIT_LABEL, truncDiv } from './canonical.mjs';
import { ourTypeName } from './expected.mjs';
import { expectedTypePattern, describePattern, typeMatches } from './typemap.mjs';

const MAX_MESSAGES = 5;

// Relative tolerance for hyparquet's default decimal numbers, which it computes
// as Number(unscaled) * 10 ** -scale (a few roundings).  The exact check is
// done separately on the raw unscaled values.
const DECIMAL_NUMBER_RTOL = 2 ** -48;

/** JSON-quote a value for a message, shortened to keep lines readable. */
export function show(v) {
  if (v === null || v === undefined) return 'null';
  let s = typeof v === 'object' && 'json' in v ? `(parsed JSON) ${JSON.stringify(v.json)}` : JSON.stringify(v);
  if (s.length > 80) s = s.slice(0, 77) + '…' + s.slice(-1);
  return s;
}

/** The per-value intermediate form of canonical.mjs, rebuilt from a column value. */
function intermediateOf(gc, v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object' && !(v instanceof Uint8Array) && 'invalid' in v) return v;
  switch (gc.kind) {
    case 'days':
      return { days: v };
    case 'ts':
      return { ts: BigInt(v), unit: gc.unit };
    case 'decimal':
      return { unscaled: BigInt(v), scale: gc.scale };
    case 'json':
      return { json: v };
    default:
      return v;
  }
}

function bytesEqual(a, b) {
  if (!(a instanceof Uint8Array) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const isIntegral = (g) => typeof g === 'bigint' || typeof g === 'number';

/**
 * Fast equality (expected decoded value, reader value) -> boolean for this
 * column pair, or null when only the slow path applies.  It may only return
 * true for values that are really equal; false sends the value to the slow path.
 * `==` is deliberate below: bigint == number compares exact mathematical
 * values (9007199254740993n == 9007199254740992 is false).
 */
function fastEqual(col, gc) {
  switch (col.type) {
    case 'bool':
      return gc.kind === 'bool' ? (e, g) => e === g : null;
    case 'int32':
    case 'int64':
      // bigint == number compares exact mathematical values.
      return gc.kind === 'int' ? (e, g) => isIntegral(g) && e == g : null;
    case 'float':
    case 'double':
      // Object.is: -0 differs from +0, every NaN equals every NaN.
      return gc.kind === 'float' ? (e, g) => Object.is(e, g) : null;
    case 'string':
    case 'json':
      return gc.kind === 'text' ? (e, g) => e === g : null;
    case 'binary':
      return gc.kind === 'bytes' ? bytesEqual : null;
    case 'date':
      return gc.kind === 'days' ? (e, g) => e === g : null;
    case 'timestamp':
      if (gc.kind !== 'ts') return null;
      if (gc.unit === col.unit) return (e, g) => isIntegral(g) && e == g;
      if (UNIT_PER_SECOND[gc.unit] > UNIT_PER_SECOND[col.unit]) {
        const f = UNIT_PER_SECOND[gc.unit] / UNIT_PER_SECOND[col.unit];
        return (e, g) => isIntegral(g) && e * f == g;
      }
      return null; // coarser unit: slow path (lossy, noted)
    case 'decimal':
      return gc.kind === 'decimal' && gc.scale === col.scale ? (e, g) => isIntegral(g) && e == g : null;
  }
  return null;
}

/**
 * Compare a reader result with the (validated) expected document.
 * Returns { mismatches, messages (at most MAX_MESSAGES), notes }.
 */
export function compareResult(readerName, expected, result) {
  const out = { mismatches: 0, messages: [], notes: [...(result.notes ?? [])] };
  const fail = (msg) => {
    out.mismatches++;
    if (out.messages.length < MAX_MESSAGES) out.messages.push(msg);
  };
  const note = (msg) => {
    if (!out.notes.includes(msg)) out.notes.push(msg);
  };

  // --- schema: column names and order ---------------------------------------
  const gotNames = result.columns.map((c) => c.name);
  const expNames = expected.columns.map((c) => c.name);
  if (gotNames.join('\u0000') !== expNames.join('\u0000')) {
    fail(`columns: expected ${show(expNames.join(', '))} got ${show(gotNames.join(', '))}`);
  }

  // --- number of rows --------------------------------------------------------
  if (result.numRows !== expected.num_rows) fail(`rows: expected ${expected.num_rows} got ${result.numRows}`);
  const nrows = Math.min(result.numRows, expected.num_rows);

  expected.columns.forEach((col, ci) => {
    // Match by name (so one missing column does not shift all the others).
    const gc = result.columns.find((c) => c.name === col.name);
    if (!gc) {
      fail(`column ${col.name}: missing`);
      return;
    }

    // --- type, as this reader names it -------------------------------------
    if (!typeMatches(readerName, col, gc.type)) {
      const want = describePattern(expectedTypePattern(readerName, col));
      fail(`column ${col.name}: type expected ${show(want)} (our ${ourTypeName(col)}) got ${show(gc.type)}`);
    }
    if (gc.nullable !== undefined && gc.nullable !== col.nullable) {
      fail(`column ${col.name}: nullable expected ${col.nullable} got ${gc.nullable}`);
    }

    // --- values ---------------------------------------------------------------
    const dec = expected.decoded[ci];
    const eq = fastEqual(col, gc);
    const values = gc.values;
    for (let r = 0; r < nrows; r++) {
      const e = dec[r];
      const g = values[r];
      if (e === null) {
        if (g === null || g === undefined) continue;
      } else if (eq !== null && g !== null && g !== undefined && eq(e, g)) {
        continue;
      }
      slowCompare(col, gc, expected.rows[r][ci], intermediateOf(gc, g), r, fail, note);
    }

    // --- hyparquet's default decimal numbers (approximate by design) --------
    if (gc.defaultNumbers) {
      for (let r = 0; r < nrows; r++) {
        const exp = expected.rows[r][ci];
        const num = gc.defaultNumbers[r];
        if (exp === null || num === null || num === undefined) {
          if ((exp === null) !== (num === null || num === undefined)) fail(`column ${col.name} row ${r} (default number): expected ${show(exp)} got ${show(num)}`);
          continue;
        }
        const want = Number(exp);
        if (typeof num !== 'number' || !(Math.abs(num - want) <= Math.abs(want) * DECIMAL_NUMBER_RTOL)) {
          fail(`column ${col.name} row ${r} (default number): expected ≈${show(exp)} got ${show(typeof num === 'number' ? String(num) : num)}`);
        }
      }
    }
  });
  return out;
}

/** Slow path for one value: canonical form, special cases, message. */
function slowCompare(col, gc, exp, raw, r, fail, note) {
  // Timestamps the reader holds in a coarser unit than ours (DuckDB: ns UTC ->
  // µs) cannot be compared exactly: compare with the expected value truncated
  // toward zero, as the reader does, and say so.
  if (col.type === 'timestamp' && raw && UNIT_PER_SECOND[raw.unit] < UNIT_PER_SECOND[col.unit]) {
    const f = UNIT_PER_SECOND[col.unit] / UNIT_PER_SECOND[raw.unit];
    note(`column ${col.name}: reader has ${UNIT_LABEL[raw.unit]} only for ${UNIT_LABEL[col.unit]} timestamps; compared the expected value truncated to ${UNIT_LABEL[raw.unit]}`);
    const expT = exp === null ? null : truncDiv(BigInt(exp), f).toString();
    if (expT !== raw.ts.toString()) {
      fail(`column ${col.name} row ${r}: expected ${show(exp)} (${show(expT)} in ${UNIT_LABEL[raw.unit]}) got ${show(raw.ts.toString())} ${UNIT_LABEL[raw.unit]}`);
    }
    return;
  }
  let got;
  try {
    got = canonicalize(col, raw);
  } catch (e) {
    if (!(e instanceof CanonError)) throw e;
    fail(`column ${col.name} row ${r}: expected ${show(exp)} got unrepresentable value: ${e.message}`);
    return;
  }
  if (valuesEqual(exp, got)) return;
  if (gc.nanIsNull && ((exp === 'NaN' && got === null) || (exp === null && got === 'NaN'))) {
    note(`column ${col.name}: reader does not distinguish NaN from null; accepted one for the other`);
    return;
  }
  fail(`column ${col.name} row ${r}: expected ${show(exp)} got ${show(got)}`);
}

/** Equality of an expected canonical value and a canonicalized reader value. */
function valuesEqual(exp, got) {
  if (got !== null && typeof got === 'object' && 'json' in got) {
    // The reader parsed the JSON for us: compare re-serialized forms.
    return exp !== null && JSON.stringify(got.json) === JSON.stringify(JSON.parse(exp));
  }
  return exp === got;
}
