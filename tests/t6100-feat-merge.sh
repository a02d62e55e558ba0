#!/bin/sh
# feat-merge: concatenation in argument order, dims announced first,
# f16/bf16 inputs, which input streams (the largest file, or stdin),
# missing keys on either side (error, drop, zero, nil), errors.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	printf "id:str\temb:f32[2]\tx:int\na\t1,2\t5\nb\t3,4\t6\nc\t5,6\t7\n" >A.tsv &&
	printf "id:str\temb:f32[3]\tjunk:str\nc\t0.5,0.25,1\tq\na\t7,8,9\tq\nb\t1,1,1\tq\n" >B.tsv &&
	printf "id:str\temb:f16[1]\nb\t-2\na\t1.5\nc\t0.099975586\n" >C.tsv &&
	rec-cat -M B.tsv >B.rec
'

test_expect_success 'A B C: concat in argument order, dims on stderr; the largest (B.rec) streams, its order' '
	feat-merge A.tsv B.rec C.tsv -k id -x emb --field emb --typed -v >out 2>err &&
	body out >actual &&
	printf "id:str\temb:f32[6]\tx:int\n" >expect &&
	printf "c\t5,6,0.5,0.25,1,0.099975586\t7\na\t1,2,7,8,9,1.5\t5\nb\t3,4,1,1,1,-2\t6\n" >>expect &&
	test_cmp expect actual &&
	cat >expect <<-\EOF &&
	feat-merge: emb: 2 + 3 + 1 = 6
	feat-merge: holding A.tsv: 3 records (whole records)
	feat-merge: holding C.tsv: 3 records (key and vector)
	feat-merge: streaming B.rec
	EOF
	test_cmp expect err
'

test_expect_success 'stdin as A streams: A order; the same records' '
	feat-merge --typed -v - B.rec C.tsv <A.tsv >out 2>err &&
	body out >actual &&
	printf "id:str\temb:f32[6]\tx:int\n" >expect &&
	printf "a\t1,2,7,8,9,1.5\t5\nb\t3,4,1,1,1,-2\t6\nc\t5,6,0.5,0.25,1,0.099975586\t7\n" >>expect &&
	test_cmp expect actual &&
	grep -q "^feat-merge: streaming stdin" err &&
	grep -q "^feat-merge: holding B.rec: 3 records (key and vector)" err
'

test_expect_success 'order of the inputs is the order of the parts' '
	printf "id:str\temb:f32[2]\na\t1,2\nb\t3,4\nc\t5,6\n" >A2.tsv &&
	feat-merge --typed C.tsv A2.tsv >out 2>err &&
	body out >actual &&
	printf "id:str\temb:f32[3]\nb\t-2,3,4\na\t1.5,1,2\nc\t0.099975586,5,6\n" >expect &&
	test_cmp expect actual
'

test_expect_success '--field adds a field, keeps A.emb; -k, -x' '
	printf "name:str\tv:f32[1]\nb\t9\na\t8\nc\t7\n" >D.tsv &&
	printf "name:str\tv:f32[1]\na\t1\nb\t2\nc\t3\n" >E.tsv &&
	feat-merge --typed -k name -x v --field both - D.tsv <E.tsv >out 2>/dev/null &&
	body out >actual &&
	printf "name:str\tv:f32[1]\tboth:f32[2]\na\t1\t1,8\nb\t2\t2,9\nc\t3\t3,7\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a key missing from any input is an error listing it; no output' '
	printf "id:str\temb:f32[1]\na\t1\n" >F.tsv &&
	test_exit 1 feat-merge -o out.rec A.tsv F.tsv 2>err &&
	cat >expect <<-\EOF &&
	feat-merge: emb: 2 + 1 = 3
	feat-merge: 2 of 3 keys lack a vector: '"'"'b'"'"' (not in F.tsv), '"'"'c'"'"' (not in F.tsv); use --allow-missing drop|zero to go on
	EOF
	test_cmp expect err &&
	test_path_is_missing out.rec &&
	printf "id:str\temb:f32[1]\na\t1\nb\t2\nc\t3\nz\t4\ny\t5\n" >G.tsv &&
	test_exit 1 feat-merge -o out.rec A.tsv G.tsv 2>err &&
	echo "feat-merge: 2 of 5 keys lack a vector: '"'"'z'"'"' (not in A.tsv), '"'"'y'"'"' (not in A.tsv); use --allow-missing drop|zero to go on" >expect &&
	tail -n 1 err >actual && test_cmp expect actual &&
	test_exit 1 feat-merge -o out.rec - G.tsv <A.tsv 2>err &&
	sed "s/in A.tsv/in stdin/g" expect >expect2 &&
	tail -n 1 err >actual && test_cmp expect2 actual &&
	test_path_is_missing out.rec
