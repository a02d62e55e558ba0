#!/bin/sh
# pair-make: positives within groups, negatives across groups, per split.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

python_any

test_expect_success 'setup' '
	cat >segs.tsv <<-\EOF &&
	id:str	iso:str	seg:str	split:str
	a1	A	HA	train
	a2	A	NA	train
	a3	A	PB2	train
	b1	B	HA	train
	b2	B	NA	train
	c1	C	HA	test
	c2	C	NA	test
	d1	D	HA	test
	d2	D	NA	test
	EOF
	$PY - >many.tsv <<-\PY
	import random
	r = random.Random(2)
	print("id:str\tiso:str\tseg:int\tsplit:str")
	for g in range(300):
	    sp = r.choice(["train"] * 8 + ["val", "test"])
	    for s in r.sample(range(8), r.randint(1, 8)):
	        print(f"i{g}s{s}\tg{g}\t{s}\t{sp}")
	PY
'

test_expect_success 'exact pairs on a small input' '
	pair-make --typed -g iso -t seg segs.tsv >out &&
	sed -n 3p out >hdr &&
	printf "a:str\tb:str\tlabel:int\tsplit:str\n" >want &&
	test_cmp want hdr &&
	sed -n "4,\$p" out >got &&
	cat >want <<-\EOF &&
	c1	c2	1	test
	d1	d2	1	test
	c1	d2	0	test
	c2	d1	0	test
	a1	a2	1	train
	a1	a3	1	train
	a2	a3	1	train
	b1	b2	1	train
	a1	b2	0	train
	a2	b1	0	train
	a3	b1	0	train
	a3	b2	0	train
	EOF
	test_cmp want got &&
	grep -q "\"tool\":\"pair-make\".*\"seed\":11" out
'

test_expect_success 'input order does not matter' '
	{ head -n 1 segs.tsv; sed 1d segs.tsv | sort -r; } >rev.tsv &&
	pair-make --typed -g iso -t seg rev.tsv >out2 &&
	sed -n "4,\$p" out2 >got2 && test_cmp got got2
'

test_expect_success 'without --type: every within-group pair' '
	pair-make --typed -g iso -n 0 segs.tsv >out &&
	sed -n "4,\$p" out | cut -f1,2 | tr "\t\n" ": " >got &&
	echo >>got &&
	echo "c1:c2 d1:d2 a1:a2 a1:a3 a2:a3 b1:b2 " >want &&
	test_cmp want got
'

test_expect_success 'large: no duplicates, no cross-split pairs, ratio, labels right' '
	pair-make --typed -g iso -t seg -n 2 -s 5 many.tsv >p.tsv &&
	$PY - many.tsv p.tsv <<-\PY
	import sys
	rec = {}
	for l in open(sys.argv[1]).read().splitlines()[1:]:
	    i, g, t, s = l.split("\t")
	    rec[i] = (g, t, s)
	seen = set(); npos = {}; nneg = {}
	for l in open(sys.argv[2]).read().splitlines()[3:]:
	    a, b, lab, s = l.split("\t")
	    assert a in rec and b in rec, l
	    assert a < b, l
	    key = (a, b)
	    assert key not in seen, "duplicate " + l
	    seen.add(key)
	    assert rec[a][2] == s and rec[b][2] == s, "split " + l
	    assert rec[a][1] != rec[b][1], "same type " + l
	    assert (rec[a][0] == rec[b][0]) == (lab == "1"), "label " + l
	    (npos if lab == "1" else nneg)[s] = (npos if lab == "1" else nneg).get(s, 0) + 1
	# all positives present
	for s in npos:
	    want = 0
	    from itertools import combinations
	    ids = [i for i in rec if rec[i][2] == s]
	    groups = {}
	    for i in ids:
	        groups.setdefault(rec[i][0], []).append(i)
	    for m in groups.values():
	        want += sum(1 for x, y in combinations(m, 2) if rec[x][1] != rec[y][1])
	    assert npos[s] == want, (s, npos[s], want)
	    assert nneg[s] == 2 * npos[s], (s, nneg[s], npos[s])
	print("ok", npos, nneg)
	PY
