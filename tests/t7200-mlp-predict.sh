#!/bin/sh
# mlp-predict: the fields it adds (score and pred; multi-class and
# multi-label prob), batched scoring equal to the model's maths, refusal
# to score the model's own training or validation records (--allow-seen),
# output that metrics reads directly, --shard, --info, and clear failures
# on bad input.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	gen lin 300 6 1 >lin.tsv &&
	gen multi 300 6 2 >multi.tsv &&
	rec-filter "split!=test" lin.tsv -o lin-tv.rec &&
	rec-filter "split!=test" multi.tsv -o multi-tv.rec &&
	mlp-train --hidden 8 --lr 0.01 --epochs 20 -o lin.mlp lin-tv.rec 2>/dev/null &&
	mlp-train --hidden 8 --lr 0.01 --epochs 20 -o multi.mlp multi-tv.rec 2>/dev/null &&
	rec-filter "split==test" lin.tsv -o test.rec &&
	rec-filter "split==test" multi.tsv -o mtest.rec &&
	rec-filter "split==val" lin.tsv -o val.rec &&
	rec-filter "split==train" lin.tsv -o train.rec
'

test_expect_success 'binary: adds score:float and pred, passes the rest through' '
	mlp-predict --typed --model lin.mlp -o p.tsv test.rec 2>err &&
	test ! -s err &&
	body p.tsv >b &&
	head -n 1 b >hdr &&
	printf "id:str\tsplit:str\tlabel:int\temb:f32[6]\tscore:float\tpred:int\n" >expect &&
	test_cmp expect hdr &&
	test $(wc -l <b) -eq 61 &&
	awk -F"\t" "NR > 1 && !(\$5 >= 0 && \$5 <= 1) { bad = 1 } END { exit bad }" b &&
	awk -F"\t" "NR > 1 && \$6 != (\$5 >= 0.5) { bad = 1 } END { exit bad }" b &&
	rec-cat --typed test.rec >in.tsv &&
	body in.tsv | cut -f 1-4 >in4 &&
	cut -f 1-4 b >out4 &&
	test_cmp in4 out4
'

test_expect_success 'same scores as the model computed: deterministic' '
	mlp-predict --typed --model lin.mlp -o p2.tsv test.rec &&
	body p.tsv >a && body p2.tsv >b &&
	test_cmp a b
'

test_expect_success 'the output feeds metrics directly' '
	mlp-predict --model lin.mlp -o p.rec test.rec &&
	metrics --typed p.rec >m &&
	grep -q "^overall	auroc	" m &&
	grep -q "\"tool\":\"mlp-predict\"" m
'

test_expect_success 'multi-class: prob f32[K] summing to 1, pred, score = P(pred)' '
	mlp-predict --typed --model multi.mlp -o p.tsv mtest.rec &&
	body p.tsv >b &&
	head -n 1 b >hdr &&
	printf "id:str\tsplit:str\tlabel:str\temb:f32[6]\tscore:float\tpred:str\tprob:f32[3]\n" >expect &&
	test_cmp expect hdr &&
	awk -F"\t" "NR > 1 { split(\$7, p, \",\"); s = p[1] + p[2] + p[3]; if (s < 0.9999 || s > 1.0001) bad = 1;
		m = p[1] >= p[2] && p[1] >= p[3] ? \"a\" : p[2] >= p[3] ? \"b\" : \"c\"; if (m != \$6) bad = 1;
		mx = p[1] > p[2] ? p[1] : p[2]; mx = mx > p[3] ? mx : p[3]; d = mx - \$5; if (d > 1e-6 || d < -1e-6) bad = 1 }
		END { exit bad }" b &&
	mlp-predict --model multi.mlp -o p.rec mtest.rec &&
	metrics --typed --score prob --classes a,b,c p.rec >m &&
	grep -q "^overall	auroc_ovr_macro	" m
'

test_expect_success 'int multi-class labels give an int pred' '
	awk -F"\t" -v OFS="\t" "NR == 1 { sub(/label:str/, \"label:int\") } NR > 1 { \$3 = \$3 == \"a\" ? 10 : \$3 == \"b\" ? 20 : 30 } 1" \
		multi.tsv >mi.tsv &&
	rec-filter "split!=test" mi.tsv -o mi-tv.rec &&
	mlp-train --hidden 4 --epochs 3 -o mi.mlp mi-tv.rec 2>/dev/null &&
	rec-filter "split==test" mi.tsv -o mitest.rec &&
	mlp-predict --typed --model mi.mlp -o p.tsv mitest.rec &&
	body p.tsv | head -n 1 | grep -q "score:float	pred:int	prob:f32\[3\]$" &&
	body p.tsv | awk -F"\t" "NR > 1 && \$6 != 10 && \$6 != 20 && \$6 != 30 { bad = 1 } END { exit bad }"
