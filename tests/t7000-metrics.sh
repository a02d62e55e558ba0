#!/bin/sh
# metrics: exact hand-computed panels, agreement with scikit-learn to 1e-9
# on 223 random data sets (binary with ties, imbalance, perfect and inverted
# scores, tiny n, one class; threshold rules; multi-class with probabilities
# and with predicted classes; stratified bootstrap intervals), --require,
# plots (well-formed SVG), and clear failures on bad input.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

SK="$DATA/metrics/sk.py"
HAVE_SK='test_have_python sklearn numpy'
HAVE_XMLLINT="command -v xmllint"

test_expect_success 'setup' '
	cp "$DATA/metrics/binary.tsv" bin.tsv &&
	cp "$DATA/metrics/multi.tsv" multi.tsv &&
	rec-cat -M bin.tsv >bin.rec
'

# ---- exact output on small, hand-checked inputs ----------------------------

test_expect_success 'binary panel, hand-computed values (TSV input)' '
	metrics --typed --bins 2 bin.tsv >out 2>err &&
	body out >actual &&
	test_cmp "$DATA/metrics/binary.expect" actual &&
	test ! -s err
'

test_expect_success 'MessagePack input gives the same panel' '
	metrics --typed --bins 2 bin.rec >out &&
	body out >actual &&
	test_cmp "$DATA/metrics/binary.expect" actual
'

test_expect_success 'output is MessagePack when not a terminal; prov recorded' '
	metrics --bins 2 -o out.rec bin.rec &&
	rec-cat --typed out.rec >out &&
	body out >actual &&
	test_cmp "$DATA/metrics/binary.expect" actual &&
	grep -q "\"tool\":\"metrics\"" out
'

test_expect_success 'multi-class with predicted classes: panels, confusion' '
	metrics --typed --by split multi.tsv >out 2>err &&
	body out >actual &&
	test_cmp "$DATA/metrics/multi.expect" actual &&
	grep -q "group split=test: precision_macro is undefined: a class was never predicted" err
'

test_expect_success '--by gives per-value panels after overall, sorted' '
	printf "label:int\tscore:float\tbin:int\n" >by.tsv &&
	printf "1\t0.9\t10\n0\t0.2\t9\n1\t0.4\t10\n0\t0.6\t9\n1\t0.7\t2\n" >>by.tsv &&
	metrics --typed --by bin by.tsv >out 2>err &&
	body out | cut -f1 | uniq >actual &&
	printf "group:str\noverall\nbin=2\nbin=9\nbin=10\n" >expect &&
	test_cmp expect actual &&
	grep -q "group bin=2: auroc is undefined: only one class present" err &&
	grep -q "^bin=2	auroc				1	only one class present\$" out
'

test_expect_success '--pos with str labels; --threshold' '
	printf "label:str\tscore:float\nvirus\t0.9\nhost\t0.35\nvirus\t0.3\nhost\t0.1\n" >s.tsv &&
	metrics --typed --pos virus --threshold 0.3 s.tsv >out &&
	grep "^overall	tp	" out >actual &&
	grep "^overall	fp	" out >>actual &&
	grep "^overall	auroc	" out >>actual &&
	printf "overall\ttp\t2\t\t\t4\t\\\\N\n" >expect &&
	printf "overall\tfp\t1\t\t\t4\t\\\\N\n" >>expect &&
	printf "overall\tauroc\t0.75\t\t\t4\t\\\\N\n" >>expect &&
	test_cmp expect actual
'

test_expect_success 'edge cases: all correct, all wrong' '
	printf "label:int\tscore:float\n1\t0.8\n0\t0.1\n1\t0.6\n" >good.tsv &&
	printf "label:int\tscore:float\n1\t0.2\n0\t0.9\n1\t0.4\n" >bad.tsv &&
	metrics --typed good.tsv >g &&
	metrics --typed bad.tsv >b 2>err &&
	grep -q "^overall	mcc	1	" g &&
	grep -q "^overall	auroc	1	" g &&
	grep -q "^overall	accuracy	1	" g &&
	grep -q "^overall	mcc	-1	" b &&
	grep -q "^overall	auroc	0	" b &&
	grep -q "^overall	precision	0	" b &&
	grep -q "^overall	f1	0	" b
'

