#!/bin/sh
# mlp-train: learnable tasks (linear, XOR, multi-class, multi-label),
# bit-for-bit reproducibility (also across --threads), records of other
# splits refused, early stopping (--monitor) restores the best weights, the
# per-epoch log and --plot, the split manifest digest, presets, agreement
# with PyTorch (losses, SGD-momentum and Adam steps), and clear failures on
# bad input.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

# With msgpack, for two checkpoint checks below (passed over without it).
PY=$(plm_python msgpack) || PY=
# metric VALUE of a metrics --typed panel file
metric () { awk -F'\t' -v m="$1" '$2 == m { print $3 }' "$2"; }
# at_least X Y: X >= Y
at_least () { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x != "" && x >= y) }'; }

test_expect_success 'setup' '
	gen lin 500 8 1 >lin-all.tsv &&
	awk -F"\t" "\$2 != \"test\"" lin-all.tsv >lin.tsv &&
	gen xor 1000 4 2 >xor.tsv &&
	gen multi 750 6 3 >multi.tsv &&
	gen ml 750 4 4 >ml.tsv &&
	gen noisy 200 8 5 >noisy-all.tsv &&
	awk -F"\t" "\$2 != \"test\"" noisy-all.tsv >noisy.tsv &&
	for f in lin-all xor multi ml noisy-all; do
		rec-filter "split==test" $f.tsv -o $f-test.rec &&
		rec-filter "split!=test" $f.tsv -o $f-tv.rec || return 1
	done
'

# ---- learning ----------------------------------------------------------------

test_expect_success 'binary, linearly separable: test accuracy >= 0.95' '
	mlp-train --hidden 16 --lr 0.01 --epochs 40 --out lin.mlp lin.tsv 2>err &&
	grep -q "300 train, 100 val records" err &&
	mlp-predict --model lin.mlp -o p.rec lin-all-test.rec &&
	metrics --typed p.rec >m &&
	at_least "$(metric accuracy m)" 0.95
'

test_expect_success 'binary, XOR (needs the hidden layer): test accuracy >= 0.9' '
	mlp-train --hidden 32 --lr 0.01 --epochs 80 --out xor.mlp xor-tv.rec 2>err &&
	mlp-predict --model xor.mlp -o p.rec xor-test.rec &&
	metrics --typed p.rec >m &&
	at_least "$(metric accuracy m)" 0.9
'

test_expect_success 'no hidden layer cannot learn XOR (sanity of the above)' '
	mlp-train --hidden none --lr 0.01 --epochs 30 -o xor0.mlp xor-tv.rec 2>err &&
	mlp-predict --model xor0.mlp -o p.rec xor-test.rec &&
	metrics --typed p.rec >m &&
	! at_least "$(metric accuracy m)" 0.7
'

test_expect_success 'multi-class with str labels: softmax head, accuracy >= 0.9' '
	mlp-train --hidden 32 --act gelu --lr 0.01 --epochs 60 -o multi.mlp multi-tv.rec 2>err &&
	mlp-predict --model multi.mlp --info >info &&
	grep -q "^head	multi$" info &&
	grep -q "^classes	a,b,c$" info &&
	mlp-predict --model multi.mlp -o p.rec multi-test.rec &&
	metrics --typed --score prob --classes a,b,c p.rec >m &&
	at_least "$(metric accuracy m)" 0.9
'

test_expect_success 'multi-label (comma-separated names): exact-set accuracy >= 0.85' '
	mlp-train --multilabel --hidden 16 --act tanh --lr 0.01 --epochs 60 \
		-o ml.mlp ml-tv.rec 2>err &&
	mlp-predict --model ml.mlp --info >info &&
	grep -q "^head	multilabel$" info &&
	grep -q "^classes	p,q$" info &&
	mlp-predict --typed --model ml.mlp -o p.tsv ml-test.rec &&
	body p.tsv | awk -F"\t" "NR > 1 { n++; ok += \$3 == \$5 } END { print ok / n }" >acc &&
	at_least "$(cat acc)" 0.85
'

test_expect_success 'adamw, nesterov, cosine, dropout and class weights train' '
	mlp-train --opt adamw --weight-decay 0.01 --sched cosine --dropout 0.2 \
		--class-weight balanced --hidden 16,8 --epochs 15 -o a.mlp lin.tsv &&
	mlp-train --opt sgd --momentum 0.9 --nesterov --lr 0.05 --sched step \
		--step-size 5 --gamma 0.5 --epochs 15 -o b.mlp lin.tsv &&
	mlp-predict --model a.mlp --info >info &&
	grep -q "^dims	8,16,8,1$" info &&
	grep -q "^arg.class_weight	balanced$" info
