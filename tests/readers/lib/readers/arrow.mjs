// parquet-rs reader: parquet-wasm (the Rust `parquet` crate compiled to
// WebAssembly) decodes the file to Arrow, handed to Arrow JS (apache-arrow)
// as an IPC stream.
//
// Values that Arrow JS would convert lossily are read from the raw buffers:
//   Date32     -> Int32 days
//   Timestamp  -> BigInt64 count of the field's unit (Arrow JS's get() gives
//                 float milliseconds)
//   Decimal    -> two's complement little-endian words (bitWidth/32 per value)
//   Int, Float -> the typed array itself
// Everything else goes through Vector.get(), which is exact for our types.

import fs from 'node:fs';
import * as pw from 'parquet-wasm';
import * as arrow from 'apache-arrow';
import { bigIntFromLEWords } from '../canonical.mjs';

const { Type, TimeUnit, DateUnit } = arrow;
const UNIT = { [TimeUnit.SECOND]: 's', [TimeUnit.MILLISECOND]: 'ms', [TimeUnit.MICROSECOND]: 'us', [TimeUnit.NANOSECOND]: 'ns' };

/** The type name we report: Arrow JS's, except decimals (which it prints without bit width). */
function typeLabel(type) {
  if (type.typeId === Type.Decimal) return `Decimal${type.bitWidth}(${type.precision}, ${type.scale})`;
  return String(type);
}

/** Kind of the column's values (see compare.mjs) and its unit / scale. */
function columnKind(type) {
  switch (type.typeId) {
    case Type.Bool: return { kind: 'bool' };
    case Type.Int: return { kind: 'int' };
    case Type.Float: return { kind: 'float' };
    case Type.Utf8:
    case Type.LargeUtf8: return { kind: 'text' };
    case Type.Binary:
    case Type.LargeBinary:
    case Type.FixedSizeBinary: return { kind: 'bytes' };
    case Type.Date: return type.unit === DateUnit.DAY ? { kind: 'days' } : { kind: 'ts', unit: 'ms' }; // Date64: ms
    case Type.Timestamp: return { kind: 'ts', unit: UNIT[type.unit] };
    case Type.Decimal: return { kind: 'decimal', scale: type.scale };
    default: return { kind: 'other' };
  }
}

/** Values of one column, read chunk by chunk (null for NULL). */
function columnValues(vector) {
  const type = vector.type;
  const out = new Array(vector.length);
  let k = 0;
  for (const data of vector.data) {
    const { offset, values } = data;
    for (let j = 0; j < data.length; j++, k++) {
      if (!data.getValid(j)) {
        out[k] = null;
        continue;
      }
      switch (type.typeId) {
        case Type.Date: // Int32Array days (Date64: BigInt64Array ms)
        case Type.Timestamp: // BigInt64Array in the type's unit
        case Type.Int: // Int32Array / BigInt64Array (or unsigned variants)
        case Type.Float: // Float32Array / Float64Array: exact as JS numbers
          out[k] = values[offset + j];
          break;
        case Type.Decimal: {
          const stride = type.bitWidth / 32;
          const at = (offset + j) * stride;
          out[k] = bigIntFromLEWords(values.subarray(at, at + stride));
          break;
        }
        default:
          // Bool -> boolean, Utf8 -> string, Binary -> Uint8Array.
          out[k] = vector.get(k);
      }
    }
  }
  return out;
}

export async function openArrow() {
  return {
    name: 'arrow',
    async read(file) {
      const wasmTable = pw.readParquet(new Uint8Array(fs.readFileSync(file)));
      const table = arrow.tableFromIPC(wasmTable.intoIPCStream());
      return {
        numRows: table.numRows,
        notes: [],
        columns: table.schema.fields.map((field, i) => ({
          name: field.name,
          type: typeLabel(field.type),
          nullable: field.nullable,
          ...columnKind(field.type),
          values: columnValues(table.getChildAt(i)),
        })),
      };
    },
    close() {},
  };
}