test_expect_success 'one class only: undefined metrics are nil and noted' '
	printf "label:int\tscore:float\n1\t0.8\n1\t0.3\n" >one.tsv &&
	metrics --typed one.tsv >out 2>err &&
	grep -q "^overall	auroc				2	only one class present\$" out &&
	grep -q "^overall	mcc				2	a class marginal is constant (0/0)\$" out &&
	grep -q "^overall	auprc	1			2	\\\\N\$" out &&
	grep -q "auroc is undefined: only one class present" err
'

# ---- option spellings, threshold rules, --pred --------------------------------

test_expect_success '--y/--score, -y and --y=/--score= are the same options' '
	printf "truth:int\tp:float\n1\t0.9\n0\t0.6\n1\t0.4\n0\t0.1\n" >sp.tsv &&
	metrics --typed --y truth --score p sp.tsv >a1 &&
	metrics --typed -y truth --score p sp.tsv >a2 &&
	metrics --typed --y=truth --score=p sp.tsv >a3 &&
	body a1 >b1 && body a2 >b2 && body a3 >b3 &&
	test_cmp b1 b2 && test_cmp b1 b3 &&
	grep -q "^overall	auroc	0.75	" b1
'

test_expect_success 'output fields: group metric value lo hi n reason' '
	head -1 "$DATA/metrics/binary.expect" >actual &&
	printf "group:str\tmetric:str\tvalue:float\tlo:float\thi:float\tn:int\treason:str\n" >expect &&
	test_cmp expect actual
'

test_expect_success '--threshold youden --tune-on-scored: J = TPR - FPR, ties to the highest' '
	metrics --typed --threshold youden --tune-on-scored bin.tsv >out &&
	body out | grep -E "	(threshold|tp|fp|fn|tn|accuracy|precision|recall)	" | cut -f2,3 >actual &&
	printf "accuracy\t0.75\nprecision\t1\nrecall\t0.5\ntp\t2\nfp\t0\nfn\t2\ntn\t4\nthreshold\t0.8\n" >expect &&
	test_cmp expect actual
'

test_expect_success '--threshold f1 --tune-on-scored: the threshold with the largest F1' '
	metrics --typed --threshold f1 --tune-on-scored bin.tsv >out &&
	grep "^overall	threshold	" out | cut -f3 >actual &&
	echo 0.5 >expect &&
	test_cmp expect actual &&
	grep -q "^overall	f1	0.8	" out
'

test_expect_success '--threshold youden --tune-on-scored with one class: nil threshold and predictions' '
	metrics --typed --threshold youden --tune-on-scored one.tsv >out 2>err &&
	grep -q "^overall	threshold				2	no youden threshold: only one class present\$" out &&
	grep -q "^overall	accuracy				2	no youden threshold: only one class present\$" out &&
	grep -q "^overall	tp				2	no youden threshold" out &&
	grep -q "^overall	auprc	1			2	" out &&
	test_error "required metric accuracy is undefined: no youden threshold" metrics --threshold youden --tune-on-scored --require accuracy -o t.rec one.tsv &&
	test_path_is_missing t.rec
'

test_expect_success '--threshold f1 --tune-on-scored without positives: nil' '
	printf "label:int\tscore:float\n0\t0.8\n0\t0.3\n" >neg.tsv &&
	metrics --typed --threshold f1 --tune-on-scored neg.tsv >out 2>err &&
	grep -q "^overall	threshold				2	no f1 threshold: no positive rows\$" out
'

test_expect_success 'a chosen threshold is re-chosen in every bootstrap replicate' '
	metrics --typed --threshold youden --tune-on-scored --bootstrap 200 bin.tsv >out 2>/dev/null &&
	grep "^overall	threshold	" out | cut -f3-5 >actual &&
	printf "0.8\t0.5\t0.9\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'binary --pred: predictions from a field, no threshold row' '
	printf "label:str\tscore:float\tpred:str\nvirus\t0.9\tvirus\nhost\t0.35\tvirus\nvirus\t0.3\thost\nhost\t0.1\thost\n" >bp.tsv &&
	metrics --typed --y label --score score --pred pred --pos virus bp.tsv >out &&
	body out | grep -E "	(tp|fp|fn|tn|auroc)	" | cut -f2,3 >actual &&
	printf "auroc\t0.75\ntp\t1\nfp\t1\nfn\t1\ntn\t1\n" >expect &&
	test_cmp expect actual &&
	! grep -q "	threshold	" out
'