'

test_expect_success '--allow-missing drop|zero (and nil), counted on stderr' '
	feat-merge --typed --allow-missing drop A.tsv F.tsv >out 2>err &&
	body out >actual &&
	printf "id:str\temb:f32[3]\tx:int\na\t1,2,1\t5\n" >expect &&
	test_cmp expect actual &&
	grep -q "^feat-merge: 2 of 3 keys lacked a vector (first: .b. (not in F.tsv)): dropped" err &&
	feat-merge --typed --allow-missing zero A.tsv F.tsv >out 2>err &&
	body out >actual &&
	printf "id:str\temb:f32[3]\tx:int\na\t1,2,1\t5\nb\t3,4,0\t6\nc\t5,6,0\t7\n" >expect &&
	test_cmp expect actual &&
	grep -q "2 of 3 keys lacked a vector .*: zero-filled" err &&
	feat-merge --typed --allow-missing nil A.tsv F.tsv >out 2>err &&
	body out >actual &&
	printf "id:str\temb:f32[3]\tx:int\na\t1,2,1\t5\nb\t\t6\nc\t\t7\n" >expect &&
	test_cmp expect actual
'

test_expect_success '--missing is kept as the older spelling' '
	feat-merge --typed --missing zero A.tsv F.tsv >out 2>err &&
	body out >actual &&
	printf "id:str\temb:f32[3]\tx:int\na\t1,2,1\t5\nb\t3,4,0\t6\nc\t5,6,0\t7\n" >expect &&
	test_cmp expect actual &&
	test_exit 1 feat-merge -o out.rec --missing error A.tsv F.tsv 2>err &&
	test_path_is_missing out.rec
'

test_expect_success 'keys the streamed input lacks come last (zero: first input fields nil)' '
	feat-merge --typed --allow-missing zero A.tsv G.tsv >out 2>err &&
	body out >actual &&
	printf "id:str\temb:f32[3]\tx:int\n" >expect &&
	printf "a\t1,2,1\t5\nb\t3,4,2\t6\nc\t5,6,3\t7\nz\t0,0,4\t\ny\t0,0,5\t\n" >>expect &&
	test_cmp expect actual &&
	grep -q "2 of 5 keys lacked a vector (first: .z. (not in A.tsv)): zero-filled" err &&
	feat-merge --typed --allow-missing drop A.tsv G.tsv >out 2>/dev/null &&
	body out >actual &&
	printf "id:str\temb:f32[3]\tx:int\na\t1,2,1\t5\nb\t3,4,2\t6\nc\t5,6,3\t7\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'a held first input keeps its fields; the result does not depend on which streams' '
	printf "id:str\temb:f32[1]\tpad:str\nb\t20\t%0300d\nq\t30\tx\na\t10\tx\n" 0 >H.tsv &&
	feat-merge --typed -v --allow-missing zero A.tsv H.tsv >out 2>err &&
	grep -q "^feat-merge: streaming H.tsv" err &&
	body out | sort >actual &&
	feat-merge --typed --allow-missing zero - H.tsv <A.tsv >out2 2>/dev/null &&
	body out2 | sort >expect &&
	test_cmp expect actual &&
	body out >actual &&
	printf "id:str\temb:f32[3]\tx:int\nb\t3,4,20\t6\nq\t0,0,30\t\na\t1,2,10\t5\nc\t5,6,0\t7\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'dimension problems show before any work' '
	printf "id:str\temb:str\na\tx\n" >S.tsv &&
	test_exit 1 feat-merge -o out.rec A.tsv S.tsv 2>err &&
	echo "feat-merge: S.tsv: field '"'"'emb'"'"' is str; want a vector (f32, f16 or bf16)" >expect &&
	test_cmp expect err &&
	printf "id:str\tv:f32[1]\na\t1\n" >V.tsv &&
	test_error "V.tsv: no field .emb." feat-merge -o out.rec A.tsv V.tsv &&
	printf "ID:str\temb:f32[1]\na\t1\n" >K.tsv &&
	test_error "K.tsv: no key field .id." feat-merge -o out.rec A.tsv K.tsv &&
	printf "id:int\temb:f32[1]\n1\t1\n" >I.tsv &&
	test_error "I.tsv: key .id. has another type than in A.tsv" feat-merge -o out.rec A.tsv I.tsv &&
	test_path_is_missing out.rec
'

