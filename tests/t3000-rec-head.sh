#!/bin/sh
# rec-head: the first N records, a complete stream, fields untouched.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	printf "id:str\tlen:int\temb:f32[2]\n" >in.tsv &&
	i=1 && while [ $i -le 25 ]; do
		printf "p%d\t%d\t%d,-0.5\n" $i $((i * 10)) $i >>in.tsv
		i=$((i + 1))
	done &&
	rec-cat -M in.tsv >in.rec
'

test_expect_success 'default is 10 records, vectors passed through' '
	rec-head --typed in.rec >out &&
	sed -n 1,11p in.tsv >expect &&
	body out >actual &&
	test_cmp expect actual
'

test_expect_success '-n 3, TSV input' '
	rec-head --typed -n 3 in.tsv >out &&
	cat >expect <<-\EOT &&
	id:str	len:int	emb:f32[2]
	p1	10	1,-0.5
	p2	20	2,-0.5
	p3	30	3,-0.5
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'output is a complete stream with prov' '
	rec-head -n 2 in.rec >out.rec &&
	rec-cat --typed out.rec >out &&
	test $(body out | wc -l) -eq 3 &&
	grep -q "\"tool\":\"rec-head\"" out
'

test_expect_success '-n 0 writes the header only; -n beyond the end copies all' '
	rec-head --typed -n 0 in.rec >out &&
	body out >actual &&
	sed -n 1p in.tsv >expect &&
	test_cmp expect actual &&
	rec-head --typed -n 100 in.rec >out &&
	body out >actual &&
	test_cmp in.tsv actual
'

test_expect_success 'several files are one stream' '
	rec-head --typed -n 4 in.rec in.rec >out &&
	body out >actual &&
	sed -n 1,5p in.tsv >expect &&
	test_cmp expect actual &&
	rec-head --typed -n 27 in.rec in.rec >out &&
	test $(body out | wc -l) -eq 28
'

test_expect_success 'a file with other fields starts a new section' '
	printf "id:str\tx:int\nq1\t5\n" >other.tsv &&
	rec-head --typed -n 2 other.tsv in.rec >out &&
	cat >expect <<-\EOT &&
	id:str	x:int
	q1	5
	id:str	len:int	emb:f32[2]
	p1	10	1,-0.5
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'stops reading once done: a damaged tail is not read' '
	head -c 200 in.rec >trunc.rec &&
	rec-head --typed -n 1 trunc.rec >out &&
	test $(body out | wc -l) -eq 2
'

test_expect_success '--shard K/N: the shards partition the first records' '
	rec-head --typed -n 100 --shard 0/2 in.rec >s0 &&
	rec-head --typed -n 100 --shard 1/2 in.rec >s1 &&
	body s0 | sed 1d >a && body s1 | sed 1d >b &&
	test $(cat a b | wc -l) -eq 25 &&
	test -s a && test -s b &&
	rec-cat --typed --shard 1/2 in.rec >want &&
	body want >w && body s1 >g && test_cmp w g &&
	rec-head --typed -n 2 --shard 1/2 in.rec >out &&
	body out >actual && sed -n 1,3p g >expect &&
	test_cmp expect actual
'

test_expect_success '--shard-key picks another key' '
	rec-head --typed -n 100 --shard 0/3 --shard-key len in.rec >out &&
	test $(body out | wc -l) -lt 26 &&
	test_must_fail rec-head --shard 0/2 --shard-key emb in.rec >out 2>err &&
	grep "field .emb. is f32\[2\]" err
'

test_expect_success 'bad -n is a usage error' '
	test_usage_error "^rec-head: --number: .-1. is not an integer" rec-head -n -1 in.rec >out &&
	test_exit 2 rec-head -n x in.rec >out 2>err
'

test_expect_success 'empty input' '
	: >empty &&
	test_error "empty input" rec-head --typed empty >out &&
	test ! -s out
'

test_expect_success 'truncated input before N records: error, no output file' '
	head -c 200 in.rec >trunc.rec &&
	test_error "truncated input" rec-head -n 20 -o fail.rec trunc.rec &&
	test_path_is_missing fail.rec
'

test_expect_success 'missing file' '
	test_error "^rec-head: .*no-such-file" rec-head no-such-file
'

test_done
