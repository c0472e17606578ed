// hyparquet reader (pure JS Parquet decoder) with hyparquet-compressors for
// ZSTD, GZIP, BROTLI, LZ4 and LZ4_RAW (SNAPPY is built in).
//
// hyparquet's defaults lose information, so the read uses its own options:
//   parsers.timestampFrom{Milli,Micro,Nano}seconds  raw bigint + unit
//                                               (default: JS Date, ms precision)
//   parsers.dateFromDays                        raw days (default: JS Date)
// Values are collected column by column through onChunk (no row assembly).
//   parsers.jsonFromBytes                       the JSON text, after checking
//                                               that hyparquet's default
//                                               JSON.parse accepts it
//   utf8: false                                 un-annotated BYTE_ARRAY stays bytes
// Decimals have no parser hook: hyparquet returns Number(unscaled) * 10**-scale,
// which is inexact.  So the values are read a first time with the DECIMAL
// annotation removed from our copy of the schema (hyparquet then returns the
// raw unscaled INT32 / INT64 / big-endian bytes, compared exactly), and the
// decimal columns a second time with the real schema to check that
// hyparquet's default numbers are right to within rounding.

import fs from 'node:fs';
import { parquetMetadata, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { bigIntFromBE } from '../canonical.mjs';

const decoder = new TextDecoder(); // what hyparquet itself uses for text

const parsers = {
  timestampFromMilliseconds: (v) => ({ ts: BigInt(v), unit: 'ms' }),
  timestampFromMicroseconds: (v) => ({ ts: BigInt(v), unit: 'us' }),
  timestampFromNanoseconds: (v) => ({ ts: BigInt(v), unit: 'ns' }),
  dateFromDays: (days) => days,
  jsonFromBytes(bytes) {
    if (!bytes) return bytes;
    const text = decoder.decode(bytes);
    try {
      JSON.parse(text); // hyparquet's default parser would throw on this value
    } catch (e) {
      return { invalid: `hyparquet's default JSON.parse rejects ${JSON.stringify(text.slice(0, 40))}: ${e.message}` };
    }
    return text;
  },
};

function logicalLabel(lt) {
  switch (lt.type) {
    case 'DECIMAL':
      return `DECIMAL(${lt.precision},${lt.scale})`;
    case 'TIMESTAMP':
    case 'TIME':
      return `${lt.type}(${lt.unit},utc=${lt.isAdjustedToUTC})`;
    case 'INTEGER':
      return `INTEGER(${lt.bitWidth},${lt.isSigned ? 'signed' : 'unsigned'})`;
    default:
      return lt.type;
  }
}

/** Render a schema element as PHYSICAL[/CONVERTED_TYPE][ LOGICAL_TYPE]. */
function typeLabel(el) {
  if (el.num_children) return `GROUP(${el.num_children} children)`;
  let s = el.type === 'FIXED_LEN_BYTE_ARRAY' ? `FIXED_LEN_BYTE_ARRAY(${el.type_length})` : el.type;
  if (el.converted_type) s += '/' + (el.converted_type === 'DECIMAL' ? `DECIMAL(${el.precision},${el.scale})` : el.converted_type);
  if (el.logical_type) s += ' ' + logicalLabel(el.logical_type);
  return s;
}

const isDecimal = (el) => el.converted_type === 'DECIMAL' || el.logical_type?.type === 'DECIMAL';
const decimalScale = (el) => (el.converted_type === 'DECIMAL' ? el.scale : el.logical_type.scale) ?? 0;

/** Top-level schema elements (the columns), skipping the children of groups. */
function topLevel(schema) {
  const out = [];
  let i = 1;
  for (let n = 0; n < (schema[0].num_children ?? 0); n++) {
    const el = schema[i];
    out.push(el);
    // Skip the whole subtree of a group.
    let pending = el.num_children ?? 0;
    i++;
    while (pending > 0) {
      pending += (schema[i].num_children ?? 0) - 1;
      i++;
    }
  }
  return out;
}

/** The kind of values hyparquet returns for this element (mirrors its convert()); see compare.mjs. */
function columnKind(el) {
  const ctype = el.converted_type;
  const ltype = el.logical_type?.type;
  if (isDecimal(el)) return { kind: 'decimal', scale: decimalScale(el) }; // raw, see pass 1
  if (el.type === 'BOOLEAN') return { kind: 'bool' };
  if (el.type === 'FLOAT' || el.type === 'DOUBLE') return { kind: 'float' };
  if (ctype === 'DATE') return { kind: 'days' };
  if (ctype === 'TIMESTAMP_MILLIS' || ctype === 'TIMESTAMP_MICROS' || ltype === 'TIMESTAMP' || el.type === 'INT96') return { kind: 'ts' };
  if (ctype === 'JSON' || ctype === 'UTF8' || ltype === 'STRING') return { kind: 'text' };
  if (el.type === 'INT32' || el.type === 'INT64') return { kind: 'int' };
  if (el.type === 'BYTE_ARRAY' || el.type === 'FIXED_LEN_BYTE_ARRAY') return { kind: 'bytes' };
  return { kind: 'other' };
}

const HOLE = Object.freeze({ invalid: 'hyparquet delivered no value for this row' });

/** Read `columns` (names) of the file column by column: { name: values[] }. */
async function readColumns(options, columns, numRows) {
  const out = Object.fromEntries(columns.map((name) => [name, new Array(numRows).fill(HOLE)]));
  await parquetRead({
    compressors,
    ...options,
    columns,
    onChunk({ columnName, columnData, rowStart }) {
      const arr = out[columnName];
      for (let i = 0; i < columnData.length && rowStart + i < numRows; i++) arr[rowStart + i] = columnData[i] ?? null;
    },
  });
  return out;
}

/**
 * Timestamps come from our parsers as { ts, unit }: keep the bigints and
 * move the unit to the column (the same for every value of a column).
 */
function unwrapTimestamps(values) {
  let unit;
  const out = values.map((v) => {
    if (v === null || v === HOLE || typeof v !== 'object' || !('ts' in v)) return v;
    unit ??= v.unit;
    return v.unit === unit ? v.ts : { invalid: `mixed units ${unit} and ${v.unit}` };
  });
  return { unit: unit ?? 'us', values: out };
}

export async function openHyparquet() {
  return {
    name: 'hyparquet',
    async read(file) {
      const buf = fs.readFileSync(file);
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      const metadata = parquetMetadata(ab);
      const columns = topLevel(metadata.schema);

      // Pass 1: everything, with decimals stripped to their raw unscaled values.
      const numRows = Number(metadata.num_rows);
      const names = columns.map((el) => el.name);
      const rawMetadata = {
        ...metadata,
        schema: metadata.schema.map((el) => (isDecimal(el) ? { ...el, converted_type: undefined, logical_type: undefined } : el)),
      };
      const data = await readColumns({ file: ab, metadata: rawMetadata, utf8: false, parsers }, names, numRows);

      // Pass 2: the decimal columns as hyparquet returns them by default.
      const decimalNames = columns.filter(isDecimal).map((el) => el.name);
      const defaults = decimalNames.length ? await readColumns({ file: ab, metadata }, decimalNames, numRows) : {};

      return {
        numRows,
        notes: [],
        columns: columns.map((el) => {
          const how = columnKind(el);
          let values = data[el.name];
          if (how.kind === 'decimal') {
            // INT32 -> number, INT64 -> bigint, (FIXED_LEN_)BYTE_ARRAY -> big-endian two's complement.
            values = values.map((v) => (v === null || v === HOLE ? v : v instanceof Uint8Array ? bigIntFromBE(v) : BigInt(v)));
          } else if (how.kind === 'ts') {
            ({ unit: how.unit, values } = unwrapTimestamps(values));
          }
          return {
            name: el.name,
            type: typeLabel(el),
            nullable: el.repetition_type !== 'REQUIRED',
            ...how,
            values,
            defaultNumbers: defaults[el.name],
          };
        }),
      };
    },
    close() {},
  };
}
