// pandas check, through Debian's /usr/bin/python3 (never the pyenv python3
// that may be first on PATH).  pandas needs pyarrow or fastparquet to read
// Parquet, and Debian 12 packages neither, so normally the probe below finds
// no engine and check.mjs prints one note per run instead of checking.
//
// If an engine is ever present, each file is read by pandas_read.py, which
// tags every value so that it can be compared exactly.  pandas' types are
// reported but not checked (no mapping could be discovered without an
// engine), and in float columns NaN and null are accepted for one another,
// with a note, since numpy-backed pandas cannot tell them apart.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fs.readFileSync(new URL('./pandas_read.py', import.meta.url), 'utf8');

export const PANDAS_NO_ENGINE_NOTE = 'no Parquet engine in Debian 12 (pyarrow/fastparquet not packaged): not checked';

function runPython(arg) {
  const r = spawnSync(PYTHON, ['-c', SCRIPT, arg], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) return { status: 'error', error: `${PYTHON}: ${r.error.message}` };
  if (r.status !== 0) return { status: 'error', error: (r.stderr || `exit status ${r.status}`).trim().split('\n').pop() };
  try {
    return JSON.parse(r.stdout);
  } catch {
    return { status: 'error', error: `unexpected output: ${r.stdout.slice(0, 200)}` };
  }
}

/**
 * Once per run: can pandas read Parquet here?
 * Returns { available: true, version, engine } or { available: false, note }.
 */
export function probePandas() {
  const p = runPython('--probe');
  if (p.status === 'ok') return { available: true, version: p.pandas, engine: p.engine };
  if (p.status === 'no-engine') return { available: false, note: PANDAS_NO_ENGINE_NOTE };
  if (p.status === 'no-pandas') return { available: false, note: `pandas not importable by ${PYTHON} (apt-get install python3-pandas): not checked` };
  return { available: false, note: `could not run ${PYTHON}: ${p.error}: not checked` };
}

const scratch = new DataView(new ArrayBuffer(8));

/** Tagged JSON value from pandas_read.py -> intermediate value (see canonical.mjs). */
function untag(col, v) {
  if (v === null || typeof v !== 'object') return v; // null, boolean, string
  if ('i' in v) return BigInt(v.i);
  if ('f' in v) {
    scratch.setBigUint64(0, BigInt('0x' + v.f));
    return scratch.getFloat64(0);
  }
  if ('b' in v) return Uint8Array.from(v.b.match(/../g) ?? [], (h) => parseInt(h, 16));
  if ('days' in v) return { days: v.days };
  if ('ts' in v) {
    const ts = { ts: BigInt(v.ts), unit: v.unit };
    // pandas may hold dates as datetime64: accept whole days for date columns.
    if (col?.type === 'date') {
      const perDay = { s: 86400n, ms: 86400000n, us: 86400000000n, ns: 86400000000000n }[v.unit];
      if (perDay && ts.ts % perDay === 0n) return { days: Number(ts.ts / perDay) };
    }
    return ts;
  }
  if ('dec' in v) return { unscaled: BigInt(v.dec), scale: v.scale };
  if ('invalid' in v) return v;
  return { invalid: `unknown tagged value ${JSON.stringify(v)}` };
}

export async function openPandas() {
  return {
    name: 'pandas',
    async read(file, expected) {
      const r = runPython(file);
      if (r.status !== 'ok') throw new Error(r.error ?? JSON.stringify(r));
      return {
        numRows: r.numRows,
        notes: [],
        columns: r.columns.map((c) => {
          const col = expected.columns.find((e) => e.name === c.name);
          return {
            name: c.name,
            type: c.type,
            kind: 'other', // per-value intermediate forms (canonical.mjs): always the exact slow path
            values: c.values.map((v) => untag(col, v)),
            nanIsNull: col?.type === 'float' || col?.type === 'double',
          };
        }),
      };
    },
    close() {},
  };
}
