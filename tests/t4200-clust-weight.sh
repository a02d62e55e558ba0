#!/bin/sh
# clust-weight: members per cluster (str or int ids) and weight 1/count,
# in first-seen order; --annotate adds cluster_size and weight to records.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	printf "id:str\tcluster:str\tseq:str\n" >in.tsv &&
	printf "a\tC1\tMK\nb\tC2\tMKV\nc\tC1\tMKL\nd\tC3\tM\ne\tC1\tA\nf\tC2\tW\n" >>in.tsv &&
	rec-cat -M in.tsv >in.rec
'

test_expect_success 'table: cluster, count, weight in first-seen order' '
	clust-weight --typed in.rec >out &&
	rows out >actual &&
	printf "C1\t3\t0.3333333333333333\nC2\t2\t0.5\nC3\t1\t1\n" >expect &&
	test_cmp expect actual &&
	test_columns out "cluster:str\tcount:int\tweight:float"
'

test_expect_success 'the table keeps the input provenance and adds its own' '
	clust-weight --typed in.rec >out &&
	grep "^#meta" out | grep -q "\"tool\":\"rec-cat\".*\"tool\":\"clust-weight\""
'

test_expect_success 'several files count together; -k picks the field' '
	printf "id:str\tg:int\nx\t7\ny\t-3\nz\t7\n" >g.tsv &&
	clust-weight --typed -k g g.tsv g.tsv >out &&
	rows out >actual &&
	printf "7\t4\t0.25\n-3\t2\t0.5\n" >expect &&
	test_cmp expect actual &&
	grep -q "^cluster:int	count:int	weight:float" out
'

test_expect_success '--annotate: records with cluster_size and weight' '
	clust-weight --typed --annotate in.rec >out &&
	rows out | cut -f1,4,5 >actual &&
	printf "a\t3\t0.3333333333333333\nb\t2\t0.5\nc\t3\t0.3333333333333333\nd\t1\t1\ne\t3\t0.3333333333333333\nf\t2\t0.5\n" >expect &&
	test_cmp expect actual &&
	grep -q "^id:str	cluster:str	seq:str	cluster_size:int	weight:float" out
'

test_expect_success 'weights of a cluster sum to 1' '
	clust-weight --typed --annotate in.tsv >out &&
	rows out | awk -F "\t" "{s[\$2] += \$5} END {for (k in s) printf \"%s %.12f\\n\", k, s[k]}" | sort >actual &&
	printf "C1 1.000000000000\nC2 1.000000000000\nC3 1.000000000000\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'usage: --annotate takes no operands' '
	test_exit 2 clust-weight --annotate in.rec in.rec 2>err &&
	grep -q "no other FILE operands" err
'

test_expect_success '--annotate - reads stdin twice (spooled), as a file' '
	clust-weight --typed --annotate in.rec >out &&
	rows out >want &&
	clust-weight --typed --annotate - <in.rec >out &&
	rows out >got &&
	test_cmp want got &&
	gzip -c in.rec >in.rec.gz &&
	clust-weight --typed --annotate - <in.rec.gz >out &&
	rows out >got &&
	test_cmp want got &&
	: >empty0 &&
	test_exit 1 clust-weight --annotate - <empty0 2>err &&
	grep -q "^clust-weight: stdin: .*empty input" err
'

# ---- errors -----------------------------------------------------------

test_expect_success 'missing field and wrong type: exit 1, no output file' '
	test_error "^clust-weight: .*no field .nope." clust-weight -k nope -o o.rec in.rec &&
	printf "id:str\tcluster:float\nx\t1.5\n" >f.tsv &&
	test_error "field .cluster. is float" clust-weight -o o.rec f.tsv &&
	test_path_is_missing o.rec
'

test_expect_success 'nil cluster: exit 1 naming the record' '
	printf "id:str\tcluster:str\nx\tA\ny\t\\\\N\n" >nil.tsv &&
	test_error "record 2: field .cluster. is nil" clust-weight -o o.rec nil.tsv &&
	test_path_is_missing o.rec
'

test_expect_success 'empty and truncated input: exit 1, no output file' '
	: >empty &&
	test_error "empty input" clust-weight -o o.rec empty &&
	size=$(wc -c <in.rec) && head -c $((size - 2)) in.rec >trunc.rec &&
	test_error "truncated" clust-weight -o o.rec trunc.rec &&
	test_exit 1 clust-weight -o o.rec --annotate trunc.rec 2>err &&
	test_path_is_missing o.rec
'

test_done
