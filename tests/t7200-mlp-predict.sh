#!/bin/sh
# mlp-predict: the fields it adds (binary score; multi-class probs + pred),
# refusal to score the model's own training records, output that metrics
# reads directly, --shard, --info, and clear failures on bad input.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

gen () { awk -v kind="$1" -v n="$2" -v d="$3" -v seed="$4" -f "$DATA/mlp/gen.awk"; }
body () { grep -v '^#' "$1"; }

test_expect_success 'setup' '
	gen lin 300 6 1 >lin.tsv &&
	gen multi 300 6 2 >multi.tsv &&
	mlp-train --hidden 8 --lr 0.01 --epochs 20 -o lin.mlp lin.tsv 2>/dev/null &&
	mlp-train --hidden 8 --lr 0.01 --epochs 20 -o multi.mlp multi.tsv 2>/dev/null &&
	rec-filter "split==test" lin.tsv -o test.rec &&
	rec-filter "split==test" multi.tsv -o mtest.rec &&
	rec-filter "split==val" lin.tsv -o val.rec &&
	rec-filter "split==train" lin.tsv -o train.rec
'

test_expect_success 'binary: adds score:float, passes the rest through' '
	mlp-predict -T --model lin.mlp -o p.tsv test.rec 2>err &&
	test ! -s err &&
	body p.tsv >b &&
	head -n 1 b >hdr &&
	printf "id:str\tsplit:str\tlabel:int\temb:f32[6]\tscore:float\n" >expect &&
	test_cmp expect hdr &&
	test $(wc -l <b) -eq 61 &&
	awk -F"\t" "NR > 1 && !(\$5 >= 0 && \$5 <= 1) { bad = 1 } END { exit bad }" b &&
	rec-cat -T test.rec >in.tsv &&
	body in.tsv | cut -f 1-4 >in4 &&
	cut -f 1-4 b >out4 &&
	test_cmp in4 out4
'

test_expect_success 'same scores as the model computed: deterministic' '
	mlp-predict -T --model lin.mlp -o p2.tsv test.rec &&
	body p.tsv >a && body p2.tsv >b &&
	test_cmp a b
'

test_expect_success 'the output feeds metrics directly' '
	mlp-predict --model lin.mlp -o p.rec test.rec &&
	metrics -T p.rec >m &&
	grep -q "^overall	auroc	" m &&
	grep -q "\"tool\":\"mlp-predict\"" m
'

test_expect_success 'multi-class: probs f32[K] summing to 1 and pred of the label type' '
	mlp-predict -T --model multi.mlp -o p.tsv mtest.rec &&
	body p.tsv >b &&
	head -n 1 b >hdr &&
	printf "id:str\tsplit:str\tlabel:str\temb:f32[6]\tprobs:f32[3]\tpred:str\n" >expect &&
	test_cmp expect hdr &&
	awk -F"\t" "NR > 1 { split(\$5, p, \",\"); s = p[1] + p[2] + p[3]; if (s < 0.9999 || s > 1.0001) bad = 1;
		m = p[1] >= p[2] && p[1] >= p[3] ? \"a\" : p[2] >= p[3] ? \"b\" : \"c\"; if (m != \$6) bad = 1 }
		END { exit bad }" b &&
	mlp-predict --model multi.mlp -o p.rec mtest.rec &&
	metrics -T -s probs --classes a,b,c p.rec >m &&
	grep -q "^overall	auroc_ovr_macro	" m
'

test_expect_success 'int multi-class labels give an int pred' '
	awk -F"\t" -v OFS="\t" "NR == 1 { sub(/label:str/, \"label:int\") } NR > 1 { \$3 = \$3 == \"a\" ? 10 : \$3 == \"b\" ? 20 : 30 } 1" \
		multi.tsv >mi.tsv &&
	mlp-train --hidden 4 --epochs 3 -o mi.mlp mi.tsv 2>/dev/null &&
	rec-filter "split==test" mi.tsv -o mitest.rec &&
	mlp-predict -T --model mi.mlp -o p.tsv mitest.rec &&
	body p.tsv | head -n 1 | grep -q "probs:f32\[3\]	pred:int$" &&
	body p.tsv | awk -F"\t" "NR > 1 && \$6 != 10 && \$6 != 20 && \$6 != 30 { bad = 1 } END { exit bad }"
'

