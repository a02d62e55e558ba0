#!/bin/sh
# rec-filter: every operator, precedence, regex, nil, types, errors.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

# check EXPR 'IDS': the ids rec-filter keeps from in.rec, in order.
check () {
	rec-filter --typed "$1" in.rec >out &&
	body out | sed 1d | cut -f 1 >actual &&
	for x in $2; do echo $x; done >expect &&
	test_cmp expect actual
}

test_expect_success 'setup' '
	cat >in.tsv <<-\EOT &&
	id:str	len:int	score:float	ok:bool	organism:str	split:str	emb:f32[2]
	p1	50	0.5	true	Lambda phage	train	1,2
	p2	120	-1.25	false	Homo sapiens	test	3,4
	p3	49	nan	false	Influenza A virus	test	5,6
	p4				\N	train	7,8
	p5	300	2	true	Escherichia coli	val	9,10
	EOT
	rec-cat -M in.tsv >in.rec
'

test_expect_success 'whole records pass through, vectors included' '
	rec-filter --typed "len>=50" in.rec >out &&
	cat >expect <<-\EOT &&
	id:str	len:int	score:float	ok:bool	organism:str	split:str	emb:f32[2]
	p1	50	0.5	true	Lambda phage	train	1,2
	p2	120	-1.25	false	Homo sapiens	test	3,4
	p5	300	2	true	Escherichia coli	val	9,10
	EOT
	body out >actual &&
	test_cmp expect actual &&
	grep -q "\"tool\":\"rec-filter\"" out
'

test_expect_success 'int: == != < <= > >=' '
	check "len==50" "p1" &&
	check "len!=50" "p2 p3 p4 p5" &&
	check "len<50" "p3" &&
	check "len<=50" "p1 p3" &&
	check "len>50" "p2 p5" &&
	check "len>=50" "p1 p2 p5" &&
	check "len > 49.5" "p1 p2 p5" &&
	check "len==-0" ""
'

test_expect_success 'float, NaN compares unequal to everything' '
	check "score<0" "p2" &&
	check "score>=0.5" "p1 p5" &&
	check "score==2" "p5" &&
	check "score!=0.5" "p2 p3 p4 p5" &&
	check "score==nan" "" &&
	check "score>=1e-3" "p1 p5"
'

test_expect_success 'bool: numbers or true/false' '
	check "ok==1" "p1 p5" &&
	check "ok==true" "p1 p5" &&
	check "ok==false" "p2 p3" &&
	check "ok!=true" "p2 p3 p4"
'

test_expect_success 'str: bare words, quotes, byte order' '
	check "split==test" "p2 p3" &&
	check "split!=test" "p1 p4 p5" &&
	check "split=='\''train'\''" "p1 p4" &&
	check "organism==\"Homo sapiens\"" "p2" &&
	check "split<train" "p2 p3" &&
	check "split<=test" "p2 p3" &&
	check "split>test" "p1 p4 p5" &&
	check "split>=train" "p1 p4 p5" &&
	check "organism<Homo" "p5" &&
	check "organism>Homo" "p1 p2 p3" &&
	check "id==5" ""
'

test_expect_success 'regex: ~ and !~, extended syntax' '
	check "organism~virus|phage" "p1 p3" &&
	check "organism!~virus" "p1 p2 p4 p5" &&
	check "organism~^(Homo|Escherichia) " "p2 p5" &&
	check "organism~'\''^[A-Z][a-z]+ [a-z]+$'\''" "p1 p2 p5" &&
	check "(organism~coli)" "p5" &&
	check "organism~phage||len>200" "p1 p5" &&
	check "id~p[13]" "p1 p3"
'

test_expect_success 'nil: every comparison false except != and !~' '
	check "len<1000" "p1 p2 p3 p5" &&
	check "len>=0" "p1 p2 p3 p5" &&
	check "organism~." "p1 p2 p3 p5" &&
	check "organism!~." "p4" &&
	check "ok!=1" "p2 p3 p4" &&
	check "!(len<1000)" "p4"
'

test_expect_success '&& || ! and their precedence' '
	check "len>=50 && organism~phage" "p1" &&
	check "id==p1 || id==p3" "p1 p3" &&
	check "id==p1 || id==p2 && len<50" "p1" &&
	check "(id==p1 || id==p2) && len<100" "p1" &&
	check "id==p2 && len>100 || id==p3" "p2 p3" &&
	check "!id==p1" "p2 p3 p4 p5" &&
	check "!id==p1 && !id==p2" "p3 p4 p5" &&
	check "!(id==p1 || id==p2)" "p3 p4 p5" &&
	check "!!id==p1" "p1" &&
	check " ( ( split == test ) ) " "p2 p3"
'

test_expect_success '-v inverts, --count counts' '
	rec-filter --typed --invert "split==test" in.rec >out &&
	body out | sed 1d | cut -f 1 >actual &&
	printf "p1\np4\np5\n" >expect &&
	test_cmp expect actual &&
	rec-filter --count "split==test" in.rec >out &&
	echo 2 >expect &&
	test_cmp expect out &&
	rec-filter --count --invert -o n.txt "split==test" in.rec &&
	echo 3 >expect &&
	test_cmp expect n.txt
'

