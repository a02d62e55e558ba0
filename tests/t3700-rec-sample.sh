#!/bin/sh
# rec-sample: -n (reservoir), -p (Bernoulli), --quota (per stratum);
# seeded and deterministic; shortfalls reported; --strict.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	printf "id:str\tg:str\tbin:int\tv:f32[2]\n" >in.tsv &&
	i=1 && while [ $i -le 100 ]; do
		if [ $i -le 50 ]; then g=A; elif [ $i -le 80 ]; then g=B; else g=C; fi
		printf "r%d\t%s\t%d\t%d,0.25\n" $i $g $((i % 2)) $i >>in.tsv
		i=$((i + 1))
	done &&
	rec-cat -M in.tsv >in.rec &&
	printf "id:str\tn:int\n" >big.tsv &&
	i=1 && while [ $i -le 2000 ]; do
		printf "b%d\t%d\n" $i $i >>big.tsv
		i=$((i + 1))
	done &&
	rec-cat -M big.tsv >big.rec
'

test_expect_success '-n: exact count, records unchanged, input order' '
	rec-sample --typed -n 10 in.rec >out &&
	rows out >got &&
	test $(wc -l <got) -eq 10 &&
	sed 1d in.tsv >all &&
	grep -F -x -f got all >kept &&
	test_cmp got kept
'

test_expect_success '-n: pinned output for seed 5 (regression)' '
	printf "id:str\tn:int\n" >ten.tsv &&
	for i in 1 2 3 4 5 6 7 8 9 10; do printf "t%d\t%d\n" $i $i >>ten.tsv; done &&
	rec-sample --typed -n 3 -s 5 ten.tsv >out &&
	rows out >actual &&
	# Algorithm R over xoshiro256** seeded 5, checked by a Python model.
	printf "t1\t1\nt3\t3\nt4\t4\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'same seed, same output; other seeds differ' '
	rec-sample -n 20 -s 42 -o x.rec in.rec && mv x.rec a.rec &&
	rec-sample -n 20 -s 42 -o x.rec in.rec &&
	cmp a.rec x.rec &&
	rec-sample --typed -n 20 -s 42 in.rec >a &&
	rec-sample --typed -n 20 -s 43 in.rec >b &&
	rows a >ra && rows b >rb &&
	! cmp -s ra rb &&
	rec-sample --typed -n 20 in.rec >d &&
	rec-sample --typed -n 20 -s 11 in.rec >e &&
	rows d >rd && rows e >re &&
	test_cmp rd re
'

test_expect_success 'the seed is recorded in meta.prov' '
	grep "^#meta" a | grep -q "\"tool\":\"rec-sample\".*\"seed\":42" &&
	grep "^#meta" d | grep -q "\"seed\":11"
'

test_expect_success '-n above the count: all records, a note, exit 0' '
	rec-sample --typed -n 200 in.rec >out 2>err &&
	rows out >got && sed 1d in.tsv >all &&
	test_cmp all got &&
	grep -q "only 100 records, fewer than -n 200" err &&
	test_exit 1 rec-sample --strict -n 200 -o s.rec in.rec 2>err &&
	test_path_is_missing s.rec
'

test_expect_success '-n 0 writes the header only' '
	rec-sample --typed -n 0 in.rec >out &&
	test $(rows out | wc -l) -eq 0
'

test_expect_success '-p: roughly the fraction, deterministic' '
	rec-sample --typed -p 0.3 big.rec >p1 &&
	rec-sample --typed -p 0.3 big.rec >p2 &&
	test_cmp p1 p2 &&
	n=$(rows p1 | wc -l) &&
	echo "kept $n of 2000" &&
	test $n -ge 500 && test $n -le 700 &&
	rec-sample --typed -p 0 in.rec >p0 && test $(rows p0 | wc -l) -eq 0 &&
	rec-sample --typed -p 1 in.rec >pall && rows pall >got &&
	sed 1d in.tsv >all && test_cmp all got
'

