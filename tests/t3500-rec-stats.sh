#!/bin/sh
# rec-stats: counts, exact length summary, value counts; real-data check.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	printf "id:str\tseq:str\tlabel:str\tn:int\tv:f32[1]\n" >in.tsv &&
	printf "a\tMKV\tvirus\t1\t0.5\n" >>in.tsv &&
	printf "b\tMKVLA\thost\t2\t1\n" >>in.tsv &&
	printf "c\tM\thost\t2\t2\n" >>in.tsv &&
	printf "d\tMKVLAGG\tvirus\t\t3\n" >>in.tsv &&
	printf "e\tMKVL\thost\t3\t4\n" >>in.tsv &&
	rec-cat -M in.tsv >in.rec
'

test_expect_success 'count, seq length summary, label counts' '
	rec-stats --typed -c label -c n in.rec >out &&
	cat >expect <<-\EOF &&
	stat:str	field:str	value:str	count:int	x:float
	records	\N	\N	5	
	min	seq	\N	5	1
	median	seq	\N	5	4
	mean	seq	\N	5	4
	max	seq	\N	5	7
	count	label	host	3	0.6
	count	label	virus	2	0.4
	count	n	2	2	0.4
	count	n	1	1	0.2
	count	n	3	1	0.2
	count	n	\N	1	0.2
	EOF
	body out >actual &&
	test_cmp expect actual
'

test_expect_success '-l takes an int field; nil lengths are left out' '
	rec-stats --typed -l n in.tsv >out &&
	cat >expect <<-\EOF &&
	stat:str	field:str	value:str	count:int	x:float
	records	\N	\N	5	
	min	n	\N	4	1
	median	n	\N	4	2
	mean	n	\N	4	2
	max	n	\N	4	3
	EOF
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'an int len field wins over seq; even median' '
	printf "seq:str\tlen:int\nA\t8\nA\t1\nA\t5\nA\t3\n" >len.tsv &&
	rec-stats --typed len.tsv >out &&
	cat >expect <<-\EOF &&
	stat:str	field:str	value:str	count:int	x:float
	records	\N	\N	4	
	min	len	\N	4	1
	median	len	\N	4	4
	mean	len	\N	4	4.25
	max	len	\N	4	8
	EOF
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'no length field: counts only; zero records' '
	printf "id:str\n" >none.tsv &&
	rec-stats --typed none.tsv >out &&
	printf "stat:str\tfield:str\tvalue:str\tcount:int\tx:float\nrecords\t\\\\N\t\\\\N\t0\t\n" >expect &&
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'several files are one stream; prov appended' '
	rec-stats --typed -c label in.rec in.tsv >out &&
	grep -q "^records	.N	.N	10	$" out &&
	grep -q "^count	label	host	6	0.6$" out &&
	grep -q "\"tool\":\"rec-stats\"" out
'

test_expect_success '--shard splits the count' '
	rec-stats --typed --shard 0/2 in.rec >s0 &&
	rec-stats --typed --shard 1/2 in.rec >s1 &&
	rec-cat --typed --shard 0/2 in.rec >c0 &&
	n0=$(sed -n "s/^records	.N	.N	//p" s0) &&
	n1=$(sed -n "s/^records	.N	.N	//p" s1) &&
	test $((n0 + n1)) -eq 5 &&
	test $n0 -eq $(body c0 | sed 1d | wc -l)
'

test_expect_success 'output is MessagePack off a terminal, -o atomic' '
	rec-stats -o st.rec in.rec &&
	rec-cat --typed st.rec >st.tsv &&
	grep -q "^records" st.tsv
'

test_expect_success 'missing field, wrong type' '
	test_error "rec-stats: no field .nope. in input" rec-stats --typed -c nope in.rec >out &&
	test_error "field .v. is f32\[1\]: -c counts str, int or bool" rec-stats --typed -c v in.rec >out &&
	test_error "field .v. is f32\[1\]: a length comes from" rec-stats --typed -l v in.rec >out &&
	test_exit 1 rec-stats --typed -l nope in.rec >out 2>err
'

test_expect_success 'empty and truncated input: exit 1, no output file' '
	: >empty &&
	test_error "empty input" rec-stats -o out.e empty &&
	test_path_is_missing out.e &&
	size=$(wc -c <in.rec) &&
	head -c $((size - 2)) in.rec >trunc.rec &&
	test_error "truncated input" rec-stats -o out.t trunc.rec &&
	test_path_is_missing out.t
'

# Real data, checked against Python.
UNIPROT="$DATA/uniprot_20k.fasta.gz"
test_expect_success_if 'test_have_python' \
	'real data: count/min/median/mean/max agree with python' '
	fasta-cat "$UNIPROT" >u.rec &&
	rec-stats --typed -o u.tsv u.rec &&
	$PY - "$UNIPROT" u.tsv <<-\EOF
	import gzip, statistics, sys
	lens, cur = [], None
	for line in gzip.open(sys.argv[1], "rt"):
	    line = line.strip()
	    if line.startswith(">"):
	        if cur is not None:
	            lens.append(cur)
	        cur = 0
	    elif cur is not None:
	        cur += len(line)
	lens.append(cur)
	got = {}
	for line in open(sys.argv[2]):
	    f = line.rstrip("\n").split("\t")
	    if not line.startswith("#") and f[0] != "stat:str":
	        got[f[0]] = (int(f[3]), float(f[4]) if f[4] else None)
	want = {"min": min(lens), "max": max(lens),
	        "median": statistics.median(lens),
	        "mean": sum(lens) / len(lens)}
	assert got["records"][0] == len(lens), (got["records"], len(lens))
	for k, v in want.items():
	    assert got[k][0] == len(lens), k
	    assert abs(got[k][1] - v) <= 1e-9 * abs(v), (k, got[k], v)
	print("n=%d min=%d median=%s mean=%.6f max=%d" % (len(lens),
	      want["min"], want["median"], want["mean"], want["max"]))
	EOF
'

test_done