test_expect_success 'a duplicate key is an error, held or streamed' '
	printf "id:str\temb:f32[1]\na\t1\nb\t2\na\t3\n" >dup.tsv &&
	test_error "dup.tsv: record 3: duplicate key .a." feat-merge -o out.rec - dup.tsv <A.tsv &&
	test_error "stdin: record 3: duplicate key .a." feat-merge -o out.rec - A.tsv <dup.tsv &&
	printf "id:str\temb:f32[1]\nq\t1\nb\t2\nq\t3\n" >dupq.tsv &&
	test_error "stdin: record 3: duplicate key .q." feat-merge -o out.rec --allow-missing zero - A.tsv <dupq.tsv &&
	test_path_is_missing out.rec
'

test_expect_success 'empty and truncated inputs are errors' '
	: >empty &&
	test_error "empty input" feat-merge -o out.rec A.tsv empty &&
	rec-cat -M A.tsv >A.rec &&
	head -c 60 A.rec >trunc.rec &&
	test_error "truncated" feat-merge -o out.rec trunc.rec B.rec &&
	test_error "truncated" feat-merge -o out.rec A.tsv trunc.rec &&
	test_path_is_missing out.rec
'

test_expect_success 'a new section in any input is an error naming its record; no output' '
	rec-cat -M A.tsv G.tsv >two.rec &&
	test_exit 1 feat-merge -o out.rec - B.tsv <two.rec 2>err &&
	cat >expect <<-\EOF &&
	feat-merge: emb: 2 + 3 = 5
	feat-merge: stdin: record 3: the fields change; one set of fields per input
	EOF
	test_cmp expect err &&
	test_error "^feat-merge: two.rec: record 3: the fields change" feat-merge -o out.rec B.tsv two.rec &&
	test_error "^feat-merge: two.rec: record 3: the fields change" feat-merge -o out.rec --allow-missing zero two.rec C.tsv &&
	test_path_is_missing out.rec
'

test_expect_success 'usage errors' '
	test_exit 2 feat-merge A.tsv 2>err &&
	test_usage_error "is not error, drop, nil or zero" feat-merge --missing maybe A.tsv B.rec &&
	test_usage_error "allow-missing: .maybe. is not error, drop, nil or zero" feat-merge --allow-missing maybe A.tsv B.rec &&
	test_exit 2 feat-merge A.tsv - 2>err
'

test_expect_success '--shard K/N: shards cover A once' '
	feat-merge --typed --shard 0/2 A.tsv B.rec >s0 2>/dev/null &&
	feat-merge --typed --shard 1/2 A.tsv B.rec >s1 2>/dev/null &&
	body s0 | tail -n +2 >r0 && body s1 | tail -n +2 >r1 &&
	cat r0 r1 | sort >actual &&
	feat-merge --typed A.tsv B.rec 2>/dev/null >all &&
	body all | tail -n +2 | sort >expect &&
	test_cmp expect actual
'

test_expect_success 'prov is appended' '
	feat-merge -o o.rec A.tsv B.rec 2>/dev/null &&
	rec-cat --typed o.rec >o.tsv &&
	grep -q "\"tool\":\"feat-merge\"" o.tsv
'

# 20,000 streamed keys that no held input has: more than the 1 MiB (6,898
# keys) kept in memory, so they are sorted on disk to find a repeat.
test_expect_success 'many keys missing from the held inputs: repeats found, in stream order' '
	awk "BEGIN { print \"id:str\temb:f32[1]\"; for (i = 0; i < 20000; i++) printf \"k%d\t%d\n\", i, i }" >many.tsv &&
	feat-merge --typed --allow-missing zero - A.tsv <many.tsv >out 2>err &&
	body out | tail -n +2 >actual &&
	awk "BEGIN { for (i = 0; i < 20000; i++) printf \"k%d\t%d,0,0\n\", i, i;
		printf \"a\t0,1,2\nb\t0,3,4\nc\t0,5,6\n\" }" >expect &&
	test_cmp expect actual &&
	grep -q "20003 of 20003 keys lacked a vector" err &&
	{ cat many.tsv && printf "k19000\t1\nk7\t2\nb\t3\nb\t4\n"; } >rep.tsv &&
	test_exit 1 feat-merge -o out.rec --allow-missing zero - A.tsv <rep.tsv 2>err &&
	grep -q "stdin: record 20001: duplicate key .k19000.$" err &&
	test_path_is_missing out.rec &&
	{ cat many.tsv && printf "b\t3\nb\t4\nk7\t2\n"; } >rep.tsv &&
	test_exit 1 feat-merge -o out.rec --allow-missing drop - A.tsv <rep.tsv 2>err &&
	grep -q "stdin: record 20002: duplicate key .b.$" err &&
	{ cat many.tsv && printf "k7\t2\nb\t3\nb\t4\n"; } >rep.tsv &&
	test_exit 1 feat-merge -o out.rec - A.tsv <rep.tsv 2>err &&
	grep -q "stdin: record 20001: duplicate key .k7.$" err &&
	test_path_is_missing out.rec