'

# ---- reproducibility and data hygiene -----------------------------------------

test_expect_success 'two runs give identical checkpoint bytes (dropout on)' '
	mlp-train --dropout 0.3 --hidden 16 --epochs 10 -o r1.mlp lin.tsv 2>/dev/null &&
	mlp-train --dropout 0.3 --hidden 16 --epochs 10 -o r2.mlp lin.tsv 2>/dev/null &&
	cmp r1.mlp r2.mlp
'

test_expect_success 'another seed gives another model' '
	mlp-train --dropout 0.3 --hidden 16 --epochs 10 --seed 12 -o r3.mlp lin.tsv 2>/dev/null &&
	! cmp -s r1.mlp r3.mlp
'

test_expect_success 'MessagePack input gives the same checkpoint as TSV' '
	rec-cat -M lin.tsv >lin.rec &&
	mlp-train --dropout 0.3 --hidden 16 --epochs 10 -o r4.mlp lin.rec 2>/dev/null &&
	cmp r1.mlp r4.mlp
'

test_expect_success 'records of any other split are refused, naming count and split' '
	test_error "record 5: refused 100 records of split .test.: only the .train. and .val. splits may reach training" mlp-train --hidden 16 --epochs 10 -o x.mlp lin-all.tsv &&
	test_path_is_missing x.mlp &&
	awk -F"\t" -v OFS="\t" "NR == 6 { \$2 = \"holdout\" } 1" lin-all.tsv >two.tsv &&
	test_error "record 5: refused 1 record of split .holdout., 99 records of split .test.:" mlp-train -o x.mlp two.tsv &&
	test_path_is_missing x.mlp &&
	test_error "refused 300 records of split .train." mlp-train --train test -o x.mlp lin.tsv &&
	test_path_is_missing x.mlp
'

test_expect_success 'the same checkpoint with --threads 1, 2 and 3, and with any kernel width' '
	# big enough for the products to be split between threads
	gen lin 400 64 6 | awk -F"\t" "\$2 != \"test\"" >wide.tsv &&
	for t in 1 2 3; do
		mlp-train --dropout 0.2 --hidden 600,40 --batch-size 64 --epochs 2 \
			--threads $t -o th$t.mlp wide.tsv 2>/dev/null || return 1
	done &&
	cmp th1.mlp th2.mlp &&
	cmp th1.mlp th3.mlp &&
	# and with the matrix kernels held to AVX2 or to portable C
	for isa in avx2 base; do
		PLM_ISA=$isa mlp-train --dropout 0.2 --hidden 600,40 --batch-size 64 \
			--epochs 2 --threads 2 -o $isa.mlp wide.tsv 2>/dev/null &&
		cmp th1.mlp $isa.mlp || return 1
	done
'

test_expect_success 'validation rows do change the checkpoint (digest, early stopping)' '
	awk -F"\t" -v OFS="\t" "\$2 == \"val\" && NR == 5 { \$3 = 1 - \$3 } 1" \
		lin.tsv >val2.tsv &&
	mlp-train --dropout 0.3 --hidden 16 --epochs 10 -o r6.mlp val2.tsv 2>/dev/null &&
	mlp-predict --model r1.mlp --info >i1 &&
	mlp-predict --model r6.mlp --info >i6 &&
	grep "^train_digest" i1 >t1 && grep "^train_digest" i6 >t6 &&
	test_cmp t1 t6 &&
	! grep "^val_digest" i6 | cmp -s - i1
'

test_expect_success 'standardisation: mean/std of the train rows only' '
	"$PY" -c "import msgpack" 2>/dev/null || exit 0
	"$PY" - r1.mlp lin.tsv <<-\EOF
	import sys, struct, msgpack
	ck = msgpack.unpackb(open(sys.argv[1], "rb").read())
	rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])][1:]
	xs = [[float(v) for v in r[3].split(",")] for r in rows if r[1] == "train"]
	mean = struct.unpack("<8f", ck["norm"]["mean"])
	std = struct.unpack("<8f", ck["norm"]["std"])
	for j in range(8):
	    m = sum(x[j] for x in xs) / len(xs)
	    s = (sum((x[j] - m) ** 2 for x in xs) / len(xs)) ** 0.5
	    assert abs(mean[j] - m) < 1e-5 and abs(std[j] - s) < 1e-5, (j, mean[j], m)
	EOF
