// query.mjs: runs one SQL statement in DuckDB and prints the rows as JSON lines, so shell
// tests can check files sluice wrote. usage: node query.mjs "SELECT ... FROM 'file.parquet'"
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv[2];
if (!sql) {
  console.error('usage: node query.mjs SQL');
  process.exit(2);
}
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
try {
  const r = await con.runAndReadAll(sql);
  for (const row of r.getRowObjectsJson()) console.log(JSON.stringify(row));
} catch (e) {
  console.error(`query.mjs: ${e.message}`);
  process.exit(1);
}
