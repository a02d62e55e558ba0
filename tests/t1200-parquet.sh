#!/bin/sh
# Parquet input: files DuckDB writes (every codec, data page v1 and v2 with
# their encodings, nulls, many row groups, list<float> vectors) read value
# for value as DuckDB reads them; rec-cut -f decodes only its columns; a
# UniRef-shaped shard round-trips exactly; bad files fail
# with a message naming the column and the feature.  The oracle is DuckDB
# (npm @duckdb/node-api, installed into build/node on first use; skipped
# when node or the package cannot be had).
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

NODE_DIR=$PLM_TOP/build/node
command -v node >/dev/null 2>&1 || skip_all 'needs node (Debian nodejs)'
if [ ! -d "$NODE_DIR/node_modules/@duckdb/node-api" ]; then
	mkdir -p "$NODE_DIR" &&
	npm install --prefix "$NODE_DIR" --no-audit --no-fund \
		@duckdb/node-api hyparquet >"$TRASH/npm.log" 2>&1 ||
		skip_all 'needs npm packages @duckdb/node-api (npm install failed)'
fi
export NODE_PATH="$NODE_DIR/node_modules"

# duck SQL...: runs each statement in one in-memory DuckDB; the rows of
# the last one are printed tab-separated.
duck () { node "$PLM_TOP/tests/parquet-oracle.js" sql-tsv "$@"; }

# cmp.js FILE.parquet PLM.tsv ...: every value DuckDB reads from FILE
# equals the one in PLM.tsv (rec-cat --typed of FILE): ints exactly, floats to
# the bit (f32 vectors as float32), strings byte for byte, nulls as nil.
cat >cmp.js <<'EOF'
const fs = require('fs');
const { DuckDBInstance } = require('@duckdb/node-api');
function unesc(s) {
	return s.replace(/\\(.)/g, (m, c) => ({ t: '\t', n: '\n', r: '\r' })[c] || c);
}
function num(s) {
	return s === 'nan' ? NaN : s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s);
}
function same(a, b) { return Object.is(a, b) || (a !== a && b !== b); }
(async () => {
	const con = await (await DuckDBInstance.create(':memory:')).connect();
	const a = process.argv.slice(2);
	for (let f = 0; f < a.length; f += 2) {
		const lines = fs.readFileSync(a[f + 1], 'utf8').split('\n').filter(l => l && l[0] !== '#');
		const cols = lines.shift().split('\t').map(c => c.split(':'));
		const r = await con.runAndReadAll(`SELECT * FROM read_parquet('${a[f]}')`);
		const rows = r.getRows();
		const names = r.columnNames();
		const bad = m => { console.error(`${a[f]}: ${m}`); process.exit(1); };
		if (names.join() !== cols.map(c => c[0]).join())
			bad(`columns ${names} vs ${cols.map(c => c[0])}`);
		if (rows.length !== lines.length)
			bad(`${rows.length} rows vs ${lines.length}`);
		rows.forEach((row, i) => {
			const t = lines[i].split('\t');
			row.forEach((d, k) => {
				const ty = cols[k][1], p = t[k];
				let ok;
				if (d === null)
					ok = ty === 'str' ? p === '\\N' : p === '';
				else if (ty === 'str')
					ok = p !== '\\N' && unesc(p) === String(d);
				else if (ty === 'int')
					ok = p !== '' && BigInt(p) === BigInt(d);
				else if (ty === 'bool')
					ok = p === String(d);
				else if (ty === 'float')
					ok = p !== '' && same(num(p), Number(d));
				else {
					const v = d.items, q = p.split(',').map(x => Math.fround(num(x)));
					ok = p !== '' && v.length === q.length &&
						v.every((x, j) => same(Math.fround(Number(x)), q[j]));
				}
				if (!ok)
					bad(`row ${i + 1} column ${names[k]}: DuckDB ${String(d)}, plmkit '${p}'`);
			});
		});
		console.log(`${a[f]}: ${rows.length} rows`);
	}
})().catch(e => { console.error(e.message); process.exit(1); });
EOF