'

# ---- early stopping and the log -------------------------------------------------

test_expect_success 'early stopping: stops after --patience, restores the best epoch' '
	mlp-train --hidden 64 --opt adam --lr 0.02 --epochs 60 --patience 4 \
		--log log.tsv -o es.mlp noisy.tsv 2>err &&
	body log.tsv >log &&
	head -n 1 log >hdr &&
	printf "epoch\ttrain_loss\tval_loss\tval_acc\tval_f1\tval_precision\tval_recall\tval_auroc\tlr\tseconds\n" >expect &&
	test_cmp expect hdr &&
	mlp-predict --model es.mlp --info >info &&
	epochs=$(sed -n "s/^epochs\t//p" info) &&
	best=$(sed -n "s/^best_epoch\t//p" info) &&
	test $((best + 4)) -eq "$epochs" &&
	test "$epochs" -lt 60 &&
	test $(($(wc -l <log) - 1)) -eq "$epochs" &&
	minline=$(awk -F"\t" "NR > 1 && (m == \"\" || \$3 < m) { m = \$3; e = \$1 } END { print e }" log) &&
	test "$minline" -eq "$best" &&
	grep -q "(weights restored)" err
'

test_expect_success '--monitor auroc and f1: the best epoch by that column' '
	for k in auroc f1; do
		mlp-train --hidden 64 --opt adam --lr 0.02 --epochs 40 --patience 5 \
			--monitor $k --log log-$k.tsv -o mon-$k.mlp noisy.tsv 2>err &&
		grep -q "best val $k [0-9.]* at epoch" err &&
		mlp-predict --model mon-$k.mlp --info >info-$k &&
		grep -q "^arg.monitor	$k$" info-$k &&
		col=$(test $k = auroc && echo 8 || echo 5) &&
		best=$(sed -n "s/^best_epoch\t//p" info-$k) &&
		epochs=$(sed -n "s/^epochs\t//p" info-$k) &&
		body log-$k.tsv | awk -F"\t" -v c=$col "NR > 1 && (m == \"\" || \$c > m) { m = \$c; e = \$1 } END { print e }" >want &&
		test "$(cat want)" -eq "$best" &&
		test "$epochs" -eq 40 -o $((best + 5)) -eq "$epochs" || return 1
	done &&
	! cmp -s mon-auroc.mlp es.mlp
'

test_expect_success 'usage: --monitor must be loss, auroc or f1' '
	test_usage_error "monitor: .acc. is not loss, auroc or f1" mlp-train --monitor acc -o x.mlp lin.tsv &&
	test_path_is_missing x.mlp
'

test_expect_success_if "xmllint --version" '--plot: a well-formed SVG of the training curves' '
	mlp-train --hidden 8 --epochs 6 --patience 0 --plot curves.svg -o pl.mlp noisy.tsv 2>/dev/null &&
	xmllint --noout curves.svg &&
	grep -q "<svg" curves.svg &&
	grep -q "train loss" curves.svg &&
	grep -q "val loss" curves.svg &&
	grep -q "val AUROC" curves.svg &&
	grep -q ">epoch<" curves.svg
'

test_expect_success '--plot to an unwritable place fails before training ends, no checkpoint' '
	test_error "nodir/c.svg" mlp-train --hidden 8 --epochs 2 --plot nodir/c.svg -o x.mlp noisy.tsv &&
	test_path_is_missing x.mlp
'

test_expect_success 'the split manifest digest of the input is in the checkpoint' '
	mlp-predict --model lin.mlp --info >info &&
	grep -q "^split_digest	none$" info &&
	printf "#plm\t1\n#meta\t{\"prov\":[{\"tool\":\"strat-split\",\"version\":\"0.1.0\",\"argv\":[],\"seed\":1,\"split_digest\":\"0123456789abcdef0123456789abcdef\"}]}\n" >sd.tsv &&
	cat lin.tsv >>sd.tsv &&
	mlp-train --hidden 4 --epochs 2 -o sd.mlp sd.tsv 2>/dev/null &&
	mlp-predict --model sd.mlp --info >info &&
	grep -q "^split_digest	0123456789abcdef0123456789abcdef$" info &&
	"$PY" -c "import msgpack" 2>/dev/null || exit 0
	"$PY" -c "import msgpack, sys; ck = msgpack.unpackb(open(\"sd.mlp\", \"rb\").read()); sys.exit(ck[\"data\"][\"split_digest\"] != \"0123456789abcdef0123456789abcdef\")"