test_expect_success 'several files; a section with other fields is re-resolved' '
	printf "len:str\tid:str\nabc\tq1\n50\tq2\n" >other.tsv &&
	rec-filter --typed "len==50" in.rec other.tsv in.tsv >out &&
	cat >expect <<-\EOT &&
	id:str	len:int	score:float	ok:bool	organism:str	split:str	emb:f32[2]
	p1	50	0.5	true	Lambda phage	train	1,2
	len:str	id:str
	50	q2
	id:str	len:int	score:float	ok:bool	organism:str	split:str	emb:f32[2]
	p1	50	0.5	true	Lambda phage	train	1,2
	EOT
	body out >actual &&
	test_cmp expect actual
'

test_expect_success '--shard keeps what rec-cat --shard keeps' '
	rec-filter --typed --shard 0/2 "len>0" in.rec >out &&
	rec-cat --typed --shard 0/2 in.rec >all &&
	body all | grep -v "^p4" >expect &&
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'syntax errors: exit 2, the column shown' '
	test_usage_error "^rec-filter: syntax error at column 6 of .len>=.: expected a value" rec-filter "len>=" in.rec >out &&
	test ! -s out &&
	test_usage_error "column 7 .*expected .)." rec-filter "(len>5" in.rec &&
	test_usage_error "column 7 .*did you mean .&&." rec-filter "len>5 & id==a" in.rec &&
	test_usage_error "column 4 .*expected an operator" rec-filter "len=5" in.rec &&
	test_usage_error "unterminated" rec-filter "id==\"abc" in.rec &&
	test_usage_error "bad regex" rec-filter "organism~(" in.rec &&
	test_exit 2 rec-filter "" in.rec 2>err &&
	test_usage_error "missing EXPR" rec-filter
'

test_expect_success 'unknown field: exit 1 before output' '
	test_exit 1 rec-filter -o out.rec "len>1 && nosuch==1" in.rec 2>err &&
	echo "rec-filter: no field '\''nosuch'\'' in input (fields: id, len, score, ok, organism, split, emb)" >expect &&
	test_cmp expect err &&
	test_path_is_missing out.rec
'

test_expect_success 'wrong types are usage errors naming the value' '
	test_usage_error "^rec-filter: field .len. is int: .abc. is not a number" rec-filter "len>abc" in.rec >out &&
	test ! -s out &&
	test_usage_error "field .len. is int: ~ and !~ need a str field" rec-filter "len~5" in.rec &&
	test_usage_error "field .emb. is f32\[2\]: vectors cannot be compared" rec-filter "emb==1" in.rec &&
	test_exit 2 rec-filter "score==true" in.rec 2>err
'

test_expect_success 'empty input' '
	: >empty &&
	test_error "empty input" rec-filter "len>0" empty >out &&
	test ! -s out
'

test_expect_success 'truncated input: exit 1, no output file' '
	size=$(wc -c <in.rec) &&
	head -c $((size - 3)) in.rec >trunc.rec &&
	test_error "truncated input" rec-filter -o fail.rec "len>0" trunc.rec &&
	test_path_is_missing fail.rec &&
	test_exit 1 rec-filter --count -o fail.txt "len>0" trunc.rec 2>err &&
	test_path_is_missing fail.txt
'

# The EXAMPLES of rec-filter(1), on a small proteins file.  The pipeline is
# the man page's; a failing stage shows as "truncated input" downstream.
test_expect_success 'man page examples' '
	cat >p.tsv <<-\EOT &&
	id:str	len:int	organism:str	split:str	label:int
	a	80	T4 phage	test	1
	b	20	Homo sapiens	test	1
	c	60	Homo sapiens	train	0
	d	90	Homo sapiens	test	1
	e	70	Zika virus	train	1
	f	10	Homo sapiens	val	0
	EOT
	rec-cat -M p.tsv >p.plm &&
	cp p.plm proteins.plm && cp p.plm data.plm &&
	rec-filter "len>=50 && organism~virus|phage" proteins.plm >o.plm &&
	rec-cut --typed -f id o.plm >out &&
	body out >actual &&
	printf "id:str\na\ne\n" >expect &&
	test_cmp expect actual &&
	rec-filter --count "split==test && label==1" data.plm >actual &&
	echo 3 >expect &&
	test_cmp expect actual &&
	rec-filter "organism==\"Homo sapiens\"" p.plm | rec-head -n 2 | rec-cut --typed -f id,len >out &&
	body out >actual &&
	printf "id:str\tlen:int\nb\t20\nc\t60\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'the shared expression grammar: functions, arithmetic, ?:' '
	check "len(organism) > 14" "p3 p5" &&
	check "len * 2 > 200" "p2 p5" &&
	check "substr(organism, 0, 4) == \"Homo\"" "p2" &&
	check "lower(split) . id == \"testp2\"" "p2" &&
	check "is_nil(organism)" "p4" &&
	check "ok" "p1 p5" &&
	check "(len > 100 ? split : id) == \"test\"" "p2"
'

test_expect_success 'a filter must be a condition; run-time type errors name the record' '
	test_usage_error "EXPR is int, not a condition" rec-filter "len + 1" in.rec &&
	test_error "^rec-filter: in.rec: record 1: .Lambda phage. is not a number" rec-filter "organism < \$len" in.rec
'

test_done