test_expect_success '--threshold youden|f1 without --tune-on-scored: usage error naming the choices' '
	test_usage_error "threshold f1 would choose the threshold on the records being scored.*--threshold-from val.rec, give a number (--threshold X), or add --tune-on-scored" metrics --threshold f1 -o t.rec bin.tsv &&
	test_path_is_missing t.rec &&
	test_usage_error "threshold youden would choose" metrics --threshold youden bin.tsv >out &&
	test ! -s out &&
	test_usage_error "tune-on-scored goes with --threshold youden or f1" metrics --tune-on-scored bin.tsv >out
'

test_expect_success '--tune-on-scored: every group says so in a row, and on stderr' '
	metrics --typed --threshold youden --tune-on-scored --by bin by.tsv >out 2>err &&
	grep "	threshold_tuned_on_scored	" out >actual &&
	printf "overall\tthreshold_tuned_on_scored\t1\t\t\t5\t\\\\N\n" >expect &&
	printf "bin=2\tthreshold_tuned_on_scored\t1\t\t\t1\t\\\\N\n" >>expect &&
	printf "bin=9\tthreshold_tuned_on_scored\t1\t\t\t2\t\\\\N\n" >>expect &&
	printf "bin=10\tthreshold_tuned_on_scored\t1\t\t\t2\t\\\\N\n" >>expect &&
	test_cmp expect actual &&
	grep -q "threshold is chosen on the records scored (--tune-on-scored)" err &&
	metrics -T --threshold 0.5 by.tsv >fixed &&
	! grep -q "tuned_on_scored" fixed
'

test_expect_success '--threshold-from: the validation threshold, applied as a number' '
	printf "label:int\tscore:float\n1\t0.9\n0\t0.7\n1\t0.65\n0\t0.3\n1\t0.2\n0\t0.1\n" >val.tsv &&
	metrics --threshold f1 --tune-on-scored -o val.rec val.tsv 2>/dev/null &&
	rec-cat -T val.rec >val.out &&
	grep -q "^overall	threshold	0.2	" val.out &&
	metrics -T --threshold-from val.rec bin.tsv >from &&
	metrics -T --threshold 0.2 bin.tsv >fixed &&
	body from >a && body fixed >b &&
	test_cmp b a &&
	grep -q "^overall	threshold	0.2	" from &&
	! grep -q "tuned_on_scored" from
'

test_expect_success '--threshold-from: bad files and combinations' '
	test_usage_error "threshold-from excludes --threshold and --pred" metrics --threshold-from val.rec --threshold 0.3 bin.tsv >out &&
	test_error "threshold-from bin.tsv: not metrics output" metrics --threshold-from bin.tsv bin.tsv >out &&
	metrics --pred pred -o pr.rec bp.tsv --pos virus 2>/dev/null &&
	test_error "threshold-from pr.rec: no threshold row in group overall" metrics --threshold-from pr.rec bin.tsv >out &&
	metrics --threshold youden --tune-on-scored -o one.rec one.tsv 2>/dev/null &&
	test_error "threshold-from one.rec: the threshold is undefined: no youden threshold: only one class present" metrics --threshold-from one.rec -o t.rec bin.tsv &&
	test_path_is_missing t.rec &&
	test_error "threshold-from: nosuch.rec: No such file" metrics --threshold-from nosuch.rec bin.tsv >out
'

test_expect_success '--threshold: bad value, or with --pred, is a usage error' '
	test_usage_error "threshold: .best. is not a number, youden or f1" metrics --threshold best bin.tsv >out &&
	test_usage_error "exclude each other" metrics --threshold youden --pred pred bp.tsv >out
'

test_expect_success '--threshold on multi-class input is an error' '
	test_error "threshold applies to binary input" metrics --threshold 0.5 -o t.rec multi.tsv &&
	test_path_is_missing t.rec
'

test_expect_success 'multi-class: per-class rows with reasons' '
	grep "^split=val	[a-z]*\[class=bird\]" "$DATA/metrics/multi.expect" >expect &&
	metrics --typed --by split multi.tsv >out 2>err &&
	grep "^split=val	[a-z]*\[class=bird\]" out >actual &&
	test_cmp expect actual &&
	grep -q "^split=val	recall\[class=bird\]				2	the class has no true rows\$" out &&
	grep -q "group split=val: f1\[class=bird\] is undefined: the class neither occurs nor is predicted" err
'