'

test_expect_success 'refuses the model training records (exit 1, count, no output)' '
	test_error "record 1: id .r0. was seen by the model: 180 records were in its training data and 0 in its validation data" mlp-predict --model lin.mlp -o x.rec train.rec &&
	grep -q "(--allow-val to score validation records, --allow-seen to score them all)" err &&
	test_path_is_missing x.rec &&
	test_error "180 records were in its training data and 60 in its validation data" mlp-predict --model lin.mlp -o x.rec lin.tsv &&
	test_path_is_missing x.rec
'

test_expect_success 'refuses the model validation records too' '
	test_error "record 1: id .r3. was seen by the model: 0 records were in its training data and 60 in its validation data" mlp-predict --model lin.mlp -o x.rec val.rec &&
	test_path_is_missing x.rec
'

test_expect_success 'one training record among test records is found' '
	rec-cat --typed test.rec >t.tsv &&
	rec-cat --typed train.rec >tr.tsv &&
	body tr.tsv | sed -n 5p >row &&
	cat t.tsv row >mixed.tsv &&
	test_error "record 61: id .r5. was seen by the model: 1 records were in its training data" mlp-predict --model lin.mlp -o x.rec mixed.tsv &&
	test_path_is_missing x.rec
'

test_expect_success '--allow-seen (and its old name --allow-train) scores them anyway' '
	mlp-predict --allow-seen --model lin.mlp -o at.rec train.rec val.rec &&
	rec-cat --typed at.rec >at.tsv &&
	test $(body at.tsv | wc -l) -eq 241 &&
	mlp-predict --typed --allow-train --model lin.mlp -o at2.tsv train.rec val.rec &&
	body at.tsv >a && body at2.tsv >b &&
	test_cmp a b
'

test_expect_success_if 'test_have_python msgpack numpy' \
	'batched scores (several batches, two sections) equal the model maths (1e-6)' '
	gen lin 1500 6 4 | awk -F"\t" "NR == 1 || \$2 == \"test\"" | sed "s/^r/q/" >big.tsv &&
	rec-cut -f id,emb,label big.tsv -o big2.rec &&
	mlp-predict --typed --model lin.mlp -o bp.tsv big.tsv big2.rec &&
	$PY - lin.mlp bp.tsv <<-\EOF
	import sys, msgpack, numpy as np
	ck = msgpack.unpackb(open(sys.argv[1], "rb").read())
	d = ck["arch"]["dims"]
	P = [np.frombuffer(b, "<f4").astype(np.float64) for b in ck["params"]]
	mu = np.frombuffer(ck["norm"]["mean"], "<f4"); sd = np.frombuffer(ck["norm"]["std"], "<f4")
	n = 0
	for l in open(sys.argv[2]):
	    if l.startswith("#"): continue
	    f = l.rstrip("\n").split("\t")
	    if f[0] == "id:str": hdr = f; continue
	    r = dict(zip([h.split(":")[0] for h in hdr], f))
	    x = (np.array([float(v) for v in r["emb"].split(",")], np.float32) - mu) / sd
	    h = np.maximum(P[0].reshape(d[1], d[0]) @ x + P[1], 0)
	    z = P[2].reshape(d[2], d[1]) @ h + P[3]
	    s = 1 / (1 + np.exp(-z[0]))
	    assert abs(s - float(r["score"])) < 1e-6, (r["id"], s, r["score"])
	    n += 1
	assert n == 600, n
	EOF
'

test_expect_success '--shard K/N: the shards cover the input once' '
	mlp-predict --typed --model lin.mlp --shard 0/2 -o s0.tsv test.rec &&
	mlp-predict --typed --model lin.mlp --shard 1/2 -o s1.tsv test.rec &&
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
	test_usage_error "give --model MODEL" mlp-predict test.rec
'

test_expect_success 'not a checkpoint; truncated checkpoint; missing file' '
	test_error "lin.tsv: not a plmkit MLP checkpoint" mlp-predict --model lin.tsv test.rec &&
	head -c 1000 lin.mlp >cut.mlp &&
	test_error "cut.mlp: not a plmkit MLP checkpoint (truncated" mlp-predict --model cut.mlp test.rec &&
	test_error "nope.mlp" mlp-predict --model nope.mlp test.rec
'