'

test_expect_success 'seed changes negatives only' '
	pair-make --typed -g iso -t seg -s 6 many.tsv >q.tsv &&
	pair-make --typed -g iso -t seg -s 5 many.tsv >p1.tsv &&
	grep "	1	" p1.tsv >pp && grep "	1	" q.tsv >qp && test_cmp pp qp &&
	grep "	0	" p1.tsv >pn && grep "	0	" q.tsv >qn && ! cmp -s pn qn
'

test_expect_success 'too few negatives: all of them, with a note' '
	pair-make --typed -g iso -t seg -n 10 segs.tsv >out 2>err &&
	grep -q "note: split .test.: 20 negative pair(s) asked for, 2 exist" err &&
	test $(grep -c "	0	test" out) -eq 2
'

test_expect_success 'a group in two splits is an error' '
	sed "s/^b2	B	NA	train/b2	B	NA	test/" segs.tsv >bad.tsv &&
	test_error "group .B. is in splits .train. and .test." pair-make -g iso -o o.mp bad.tsv &&
	test_path_is_missing o.mp
'

test_expect_success 'duplicate id is an error' '
	{ cat segs.tsv; printf "a1\tZ\tHA\ttrain\n"; } >dup.tsv &&
	test_error "record 10: duplicate id .a1." pair-make -g iso dup.tsv
'

test_expect_success 'usage, missing field, wrong type, missing value' '
	test_exit 2 pair-make segs.tsv &&
	test_exit 2 pair-make -g iso -n -1 segs.tsv &&
	test_error "no field .nosuch." pair-make -g nosuch segs.tsv &&
	cut -f1-3 segs.tsv >nosplit.tsv &&
	test_error "no field .split.*strat-split --group iso" pair-make -g iso nosplit.tsv &&
	printf "id:str\tiso:float\tsplit:str\na\t1.5\ttrain\n" >f.tsv &&
	test_error "must be str or int" pair-make -g iso f.tsv &&
	printf "id:str\tiso:str\tsplit:str\na\t\\\\N\ttrain\n" >n.tsv &&
	test_error "record 1: missing value in field .iso." pair-make -g iso n.tsv
'

test_expect_success 'empty and truncated input: exit 1, no output file' '
	: >empty &&
	test_exit 1 pair-make -g iso -o o.mp empty 2>err &&
	grep -q "empty input" err && test_path_is_missing o.mp &&
	strat-split -M -r train=0.5,test=0.5 -g iso --id id segs.tsv >s.mp &&
	head -c $(($(wc -c <s.mp) - 3)) s.mp >cut.mp &&
	test_exit 1 pair-make -g iso -o o.mp cut.mp 2>err &&
	grep -q "truncated" err && test_path_is_missing o.mp
'

test_expect_success 'pipeline from strat-split --group' '
	cut -f1-3 many.tsv >nos.tsv &&
	strat-split -M -r train=0.8,val=0.1,test=0.1 -g iso nos.tsv >s.mp &&
	pair-make --typed -g iso -t seg s.mp >p.tsv &&
	test $(sed -n "4,\$p" p.tsv | cut -f4 | sort -u | wc -l) -eq 3
'

test_expect_success 'a header and no records: a header-only stream, exit 0' '
	printf "id:str\tiso:str\tsplit:str\n" >hdr.tsv &&
	pair-make --typed -g iso -o o.tsv hdr.tsv 2>err &&
	test_cmp /dev/null err &&
	grep -v "^#" o.tsv >actual &&
	printf "a:str\tb:str\tlabel:int\tsplit:str\n" >expect &&
	test_cmp expect actual
'

test_done
