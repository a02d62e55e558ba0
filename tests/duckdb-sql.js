// duckdb-sql.js SQL... — runs each SQL statement in one in-memory DuckDB
// and prints the rows of the last one, one JSON array per line (BIGINT as
// a string, lists as arrays, NULL as null).  Finds @duckdb/node-api
// through NODE_PATH (tests/lib.sh: test_have_duckdb).
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

(async () => {
	const db = await DuckDBInstance.create(':memory:');
	const con = await db.connect();
	let r;
	for (const sql of process.argv.slice(2))
		r = await con.runAndReadAll(sql);
	const out = r.getRowsJson().map((row) => JSON.stringify(row));
	process.stdout.write(out.length ? out.join('\n') + '\n' : '');
})().catch((e) => {
	process.stderr.write('duckdb: ' + e.message + '\n');
	process.exit(1);
});