# The table every codec × version × row-group size writes: nullable and
# required columns, dictionary-friendly and unique strings, a vector.
TABLE="SELECT i::BIGINT AS n, (7 * i - 300)::INTEGER AS k,
	CASE WHEN i % 5 = 1 THEN NULL ELSE 'id' || (i % 13) END AS id,
	CASE WHEN i % 3 = 0 THEN NULL ELSE (1.25 * i - 17.5)::DOUBLE END AS x,
	(i / 3.0)::FLOAT AS f,
	CASE WHEN i % 4 = 3 THEN NULL ELSE i % 2 = 0 END AS b,
	CASE WHEN i % 6 = 5 THEN NULL ELSE [i::FLOAT, 0.1::FLOAT, (-i / 7.0)::FLOAT] END AS e,
	'seq-' || i || repeat('ACDEFGHIKLMNPQRSTVWY', i % 4) AS s,
	CASE WHEN i % 9 = 0 THEN NULL ELSE (1000003 * i) % 65537 END AS big
	FROM range(3000) t(i)"

test_expect_success 'setup: DuckDB writes every codec, v1 and v2 pages, 1 and many row groups' '
	sql= &&
	for c in uncompressed snappy gzip zstd; do
		for v in V1 V2; do
			for g in 1000000 700; do
				sql="$sql;COPY ($TABLE) TO '\''t-$c-$v-$g.parquet'\'' (FORMAT parquet, COMPRESSION $c, PARQUET_VERSION $v, ROW_GROUP_SIZE $g)" ||
				return 1
			done
		done
	done &&
	set -f && IFS=";" && set -- $sql && unset IFS && set +f && shift &&
	duck "$@" "SELECT 1" &&
	ls t-*.parquet >files && test $(wc -l <files) -eq 16
'

test_expect_success 'every file reads as DuckDB reads it, value for value' '
	set -- &&
	for f in $(cat files); do
		rec-cat --typed -o "$f.tsv" "$f" &&
		set -- "$@" "$f" "$f.tsv" || return 1
	done &&
	node cmp.js "$@" >out &&
	test $(grep -c ": 3000 rows$" out) -eq 16 &&
	test_columns t-zstd-V2-700.parquet.tsv "n:int\tk:int\tid:str\tx:float\tf:float\tb:bool\te:f32[3]\ts:str\tbig:int"
'

test_expect_success 'v2 pages use the delta and byte-stream-split encodings' '
	duck "SELECT DISTINCT encodings FROM parquet_metadata('\''t-zstd-V2-700.parquet'\'')" >enc &&
	grep -q DELTA_BINARY_PACKED enc &&
	grep -q DELTA_LENGTH_BYTE_ARRAY enc &&
	grep -q RLE_DICTIONARY enc
'

test_expect_success 'every codec and version gives the same rows' '
	rows t-uncompressed-V1-1000000.parquet.tsv >want &&
	for f in $(cat files); do
		rows "$f.tsv" >got && test_cmp want got || return 1
	done
'

test_expect_success 'stdin, a pipe and a compressed file read the same' '
	f=t-snappy-V1-700.parquet &&
	rec-cat --typed <$f >a.tsv && rows a.tsv >got && test_cmp want got &&
	gzip -c $f >z.parquet.gz &&
	rec-cat --typed z.parquet.gz >b.tsv && rows b.tsv >got && test_cmp want got
'

test_expect_success 'rec-cut -f decodes only the named columns' '
	rec-cut -f s,n --typed t-gzip-V2-700.parquet >c.tsv &&
	test_columns c.tsv "s:str\tn:int" &&
	rows c.tsv >got &&
	cut -f 8,1 want | awk -F "\t" "{ print \$2 \"\t\" \$1 }" >w2 &&
	test_cmp w2 got
'

test_expect_success 'an unsupported column costs nothing when not selected' '
	duck "COPY (SELECT i AS id, {'\''a'\'': i} AS st, i::DECIMAL(9,2) AS d FROM range(5) t(i)) TO '\''u.parquet'\'' (FORMAT parquet)" "SELECT 1" &&
	rec-cut -f id --typed u.parquet >u.tsv &&
	rows u.tsv >got && printf "0\n1\n2\n3\n4\n" >w && test_cmp w got &&
	test_error "u.parquet: column .st.: a nested group (struct) is not supported" rec-cat u.parquet &&
	test_error "u.parquet: column .d.: INT32 (DECIMAL) is not supported" rec-cut -f d u.parquet
'

test_expect_success '--shard K/N: the shards of a file partition its rows' '
	f=t-zstd-V1-700.parquet &&
	for k in 0 1 2; do
		rec-cut -f id,n --shard $k/3 --typed $f >s$k.tsv || return 1
	done &&
	{ rows s0.tsv; rows s1.tsv; rows s2.tsv; } | sort >got &&
	cut -f 3,1 want | awk -F "\t" "{ print \$2 \"\t\" \$1 }" | sort >w3 &&
	test_cmp w3 got
