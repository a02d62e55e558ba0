#!/bin/sh
# Parquet output (lib/pqwrite.c): every type, every codec and many row
# groups, read back value for value by DuckDB and by polars (the npm
# packages @duckdb/node-api and nodejs-polars; pandas reads Parquet only
# through pyarrow or fastparquet, which Debian 12 does not package);
# DuckDB's parquet_metadata/parquet_schema show the types, codecs,
# encodings and statistics; errors leave no file.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

HAVE_DUCK='test_have_duckdb && test_have_python msgpack'
HAVE_POLARS='test_have_polars && test_have_python msgpack'
CODECS="zstd snappy gzip none"
q="'"    # SQL string quotes inside the test bodies

# The DuckDB-or-polars rows of $2 against the stream $1 (oracle: $3).
cmp_rows () {
	$PQ_ORACLE "$3" "$2" >got.json &&
	$PY - "$1" got.json "$3" <<-\EOF
	import json, math, msgpack, struct, sys
	objs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
	head, rows = objs[0], objs[1:-1]
	lines = open(sys.argv[2]).read().splitlines()
	if sys.argv[3] == "polars":
	    lines = lines[1:]
	def num(x):
	    if math.isnan(x): return "NaN"
	    if math.isinf(x): return "Infinity" if x > 0 else "-Infinity"
	    if x == 0 and math.copysign(1, x) < 0: return "-0"
	    return x
	def vec(t, b):
	    if t.startswith("f16"):
	        xs = struct.unpack("<%de" % (len(b) // 2), b)
	    elif t.startswith("bf16"):
	        xs = [struct.unpack("<f", b"\0\0" + b[i:i + 2])[0]
	              for i in range(0, len(b), 2)]
	    else:
	        xs = struct.unpack("<%df" % (len(b) // 4), b)
	    xs = [num(x) for x in xs]
	    if t.startswith("f32[*,"):
	        d = int(t[6:-1])
	        xs = [xs[i:i + d] for i in range(0, len(xs), d)]
	    return xs
	def want(t, v):
	    if v is None: return None
	    if t == "int": return str(v)
	    if t == "float": return num(v)
	    if t in ("str", "bool"): return v
	    return vec(t, v)
	types = [f[1] for f in head["fields"]]
	assert len(lines) == len(rows), (len(lines), len(rows))
	for i, (r, l) in enumerate(zip(rows, lines)):
	    w = [want(t, v) for t, v in zip(types, r)]
	    g = json.loads(l, parse_int=float)  # ints come as text
	    assert w == g, (i, [(k, a, b) for k, (a, b) in
	                enumerate(zip(w, g)) if a != b][:3])
	print(len(rows), "rows equal")
	EOF
}

test_expect_success_if 'test_have_python msgpack' 'setup: every type, 1000 rows' '
	$PY - <<-\EOF
	import msgpack, random, struct
	rnd = random.Random(7)
	F = [["id", "str"], ["n", "int"], ["x", "float"], ["ok", "bool"],
	     ["v", "f32[1280]"], ["h", "f16[4]"], ["b", "bf16[4]"],
	     ["m", "f32[*,3]"], ["cat", "str"]]
	words = ["", "a", "tab\there", "nl\nx", "back\\slash", "\\N",
	     "ä€𝄞", "#hash", "MKVLAAGGG" * 40]
	specials = [float("nan"), float("inf"), float("-inf"), -0.0, 0.0,
	        5e-324, 1.7976931348623157e308, 0.1]
	ints = [0, -1, 2**63 - 1, -2**63, 1 << 40]
	def f32(xs): return struct.pack("<%df" % len(xs), *xs)
	def rf(): return rnd.choice([rnd.uniform(-3, 3), rnd.gauss(0, 1e-3),
	                 -0.0, float("nan"), float("inf")])
	out = open("in.rec", "wb")
	out.write(msgpack.packb({"plm": 1, "fields": F,
	             "meta": {"note": "t1210", "k": [1, 2.5]}}))
	for i in range(1000):
	    r = [rnd.choice(words) + str(i) if i % 3 else rnd.choice(words),
	         rnd.choice(ints) if i % 4 == 0 else rnd.randint(-10**12, 10**12),
	         rnd.choice(specials) if i % 5 == 0 else rnd.uniform(-1e6, 1e6),
	         rnd.random() < 0.5,
	         f32([rf() if j % 97 == 0 else rnd.uniform(-1, 1)
	          for j in range(1280)]),
	         struct.pack("<4H", *[rnd.getrandbits(16) for _ in range(4)]),
	         struct.pack("<4H", *[rnd.getrandbits(16) for _ in range(4)]),
	         f32([rnd.uniform(-9, 9) for _ in range(3 * rnd.randint(1, 4))]),
	         rnd.choice(["alpha", "beta", "gamma", "δ", ""])]
	    for k in range(len(r)):
	        if (i * 7 + k * 3) % (11 + k) == 0:
	            r[k] = None
	    out.write(msgpack.packb(r, use_bin_type=True))
	out.write(msgpack.packb({"end": 1000}))
	EOF
	for c in $CODECS; do
		PLM_PARQUET=codec=$c,row_group=128 rec-cat -o $c.parquet in.rec ||
			return 1
	done &&
	rec-cat -M -o ref.rec in.rec
'

for c in $CODECS; do
	test_expect_success_if "$HAVE_DUCK" "DuckDB reads $c back value for value" "
		head -c 4 $c.parquet >magic && printf PAR1 >want && test_cmp want magic &&
		tail -c 4 $c.parquet >magic && test_cmp want magic &&
		cmp_rows ref.rec $c.parquet duckdb
	"
	test_expect_success_if "$HAVE_POLARS" "polars reads $c back value for value" "
		cmp_rows ref.rec $c.parquet polars &&
		head -n 1 got.json >schema &&
		echo '{\"id\":\"DataType(String)\",\"n\":\"DataType(Int64)\",\"x\":\"DataType(Float64)\",\"ok\":\"DataType(Bool)\",\"v\":\"DataType(List(DataType(Float32)))\",\"h\":\"DataType(List(DataType(Float32)))\",\"b\":\"DataType(List(DataType(Float32)))\",\"m\":\"DataType(List(DataType(List(DataType(Float32)))))\",\"cat\":\"DataType(String)\"}' >want &&
		test_cmp want schema
	"
done

test_expect_success_if "$HAVE_DUCK" 'parquet_metadata: 8 row groups, the codec, encodings' '
	for c in $CODECS; do
		C=$(echo $c | tr a-z A-Z | sed s/NONE/UNCOMPRESSED/) &&
		$PQ_ORACLE sql "select count(distinct row_group_id), sum(row_group_num_rows) / 9, string_agg(distinct compression, ${q},${q}) from parquet_metadata(${q}$c.parquet${q})" >got &&
		echo "[\"8\",1000,\"$C\"]" >want && test_cmp want got || return 1
	done &&
	$PQ_ORACLE sql "select path_in_schema, type, encodings from parquet_metadata(${q}zstd.parquet${q}) where row_group_id = 0" >got &&
	cat >want <<-\EOF &&
	["id","BYTE_ARRAY","PLAIN, RLE, RLE_DICTIONARY"]
	["n","INT64","PLAIN, RLE"]
	["x","DOUBLE","PLAIN, RLE"]
	["ok","BOOLEAN","PLAIN, RLE"]
	["v, list, element","FLOAT","PLAIN, RLE"]
	["h, list, element","FLOAT","PLAIN, RLE"]
	["b, list, element","FLOAT","PLAIN, RLE"]
	["m, list, element, list, element","FLOAT","PLAIN, RLE"]
	["cat","BYTE_ARRAY","PLAIN, RLE, RLE_DICTIONARY"]
	EOF
	test_cmp want got
'

test_expect_success_if "$HAVE_DUCK" 'parquet_schema: optional columns, STRING, LIST' '
	$PQ_ORACLE sql "select name, type, repetition_type, converted_type, logical_type from parquet_schema(${q}snappy.parquet${q})" >got &&
	cat >want <<-\EOF &&
	["schema",null,null,null,null]
	["id","BYTE_ARRAY","OPTIONAL","UTF8","StringType()"]
	["n","INT64","OPTIONAL",null,null]
	["x","DOUBLE","OPTIONAL",null,null]
	["ok","BOOLEAN","OPTIONAL",null,null]
	["v",null,"OPTIONAL","LIST","ListType()"]
	["list",null,"REPEATED",null,null]
	["element","FLOAT","OPTIONAL",null,null]
	["h",null,"OPTIONAL","LIST","ListType()"]
	["list",null,"REPEATED",null,null]
	["element","FLOAT","OPTIONAL",null,null]
	["b",null,"OPTIONAL","LIST","ListType()"]
	["list",null,"REPEATED",null,null]
	["element","FLOAT","OPTIONAL",null,null]
	["m",null,"OPTIONAL","LIST","ListType()"]
	["list",null,"REPEATED",null,null]
	["element",null,"OPTIONAL","LIST","ListType()"]
	["list",null,"REPEATED",null,null]
	["element","FLOAT","OPTIONAL",null,null]
	["cat","BYTE_ARRAY","OPTIONAL","UTF8","StringType()"]
	EOF
	test_cmp want got
'

test_expect_success_if "$HAVE_DUCK" 'statistics: null_count, min and max per column chunk' '
	$PQ_ORACLE sql "select row_group_id, path_in_schema, stats_null_count, stats_min_value, stats_max_value from parquet_metadata(${q}none.parquet${q}) where path_in_schema in (${q}n${q}, ${q}cat${q}, ${q}id${q}) order by 1, 2" >got &&
	$PY - ref.rec <<-\EOF >want &&
	import json, msgpack, sys
	objs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
	rows = objs[1:-1]
	for g in range(8):
	    rg = rows[128 * g:128 * (g + 1)]
	    for name, k in (("cat", 8), ("id", 0), ("n", 1)):
	        vs = [r[k] for r in rg if r[k] is not None]
	        nul = sum(r[k] is None for r in rg)
	        lo, hi = (min(vs), max(vs)) if k else (
	            min(vs, key=lambda s: s.encode()),
	            max(vs, key=lambda s: s.encode()))
	        print(json.dumps([str(g), name, str(nul), str(lo), str(hi)],
	                 ensure_ascii=False, separators=(",", ":")))
	EOF
	test_cmp want got
'

test_expect_success_if "$HAVE_DUCK" 'key_value_metadata: plm.meta and plm.schema' '
	$PQ_ORACLE sql "select decode(key), decode(value) from parquet_kv_metadata(${q}zstd.parquet${q})" >got &&
	sed -n 2p got >schema &&
	echo "[\"plm.schema\",\"[[\\\\\"id\\\\\",\\\\\"str\\\\\"],[\\\\\"n\\\\\",\\\\\"int\\\\\"],[\\\\\"x\\\\\",\\\\\"float\\\\\"],[\\\\\"ok\\\\\",\\\\\"bool\\\\\"],[\\\\\"v\\\\\",\\\\\"f32[1280]\\\\\"],[\\\\\"h\\\\\",\\\\\"f16[4]\\\\\"],[\\\\\"b\\\\\",\\\\\"bf16[4]\\\\\"],[\\\\\"m\\\\\",\\\\\"f32[*,3]\\\\\"],[\\\\\"cat\\\\\",\\\\\"str\\\\\"]]\"]" >want &&
	test_cmp want schema &&
	$PY - got <<-\EOF
	import json, sys
	k, v = json.loads(open(sys.argv[1]).readline())
	meta = json.loads(v)
	assert k == "plm.meta" and meta["note"] == "t1210", (k, v)
	assert meta["k"] == [1, 2.5], meta
	assert meta["prov"][-1]["tool"] == "rec-cat", meta
	EOF
'

test_expect_success_if "$HAVE_DUCK" 'created_by and the row count in the footer' '
	$PQ_ORACLE sql "select created_by, num_rows, num_row_groups from parquet_file_metadata(${q}gzip.parquet${q})" >got &&
	echo "[\"plmkit version 0.1.0\",\"1000\",\"8\"]" >want &&
	test_cmp want got
'

test_expect_success_if "$HAVE_DUCK" 'dictionary: falls back to PLAIN past its bound, values intact' '
	awk "BEGIN { print \"s:str\tn:int\"; for (i = 0; i < 30000; i++) printf \"uniq-%07d\t%d\n\", i * 7919 % 30011, i }" >u.tsv &&
	PLM_PARQUET=row_group=20000 rec-cat -o u.parquet u.tsv &&
	$PQ_ORACLE sql "select row_group_id, dictionary_page_offset is not null, encodings from parquet_metadata(${q}u.parquet${q}) where path_in_schema = ${q}s${q}" >got &&
	printf "%s\n" "[\"0\",true,\"PLAIN, RLE, RLE_DICTIONARY\"]" "[\"1\",false,\"PLAIN, RLE\"]" >want &&
	test_cmp want got &&
	$PQ_ORACLE sql "select count(*), count(distinct s), sum(n), sum((substr(s, 6)::int - n * 7919 % 30011)::int) from ${q}u.parquet${q}" >got &&
	echo "[\"30000\",\"30000\",\"449985000\",\"0\"]" >want &&
	test_cmp want got &&
	PLM_PARQUET=dict=off rec-cat -o off.parquet u.tsv &&
	$PQ_ORACLE sql "select encodings, dictionary_page_offset from parquet_metadata(${q}off.parquet${q}) where path_in_schema = ${q}s${q}" >got &&
	echo "[\"PLAIN, RLE\",null]" >want &&
	test_cmp want got
'

test_expect_success_if "$HAVE_DUCK" 'row_group_size bounds the value bytes of a row group' '
	PLM_PARQUET=row_group_size=64K rec-cat -o small.parquet in.rec &&
	$PQ_ORACLE sql "select distinct row_group_id, row_group_num_rows from parquet_metadata(${q}small.parquet${q}) order by 1" >got &&
	$PY - ref.rec <<-\EOF >want &&
	import json, msgpack, sys
	objs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
	# a row counts 8 bytes a field, str 4 + its bytes, vectors their bytes
	acc = n = g = 0
	for r in objs[1:-1] + [None]:
	    if r is None or acc >= 65536:
	        if n:
	            print(json.dumps([str(g), str(n)], separators=(",", ":")))
	        acc = n = 0
	        g += 1
	    if r is None:
	        break
	    acc += 8 * len(r) + sum(len(v.encode()) + 4 if isinstance(v, str)
	                            else len(v) for v in r
	                            if isinstance(v, (str, bytes)))
	    n += 1
	EOF
	test_cmp want got
'

test_expect_success_if "$HAVE_DUCK" 'sections with the same fields continue the file; no rows is a valid file' '
	printf "id:str\tn:int\na\t1\nb\t2\n" >a.tsv &&
	rec-cat -o twice.parquet a.tsv a.tsv &&
	$PQ_ORACLE sql "select string_agg(id || n, ${q},${q}) from ${q}twice.parquet${q}" >got &&
	echo "[\"a1,b2,a1,b2\"]" >want && test_cmp want got &&
	printf "id:str\tn:int\n" >none.tsv &&
	rec-cat -o empty.parquet none.tsv &&
	$PQ_ORACLE sql "select count(*) from ${q}empty.parquet${q}" "describe select * from ${q}empty.parquet${q}" >got &&
	$PQ_ORACLE sql "select column_name, column_type from (describe select * from ${q}empty.parquet${q})" >got &&
	printf "%s\n" "[\"id\",\"VARCHAR\"]" "[\"n\",\"BIGINT\"]" >want && test_cmp want got &&
	$PQ_ORACLE sql "select count(*) from ${q}empty.parquet${q}" >got &&
	echo "[\"0\"]" >want && test_cmp want got
'

test_expect_success 'the name decides: -T and -M do not apply to a .parquet output' '
	printf "id:str\tn:int\na\t1\n" >a.tsv &&
	rec-cat -T -o t.parquet a.tsv &&
	head -c 4 t.parquet >magic && printf PAR1 >want && test_cmp want magic
'

test_expect_success 'a second section with other fields: error, no file' '
	printf "id:str\tn:int\na\t1\n" >a.tsv &&
	printf "id:str\tseq:str\nc\tMKV\n" >c.tsv &&
	test_error "rec-cat: .*Parquet holds one schema: a section with other fields cannot follow" \
		rec-cat -o mixed.parquet a.tsv c.tsv &&
	test_path_is_missing mixed.parquet &&
	ls >files && ! grep tmp files
'

test_expect_success 'PLM_PARQUET: bad settings are errors, no file' '
	printf "id:str\na\n" >a.tsv &&
	PLM_PARQUET=codec=lz4 test_error "PLM_PARQUET: bad value .lz4. for codec (zstd, snappy, gzip, none)" \
		rec-cat -o bad.parquet a.tsv &&
	PLM_PARQUET=rows=5 test_error "PLM_PARQUET: unknown key .rows." \
		rec-cat -o bad.parquet a.tsv &&
	PLM_PARQUET=row_group=0 test_error "PLM_PARQUET: bad value .0. for row_group" \
		rec-cat -o bad.parquet a.tsv &&
	PLM_PARQUET=codec test_error "PLM_PARQUET: .codec.: not key=value" \
		rec-cat -o bad.parquet a.tsv &&
	PLM_PARQUET=codec=gzip,level=12 test_error "PLM_PARQUET: gzip level is 0..9" \
		rec-cat -o bad.parquet a.tsv &&
	test_path_is_missing bad.parquet
'

test_expect_success 'PLM_PARQUET: level=0 is a level (gzip stored, zstd its default)' '
	printf "id:str\tn:int\na\t1\nb\t\n" >a.tsv &&
	rec-cat --typed a.tsv | body >want &&
	for c in gzip zstd; do
		PLM_PARQUET=codec=$c,level=0 rec-cat -o l0.parquet a.tsv &&
		rec-cat --typed l0.parquet | body >got &&
		test_cmp want got || return 1
	done
'

test_expect_success 'a record that does not fit its type: error, no file' '
	printf "v:f32[2]\n1,2\n1,2,3\n" >bad.tsv &&
	test_must_fail rec-cat -o bad.parquet bad.tsv &&
	test_path_is_missing bad.parquet
'

# The membership workflow's shape: UniRef50/90 ids (few distinct, so
# dictionary pages) and sequences, 1M rows, snappy.
test_expect_success_if "test_have_duckdb" 'membership shape: 1M rows, snappy, dictionary ids' '
	awk "BEGIN { print \"ur50_id:str\tur90_id:str\tsequence:str\"
		s = \"ACDEFGHIKLMNPQRSTVWY\"
		for (j = 0; j < 997; j++)
			for (k = 0; k < 12; k++)
				q[j] = q[j] substr(s, (j * 7 + k * k * 13) % 20 + 1, 1)
		for (i = 0; i < 1000000; i++)
			printf \"UniRef50_P%05d\tUniRef90_Q%06d\tM%s%d\n\", int(i / 40), int(i / 4), q[i % 997], i
	}" >mem.tsv &&
	PLM_PARQUET=codec=snappy rec-cat -o mem.parquet mem.tsv &&
	$PQ_ORACLE sql "select count(*), count(distinct ur50_id), count(distinct ur90_id), count(distinct sequence), min(ur90_id), max(ur50_id) from ${q}mem.parquet${q}" >got &&
	echo "[\"1000000\",\"25000\",\"250000\",\"1000000\",\"UniRef90_Q000000\",\"UniRef50_P24999\"]" >want &&
	test_cmp want got &&
	$PQ_ORACLE sql "select path_in_schema, compression, encodings from parquet_metadata(${q}mem.parquet${q})" >got &&
	printf "%s\n" "[\"ur50_id\",\"SNAPPY\",\"PLAIN, RLE, RLE_DICTIONARY\"]" \
		"[\"ur90_id\",\"SNAPPY\",\"PLAIN, RLE, RLE_DICTIONARY\"]" \
		"[\"sequence\",\"SNAPPY\",\"PLAIN, RLE, RLE_DICTIONARY\"]" >want &&
	test_cmp want got &&
	$PQ_ORACLE sql "select count(*) from ${q}mem.parquet${q} m join (select ur50_id, count(*) c from ${q}mem.parquet${q} group by 1) g using (ur50_id) where g.c <> 40" >got &&
	echo "[\"0\"]" >want && test_cmp want got
'

test_done