'

test_expect_success 'a real strat-split output: its digest travels into the checkpoint' '
	rec-cut -f id,label,emb lin-all.tsv -o nosp.rec &&
	awk -F"\t" -v OFS="\t" "NR == 1 { print \$0, \"seq:str\"; next } { print \$0, \"M\" NR }" lin-all.tsv >withseq.tsv &&
	rec-cut -f id,label,emb,seq withseq.tsv -o ws.rec &&
	strat-split --by label --ratios train=0.8,val=0.2 --seed 1 -o ss.rec ws.rec 2>/dev/null &&
	rec-cat --typed ss.rec >ss.tsv &&
	digest=$(sed -n "s/.*\"split_digest\":\"\([0-9a-f]*\)\".*/\1/p" ss.tsv) &&
	test -n "$digest" &&
	mlp-train --hidden 4 --epochs 2 -o ss.mlp ss.rec 2>/dev/null &&
	mlp-predict --model ss.mlp --info >info &&
	grep -q "^split_digest	$digest$" info
'

test_expect_success 'the restored weights give the best val loss' '
	rec-filter "split==val" noisy.tsv -o noisy-val.rec &&
	mlp-predict --allow-seen --model es.mlp -o p.rec noisy-val.rec &&
	metrics --typed p.rec >m &&
	mlp-predict --model es.mlp --info >info &&
	best=$(sed -n "s/^best_val_loss\t//p" info) &&
	awk -v a="$(metric log_loss m)" -v b="$best" "BEGIN { d = a - b; exit !(d < 1e-5 && d > -1e-5) }"
'

test_expect_success '--patience 0 keeps the last weights, runs every epoch' '
	mlp-train --hidden 8 --epochs 7 --patience 0 -o p0.mlp noisy.tsv 2>/dev/null &&
	mlp-predict --model p0.mlp --info >info &&
	grep -q "^epochs	7$" info
'

test_expect_success '-v prints one line per epoch' '
	mlp-train -v --hidden 8 --epochs 3 -o v.mlp lin.tsv 2>err &&
	test $(grep -c "^mlp-train: epoch [0-9]*: train_loss" err) -eq 3
'

test_expect_success '--preset viral-host: the workflow defaults, overridable' '
	mlp-train --preset viral-host --epochs 2 -o vh.mlp lin.tsv 2>/dev/null &&
	mlp-predict --model vh.mlp --info >info &&
	grep -q "^dims	8,512,1$" info &&
	grep -q "^arg.opt	sgd$" info &&
	grep -q "^arg.lr	0.00020000000000000001$" info &&
	grep -q "^arg.momentum	0.90000000000000002$" info &&
	grep -q "^arg.sched	step$" info &&
	grep -q "^arg.step_size	10$" info &&
	grep -q "^arg.gamma	0.84999999999999998$" info &&
	grep -q "^arg.patience	7$" info &&
	grep -q "^arg.batch_size	32$" info &&
	mlp-train --preset viral-host --lr 0.1 --epochs 1 -o vh2.mlp lin.tsv 2>/dev/null &&
	mlp-predict --model vh2.mlp --info >info &&
	grep -q "^arg.lr	0.10000000000000001$" info
'

test_expect_success '--epochs 0 writes the initial weights' '
	mlp-train --epochs 0 -o e0.mlp lin.tsv 2>/dev/null &&
	mlp-predict --model e0.mlp --info >info &&
	grep -q "^epochs	0$" info
'

test_expect_success_if 'test_have_python torch msgpack numpy' \
	'same losses as PyTorch from the same initial weights (1e-5)' '
	gen multi 400 16 7 | awk -F"\t" "\$2 != \"test\"" >tm.tsv &&
	mlp-train --epochs 0 --hidden 12 --patience 0 -o init.mlp tm.tsv 2>/dev/null &&
	mlp-train --epochs 6 --hidden 12 --patience 0 --no-shuffle --opt sgd \
		--lr 0.05 --momentum 0.9 --sched step --step-size 2 --gamma 0.5 \
		--batch-size 32 --log log.tsv -o tm.mlp tm.tsv 2>/dev/null &&
	"$PY" "$DATA/mlp/torch_ref.py" init.mlp tm.tsv 6 0.05 32 >torch.out &&
	body log.tsv | cut -f 1-3 | tail -n +2 >ours &&
	test $(wc -l <torch.out) -eq 6 &&
	paste ours torch.out | awk -F"\t" "{ if (\$1 != \$4 || (\$2 - \$5) ^ 2 > 1e-10 || (\$3 - \$6) ^ 2 > 1e-10) { print; bad = 1 } } END { exit bad }"
