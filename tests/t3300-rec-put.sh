#!/bin/sh
# rec-put: constant fields, inferred or forced types, in-place overwrite.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	cat >in.tsv <<-\EOT &&
	id:str	label:str	emb:f32[2]
	p1	x	1,-0.5
	p2	\N	0.25,2
	EOT
	rec-cat -M in.tsv >in.rec
'

test_expect_success 'new fields appended, types inferred' '
	rec-put -T n=1 neg=-7 f=0.5 e=1e-3 s=virus nan=nan hex=0x10 empty= in.rec >out &&
	cat >expect <<-\EOT &&
	id:str	label:str	emb:f32[2]	n:int	neg:int	f:float	e:float	s:str	nan:str	hex:str	empty:str
	p1	x	1,-0.5	1	-7	0.5	0.001	virus	nan	0x10	
	p2	\N	0.25,2	1	-7	0.5	0.001	virus	nan	0x10	
	EOT
	body out >actual &&
	test_cmp expect actual &&
	grep -q "\"tool\":\"rec-put\"" out
'

test_expect_success 'overwrite keeps the position, takes the new type' '
	rec-put -T label=1 in.rec >out &&
	cat >expect <<-\EOT &&
	id:str	label:int	emb:f32[2]
	p1	1	1,-0.5
	p2	1	0.25,2
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'NAME:TYPE forces the type' '
	rec-put -T a:str=1 b:float=2 c:bool=true d:bool=0 e:int=-3 f:float=inf g:str= in.tsv >out &&
	cat >expect <<-\EOT &&
	id:str	label:str	emb:f32[2]	a:str	b:float	c:bool	d:bool	e:int	f:float	g:str
	p1	x	1,-0.5	1	2	true	false	-3	inf	
	p2	\N	0.25,2	1	2	true	false	-3	inf	
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'values with = and blanks; a path with / is a file' '
	mkdir d && cp in.rec d/x=1.rec &&
	rec-put -T "note=a=b c" d/x=1.rec >out &&
	cat >expect <<-\EOT &&
	id:str	label:str	emb:f32[2]	note:str
	p1	x	1,-0.5	a=b c
	p2	\N	0.25,2	a=b c
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'several files; a section with other fields' '
	printf "id:str\tlabel:int\nq1\t5\n" >other.tsv &&
	rec-put -T set=all in.rec other.tsv >out &&
	cat >expect <<-\EOT &&
	id:str	label:str	emb:f32[2]	set:str
	p1	x	1,-0.5	all
	p2	\N	0.25,2	all
	id:str	label:int	set:str
	q1	5	all
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success '--shard keeps what rec-cat --shard keeps' '
	rec-put -T --shard 1/2 label=0 in.rec >out &&
	rec-cat -T --shard 1/2 in.rec >all &&
	test $(body out | wc -l) -eq $(body all | wc -l)
'

test_expect_success 'usage errors' '
	test_usage_error "^rec-put: missing NAME=VALUE" rec-put in.rec >out &&
	test_usage_error "^rec-put: .x:int=abc.: .abc. is not an integer" rec-put x:int=abc in.rec &&
	test_exit 2 rec-put x:float=abc in.rec 2>err &&
	test_exit 2 rec-put x:bool=yes in.rec 2>err &&
	test_usage_error "type must be str, int, float or bool" rec-put x:vec=1 in.rec &&
	test_usage_error "field .x. set twice" rec-put x=1 x=2 in.rec &&
	test ! -s out
'

test_expect_success 'empty input' '
	: >empty &&
	test_error "empty input" rec-put a=1 empty >out
'

test_expect_success 'truncated input: exit 1, no output file' '
	size=$(wc -c <in.rec) &&
	head -c $((size - 3)) in.rec >trunc.rec &&
	test_error "truncated input" rec-put -o fail.rec a=1 trunc.rec &&
	test_path_is_missing fail.rec
'

test_expect_success 'man page example' '
	cp in.rec viral.plm &&
	rec-put label=1 viral.plm >viral-labelled.plm &&
	rec-cut -T -f id,label viral-labelled.plm >out &&
	body out >actual &&
	printf "id:str\tlabel:int\np1\t1\np2\t1\n" >expect &&
	test_cmp expect actual
'

test_done