test_expect_success 'multi-class with probabilities: per-class auroc, ovr macro' '
	printf "label:int\tscore:f32[3]\n0\t0.7,0.2,0.1\n1\t0.2,0.5,0.3\n2\t0.1,0.3,0.6\n1\t0.4,0.4,0.2\n0\t0.3,0.4,0.3\n" >m3.tsv &&
	metrics --typed m3.tsv >out &&
	grep -q "^overall	auroc\[class=0\]	0.833333333333333[0-9]*	" out &&
	grep -q "^overall	auroc\[class=2\]	1	" out &&
	grep -q "^overall	auroc_ovr_macro	" out &&
	grep -q "^overall	confusion\[true=0,pred=1\]	1	" out
'

# ---- --require ---------------------------------------------------------------

test_expect_success '--require fails naming the metric and why; no output' '
	test_error "group overall: required metric auroc is undefined: only one class present" metrics --require auroc,f1 -o req.rec one.tsv &&
	! grep -q "required metric f1" err &&
	test_path_is_missing req.rec
'

test_expect_success '--require passes when defined; repeatable option' '
	metrics --require auroc --require mcc,auprc,average_precision -o out.rec bin.tsv
'

test_expect_success '--require checks every panel' '
	test_error "group bin=2: required metric auroc" metrics --by bin --require auroc -o o.rec by.tsv &&
	test_path_is_missing o.rec
'

test_expect_success '--require: precision without predicted positives' '
	test_error "precision is undefined: no predicted positives" metrics --threshold 0.95 --require precision bin.tsv >out
'

test_expect_success '--require: unknown metric is a usage error' '
	test_usage_error "unknown metric .aucroc." metrics --require aucroc bin.tsv >out
'

test_expect_success '--require: metric of the other kind of input' '
	test_error "require auroc: no such metric for predicted-class" metrics --require auroc multi.tsv >out
'

# ---- bootstrap -----------------------------------------------------------

test_expect_success 'bootstrap: deterministic, seed recorded, lo <= value <= hi' '
	metrics --typed --bootstrap 300 --seed 5 bin.tsv >b1 2>/dev/null &&
	metrics --typed --bootstrap 300 --seed 5 bin.tsv >b2 2>/dev/null &&
	metrics --typed --bootstrap 300 --seed 6 bin.tsv >b3 2>/dev/null &&
	test_cmp b1 b2 &&
	! cmp -s b1 b3 &&
	grep -q "\"seed\":5" b1 &&
	body b1 | awk -F"\t" "NR > 1 && \$3 != \"\" && \$4 != \"\" && !(\$4 <= \$3 + 1e-12 && \$3 <= \$5 + 1e-12) { bad = 1 } END { exit bad }" &&
	grep -q "^overall	prevalence	0.5	0.5	0.5	8	" b1
'

test_expect_success 'bootstrap of a panel does not depend on other panels' '
	printf "id:str\tlabel:int\tscore:float\tg:str\n" >g.tsv &&
	grep -v "^id" bin.tsv | sed "s/\$/	x/" >>g.tsv &&
	metrics --typed --bootstrap 50 --by g g.tsv >gb 2>/dev/null &&
	metrics --typed --bootstrap 50 bin.tsv >ob 2>/dev/null &&
	body gb | grep "^g=x" | cut -f2- >a &&
	body ob | grep "^overall" | cut -f2- >b &&
	test_cmp b a
'

# ---- plots --------------------------------------------------------------------

