#!/bin/sh
# rec-join: inner/left joins, --multi, --prefix, -j, int keys, errors.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	printf "id:str\tlen:int\tv:f32[2]\n" >left.tsv &&
	printf "a\t5\t1,2\nb\t3\t0.5,-1\nc\t10\t3,4\nd\t\t0,0\n" >>left.tsv &&
	printf "id:str\ttax:str\tw:float\n" >right.tsv &&
	printf "c\tBacteria\t2.5\na\tViruses\t1.5\nz\tArchaea\t0\n" >>right.tsv &&
	rec-cat -M left.tsv >left.rec &&
	rec-cat -M right.tsv >right.rec
'

test_expect_success 'inner join, unmatched counts on stderr' '
	rec-join --typed -k id left.rec right.rec >out 2>err &&
	printf "id:str\tlen:int\tv:f32[2]\ttax:str\tw:float\n" >expect &&
	printf "a\t5\t1,2\tViruses\t1.5\nc\t10\t3,4\tBacteria\t2.5\n" >>expect &&
	body out >actual &&
	test_cmp expect actual &&
	cat >expect.err <<-\EOF &&
	rec-join: 2 of 4 LEFT records had no match in RIGHT (not written)
	rec-join: 1 of 3 RIGHT records matched no LEFT record
	EOF
	test_cmp expect.err err
'

test_expect_success 'left join keeps unmatched LEFT records with nil' '
	rec-join --typed --left -k id left.tsv right.tsv >out 2>err &&
	printf "id:str\tlen:int\tv:f32[2]\ttax:str\tw:float\n" >expect &&
	printf "a\t5\t1,2\tViruses\t1.5\n" >>expect &&
	printf "b\t3\t0.5,-1\t\\\\N\t\n" >>expect &&
	printf "c\t10\t3,4\tBacteria\t2.5\n" >>expect &&
	printf "d\t\t0,0\t\\\\N\t\n" >>expect &&
	body out >actual &&
	test_cmp expect actual &&
	grep -q "^rec-join: 2 of 4 LEFT records had no match in RIGHT (kept" err
'

test_expect_success 'a full match prints nothing on stderr' '
	printf "id:str\tx:int\na\t1\nc\t2\n" >l2.tsv &&
	printf "id:str\ty:int\nc\t3\na\t4\n" >r2.tsv &&
	rec-join --typed -k id l2.tsv r2.tsv >out 2>err &&
	test ! -s err &&
	printf "id:str\tx:int\ty:int\na\t1\t4\nc\t2\t3\n" >expect &&
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'prov is appended, output is MessagePack off a terminal' '
	rec-join -k id -o out.rec left.rec right.rec 2>err &&
	rec-cat --typed out.rec >out.tsv &&
	grep "^#meta" out.tsv >meta &&
	grep -q "\"tool\":\"rec-join\"" meta
'

test_expect_success 'duplicate key in RIGHT is an error naming it' '
	printf "id:str\ttax:str\na\tV1\nb\tB\na\tV2\n" >dup.tsv &&
	test_error "dup.tsv: record 3: duplicate key id=.a. (first at record 1)" rec-join --typed -k id -o out.dup left.tsv dup.tsv &&
	test_path_is_missing out.dup
'

test_expect_success '--multi writes one row per match, in RIGHT order' '
	rec-join --typed --multi -k id left.tsv dup.tsv >out 2>err &&
	printf "id:str\tlen:int\tv:f32[2]\ttax:str\n" >expect &&
	printf "a\t5\t1,2\tV1\na\t5\t1,2\tV2\nb\t3\t0.5,-1\tB\n" >>expect &&
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'field name clash is an error without --prefix' '
	printf "id:str\tlen:int\na\t50\n" >clash.tsv &&
	test_error "field .len. is in both LEFT and RIGHT; use --prefix" rec-join --typed -k id left.tsv clash.tsv >out
'

test_expect_success '--prefix renames the clashing RIGHT field' '
	rec-join --typed --prefix r_ -k id left.tsv clash.tsv >out 2>err &&
	printf "id:str\tlen:int\tv:f32[2]\tr_len:int\na\t5\t1,2\t50\n" >expect &&
	body out >actual &&
	test_cmp expect actual
'

test_expect_success '-j names RIGHT key field' '
	printf "acc:str\tw:int\nb\t7\n" >acc.tsv &&
	rec-join --typed -k id -j acc left.tsv acc.tsv >out 2>err &&
	printf "id:str\tlen:int\tv:f32[2]\tw:int\nb\t3\t0.5,-1\t7\n" >expect &&
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'int keys compare by value' '
	printf "taxid:int\tname:str\n10\tten\n9\tnine\n" >ti.tsv &&
	printf "taxid:int\tkingdom:str\n9\tK9\n10\tK10\n100\tK100\n" >tk.tsv &&
	rec-join --typed -k taxid ti.tsv tk.tsv >out 2>err &&
	printf "taxid:int\tname:str\tkingdom:str\n10\tten\tK10\n9\tnine\tK9\n" >expect &&
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'key types must agree' '
	printf "taxid:str\tk:str\n9\tK9\n" >ts.tsv &&
	test_error "key .taxid. is int in LEFT but str in RIGHT" rec-join --typed -k taxid ti.tsv ts.tsv >out
'

test_expect_success 'missing key field' '
	test_error "RIGHT: no key field .nope." rec-join --typed -k nope left.tsv right.tsv >out &&
	test_error "LEFT: no key field .tax." rec-join --typed -k tax left.tsv right.tsv >out
'

test_expect_success 'wrong key type' '
	test_error "key field .v. is f32\[2\]; keys are str or int" rec-join --typed -k v left.tsv left.tsv >out
'

test_expect_success 'usage errors' '
	test_exit 2 rec-join --typed left.tsv right.tsv 2>err &&
	test_exit 2 rec-join --typed -k id left.tsv 2>err &&
	test_exit 2 rec-join --typed -k id - - 2>err
'

test_expect_success 'empty input' '
	: >empty &&
	test_error "empty input" rec-join -k id -o out.e empty right.tsv &&
	test_path_is_missing out.e &&
	test_exit 1 rec-join -k id -o out.e left.tsv empty 2>err &&
	test_path_is_missing out.e
'

test_expect_success 'truncated LEFT or RIGHT: exit 1, no output file' '
	size=$(wc -c <left.rec) &&
	head -c $((size - 3)) left.rec >trunc.rec &&
	test_error "truncated input" rec-join -k id -o out.t trunc.rec right.rec &&
	test_path_is_missing out.t &&
	test_error "truncated input" rec-join -k id -o out.t right.rec trunc.rec &&
	test_path_is_missing out.t
'

test_expect_success '--shard reads a share of LEFT' '
	rec-join --typed --left --shard 0/2 -k id left.tsv right.tsv >o0 2>/dev/null &&
	rec-join --typed --left --shard 1/2 -k id left.tsv right.tsv >o1 2>/dev/null &&
	rec-cat --typed --shard 0/2 left.tsv >l0 &&
	test $(body o0 | wc -l) -eq $(body l0 | wc -l) &&
	body o0 >b0 && body o1 >b1 &&
	test $(($(wc -l <b0) + $(wc -l <b1))) -eq 6
'

test_done
