#!/bin/sh
# rec-cut: select in order, rename, drop; missing fields fail before output.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	cat >in.tsv <<-\EOT &&
	id:str	desc:str	seq:str	len:int	emb:f32[2]
	p1	first	MKV	3	1,-0.5
	p2	\N	MA	2	0.25,2
	p3	third	MKVLA		-1,1e-07
	EOT
	rec-cat -M in.tsv >in.rec
'

test_expect_success 'select in the order given, with a rename' '
	rec-cut --typed -f len,id,sequence=seq in.rec >out &&
	printf "len:int\tid:str\tsequence:str\n3\tp1\tMKV\n2\tp2\tMA\n\tp3\tMKVLA\n" >expect &&
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'vector fields and nil pass through; -f repeats' '
	rec-cut --typed -f emb -f desc in.rec >out &&
	cat >expect <<-\EOT &&
	emb:f32[2]	desc:str
	1,-0.5	first
	0.25,2	\N
	-1,1e-07	third
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'one field twice under two names' '
	rec-cut --typed -f id,copy=id in.tsv >out &&
	cat >expect <<-\EOT &&
	id:str	copy:str
	p1	p1
	p2	p2
	p3	p3
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success '-x drops the listed fields, keeps the rest in order' '
	rec-cut --typed --complement -f seq,desc in.rec >out &&
	cat >expect <<-\EOT &&
	id:str	len:int	emb:f32[2]
	p1	3	1,-0.5
	p2	2	0.25,2
	p3		-1,1e-07
	EOT
	body out >actual &&
	test_cmp expect actual &&
	rec-cut --typed --complement -f seq,desc in.rec >out2 &&
	body out2 >actual2 &&
	test_cmp expect actual2
'

test_expect_success 'meta and prov kept, MessagePack round trip' '
	rec-cut -f id in.rec >out.rec &&
	rec-cat --typed out.rec >out &&
	grep "\"tool\":\"rec-cat\".*\"tool\":\"rec-cut\"" out &&
	body out >actual &&
	printf "id:str\np1\np2\np3\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'missing field: exit 1 before any output' '
	test_exit 1 rec-cut -f id,x in.rec >out 2>err &&
	echo "rec-cut: in.rec: no field '\''x'\'' in input (fields: id, desc, seq, len, emb)" >expect &&
	test_cmp expect err &&
	test ! -s out &&
	test_exit 1 rec-cut -f id,new=x in.rec >out 2>err &&
	test_cmp expect err &&
	test_exit 1 rec-cut --complement -f x in.rec >out 2>err &&
	test_cmp expect err &&
	test ! -s out
'

test_expect_success 'several files; other fields start a new section' '
	printf "seq:str\tid:str\textra:int\nMQ\tq1\t7\n" >other.tsv &&
	rec-cut --typed -f id,seq in.tsv other.tsv in.rec >out &&
	cat >expect <<-\EOT &&
	id:str	seq:str
	p1	MKV
	p2	MA
	p3	MKVLA
	q1	MQ
	p1	MKV
	p2	MA
	p3	MKVLA
	EOT
	body out >actual &&
	test_cmp expect actual &&
	rec-cut --typed --complement -f id in.tsv other.tsv >out &&
	cat >expect <<-\EOT &&
	desc:str	seq:str	len:int	emb:f32[2]
	first	MKV	3	1,-0.5
	\N	MA	2	0.25,2
	third	MKVLA		-1,1e-07
	seq:str	extra:int
	MQ	7
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'a later file without the field: error, no output file' '
	test_error "^rec-cut: other.tsv: no field .desc. in input" rec-cut -f desc -o fail.rec in.tsv other.tsv &&
	test_path_is_missing fail.rec
'

test_expect_success '--shard keeps what rec-cat --shard keeps' '
	rec-cut --typed --shard 1/2 -f seq in.rec >out &&
	rec-cat --typed --shard 1/2 in.rec >all &&
	body all | cut -f 3 >expect &&
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'usage errors' '
	test_usage_error "^rec-cut: -f LIST is required" rec-cut in.rec >out &&
	test_exit 2 rec-cut -f a,,b in.rec 2>err &&
	test_exit 2 rec-cut -f ,a in.rec 2>err &&
	test_exit 2 rec-cut -f =a in.rec 2>err &&
	test_exit 2 rec-cut -f a= in.rec 2>err &&
	test_usage_error "field .id. named twice" rec-cut -f id,id in.rec &&
	test_usage_error "cannot rename" rec-cut --complement -f a=id in.rec
'

test_expect_success 'empty input' '
	: >empty &&
	test_error "empty input" rec-cut -f id empty >out
'

test_expect_success 'truncated input: error, no output file' '
	size=$(wc -c <in.rec) &&
	head -c $((size - 3)) in.rec >trunc.rec &&
	test_error "truncated input" rec-cut -f id -o fail2.rec trunc.rec &&
	test_path_is_missing fail2.rec
'

test_done
