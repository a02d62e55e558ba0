#!/bin/sh
# rec-cat: format conversion both ways, concatenation and sections,
# --shard, prov, and failures (truncated, garbage, missing files) that
# exit 1 with a clear message and leave no -o file behind.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

HAVE_MSGPACK='test_have_python msgpack'

test_expect_success 'setup' '
	printf "#plm\t1\n" >in.tsv &&
	printf "id:str\tlen:int\tx:float\tok:bool\tv:f32[3]\th:f16[2]\tb:bf16[2]\tm:f32[*,2]\n" >>in.tsv &&
	printf "p1\t3\t0.1\ttrue\t1,-0,1e-45\t0.099975586,-inf\t3.140625,0\t1,2,3,4\n" >>in.tsv &&
	printf "tab\\\\there\t-9223372036854775808\t-1e+300\tfalse\tnan,inf,3.4028235e+38\t65504,5.9604645e-08\t-1,1\t0.5,0.25\n" >>in.tsv &&
	printf "\\\\N\t\t\t\t\t\t\t\n" >>in.tsv &&
	printf "\\\\#x\t9223372036854775807\t5e-324\ttrue\t0.33333334,2,3\t1,1\t1,1\t1,1,2,2,3,3\n" >>in.tsv &&
	printf "id:str\tn:int\n" >a.tsv &&
	printf "id:str\tn:int\n" >b.tsv &&
	i=1 && while [ $i -le 30 ]; do
		printf "a%d\t%d\n" $i $i >>a.tsv &&
		printf "b%d\t%d\n" $i $((i * 3)) >>b.tsv &&
		i=$((i + 1)) || return 1
	done &&
	printf "id:str\tseq:str\n" >c.tsv &&
	printf "c1\tMKV\nc2\tAAA\n" >>c.tsv
'

test_expect_success 'TSV → MessagePack → TSV is byte-identical' '
	rec-cat -M -o in.rec in.tsv &&
	rec-cat --typed -o back.tsv in.rec &&
	nometa in.tsv >want &&
	nometa back.tsv >got &&
	test_cmp want got
'

test_expect_success 'MessagePack → TSV → MessagePack is byte-identical (rows)' '
	rec-cat --typed in.rec >t1.tsv &&
	rec-cat -M t1.tsv >r2.rec &&
	rec-cat --typed r2.rec >t2.tsv &&
	rec-cat -M t2.tsv >r3.rec &&
	nometa t1.tsv >w && nometa t2.tsv >g && test_cmp w g &&
	rec-cat --typed r3.rec >t3.tsv && nometa t3.tsv >g3 && test_cmp w g3
'

test_expect_success_if "$HAVE_MSGPACK" 'output is MessagePack of the documented shape' '
	$PY - in.rec <<-\EOF
	import msgpack, struct, sys, math
	objs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
	h, rows, t = objs[0], objs[1:-1], objs[-1]
	assert h["plm"] == 1, h
	assert [f[1] for f in h["fields"]] == ["str", "int", "float", "bool",
		"f32[3]", "f16[2]", "bf16[2]", "f32[*,2]"], h
	prov = h["meta"]["prov"]
	assert prov[-1]["tool"] == "rec-cat" and prov[-1]["seed"] is None
	assert prov[-1]["argv"][1:] == ["-M", "-o", "in.rec", "in.tsv"]
	assert t == {"end": 4}, t
	assert all(len(r) == 8 for r in rows)
	r = rows[0]
	assert r[0] == "p1" and r[1] == 3 and r[2] == 0.1 and r[3] is True
	assert struct.unpack("<3f", r[4]) == (1.0, -0.0, struct.unpack("<f", struct.pack("<f", 1e-45))[0])
	assert struct.unpack("<2e", r[5])[0] == 0.099975586 or abs(struct.unpack("<2e", r[5])[0] - 0.1) < 1e-4
	assert math.isinf(struct.unpack("<2e", r[5])[1])
	assert r[6] == bytes.fromhex("4940") + bytes(2)
	assert struct.unpack("<4f", r[7]) == (1, 2, 3, 4)
	assert rows[1][0] == "tab\there" and rows[1][1] == -2**63
	assert rows[2] == [None] * 8, rows[2]
	assert rows[3][0] == "#x" and rows[3][2] == 5e-324 and len(rows[3][7]) == 24
	EOF
'

