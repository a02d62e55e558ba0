#!/bin/sh
# len-bin: half-open bins from --edges or reference quantiles, --clamp,
# largest-remainder quotas (--targets) that rec-sample --quota reads.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	printf "id:str\tseq:str\n" >s.tsv &&
	for l in 1 5 9 10 11 19 20 29; do
		printf "s%d\t%s\n" $l $(printf "%${l}s" | tr " " M) >>s.tsv
	done &&
	rec-cat -M s.tsv >s.rec &&
	printf "id:str\tlen:int\tx:float\n" >l.tsv &&
	i=0 && while [ $i -lt 100 ]; do
		printf "r%d\t%d\t0.5\n" $i $(( (i * 37) % 100 )) >>l.tsv
		i=$((i + 1))
	done &&
	rec-cat -M l.tsv >l.rec
'

test_expect_success '--edges: [lo, hi) bins from the length of seq' '
	len-bin --typed --edges 0,10,20,30 s.rec >out &&
	rows out | cut -f1,3- >actual &&
	cat >expect <<-\EOT &&
	s1	0	0	10
	s5	0	0	10
	s9	0	0	10
	s10	1	10	20
	s11	1	10	20
	s19	1	10	20
	s20	2	20	30
	s29	2	20	30
	EOT
	test_cmp expect actual &&
	test_columns out "id:str\tseq:str\tbin:int\tbin_lo:int\tbin_hi:int"
'

test_expect_success 'the edges are recorded in meta.prov' '
	grep "^#meta" out | grep -q "\"tool\":\"len-bin\".*\"edges\":\"0,10,20,30\""
'

test_expect_success 'a len field wins over seq' '
	printf "id:str\tseq:str\tlen:int\na\tMM\t25\n" >w.tsv &&
	len-bin --typed --edges 0,10,20,30 w.tsv >out &&
	rows out >actual &&
	printf "a\tMM\t25\t2\t20\t30\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'outside the edges: error by default, --clamp to end bins' '
	test_error "^len-bin: record 1: length 1 is outside the bins \[5, 20) (use --clamp)" len-bin --edges 5,10,20 -o o.rec s.rec &&
	test_path_is_missing o.rec &&
	len-bin --typed --clamp --edges 5,10,20 s.rec >out &&
	rows out | cut -f1,3 >actual &&
	printf "s1\t0\ns5\t0\ns9\t0\ns10\t1\ns11\t1\ns19\t1\ns20\t1\ns29\t1\n" >expect &&
	test_cmp expect actual
'

test_expect_success '--quantiles from --ref: edges at ranks floor(k n / N)' '
	len-bin --typed --quantiles 4 --ref l.rec s.rec >out &&
	grep "^#meta" out | grep -q "\"edges\":\"0,25,50,75,100\""
'

test_expect_success '--targets: quotas sum to N (largest remainder, low bin wins ties)' '
	len-bin --typed --edges 0,10,20,100 --ref l.rec --targets 7 >out &&
	rows out >actual &&
	# ref counts 10, 10, 80: 0.7, 0.7, 5.6 -> 0, 0, 5 + remainders .7 .7 .6
	printf "0\t0\t10\t1\n1\t10\t20\t1\n2\t20\t100\t5\n" >expect &&
	test_cmp expect actual &&
	test_columns out "bin:int\tbin_lo:int\tbin_hi:int\tquota:int"
'

test_expect_success '--targets-out writes exactly bin, quota and bins the input' '
	len-bin --quantiles 4 --ref l.rec --targets 10 --targets-out t.rec -o b.rec l.rec &&
	rec-cat --typed t.rec >t &&
	rows t >actual &&
	# 25 lengths per quartile, 10/4 = 2.5 each: equal remainders, so
	# bins 0 and 1 (lower index first) get the extra one
	printf "0\t3\n1\t3\n2\t2\n3\t2\n" >expect &&
	test_cmp expect actual &&
	test_columns t "bin:int\tquota:int"
'