test_expect_success_if "$HAVE_XMLLINT" \
	'--plot writes well-formed SVG ROC, PR and calibration plots' '
	metrics --by bin --plot plots -o p.rec by.tsv 2>/dev/null &&
	for p in overall bin=2 bin=9 bin=10; do
		for k in roc pr calibration; do
			test -s "plots/$p.$k.svg" || exit 1
		done
	done &&
	xmllint --noout plots/*.svg &&
	grep -q "<polyline" plots/overall.roc.svg &&
	grep -q "<circle" plots/overall.calibration.svg &&
	grep -q ">false positive rate</text>" plots/overall.roc.svg &&
	grep -q ">true positive rate</text>" plots/overall.roc.svg &&
	grep -q ">recall</text>" plots/overall.pr.svg &&
	grep -q ">precision</text>" plots/overall.pr.svg &&
	grep -q ">mean predicted probability</text>" plots/overall.calibration.svg &&
	grep -q ">fraction positive</text>" plots/overall.calibration.svg
'

test_expect_success_if "$HAVE_XMLLINT" '--plot-dir is the same as --plot' '
	metrics --by bin --plot-dir plots2 -o p2.rec by.tsv 2>/dev/null &&
	for f in plots/*.svg; do cmp "$f" "plots2/${f#plots/}" || exit 1; done
'

test_expect_success_if "$HAVE_XMLLINT" \
	'multi-class plots: one-vs-rest curves per class' '
	printf "label:int\tscore:f32[3]\n0\t0.7,0.2,0.1\n1\t0.2,0.5,0.3\n2\t0.1,0.3,0.6\n1\t0.4,0.4,0.2\n" >p3.tsv &&
	metrics --plot mp -o mp.rec p3.tsv &&
	xmllint --noout mp/overall.roc.svg mp/overall.pr.svg &&
	test $(grep -c "<polyline" mp/overall.roc.svg) = 3
'

test_expect_success_if "$HAVE_XMLLINT" 'plot titles with markup characters are escaped' '
	printf "label:int\tscore:float\tg:str\n1\t0.9\t<a&b>\n0\t0.2\t<a&b>\n" >esc.tsv &&
	metrics --by g --plot esc -o esc.rec esc.tsv &&
	xmllint --noout esc/*.svg &&
	grep -q "g=&lt;a&amp;b&gt;" esc/g=_a_b_.roc.svg
'

# ---- bad input ------------------------------------------------------------------

test_expect_success 'missing label field' '
	printf "y:int\tscore:float\n1\t0.5\n" >nolab.tsv &&
	test_error "^metrics: no field .label. in input" metrics -o o.rec nolab.tsv &&
	test_path_is_missing o.rec
'

test_expect_success 'missing score field' '
	printf "label:int\tprob:float\n1\t0.5\n" >nos.tsv &&
	test_error "no field .score. in input" metrics nos.tsv >out &&
	test ! -s out
'

test_expect_success 'wrong score type' '
	printf "label:int\tscore:str\n1\thigh\n" >ws.tsv &&
	test_error "field .score. (the score) is str" metrics ws.tsv >out
'

test_expect_success 'wrong label type' '
	printf "label:float\tscore:float\n1\t0.5\n" >wl.tsv &&
	test_error "field .label. (the true label) is float" metrics wl.tsv >out
'

test_expect_success 'NaN score: error naming the record' '
	printf "label:int\tscore:float\n1\t0.5\n0\tnan\n" >nan.tsv &&
	test_error "record 2: score is NaN" metrics -o o.rec nan.tsv &&
	test_path_is_missing o.rec
'

test_expect_success 'binary: a third label value is an error naming the values' '
	printf "label:int\tscore:float\n-1\t0.2\n0\t0.3\n1\t0.9\n2\t0.5\n1\t0.7\n0\t0.1\n" >l4.tsv &&
	test_exit 1 metrics -o bad.rec l4.tsv 2>err &&
	echo "metrics: field '\''label'\'' takes 4 values (-1, 0, 1, 2): binary metrics count --pos 1 as positive and every other value as negative, so there must be only one other; keep two first (e.g. rec-filter '\''label==1 || label==0'\'') or score them as multi-class" >expect &&
	test_cmp expect err &&
	test_path_is_missing bad.rec &&
	test_error "takes 4 values (-1, 0, 1, 2): binary metrics count --pos 2 as positive" metrics --pos 2 -o bad.rec l4.tsv &&
	test_path_is_missing bad.rec &&
	rec-filter "label==1 || label==0" l4.tsv -o f.rec &&
	metrics --typed f.rec >out &&
	grep -q "^overall	tp	2			4	" out &&
	grep -q "^overall	tn	2			4	" out
'

test_expect_success 'binary: str labels, a third value or no --pos' '
	printf "label:str\tscore:float\nvirus\t0.9\nhost\t0.35\nunknown\t0.3\n" >s3.tsv &&
	test_exit 1 metrics --pos virus -o bad.rec s3.tsv 2>err &&
	grep -q "^metrics: field .label. takes 3 values (host, unknown, virus): .*rec-filter .label==\"virus\" || label==\"host\"." err &&
	test_error "^metrics: field .label. takes the values host, virus, none of them the positive label (--pos 1): give --pos VALUE\$" metrics -o bad.rec s.tsv &&
	test_path_is_missing bad.rec
'

test_expect_success 'binary: --pos that is no label seen is an error naming the labels' '
	printf "label:str\tscore:float\nviral\t0.9\nhost\t0.35\nviral\t0.6\n" >vh.tsv &&
	test_error "^metrics: field .label. takes the values host, viral, none of them the positive label (--pos virus): give --pos VALUE\$" metrics --pos virus -o bad.rec vh.tsv &&
	printf "label:str\tscore:float\nviral\t0.9\nviral\t0.2\n" >v1.tsv &&
	test_error "^metrics: field .label. takes the values viral, none of them the positive label (--pos virus): give --pos VALUE\$" metrics --pos virus -o bad.rec v1.tsv &&
	test_path_is_missing bad.rec &&
	metrics -T --pos viral v1.tsv >out 2>err &&
	grep -q "^overall	recall	0.5			2	" out &&
	printf "label:int\tscore:float\n0\t0.9\n0\t0.2\n" >z.tsv &&
	metrics -T z.tsv >out 2>err &&
	grep -q "^overall	recall				2	no positive rows" out
'

test_expect_success 'binary --pred: a third predicted value is an error too' '
	printf "label:int\tscore:float\tpred:int\n1\t0.9\t1\n0\t0.35\t2\n0\t0.2\t0\n" >p3.tsv &&
	test_error "^metrics: fields .label. and .pred. take 3 values (0, 1, 2)" metrics --pred pred -o bad.rec p3.tsv &&
	test_path_is_missing bad.rec
'

test_expect_success 'missing label: error, or skipped and counted' '
	printf "label:int\tscore:float\n1\t0.5\n\t0.3\n0\t0.2\n" >nil.tsv &&
	test_error "record 2: label is missing" metrics nil.tsv >out &&
	metrics --typed --skip-missing nil.tsv >out 2>err &&
	grep -q "skipped 1 record with a missing value" err &&
	grep -q "^overall	accuracy	1			2	" out
'

test_expect_success 'empty input' '
	: >empty &&
	test_error "empty input" metrics -o o.rec empty &&
	test_path_is_missing o.rec
'

test_expect_success 'header only: no records to evaluate' '
	printf "label:int\tscore:float\n" >hdr.tsv &&
	test_error "no records to evaluate" metrics -o o.rec hdr.tsv &&
	test_path_is_missing o.rec
'

test_expect_success 'truncated stream' '
	head -c $(($(wc -c <bin.rec) - 3)) bin.rec >trunc.rec &&
	test_error "truncated" metrics -o o.rec trunc.rec &&
	test_path_is_missing o.rec
'

test_expect_success 'class probability outside the classes; str labels need --classes' '
	printf "label:int\tscore:f32[2]\n2\t0.5,0.5\n" >k.tsv &&
	test_error "record 1: label 2 is not a class of f32\[2\]" metrics k.tsv >out &&
	printf "label:str\tscore:f32[2]\na\t0.5,0.5\n" >k2.tsv &&
	test_error "need --classes" metrics k2.tsv >out &&
	metrics --typed --classes a,b k2.tsv >out &&
	grep -q "^overall	confusion\[true=a,pred=a\]	1	" out
'

test_expect_success 'bad option values are usage errors' '
	test_exit 2 metrics --ci 1.5 bin.tsv >out 2>err &&
	test_exit 2 metrics --bins 0 bin.tsv >out 2>err &&
	test_exit 2 metrics --bootstrap -1 bin.tsv >out 2>err
'

# ---- agreement with scikit-learn ---------------------------------------------

# One python run writes every case and sklearn's values, one metrics run per
# setting (--by case), one python run compares: a few seconds in all.
test_expect_success_if "$HAVE_SK" 'sklearn agreement to 1e-9 on 223 random data sets' '
	mkdir sk &&
	$PY "$SK" gen sk >sk.log &&
	while read name args; do
		(cd sk && metrics --typed --by case $args >$name.out 2>$name.err) || exit 1
	done <sk/runs &&
	$PY "$SK" cmp sk >sk.cmp &&
	cat sk.cmp &&
	grep -q "checked [0-9]* values in 619 groups of 7 runs, 0 bad" sk.cmp
'

test_expect_success_if "$HAVE_SK" 'sklearn agreement: stratified bootstrap intervals' '
	$PY -c "
import numpy as np
r = np.random.default_rng(5); n = 300
y = (r.random(n) < 0.35).astype(int)
s = np.round(np.clip(r.normal(0.4 + 0.25 * y, 0.2), 0, 1), 2)
with open(\"boot.tsv\", \"w\") as f:
    f.write(\"label:int\tscore:float\n\")
    for a, b in zip(y, s): f.write(\"%d\t%r\n\" % (a, float(b)))
" &&
	metrics --typed --bootstrap 200 --seed 42 --ci 0.9 boot.tsv >boot.out 2>/dev/null &&
	$PY "$SK" boot boot.tsv boot.out 200 42 0.9
'

test_done