'

test_expect_success '--dims: a header that disagrees fails before any row, naming input and numbers' '
	printf "id:str\temb:f32[3]\na\t1,2,3\nb\t1,2,3\nc\t1,2,3\n" >H.tsv &&
	printf "id:str\temb:f32[3]\na\t1,2,3\n" >Hbad.tsv &&
	printf "x\n" >>Hbad.tsv &&
	test_exit 1 feat-merge --dims 2,768 -o out.rec A.tsv Hbad.tsv 2>err &&
	echo "feat-merge: Hbad.tsv: field '"'"'emb'"'"' has dimension 3; --dims declares 768 for input 2" >expect &&
	test_cmp expect err &&
	test_path_is_missing out.rec &&
	test_exit 1 feat-merge --dims 1280,3 -o out.rec A.tsv H.tsv 2>err &&
	echo "feat-merge: A.tsv: field '"'"'emb'"'"' has dimension 2; --dims declares 1280 for input 1" >expect &&
	test_cmp expect err &&
	test_path_is_missing out.rec &&
	feat-merge --typed --dims 2,3,1 --dim-total 6 A.tsv B.rec C.tsv >out 2>err &&
	body out >actual &&
	printf "id:str\temb:f32[6]\tx:int\n" >expect &&
	printf "c\t5,6,0.5,0.25,1,0.099975586\t7\na\t1,2,7,8,9,1.5\t5\nb\t3,4,1,1,1,-2\t6\n" >>expect &&
	test_cmp expect actual
'

test_expect_success '--dim-total: a sum other than declared fails before any row' '
	test_exit 1 feat-merge --dim-total 2048 -o out.rec A.tsv Hbad.tsv 2>err &&
	cat >expect <<-\EOF &&
	feat-merge: emb: 2 + 3 = 5
	feat-merge: emb: the inputs'"'"' dimensions sum to 5; --dim-total declares 2048
	EOF
	test_cmp expect err &&
	test_path_is_missing out.rec
'

test_expect_success '--dims: one per input, else a usage error' '
	test_usage_error "want one dimension per input (2)" feat-merge --dims 2 A.tsv B.rec &&
	test_usage_error "want one dimension per input (2)" feat-merge --dims 2,3,1 A.tsv B.rec &&
	test_usage_error "not a dimension" feat-merge --dims 2,x A.tsv B.rec &&
	test_usage_error "not a dimension" feat-merge --dims 2,0 A.tsv B.rec
'

test_expect_success '--check: missing keys per input, counts and the first few; exit 1, nothing written' '
	printf "id:str\temb:f32[1]\na\t1\nb\t2\nc\t3\nz\t4\ny\t5\nx\t6\nw\t7\nv\t8\n" >K.tsv &&
	test_exit 1 feat-merge --check A.tsv K.tsv F.tsv >out 2>err &&
	cat >expect <<-\EOF &&
	feat-merge: emb: 2 + 1 + 1 = 4
	feat-merge: check: A.tsv: 5 of 8 keys missing: '"'"'z'"'"', '"'"'y'"'"', '"'"'x'"'"', '"'"'w'"'"', '"'"'v'"'"'
	feat-merge: check: F.tsv: 7 of 8 keys missing: '"'"'b'"'"', '"'"'c'"'"', '"'"'z'"'"', '"'"'y'"'"', '"'"'x'"'"', ...
	feat-merge: check: 8 keys; 2 of 3 inputs lack some
	EOF
	test_cmp expect err &&
	test ! -s out &&
	test_exit 1 feat-merge --check --allow-missing zero - F.tsv <A.tsv 2>err &&
	grep -q "^feat-merge: check: F.tsv: 2 of 3 keys missing: .b., .c.\$" err
'

test_expect_success '--check: every key everywhere is exit 0; dims, duplicates, usage' '
	feat-merge --check --dims 2,3,1 A.tsv B.rec C.tsv >out 2>err &&
	cat >expect <<-\EOF &&
	feat-merge: emb: 2 + 3 + 1 = 6
	feat-merge: check: 3 keys, in every input
	EOF
	test_cmp expect err && test ! -s out &&
	test_exit 1 feat-merge --check --dims 2,1 A.tsv B.rec 2>err &&
	grep -q "B.rec: field .emb. has dimension 3; --dims declares 1 for input 2" err &&
	printf "id:str\temb:f32[1]\na\t1\nb\t2\na\t3\n" >D2.tsv &&
	test_error "D2.tsv: record 3: duplicate key .a." feat-merge --check A.tsv D2.tsv &&
	test_usage_error "writes nothing" feat-merge --check -o out.rec A.tsv B.rec &&
	test_path_is_missing out.rec
'

test_done