test_expect_success 'refuses the model training records (exit 1, no output)' '
	test_exit 1 mlp-predict --model lin.mlp -o x.rec train.rec 2>err &&
	grep -q "record 1: id .r0. is a training record of the model" err &&
	test_path_is_missing x.rec &&
	test_exit 1 mlp-predict --model lin.mlp -o x.rec lin.tsv 2>/dev/null &&
	test_path_is_missing x.rec
'

test_expect_success 'one training record among test records is found' '
	rec-cat -T test.rec >t.tsv &&
	rec-cat -T train.rec >tr.tsv &&
	body tr.tsv | sed -n 5p >row &&
	cat t.tsv row >mixed.tsv &&
	test_exit 1 mlp-predict --model lin.mlp -o x.rec mixed.tsv 2>err &&
	grep -q "record 61: id .r5. is a training record" err &&
	test_path_is_missing x.rec
'

test_expect_success '--allow-train scores them anyway' '
	mlp-predict --allow-train --model lin.mlp -o at.rec train.rec &&
	rec-cat -T at.rec >at.tsv &&
	test $(body at.tsv | wc -l) -eq 181
'

test_expect_success 'validation records: scored, with a note' '
	mlp-predict --model lin.mlp -o v.rec val.rec 2>err &&
	grep -q "60 records were the model.s validation records" err
'

test_expect_success '--shard K/N: the shards cover the input once' '
	mlp-predict -T --model lin.mlp --shard 0/2 -o s0.tsv test.rec &&
	mlp-predict -T --model lin.mlp --shard 1/2 -o s1.tsv test.rec &&
	body s0.tsv | tail -n +2 >a && body s1.tsv | tail -n +2 >>a &&
	sort a >sa && body p2.tsv | tail -n +2 | sort >sb &&
	test_cmp sb sa
'

test_expect_success '--info: architecture, classes, digests' '
	mlp-predict --model lin.mlp --info >info &&
	grep -q "^dims	6,8,1$" info &&
	grep -q "^classes	0,1$" info &&
	grep -q "^pos	1$" info &&
	grep -q "^train_rows	180$" info &&
	grep -q "^val_rows	60$" info &&
	grep -q "^train_digest	[0-9a-f]\{32\}$" info
'

# ---- bad input --------------------------------------------------------------------

test_expect_success 'usage: no --model is exit 2' '
	test_exit 2 mlp-predict test.rec 2>err &&
	grep -q "give --model MODEL" err
'

test_expect_success 'not a checkpoint; truncated checkpoint; missing file' '
	test_exit 1 mlp-predict --model lin.tsv test.rec 2>err &&
	grep -q "lin.tsv: not a plmkit MLP checkpoint" err &&
	head -c 1000 lin.mlp >cut.mlp &&
	test_exit 1 mlp-predict --model cut.mlp test.rec 2>err &&
	grep -q "cut.mlp: not a plmkit MLP checkpoint (truncated" err &&
	test_exit 1 mlp-predict --model nope.mlp test.rec 2>err &&
	grep -q "nope.mlp" err
'

test_expect_success 'wrong dimension; missing field; wrong type' '
	gen lin 10 4 3 >d4.tsv &&
	test_exit 1 mlp-predict --model lin.mlp -o x.rec d4.tsv 2>err &&
	grep -q "field .emb. is f32\[4\] but the model takes 6 features" err &&
	test_exit 1 mlp-predict --model lin.mlp -x feat -o x.rec test.rec 2>err &&
	grep -q "no field .feat. in input (the features, -x)" err &&
	test_exit 1 mlp-predict --model lin.mlp -x id -o x.rec test.rec 2>err &&
	grep -q "field .id. is str: the features must be" err &&
	test_path_is_missing x.rec
'

test_expect_success 'empty input; truncated input; missing value' '
	: >empty &&
	test_exit 1 mlp-predict --model lin.mlp -o x.rec empty 2>err &&
	grep -q "empty input" err &&
	head -c $(($(wc -c <test.rec) - 5)) test.rec >trunc.rec &&
	test_exit 1 mlp-predict --model lin.mlp -o x.rec trunc.rec 2>err &&
	grep -q "truncated" err &&
	printf "id:str\temb:f32[6]\nq1\t\n" >nil.tsv &&
	test_exit 1 mlp-predict --model lin.mlp -o x.rec nil.tsv 2>err &&
	grep -q "record 1: field .emb. is missing (nil)" err &&
	test_path_is_missing x.rec
'

test_done