test_expect_success 'stdin, and - as a file' '
	rec-cat --typed <in.rec >s1.tsv &&
	rec-cat --typed - <in.rec >s2.tsv &&
	nometa s1.tsv >w && nometa s2.tsv >g && test_cmp w g
'

test_expect_success 'files with the same fields become one section' '
	rec-cat -M a.tsv >a.rec &&
	rec-cat --typed a.rec b.tsv >ab.tsv &&
	test $(grep -c "^#plm" ab.tsv) -eq 1 &&
	test $(grep -v "^#" ab.tsv | wc -l) -eq 61 &&
	grep -v "^#" ab.tsv | sed -n "2p;31p;32p;61p" >got &&
	printf "a1\t1\na30\t30\nb1\t3\nb30\t90\n" >want &&
	test_cmp want got
'

test_expect_success_if "$HAVE_MSGPACK" 'different fields start a new section' '
	rec-cat -o abc.rec a.tsv c.tsv b.tsv &&
	$PY - abc.rec <<-\EOF
	import msgpack, sys
	objs = list(msgpack.Unpacker(open(sys.argv[1], "rb"), raw=False))
	kinds = ["H" if isinstance(o, dict) and "plm" in o else
	         "T%d" % o["end"] if isinstance(o, dict) else "r" for o in objs]
	got = []
	for k in kinds:
	    if got and got[-1][0] == "r" and k == "r":
	        got[-1] = "r%d" % (int(got[-1][1:]) + 1)
	    else:
	        got.append(k if k != "r" else "r1")
	assert got == ["H", "r30", "T30", "H", "r2", "T2", "H", "r30", "T30"], got
	assert objs[0]["fields"] == [["id", "str"], ["n", "int"]]
	assert objs[32]["fields"] == [["id", "str"], ["seq", "str"]]
	assert objs[32]["meta"]["prov"][-1]["tool"] == "rec-cat"
	EOF
'

test_expect_success 'sections survive TSV and back' '
	rec-cat --typed abc.rec >abc.tsv &&
	test $(grep -c "^#plm" abc.tsv) -eq 3 &&
	rec-cat -M abc.tsv >abc2.rec &&
	rec-cat --typed abc2.rec >abc2.tsv &&
	nometa abc.tsv >w && nometa abc2.tsv >g && test_cmp w g
'

test_expect_success 'prov: one entry per run, in order' '
	rec-cat a.tsv >p1.rec && rec-cat --typed p1.rec >p2.tsv &&
	grep "^#meta" p2.tsv >meta &&
	test $(grep -o "\"tool\":\"rec-cat\"" meta | wc -l) -eq 2
'

test_expect_success 'gzip and zstd input, compressed output' '
	gzip -c in.rec >in.rec.gz &&
	zstd -q -c in.tsv >in.tsv.zst &&
	rec-cat --typed in.rec.gz >z1.tsv &&
	rec-cat --typed in.tsv.zst >z2.tsv &&
	rec-cat -o out.rec.gz in.tsv &&
	gzip -t out.rec.gz &&
	rec-cat --typed out.rec.gz >z3.tsv &&
	nometa in.tsv >w &&
	for f in z1 z2 z3; do nometa $f.tsv >g && test_cmp w g || return 1; done
'

test_expect_success '--shard K/3 parts are disjoint and cover the input' '
	rec-cat -M a.tsv b.tsv >ab.rec &&
	for k in 0 1 2; do rec-cat --typed --shard $k/3 ab.rec >sh$k.tsv || return 1; done &&
	for k in 0 1 2; do grep -v "^#" sh$k.tsv | sed 1d; done >parts &&
	grep -v "^#" ab.tsv | sed 1d >whole &&
	sort parts >p.sorted && sort whole >w.sorted &&
	test_cmp w.sorted p.sorted &&
	test $(sort -u parts | wc -l) -eq 60 &&
	for k in 0 1 2; do
		test $(grep -v "^#" sh$k.tsv | sed 1d | wc -l) -gt 5 || return 1
	done
'

test_expect_success '--shard with -k on an int field; rec-cat joins shards' '
	for k in 0 1; do rec-cat -M --shard-key n --shard $k/2 ab.rec >n$k.rec || return 1; done &&
	rec-cat --typed n0.rec n1.rec >joined.tsv &&
	grep -v "^#" joined.tsv | sed 1d | sort >j.sorted &&
	test_cmp w.sorted j.sorted
'

test_expect_success 'missing shard key field: exit 1, names the field' '
	test_error "^rec-cat: .*nope" rec-cat --shard-key nope --shard 0/2 -o x.rec a.tsv &&
	test_path_is_missing x.rec