test_expect_success_if 'test -x "$PLM_BIN/rec-sample"' 'len-bin | rec-sample --quota: the sample matches the quotas' '
	rec-sample --typed --quota t.rec b.rec >smp 2>/dev/null &&
	rows smp | cut -f4 | sort | uniq -c | awk "{print \$2, \$1}" >actual &&
	printf "0 3\n1 3\n2 2\n3 2\n" >expect &&
	test_cmp expect actual &&
	len-bin --quantiles 4 --ref l.rec --targets 10 -o t4.rec &&
	rec-sample --typed --quota t4.rec b.rec >smp2 2>/dev/null &&
	rows smp2 | cut -f4 | sort | uniq -c | awk "{print \$2, \$1}" >actual &&
	test_cmp expect actual
'

test_expect_success '--shard K/N covers the input exactly once' '
	len-bin --typed --edges 0,50,100 --shard 0/2 l.rec >o0 &&
	len-bin --typed --edges 0,50,100 --shard 1/2 l.rec >o1 &&
	rows o0 >all && rows o1 >>all &&
	sort all >actual &&
	len-bin --typed --edges 0,50,100 l.rec >o && rows o | sort >expect &&
	test_cmp expect actual &&
	test $(rows o0 | wc -l) -gt 20 && test $(rows o1 | wc -l) -gt 20
'

# ---- errors -----------------------------------------------------------

test_expect_success 'usage errors exit 2' '
	test_exit 2 len-bin s.rec 2>err && grep -q "exactly one of" err &&
	test_exit 2 len-bin --quantiles 3 s.rec 2>err && grep -q "needs --ref" err &&
	test_exit 2 len-bin --edges 0,10 --targets 5 s.rec 2>err &&
	test_exit 2 len-bin --edges 10,5 s.rec 2>err && grep -q "not strictly increasing" err &&
	test_exit 2 len-bin --edges 10 s.rec 2>err && grep -q "at least two" err &&
	test_exit 2 len-bin --edges 0,x s.rec 2>err
'

test_expect_success 'no length field: exit 1, no output file' '
	printf "id:str\nx\n" >nolen.tsv &&
	test_error "no field .len. or .seq." len-bin --edges 0,10 -o o.rec nolen.tsv &&
	test_path_is_missing o.rec
'

test_expect_success 'wrong type and nil length: exit 1' '
	printf "id:str\tlen:str\nx\t5\n" >wt.tsv &&
	test_error "field .len. is str" len-bin --edges 0,10 -o o.rec wt.tsv &&
	printf "id:str\tlen:int\nx\t5\ny\t\n" >nl.tsv &&
	test_error "record 2: field .len. is nil" len-bin --edges 0,10 -o o.rec nl.tsv &&
	test_path_is_missing o.rec
'

test_expect_success 'empty and truncated input: exit 1, no output file' '
	: >empty &&
	test_error "empty input" len-bin --edges 0,10 -o o.rec empty &&
	size=$(wc -c <l.rec) && head -c $((size - 2)) l.rec >trunc.rec &&
	test_error "truncated" len-bin --edges 0,100 -o o.rec trunc.rec &&
	test_path_is_missing o.rec &&
	test_error "^len-bin: --ref: .*truncated" len-bin --quantiles 2 --ref trunc.rec --targets 4 --targets-out t.out -o o.rec l.rec &&
	test_path_is_missing o.rec && test_path_is_missing t.out
'

test_expect_success '--quantiles: a reference length of 2^63-1 has no last edge: exit 1' '
	printf "id:str\tlen:int\na\t5\nb\t9223372036854775807\nc\t7\n" >huge.tsv &&
	test_exit 1 len-bin --quantiles 2 --ref huge.tsv -o o.rec huge.tsv 2>err &&
	echo "len-bin: --ref: huge.tsv: record 2: length 9223372036854775807 is too large for --quantiles (at most 9223372036854775806)" >expect &&
	test_cmp expect err &&
	test_path_is_missing o.rec &&
	printf "id:str\tlen:int\na\t5\nb\t9223372036854775806\n" >max.tsv &&
	len-bin --typed --quantiles 2 --ref max.tsv -o o.tsv max.tsv 2>err &&
	test_cmp /dev/null err &&
	grep "^b	" o.tsv >actual &&
	printf "b\t9223372036854775806\t1\t9223372036854775806\t9223372036854775807\n" >expect &&
	test_cmp expect actual
'

test_done
