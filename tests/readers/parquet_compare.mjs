// parquet_compare.mjs: do two Parquet files hold the same rows, in the same order, value for
// value, as DuckDB reads them? Used by tests/integration/parquet_read.sh to check sluice's
// Parquet reader: ORIG is a file from another writer, COPY what `sluice convert ORIG
// COPY.parquet` wrote after reading it.
// usage: node parquet_compare.mjs ORIG COPY
//
// Columns are matched by position and name. Values are compared as DuckDB's text of each value
// (exact for every type: integers, decimals, timestamps, floats incl. -0.0/NaN/inf), row by row
// (row_number over the file order), so a type change that keeps the value (TINYINT -> INTEGER,
// UBIGINT -> DECIMAL(20,0), UUID -> BLOB compared as hex) passes and anything else fails. The
// type changes are printed. Exit 0 same, 1 different, 2 usage or DuckDB error.
import { DuckDBInstance } from '@duckdb/node-api';

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node parquet_compare.mjs ORIG COPY');
  process.exit(2);
}
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const id = (s) => `"${s.replace(/"/g, '""')}"`;
try {
  const inst = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
  const con = await inst.connect();
  const desc = async (f) =>
    (await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${q(f)})`)).getRowObjectsJson()
      .map((r) => ({ name: r.column_name, type: r.column_type }));
  const da = await desc(a), db = await desc(b);
  if (da.length !== db.length || da.some((c, i) => c.name !== db[i].name)) {
    console.log(`FAIL ${a}: columns differ: ${da.map((c) => c.name)} vs ${db.map((c) => c.name)}`);
    process.exit(1);
  }
  const changes = [];
  const ea = [], eb = [];
  da.forEach((c, i) => {
    const ta = c.type, tb = db[i].type, col = id(c.name);
    if (ta !== tb) changes.push(`${c.name} ${ta}->${tb}`);
    if (ta === 'UUID') {
      ea.push(`lower(replace(${col}::VARCHAR, '-', '')) AS c${i}`);
      eb.push(`lower(hex(${col})) AS c${i}`);
    } else if (ta === 'BLOB' || tb === 'BLOB') {
      ea.push(`lower(hex(${col})) AS c${i}`);
      eb.push(`lower(hex(${col})) AS c${i}`);
    } else {
      ea.push(`${col}::VARCHAR AS c${i}`);
      eb.push(`${col}::VARCHAR AS c${i}`);
    }
  });
  const counts = da.map((c, i) => `count(*) FILTER (WHERE x.c${i} IS DISTINCT FROM y.c${i}) AS d${i}`);
  const sql = `WITH x AS (SELECT row_number() OVER () AS rn, ${ea.join(', ')} FROM read_parquet(${q(a)})),
    y AS (SELECT row_number() OVER () AS rn, ${eb.join(', ')} FROM read_parquet(${q(b)}))
    SELECT count(*) AS n, count(x.rn) AS na, count(y.rn) AS nb, ${counts.join(', ')}
    FROM x FULL JOIN y ON x.rn = y.rn`;
  const r = (await con.runAndReadAll(sql)).getRowObjectsJson()[0];
  const bad = da.map((c, i) => [c.name, Number(r[`d${i}`]), i]).filter(([, n]) => n > 0);
  if (r.na !== r.nb || bad.length) {
    let msg = `FAIL ${a}: rows ${r.na} vs ${r.nb}`;
    for (const [name, n, i] of bad.slice(0, 5)) {
      const ex = (await con.runAndReadAll(`WITH x AS (SELECT row_number() OVER () AS rn, ${ea[i]} FROM read_parquet(${q(a)})),
        y AS (SELECT row_number() OVER () AS rn, ${eb[i]} FROM read_parquet(${q(b)}))
        SELECT x.rn, x.c${i} AS want, y.c${i} AS got FROM x JOIN y ON x.rn = y.rn
        WHERE x.c${i} IS DISTINCT FROM y.c${i} LIMIT 1`)).getRowObjectsJson()[0];
      msg += `\n  column ${name}: ${n} rows differ, first row ${ex?.rn}: want ${JSON.stringify(ex?.want)} got ${JSON.stringify(ex?.got)}`;
    }
    console.log(msg);
    process.exit(1);
  }
  console.log(`ok   ${a}: ${r.na} rows x ${da.length} columns equal${changes.length ? `; types ${changes.join(', ')}` : ''}`);
} catch (e) {
  console.log(`FAIL ${a}: ${e.message}`);
  process.exit(2);
}