'

test_expect_success_if 'test_have_python torch msgpack numpy' \
	'same losses as PyTorch, binary head' '
	gen noisy 300 8 8 | awk -F"\t" "\$2 != \"test\"" >tb.tsv &&
	mlp-train --epochs 0 --hidden 10 --patience 0 -o init.mlp tb.tsv 2>/dev/null &&
	mlp-train --epochs 5 --hidden 10 --patience 0 --no-shuffle --opt sgd \
		--lr 0.05 --momentum 0.9 --sched step --step-size 2 --gamma 0.5 \
		--batch-size 16 --log log.tsv -o tb.mlp tb.tsv 2>/dev/null &&
	"$PY" "$DATA/mlp/torch_ref.py" init.mlp tb.tsv 5 0.05 16 >torch.out &&
	body log.tsv | cut -f 1-3 | tail -n +2 >ours &&
	paste ours torch.out | awk -F"\t" "{ if (\$1 != \$4 || (\$2 - \$5) ^ 2 > 1e-10 || (\$3 - \$6) ^ 2 > 1e-10) { print; bad = 1 } } END { exit bad }"
'

test_expect_success_if 'test_have_python torch msgpack numpy' \
	'SGD-momentum and Adam steps equal PyTorch on the same weights and batches (1e-6)' '
	gen noisy 200 8 9 | awk -F"\t" "\$2 != \"test\"" >ts.tsv &&
	mlp-train --epochs 0 --hidden 10 --patience 0 -o s0.mlp ts.tsv 2>/dev/null &&
	step () {
		lr=$2 && shift 2 &&
		mlp-train --epochs 1 --hidden 10 --patience 0 --no-shuffle \
			--batch-size 40 --lr $lr "$@" -o s1.mlp ts.tsv 2>/dev/null
	} &&
	step sgd 0.05 --opt sgd --momentum 0.9 &&
	"$PY" "$DATA/mlp/torch_step.py" s0.mlp s1.mlp ts.tsv sgd 0.05 40 0.9 &&
	step sgd 0.05 --opt sgd --momentum 0.9 --nesterov --weight-decay 0.01 &&
	"$PY" "$DATA/mlp/torch_step.py" s0.mlp s1.mlp ts.tsv sgd 0.05 40 0.9 0.01 1 &&
	step adam 0.01 --opt adam &&
	"$PY" "$DATA/mlp/torch_step.py" s0.mlp s1.mlp ts.tsv adam 0.01 40 &&
	step adam 0.01 --opt adam --weight-decay 0.05 &&
	"$PY" "$DATA/mlp/torch_step.py" s0.mlp s1.mlp ts.tsv adam 0.01 40 0 0.05 &&
	step adamw 0.01 --opt adamw --weight-decay 0.05 &&
	"$PY" "$DATA/mlp/torch_step.py" s0.mlp s1.mlp ts.tsv adamw 0.01 40 0 0.05
'

# ---- bad input --------------------------------------------------------------------

test_expect_success 'usage errors exit 2' '
	test_usage_error "give --out FILE" mlp-train lin.tsv &&
	test_usage_error "act: .swish. is not relu, gelu or tanh" mlp-train --act swish -o x.mlp lin.tsv &&
	test_exit 2 mlp-train --opt rmsprop -o x.mlp lin.tsv 2>/dev/null &&
	test_exit 2 mlp-train --hidden 16,x -o x.mlp lin.tsv 2>/dev/null &&
	test_exit 2 mlp-train --nesterov -o x.mlp lin.tsv 2>/dev/null &&
	test_exit 2 mlp-train --preset nope -o x.mlp lin.tsv 2>/dev/null &&
	test_usage_error "pos .7. is not a class (0, 1)" mlp-train --pos 7 -o x.mlp lin.tsv &&
	test_path_is_missing x.mlp
'

test_expect_success 'missing feature field' '
	test_error "no field .nope. in input (the features, --x)" mlp-train -x nope -o x.mlp lin.tsv &&
	test_path_is_missing x.mlp
