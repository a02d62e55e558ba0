#!/bin/sh
# rec-put: constant fields, inferred or forced types, in-place overwrite;
# NAME = EXPR assignments.
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
	rec-put --typed n=1 neg=-7 f=0.5 e=1e-3 s=virus nan=nan hex=0x10 empty= in.rec >out &&
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
	rec-put --typed label=1 in.rec >out &&
	cat >expect <<-\EOT &&
	id:str	label:int	emb:f32[2]
	p1	1	1,-0.5
	p2	1	0.25,2
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'NAME:TYPE forces the type' '
	rec-put --typed a:str=1 b:float=2 c:bool=true d:bool=0 e:int=-3 f:float=inf g:str= in.tsv >out &&
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
	rec-put --typed "note=a=b c" d/x=1.rec >out &&
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
	rec-put --typed set=all in.rec other.tsv >out &&
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
	rec-put --typed --shard 1/2 label=0 in.rec >out &&
	rec-cat --typed --shard 1/2 in.rec >all &&
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
	rec-cut --typed -f id,label viral-labelled.plm >out &&
	body out >actual &&
	printf "id:str\tlabel:int\np1\t1\np2\t1\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'expressions: values, types from the expression' '
	cat >p.tsv <<-\EOT &&
	id:str	len:int	organism:str	seq:str
	A	5	Lambda phage	MKVLA
	B	3	Homo sapiens	MKV
	C		\N	MK
	EOT
	rec-put --typed "label = organism ~ \"[Vv]irus|phage\" ? \"viral\" : \"host\"" \
		"n = len(seq); half = n / 2" "tag = lower(id) . \"-\" . substr(seq, 1, 2)" \
		"big = n > 3" "m = len % 2" p.tsv >out &&
	cat >expect <<-\EOT &&
	id:str	len:int	organism:str	seq:str	label:str	n:int	half:float	tag:str	big:bool	m:int
	A	5	Lambda phage	MKVLA	viral	5	2.5	a-KV	true	1
	B	3	Homo sapiens	MKV	host	3	1.5	b-KV	false	1
	C		\N	MK	host	2	1	c-K	false	
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'expressions: later assignments see earlier ones, overwrite in place' '
	rec-put --typed "len = len * 10; x = len + 1" "id = id . str(x)" p.tsv >out &&
	cat >expect <<-\EOT &&
	id:str	len:int	organism:str	seq:str	x:int
	A51	50	Lambda phage	MKVLA	51
	B31	30	Homo sapiens	MKV	31
	\N		\N	MK	
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'constants and expressions mix; blanks around = make an expression' '
	rec-put --typed k=len "e = len" f:str=1 "\$g=2" p.tsv >out &&
	body out | sed -n 1,2p >actual &&
	cat >expect <<-\EOT &&
	id:str	len:int	organism:str	seq:str	k:str	e:int	f:str	g:int
	A	5	Lambda phage	MKVLA	len	5	1	2
	EOT
	test_cmp expect actual
'

test_expect_success 'expression errors: syntax (column), unknown field, types' '
	test_usage_error "^rec-put: syntax error at column 10 of .x = len +.: expected a field name" rec-put "x = len +" p.tsv >out &&
	test ! -s out &&
	test_usage_error "column 4 .*expected .=. after the field name" rec-put "\$x ~ 1" p.tsv &&
	test_usage_error "unknown function .nosuch." rec-put "x = nosuch(id)" p.tsv &&
	test_exit 1 rec-put -o o.rec "x = sequence . id" p.tsv 2>err &&
	echo "rec-put: '\''x = sequence . id'\'': no field '\''sequence'\'' in input (fields: id, len, organism, seq)" >expect &&
	test_cmp expect err &&
	test_path_is_missing o.rec &&
	test_usage_error "^rec-put: .x = seq + 1.: .+. needs numbers, but field .seq. is str" rec-put "x = seq + 1" p.tsv &&
	test_usage_error "branches of the .?. at column 11 are int and str" rec-put "x = len>4 ? 1 : id" p.tsv &&
	test_usage_error "field .x. set twice" rec-put "x = 1; x = 2" p.tsv
'

test_expect_success 'run-time type errors name the record' '
	test_error "^rec-put: p.tsv: record 1: x: int(): .Lambda phage. is not a number" rec-put -o o.rec "x = int(organism)" p.tsv &&
	test_path_is_missing o.rec &&
	test_error "^rec-put: p.tsv: record 1: x: .Lambda phage. is not a number" rec-put "x = substr(organism, 0, 100) < \$len" p.tsv
'

# The bundled data labelled in one command gives the labels of the
# two-filter form (scripts/demo.sh before rec-put had expressions).
test_expect_success 'viral/host labelling of the bundled data, one command' '
	re="[Vv]irus|[Pp]hage|[Vv]iroid" &&
	zcat "$PLM_TOP/tests/data/uniprot_20k.fasta.gz" >u.fasta &&
	fasta-cat --uniprot -o all.rec u.fasta &&
	rec-put "label = organism ~ \"$re\" ? \"viral\" : \"host\"" all.rec >one.rec &&
	rec-filter "organism~$re" all.rec >v.rec &&
	rec-put label=viral v.rec >viral.rec &&
	rec-filter --invert "organism~$re" all.rec >h.rec &&
	rec-put label=host h.rec >host.rec &&
	rec-cut --typed -f id,label one.rec >one.tsv &&
	body one.tsv | sed 1d | sort >actual &&
	rec-cut --typed -f id,label viral.rec host.rec >two2.tsv &&
	body two2.tsv | grep -v "^id:" | sort >expect &&
	test_cmp expect actual &&
	test $(wc -l <actual) -eq 20000 &&
	rec-filter --count "label==viral" one.rec >nv &&
	rec-filter --count "organism~$re" all.rec >nv2 &&
	test_cmp nv2 nv &&
	test $(cat nv) -gt 0 &&
	rec-filter --count "label==host" one.rec >nh &&
	test $(($(cat nv) + $(cat nh))) -eq 20000
'

test_expect_success 'man page expression examples' '
	printf "id:str\tseq:str\torganism:str\nP1\tMKV\tT4 phage\nP2\tMKVLAA\tHomo sapiens\n" >m.tsv &&
	rec-cat -M m.tsv >proteins.plm &&
	rec-put "label = organism ~ \"[Vv]irus|phage\" ? \"viral\" : \"host\"" proteins.plm >labelled.plm &&
	rec-put --typed "n = len(seq); kind = n >= 5 ? \"long\" : \"short\"" "key = lower(id) . \":\" . substr(seq, 0, 2)" labelled.plm >out &&
	cat >expect <<-\EOT &&
	id:str	seq:str	organism:str	label:str	n:int	kind:str	key:str
	P1	MKV	T4 phage	viral	3	short	p1:MK
	P2	MKVLAA	Homo sapiens	host	6	long	p2:MK
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_done