'

test_expect_success 'bad --shard value: usage error' '
	test_usage_error "^rec-cat: " rec-cat --shard 3/3 a.tsv >out
'

test_expect_success '-T and -M together: usage error' '
	test_exit 2 rec-cat --typed -M a.tsv >out 2>err &&
	test ! -s out
'

test_expect_success 'truncated input: exit 1, "truncated input", no -o file' '
	size=$(wc -c <in.rec) &&
	head -c $((size - 1)) in.rec >cut.rec &&
	test_error "^rec-cat: cut.rec: truncated input" rec-cat -o out.rec cut.rec &&
	test_path_is_missing out.rec &&
	head -c $((size / 2)) in.rec >half.rec &&
	test_error "truncated input" rec-cat --typed -o out.tsv half.rec &&
	test_path_is_missing out.tsv
'

test_expect_success 'truncated input in a pipe fails too' '
	test_error "^rec-cat: stdin: truncated input" rec-cat --typed <cut.rec >out
'

test_expect_success 'truncated second file: exit 1, no -o file' '
	test_error "truncated input" rec-cat -o out.rec a.rec cut.rec &&
	test_path_is_missing out.rec
'

test_expect_success 'garbage after the header: error names the record' '
	size=$(wc -c <in.rec) &&
	head -c $((size - 6)) in.rec >g.rec &&
	printf "\301\301\301" >>g.rec &&
	test_error "^rec-cat: g.rec: record 5: not MessagePack" rec-cat -o out.rec g.rec &&
	test_path_is_missing out.rec
'

test_expect_success 'garbage TSV row: error names file and line' '
	printf "id:str\tn:int\nx\t1\ny\tzz\n" >bad.tsv &&
	test_error "^rec-cat: bad.tsv:3: field .n. (int): bad value .zz." rec-cat -o out.rec bad.tsv &&
	test_path_is_missing out.rec
'

test_expect_success 'TSV row of the wrong width' '
	printf "id:str\tn:int\nx\t1\t2\n" >wide.tsv &&
	test_error "^rec-cat: wide.tsv:2: expected 2 fields, got 3" rec-cat wide.tsv >out
'

test_expect_success 'empty input: exit 1' '
	: >empty &&
	test_error "^rec-cat: empty: empty input" rec-cat -o out.rec empty &&
	test_path_is_missing out.rec
'

test_expect_success 'missing file: exit 1' '
	test_error "^rec-cat: no-such-file" rec-cat -o out.rec no-such-file &&
	test_path_is_missing out.rec
'

test_expect_success 'header only: an empty but complete stream' '
	printf "id:str\n" >h.tsv &&
	rec-cat -o h.rec h.tsv &&
	rec-cat --typed h.rec >h2.tsv &&
	nometa h2.tsv >g && printf "#plm\t1\nid:str\n" >w && test_cmp w g
'

test_expect_success '-o to a FIFO writes through it and leaves it a FIFO' '
	printf "id:str\nq1\n" >f.tsv &&
	mkfifo fifo &&
	{ cat fifo >from-fifo & } &&
	rec-cat --typed -o fifo f.tsv &&
	wait &&
	test -p fifo &&
	printf "#plm\t1\n" >want && head -n 1 from-fifo >got && test_cmp want got &&
	tail -n 1 from-fifo >got && echo q1 >want && test_cmp want got
'

test_expect_success '-o removes temporaries of dead processes, keeps live ones' '
	printf "id:str\nq1\n" >f.tsv &&
	sh -c "exit 0" & dead=$! && wait $dead &&
	! kill -0 $dead 2>/dev/null &&
	: >out.rec.tmp.$dead.AbC123 &&
	: >out.rec.tmp.$$.XyZ789 &&
	: >other.rec.tmp.$dead.AbC123 &&
	rec-cat -o out.rec f.tsv &&
	test_path_is_missing out.rec.tmp.$dead.AbC123 &&
	test -f out.rec.tmp.$$.XyZ789 &&
	test -f other.rec.tmp.$dead.AbC123 &&
	rec-cat --typed out.rec >got && printf "#plm\t1\nid:str\nq1\n" >want &&
	grep -v "^#meta" got >g && test_cmp want g &&
	ls out.rec.tmp.* >got && echo out.rec.tmp.$$.XyZ789 >want &&
	test_cmp want got
'

test_done