'

test_expect_success 'unsigned columns read as their values; a UINT_64 past the int range fails' '
	duck "COPY (SELECT (4000000000 - i)::UINTEGER AS u, 200::UTINYINT AS ut, 60000::USMALLINT AS us, (9223372036854775807 - i)::UBIGINT AS ub FROM range(2) t(i)) TO '\''uns.parquet'\'' (FORMAT parquet)" "SELECT 1" &&
	rec-cat --typed uns.parquet >uns.tsv &&
	test_columns uns.tsv "u:int\tut:int\tus:int\tub:int" &&
	rows uns.tsv >got &&
	printf "4000000000\t200\t60000\t9223372036854775807\n3999999999\t200\t60000\t9223372036854775806\n" >w &&
	test_cmp w got &&
	duck "COPY (SELECT i AS id, 9223372036854775807::UBIGINT + i::UBIGINT AS ub FROM range(3) t(i)) TO '\''ubig.parquet'\'' (FORMAT parquet)" "SELECT 1" &&
	test_error "ubig.parquet: record 2: column .ub.: UINT_64 value 9223372036854775808 is past the int range" rec-cat -o ubig.out ubig.parquet &&
	test_path_is_missing ubig.out
'

test_expect_success 'the plm.meta key is the stream meta' '
	duck "COPY (SELECT 1 AS id) TO '\''m.parquet'\'' (FORMAT parquet, KV_METADATA {'\''plm.meta'\'': '\''{\"note\":\"x\",\"k\":[1,2]}'\''})" "SELECT 1" &&
	rec-cat --typed m.parquet >m.tsv &&
	grep "^#meta" m.tsv | grep -q "\"note\":\"x\",\"k\":\[1,2\],\"prov\"" &&
	duck "COPY (SELECT 1 AS id) TO '\''m2.parquet'\'' (FORMAT parquet, KV_METADATA {'\''plm.meta'\'': '\''[1'\''})" "SELECT 1" &&
	test_error "m2.parquet: key plm.meta: " rec-cat m2.parquet
'

test_expect_success 'vectors: a list of another length fails naming the record and column' '
	duck "COPY (SELECT i AS id, CASE WHEN i = 0 THEN NULL WHEN i = 3 THEN [1.0::FLOAT] ELSE [1.5::FLOAT, i::FLOAT] END AS v FROM range(5) t(i)) TO '\''v.parquet'\'' (FORMAT parquet)" "SELECT 1" &&
	test_error "v.parquet: record 4: column .v.: a list of 1 values, the file.s vectors have 2" rec-cat -o v.out v.parquet &&
	test_path_is_missing v.out &&
	rec-head -n 3 --typed v.parquet >h.tsv &&
	test_columns h.tsv "id:int\tv:f32[2]" &&
	rows h.tsv >got && printf "0\t\n1\t1.5,1\n2\t1.5,2\n" >w && test_cmp w got &&
	duck "COPY (SELECT i AS id, [i::DOUBLE, 0.1::DOUBLE] AS v FROM range(2) t(i)) TO '\''d.parquet'\'' (FORMAT parquet)" "SELECT 1" &&
	rec-cat --typed d.parquet >d.tsv &&
	rows d.tsv >got && printf "0\t0,0.1\n1\t1,0.1\n" >w && test_cmp w got
'

test_expect_success 'bad files fail with a message, never a crash' '
	f=t-snappy-V1-700.parquet &&
	n=$(wc -c <$f) &&
	head -c $((n - 1)) $f >cut1.parquet &&
	test_error "cut1.parquet: not a Parquet file (no PAR1 at the end)" rec-cat cut1.parquet &&
	printf "PAR1" >short.parquet &&
	test_error "short.parquet: not a Parquet file (too short)" rec-cat short.parquet &&
	{ head -c 4 $f; head -c 2000 /dev/zero; tail -c $((n - 2004)) $f; } >zero.parquet &&
	test_error "zero.parquet: record 1: column .n.: corrupt" rec-cat zero.parquet &&
	{ head -c $((n - 8)) $f; printf "\377\377\0\0PAR1"; } >flen.parquet &&
	test_error "flen.parquet: bad footer" rec-cat flen.parquet &&
	{ head -c $((n - 4)) $f; printf "PARE"; } >enc.parquet &&
	test_error "enc.parquet: encrypted files are not supported" rec-cat enc.parquet