test_expect_success '--quota: exact counts per stratum, report the rest' '
	printf "g:str\tquota:int\nA\t5\nB\t3\nD\t2\n" >q.tsv &&
	rec-sample --typed --quota q.tsv in.rec >out 2>err &&
	rows out >got &&
	test $(grep -c "	A	" got) -eq 5 &&
	test $(grep -c "	B	" got) -eq 3 &&
	test $(wc -l <got) -eq 8 &&
	cat >expect.err <<-\EOF &&
	rec-sample: stratum g=D: 0 records, quota 2 (short by 2)
	rec-sample: 20 records in strata not in q.tsv (not sampled)
	EOF
	test_cmp expect.err err &&
	sed 1d in.tsv >all && grep -F -x -f got all >kept && test_cmp got kept
'

test_expect_success '--quota on two fields (str and int), MessagePack table' '
	printf "bin:int\tg:str\tquota:int\n0\tA\t4\n1\tA\t2\n1\tC\t20\n" >q2.tsv &&
	rec-cat -M q2.tsv >q2.rec &&
	rec-sample --typed -s 3 --quota q2.rec in.rec >out 2>err &&
	rows out >got &&
	test $(grep -c "	A	0	" got) -eq 4 &&
	test $(grep -c "	A	1	" got) -eq 2 &&
	test $(grep -c "	C	1	" got) -eq 10 &&
	grep -q "stratum bin=1,g=C: 10 records, quota 20 (short by 10)" err &&
	grep -q "^rec-sample: 40 records in strata not in q2.rec" err
'

test_expect_success '--quota --strict: a shortfall fails with no output' '
	test_error "short by 2" rec-sample --strict --quota q.tsv -o st.rec in.rec &&
	test_path_is_missing st.rec &&
	printf "g:str\tquota:int\nA\t5\n" >qa.tsv &&
	rec-sample --strict --quota qa.tsv -o st.rec in.rec 2>err &&
	test -f st.rec
'

test_expect_success 'bad quota tables' '
	printf "g:str\tn:int\nA\t1\n" >bad1.tsv &&
	test_error "no .quota. field" rec-sample --quota bad1.tsv in.rec >out &&
	printf "g:str\tquota:int\nA\t1\nB\t2\nA\t3\n" >bad2.tsv &&
	test_error "bad2.tsv: record 3: stratum g=A is listed twice (first at record 1)" rec-sample --quota bad2.tsv in.rec >out &&
	printf "g:str\tquota:int\nA\t-1\n" >bad3.tsv &&
	test_error "record 1: quota is negative" rec-sample --quota bad3.tsv in.rec >out &&
	printf "kingdom:str\tquota:int\nA\t1\n" >bad4.tsv &&
	test_error "no field .kingdom. (a stratum field of the quota table) in the input" rec-sample --quota bad4.tsv in.rec >out &&
	printf "bin:str\tquota:int\n1\t1\n" >bad5.tsv &&
	test_error "field .bin. is int in the input but str in the quota table" rec-sample --quota bad5.tsv in.rec >out &&
	test_exit 1 rec-sample --quota nonexistent.tsv in.rec >out 2>err
'

test_expect_success '--shard samples from a share' '
	rec-sample --typed -p 1 --shard 1/3 in.rec >out &&
	rec-cat --typed --shard 1/3 in.rec >want &&
	rows out >g && rows want >w && test_cmp w g
'

test_expect_success 'usage errors' '
	test_exit 2 rec-sample in.rec 2>err &&
	test_exit 2 rec-sample -n 3 -p 0.5 in.rec 2>err &&
	test_exit 2 rec-sample -p 1.5 in.rec 2>err &&
	test_exit 2 rec-sample -n -1 in.rec 2>err
'

test_expect_success 'empty and truncated input: exit 1, no output file' '
	: >empty &&
	test_error "empty input" rec-sample -n 3 -o o.rec empty &&
	test_path_is_missing o.rec &&
	size=$(wc -c <in.rec) &&
	head -c $((size - 2)) in.rec >trunc.rec &&
	for m in "-n 3" "-p 0.5" "--quota q.tsv"; do
		test_error "truncated input" rec-sample $m -o o.rec trunc.rec &&
		test_path_is_missing o.rec || return 1
	done
'

test_done