# poke FILE PATTERN SKIP BYTES: overwrite, SKIP bytes past the start of the
# first match of PATTERN, with BYTES (both printf escapes).  The keys are
# MessagePack fixstrs followed by a bin8 header.
poke () {
	o=$(grep -obUa "$(printf "$2")" "$1" | head -n 1 | cut -d: -f1) &&
	test -n "$o" &&
	printf "$4" | dd of="$1" bs=1 seek=$((o + $3)) conv=notrunc 2>/dev/null
}

test_expect_success 'a non-finite parameter: exit 1 naming the layer, no output' '
	# "params", array of 4, bin8 of 192 bytes (W0, 8 x 6): W0[0][1] = NaN
	cp lin.mlp nan.mlp &&
	poke nan.mlp "\246params\224\304\300" 14 "\000\000\300\177" &&
	test_exit 1 mlp-predict --model nan.mlp -o bad.rec test.rec 2>err &&
	echo "mlp-predict: nan.mlp: checkpoint layer 1 of 2: weight W0[0][1] is not finite (nan)" >expect &&
	test_cmp expect err &&
	test_exit 1 mlp-predict --model nan.mlp --info 2>err &&
	test_cmp expect err &&
	test_path_is_missing bad.rec
'

test_expect_success 'a zero, negative or NaN std: exit 1 naming the feature' '
	# "std", bin8 of 24 bytes (6 features)
	cp lin.mlp std.mlp &&
	poke std.mlp "\243std\304\030" 14 "\000\000\000\000" &&
	test_error "^mlp-predict: std.mlp: checkpoint feature 2: norm.std is 0; it must be > 0$" mlp-predict --model std.mlp -o bad.rec test.rec &&
	poke std.mlp "\243std\304\030" 14 "\000\000\200\277" &&
	test_error "^mlp-predict: std.mlp: checkpoint feature 2: norm.std is -1; it must be > 0$" mlp-predict --model std.mlp -o bad.rec test.rec &&
	poke std.mlp "\243std\304\030" 26 "\000\000\300\177" &&
	test_error "^mlp-predict: std.mlp: checkpoint feature 2: norm.std is -1" mlp-predict --model std.mlp -o bad.rec test.rec &&
	poke std.mlp "\243std\304\030" 14 "\000\000\200\077" &&
	test_error "^mlp-predict: std.mlp: checkpoint feature 5: norm.std is not finite (nan)$" mlp-predict --model std.mlp -o bad.rec test.rec &&
	test_path_is_missing bad.rec
'

test_expect_success 'wrong dimension; missing field; wrong type' '
	gen lin 10 4 3 >d4.tsv &&
	test_error "field .emb. is f32\[4\] but the model takes 6 features" mlp-predict --model lin.mlp -o x.rec d4.tsv &&
	test_error "no field .feat. in input (the features, --x)" mlp-predict --model lin.mlp -x feat -o x.rec test.rec &&
	test_error "field .id. is str: the features must be" mlp-predict --model lin.mlp -x id -o x.rec test.rec &&
	test_path_is_missing x.rec
'

test_expect_success 'empty input; truncated input; missing value' '
	: >empty &&
	test_error "empty input" mlp-predict --model lin.mlp -o x.rec empty &&
	head -c $(($(wc -c <test.rec) - 5)) test.rec >trunc.rec &&
	test_error "truncated" mlp-predict --model lin.mlp -o x.rec trunc.rec &&
	printf "id:str\temb:f32[6]\nq1\t\n" >nil.tsv &&
	test_error "record 1: field .emb. is missing (nil)" mlp-predict --model lin.mlp -o x.rec nil.tsv &&
	test_path_is_missing x.rec
'

test_expect_success 'scores are the same bits for --threads 1, 2 and 3 and any kernel width' '
	# wide enough for the products to be split between threads
	gen lin 400 64 6 >wide.tsv &&
	rec-filter "split!=test" wide.tsv -o wide-tv.rec &&
	rec-filter "split==test" wide.tsv -o wide-test.rec &&
	mlp-train --hidden 600,40 --epochs 2 -o wide.mlp wide-tv.rec 2>/dev/null &&
	for t in 1 2 3; do
		mlp-predict --typed --threads $t --model wide.mlp -o w$t.tsv wide-test.rec ||
		return 1
	done &&
	PLM_ISA=base mlp-predict --typed --threads 2 --model wide.mlp -o wbase.tsv wide-test.rec &&
	body w1.tsv >expect && test $(wc -l <expect) -gt 50 &&
	for f in w2 w3 wbase; do
		body $f.tsv >actual && test_cmp expect actual || return 1
	done
'

test_done