'

test_expect_success 'levels cut short of their values fail, not read as nulls' '
	duck "COPY (SELECT CASE WHEN i % 2 = 0 THEN NULL ELSE i::INTEGER END AS v FROM range(16) t(i)) TO '\''lv.parquet'\'' (FORMAT parquet, COMPRESSION uncompressed, PARQUET_VERSION V1)" "SELECT 1" &&
	rec-cat --typed lv.parquet >lv.tsv &&
	test $(rows lv.tsv | grep -c .) -eq 8 &&
	# the definition levels: a 4-byte length, then one bit-packed run;
	# the length made 2 (the run header and 8 of the 16 levels)
	at=$(od -An -v -tx1 lv.parquet | tr -s " \n" "\n\n" | grep . |
		awk "{ b[NR] = \$1 } END { for (i = 1; i + 5 <= NR; i++)
			if (b[i + 1] == \"00\" && b[i + 2] == \"00\" && b[i + 3] == \"00\" &&
			    b[i + 4] == \"41\" && b[i + 5] == \"aa\") { print i - 1; exit } }") &&
	test -n "$at" &&
	cp lv.parquet lv2.parquet &&
	printf "\002" | dd of=lv2.parquet bs=1 seek=$at conv=notrunc 2>/dev/null &&
	test_error "lv2.parquet: record 1: column .v.: corrupt levels" rec-cat -o lv2.out lv2.parquet &&
	test_path_is_missing lv2.out
'

test_expect_success 'values past the rows the footer counts fail, not dropped' '
	{ printf "id:int\tx:str\n" && for i in $(seq 0 16); do printf "%d\tv%d\n" $i $i; done; } >r17.tsv &&
	rec-cat -o r17.parquet r17.tsv &&
	test $(rec-cat -T r17.parquet | rows | wc -l) -eq 17 &&
	# the num_rows of the row group (an i64 field, zigzag 17 = 0x22), the
	# last of its kind in the footer, made 16
	at=$(od -An -v -tx1 r17.parquet | tr -s " \n" "\n\n" | grep . |
		awk "{ b[NR] = \$1 } END { for (i = 1; i < NR; i++)
			if (b[i] == \"16\" && b[i + 1] == \"22\") at = i; print at }") &&
	test -n "$at" &&
	cp r17.parquet r16.parquet &&
	printf "\040" | dd of=r16.parquet bs=1 seek=$at conv=notrunc 2>/dev/null &&
	test_error "r16.parquet: record 17: column .id.: more values than the 16 rows of row group 1" \
		rec-cat -o r16.out r16.parquet &&
	test_path_is_missing r16.out
'

# 100,000 rows here; PLM_PARQUET_ROWS=1000000 for the full shard
# (bench/parquet.sh reads one of that size).
ROWS=${PLM_PARQUET_ROWS:-100000}
test_expect_success "a UniRef-shaped shard of $ROWS rows round-trips exactly" '
	fasta-cat --typed "$DATA/uniprot_20k.fasta.gz" | rec-cut -f id,seq --typed >seqs.tsv &&
	rows seqs.tsv >seqs.txt &&
	duck "CREATE TABLE s AS SELECT row_number() OVER () - 1 AS k, * FROM read_csv('\''seqs.txt'\'', delim = '\''\t'\'', header = false, quote = '\'''\'', columns = {'\''id'\'': '\''VARCHAR'\'', '\''seq'\'': '\''VARCHAR'\''})" \
		"COPY (SELECT '\''UniRef50_'\'' || (i % 7919) AS ur50_id, '\''UniRef90_'\'' || s.id AS ur90_id, s.seq AS sequence FROM range($ROWS) t(i) JOIN s ON s.k = i % (SELECT count(*) FROM s) ORDER BY i) TO '\''uniref.parquet'\'' (FORMAT parquet, COMPRESSION snappy)" \
		"SELECT md5(string_agg(ur50_id || chr(9) || ur90_id || chr(9) || sequence || chr(10), '\'''\'' ORDER BY file_row_number)) FROM read_parquet('\''uniref.parquet'\'', file_row_number = true)" >want.md5 &&
	rec-cat --typed uniref.parquet | rows | md5sum | cut -d " " -f 1 >got.md5 &&
	test_cmp want.md5 got.md5 &&
	rec-cut -f sequence uniref.parquet | rec-stats --typed >st.tsv &&
	grep -q "\b$ROWS\b" st.tsv
'

test_done
