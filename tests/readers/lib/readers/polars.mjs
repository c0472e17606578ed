// Polars reader (nodejs-polars, Rust polars 0.55.x inside).
//
// nodejs-polars turns Int64 into JS numbers (rounding above 2^53) and cannot
// hand Decimal or Binary columns to JS at all, so every value that could lose
// precision is converted *inside polars* first:
//   integers  -> cast(Utf8)                 exact decimal text
//   Date      -> cast(Int32)                days since the epoch
//   Datetime  -> cast(Int64).cast(Utf8)     raw count of the column's unit
//   Decimal   -> cast(Utf8)                 "-12.30" (always `scale` digits)
//   Binary    -> cast(List(UInt8))          the bytes
// Floats come out as JS numbers (Float32 widened exactly); strings as strings.

import pl from 'nodejs-polars';

const INT_VARIANTS = new Set(['Int8', 'Int16', 'Int32', 'Int64', 'UInt8', 'UInt16', 'UInt32', 'UInt64']);

/**
 * The column's polars type: { label, variant, dt }.  nodejs-polars throws for
 * dtypes it cannot express in JS ("DataType Binary is not supported for JS
 * conversion"); the type name is then taken from that message.
 */
function columnType(df, name) {
  let dt;
  try {
    dt = df.getColumn(name).dtype;
  } catch (e) {
    const m = /DataType (\w+) is not supported/.exec(e.message);
    if (!m) throw e;
    return { label: m[1], variant: m[1], dt: null };
  }
  const v = dt.variant;
  if (v === 'Datetime') return { label: `Datetime(${dt.timeUnit}${dt.timeZone ? `, ${dt.timeZone}` : ''})`, variant: v, dt };
  if (v === 'Decimal') return { label: `Decimal(${dt.precision}, ${dt.scale})`, variant: v, dt };
  if (v === 'Bool' || INT_VARIANTS.has(v) || ['Float32', 'Float64', 'String', 'Date', 'Binary'].includes(v)) {
    return { label: v, variant: v, dt };
  }
  // Anything else (List, Struct, …): polars' own rendering, "DataType(…)" stripped.
  return { label: String(dt).replace(/^DataType\((.*)\)$/, '$1'), variant: v, dt };
}

/** Polars expression that makes the column safe to bring into JS. */
function extractExpr(name, variant) {
  const c = pl.col(name);
  if (INT_VARIANTS.has(variant) || variant === 'Decimal') return c.cast(pl.Utf8);
  if (variant === 'Date') return c.cast(pl.Int32);
  if (variant === 'Datetime') return c.cast(pl.Int64).cast(pl.Utf8);
  if (variant === 'Binary') return c.cast(pl.List(pl.UInt8));
  return c;
}

/** How to read the extracted column: { kind, unit?, scale?, conv(v) } (kinds: see compare.mjs). */
function columnReader(type) {
  const { variant, dt } = type;
  if (INT_VARIANTS.has(variant)) return { kind: 'int', conv: (v) => BigInt(v) };
  if (variant === 'Decimal') {
    // polars prints exactly `scale` fraction digits ("-0.05", "12.30", "7").
    const scale = dt.scale;
    return {
      kind: 'decimal',
      scale,
      conv(v) {
        const dot = v.indexOf('.');
        if ((dot < 0 ? 0 : v.length - dot - 1) !== scale || !/^-?[0-9]+(\.[0-9]+)?$/.test(v)) {
          return { invalid: `polars decimal text ${JSON.stringify(v)} for scale ${scale}` };
        }
        return BigInt(v.replace('.', ''));
      },
    };
  }
  if (variant === 'Date') return { kind: 'days', conv: (v) => v };
  if (variant === 'Datetime') return { kind: 'ts', unit: dt.timeUnit, conv: (v) => BigInt(v) };
  if (variant === 'Binary') return { kind: 'bytes', conv: (v) => Uint8Array.from(v) };
  if (variant === 'Bool') return { kind: 'bool', conv: (v) => v };
  if (variant === 'Float32' || variant === 'Float64') return { kind: 'float', conv: (v) => v };
  if (variant === 'String') return { kind: 'text', conv: (v) => v };
  return { kind: 'other', conv: (v) => ({ invalid: `polars ${type.label} value ${JSON.stringify(v)}` }) };
}

/** Wrap a converter so that a bad value becomes { invalid } instead of aborting the read. */
function safe(conv) {
  return (v) => {
    try {
      return conv(v);
    } catch (e) {
      return { invalid: e.message };
    }
  };
}

export async function openPolars() {
  return {
    name: 'polars',
    async read(file) {
      const df = pl.readParquet(file);
      const names = df.columns;
      const types = names.map((n) => columnType(df, n));
      const extracted = df.select(...names.map((n, i) => extractExpr(n, types[i].variant)));
      return {
        numRows: df.height,
        notes: [],
        columns: names.map((name, i) => {
          const { conv, ...how } = columnReader(types[i]);
          const safeConv = safe(conv);
          const values = extracted.getColumn(name).toArray().map((v) => (v === null || v === undefined ? null : safeConv(v)));
          return { name, type: types[i].label, ...how, values };
        }),
      };
    },
    close() {},
  };
}
