// parquet-oracle.js — other programs' Parquet readers, for the tests
// (tests/lib.sh: test_have_duckdb, test_have_polars set NODE_PATH).
//
//   node parquet-oracle.js sql SQL...    DuckDB: runs each statement, prints
//                                        the rows of the last
//   node parquet-oracle.js sql-tsv SQL...  the same, each row as its values'
//                                        text (DuckDB's String()) joined
//                                        by tabs (scripts and benchmarks)
//   node parquet-oracle.js duckdb FILE   DuckDB: every row of FILE
//   node parquet-oracle.js polars FILE   polars: the schema ({name: dtype}),
//                                        then every row of FILE
//
// A row is one JSON array per line.  Values JSON cannot spell exactly are
// strings: integers ("-7"), "NaN", "Infinity", "-Infinity" and "-0".
'use strict';

function enc(k, v) {
	if (typeof v === 'bigint')
		return v.toString();
	if (typeof v === 'number') {
		if (Number.isNaN(v))
			return 'NaN';
		if (!Number.isFinite(v))
			return v > 0 ? 'Infinity' : '-Infinity';
		if (Object.is(v, -0))
			return '-0';
	}
	return v;
}

function print(rows) {
	const out = rows.map((r) => JSON.stringify(r, enc));
	process.stdout.write(out.length ? out.join('\n') + '\n' : '');
}

async function duckdb(stmts, tsv) {
	const { DuckDBInstance } = require('@duckdb/node-api');
	const db = await DuckDBInstance.create(':memory:');
	const con = await db.connect();
	let r;
	for (const sql of stmts)
		r = await con.runAndReadAll(sql);
	if (tsv)
		for (const row of r.getRows())
			console.log(row.map(String).join('\t'));
	else
		print(r.getRowsJS());
}

function polars(file) {
	const pl = require('nodejs-polars');
	let df = pl.readParquet(file);
	const schema = {};
	for (const [name, t] of Object.entries(df.schema))
		schema[name] = String(t);
	process.stdout.write(JSON.stringify(schema) + '\n');
	/* toRecords turns Int64 into doubles: take them as text */
	const ints = Object.keys(schema).filter((n) => schema[n] === 'DataType(Int64)');
	if (ints.length)
		df = df.withColumns(...ints.map((n) => pl.col(n).cast(pl.Utf8)));
	print(df.toRecords().map((o) => Object.keys(schema).map((n) => o[n])));
}

(async () => {
	const [mode, ...args] = process.argv.slice(2);
	if (mode === 'sql' || mode === 'sql-tsv')
		await duckdb(args, mode === 'sql-tsv');
	else if (mode === 'duckdb')
		await duckdb([`select * from read_parquet('${args[0]}')`]);
	else if (mode === 'polars')
		polars(args[0]);
	else
		throw new Error('usage: parquet-oracle.js sql|sql-tsv|duckdb|polars ...');
})().catch((e) => {
	process.stderr.write('parquet-oracle: ' + e.message + '\n');
	process.exit(1);
});