'

test_expect_success 'missing split field; missing label field' '
	rec-cut -f id,label,emb lin.tsv -o nosplit.rec &&
	test_error "no field .split. in input" mlp-train -o x.mlp nosplit.rec &&
	test_error "no field .lab. in input (the label, --y)" mlp-train -y lab -o x.mlp lin.tsv &&
	test_path_is_missing x.mlp
'

test_expect_success 'wrong types: features not a vector, float label' '
	test_error "field .id. is str: the features must be f32\[N\]" mlp-train -x id -o x.mlp lin.tsv &&
	printf "id:str\tsplit:str\tlabel:float\temb:f32[2]\nr1\ttrain\t1.5\t1,2\n" >fl.tsv &&
	test_error "the label must be int or str" mlp-train -o x.mlp fl.tsv &&
	test_path_is_missing x.mlp
'

test_expect_success 'mixed dimensions across files' '
	gen lin 20 4 9 >d4.tsv &&
	test_error "is f32\[4\] but earlier records had 8 features: mixed dimensions" mlp-train -o x.mlp lin.tsv d4.tsv &&
	test_path_is_missing x.mlp
'

test_expect_success 'empty input, truncated input' '
	: >empty &&
	test_error "empty input" mlp-train -o x.mlp empty &&
	rec-cat -M lin.tsv >full.rec &&
	head -c $(($(wc -c <full.rec) - 5)) full.rec >trunc.rec &&
	test_error "truncated" mlp-train -o x.mlp trunc.rec &&
	test_path_is_missing x.mlp
'

test_expect_success 'missing values, non-finite features' '
	printf "id:str\tsplit:str\tlabel:int\temb:f32[2]\nr1\ttrain\t1\t\n" >nil.tsv &&
	test_error "record 1: field .emb. is missing (nil)" mlp-train -o x.mlp nil.tsv &&
	printf "id:str\tsplit:str\tlabel:int\temb:f32[2]\nr1\ttrain\t1\t1,nan\n" >nan.tsv &&
	test_error "record 1: feature 1 of .emb. is not finite" mlp-train -o x.mlp nan.tsv &&
	test_path_is_missing x.mlp
'

test_expect_success 'one class; a val label unseen in training; no train or val rows' '
	printf "id:str\tsplit:str\tlabel:int\temb:f32[2]\nr1\ttrain\t1\t1,2\nr2\tval\t1\t1,2\n" >one.tsv &&
	test_error "the train records have 1 class: need at least 2" mlp-train -o x.mlp one.tsv &&
	printf "r3\tval\t2\t0,0\nr4\ttrain\t0\t0,1\n" >>one.tsv &&
	test_error "label .2. occurs in the val records but not in the train records" mlp-train -o x.mlp one.tsv &&
	awk -F"\t" "\$2 != \"val\"" lin.tsv >tonly.tsv &&
	awk -F"\t" "\$2 != \"train\"" lin.tsv >vonly.tsv &&
	test_error "no records of split .v2.: early stopping needs them" mlp-train --val v2 -o x.mlp tonly.tsv &&
	test_error "no records of split .t2. to train on" mlp-train --train t2 -o x.mlp vonly.tsv &&
	test_path_is_missing x.mlp
'

test_expect_success 'without val rows, --patience 0 trains' '
	mlp-train --patience 0 --epochs 3 -o nv.mlp tonly.tsv 2>err &&
	grep -q "300 train, 0 val records; 3 epochs" err
'

test_expect_success_if 'test_have_python msgpack' \
	'one f32[16777216] record per class: memory by bytes, not 1024 rows' '
	$PY -c "import msgpack, sys
d = 16777216
h = dict(plm=1, fields=[[\"id\", \"str\"], [\"x\", \"f32[%d]\" % d],
	[\"label\", \"int\"], [\"split\", \"str\"]], meta={})
o = sys.stdout.buffer
o.write(msgpack.packb(h))
for i in range(2):
	o.write(msgpack.packb([\"r%d\" % i, bytes(4 * d), i, \"train\"], use_bin_type=True))
o.write(msgpack.packb({\"end\": 2}))" >wide.rec &&
	mlp-train -x x --hidden 1 --patience 0 --epochs 1 -o wide.mlp wide.rec 2>err &&
	grep -q "2 train, 0 val records; 1 epochs" err &&
	test -s wide.mlp &&
	rm -f wide.rec wide.mlp
'

test_done
