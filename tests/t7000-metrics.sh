#!/bin/sh
# metrics: exact hand-computed panels, agreement with scikit-learn to 1e-9
# (binary with ties, imbalance, one-class panels; multi-class with
# probabilities and with predicted classes; bootstrap intervals), --require,
# plots, and clear failures on bad input.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

SK="$DATA/metrics/sk.py"
PY=/usr/bin/python3
HAVE_SK="$PY -c 'import sklearn, numpy'"
body () { grep -v '^#' "$1"; }

test_expect_success 'setup' '
	cp "$DATA/metrics/binary.tsv" bin.tsv &&
	cp "$DATA/metrics/multi.tsv" multi.tsv &&
	rec-cat -M bin.tsv >bin.rec
'

# ---- exact output on small, hand-checked inputs ----------------------------

test_expect_success 'binary panel, hand-computed values (TSV input)' '
	metrics -T --bins 2 bin.tsv >out 2>err &&
	body out >actual &&
	test_cmp "$DATA/metrics/binary.expect" actual &&
	test ! -s err
'

test_expect_success 'MessagePack input gives the same panel' '
	metrics -T --bins 2 bin.rec >out &&
	body out >actual &&
	test_cmp "$DATA/metrics/binary.expect" actual
'

test_expect_success 'output is MessagePack when not a terminal; prov recorded' '
	metrics --bins 2 -o out.rec bin.rec &&
	rec-cat -T out.rec >out &&
	body out >actual &&
	test_cmp "$DATA/metrics/binary.expect" actual &&
	grep -q "\"tool\":\"metrics\"" out
'

test_expect_success 'multi-class with predicted classes: panels, confusion' '
	metrics -T --by split multi.tsv >out 2>err &&
	body out >actual &&
	test_cmp "$DATA/metrics/multi.expect" actual &&
	grep -q "panel split=test: precision_macro is undefined: a class was never predicted" err
'

test_expect_success '--by gives per-value panels after overall, sorted' '
	printf "label:int\tscore:float\tbin:int\n" >by.tsv &&
	printf "1\t0.9\t10\n0\t0.2\t9\n1\t0.4\t10\n0\t0.6\t9\n1\t0.7\t2\n" >>by.tsv &&
	metrics -T --by bin by.tsv >out 2>err &&
	body out | cut -f1 | uniq >actual &&
	printf "panel:str\noverall\nbin=2\nbin=9\nbin=10\n" >expect &&
	test_cmp expect actual &&
	grep -q "panel bin=2: auroc is undefined: only one class present" err &&
	grep -q "^bin=2	auroc	\\\\N	\\\\N			" out
'

test_expect_success '--pos with str labels; --threshold' '
	printf "label:str\tscore:float\nvirus\t0.9\nhost\t0.35\nvirus\t0.3\nhost\t0.1\n" >s.tsv &&
	metrics -T --pos virus --threshold 0.3 s.tsv >out &&
	grep "^overall	tp	" out >actual &&
	grep "^overall	fp	" out >>actual &&
	grep "^overall	auroc	" out >>actual &&
	printf "overall\ttp\t\\\\N\t\\\\N\t2\t\t\t4\n" >expect &&
	printf "overall\tfp\t\\\\N\t\\\\N\t1\t\t\t4\n" >>expect &&
	printf "overall\tauroc\t\\\\N\t\\\\N\t0.75\t\t\t4\n" >>expect &&
	test_cmp expect actual
'

test_expect_success 'edge cases: all correct, all wrong' '
	printf "label:int\tscore:float\n1\t0.8\n0\t0.1\n1\t0.6\n" >good.tsv &&
	printf "label:int\tscore:float\n1\t0.2\n0\t0.9\n1\t0.4\n" >bad.tsv &&
	metrics -T good.tsv >g &&
	metrics -T bad.tsv >b 2>err &&
	grep -q "^overall	mcc	\\\\N	\\\\N	1	" g &&
	grep -q "^overall	auroc	\\\\N	\\\\N	1	" g &&
	grep -q "^overall	accuracy	\\\\N	\\\\N	1	" g &&
	grep -q "^overall	mcc	\\\\N	\\\\N	-1	" b &&
	grep -q "^overall	auroc	\\\\N	\\\\N	0	" b &&
	grep -q "^overall	precision	\\\\N	\\\\N	0	" b &&
	grep -q "^overall	f1	\\\\N	\\\\N	0	" b
'

test_expect_success 'one class only: undefined metrics are nil and noted' '
	printf "label:int\tscore:float\n1\t0.8\n1\t0.3\n" >one.tsv &&
	metrics -T one.tsv >out 2>err &&
	grep -q "^overall	auroc	\\\\N	\\\\N			" out &&
	grep -q "^overall	mcc	\\\\N	\\\\N			" out &&
	grep -q "^overall	average_precision	\\\\N	\\\\N	1	" out &&
	grep -q "auroc is undefined: only one class present" err
'

# ---- --require ---------------------------------------------------------------

test_expect_success '--require fails naming the metric and why; no output' '
	test_exit 1 metrics --require auroc,f1 -o req.rec one.tsv 2>err &&
	grep -q "panel overall: required metric auroc is undefined: only one class present" err &&
	! grep -q "required metric f1" err &&
	test_path_is_missing req.rec
'

test_expect_success '--require passes when defined; repeatable option' '
	metrics --require auroc --require mcc,average_precision -o out.rec bin.tsv
'

test_expect_success '--require checks every panel' '
	test_exit 1 metrics --by bin --require auroc -o o.rec by.tsv 2>err &&
	grep -q "panel bin=2: required metric auroc" err &&
	test_path_is_missing o.rec
'

test_expect_success '--require: precision without predicted positives' '
	test_exit 1 metrics --threshold 0.95 --require precision bin.tsv >out 2>err &&
	grep -q "precision is undefined: no predicted positives" err
'

test_expect_success '--require: unknown metric is a usage error' '
	test_exit 2 metrics --require aucroc bin.tsv >out 2>err &&
	grep -q "unknown metric .aucroc." err
'

test_expect_success '--require: metric of the other kind of input' '
	test_exit 1 metrics --require auroc multi.tsv >out 2>err &&
	grep -q "require auroc: no such metric for predicted-class" err
'

# ---- bootstrap -----------------------------------------------------------

test_expect_success 'bootstrap: deterministic, seed recorded, lo <= value <= hi' '
	metrics -T --bootstrap 300 --seed 5 bin.tsv >b1 2>/dev/null &&
	metrics -T --bootstrap 300 --seed 5 bin.tsv >b2 2>/dev/null &&
	metrics -T --bootstrap 300 --seed 6 bin.tsv >b3 2>/dev/null &&
	test_cmp b1 b2 &&
	! cmp -s b1 b3 &&
	grep -q "\"seed\":5" b1 &&
	body b1 | awk -F"\t" "NR > 1 && \$5 != \"\" && \$6 != \"\" && !(\$6 <= \$5 + 1e-12 && \$5 <= \$7 + 1e-12) { bad = 1 } END { exit bad }"
'

test_expect_success 'bootstrap of a panel does not depend on other panels' '
	printf "id:str\tlabel:int\tscore:float\tg:str\n" >g.tsv &&
	grep -v "^id" bin.tsv | sed "s/\$/	x/" >>g.tsv &&
	metrics -T --bootstrap 50 --by g g.tsv >gb 2>/dev/null &&
	metrics -T --bootstrap 50 bin.tsv >ob 2>/dev/null &&
	body gb | grep "^g=x" | cut -f2- >a &&
	body ob | grep "^overall" | cut -f2- >b &&
	test_cmp b a
'

# ---- plots --------------------------------------------------------------------

test_expect_success_if "$PY -c 'import xml.dom.minidom'" \
	'--plot-dir writes valid SVG ROC, PR and calibration plots' '
	metrics --by bin --plot-dir plots -o p.rec by.tsv 2>/dev/null &&
	for p in overall bin=2 bin=9 bin=10; do
		for k in roc pr calibration; do
			test -s "plots/$p.$k.svg" || exit 1
		done
	done &&
	$PY -c "import sys, xml.dom.minidom as m; [m.parse(f) for f in sys.argv[1:]]" plots/*.svg &&
	grep -q "<polyline" plots/overall.roc.svg &&
	grep -q "<circle" plots/overall.calibration.svg
'

test_expect_success_if "$PY -c 'import xml.dom.minidom'" \
	'multi-class plots: one-vs-rest curves per class' '
	printf "label:int\tscore:f32[3]\n0\t0.7,0.2,0.1\n1\t0.2,0.5,0.3\n2\t0.1,0.3,0.6\n1\t0.4,0.4,0.2\n" >p3.tsv &&
	metrics --plot-dir mp -o mp.rec p3.tsv &&
	$PY -c "import sys, xml.dom.minidom as m; [m.parse(f) for f in sys.argv[1:]]" mp/overall.roc.svg mp/overall.pr.svg &&
	test $(grep -c "<polyline" mp/overall.roc.svg) = 3
'

# ---- bad input ------------------------------------------------------------------

test_expect_success 'missing label field' '
	printf "y:int\tscore:float\n1\t0.5\n" >nolab.tsv &&
	test_exit 1 metrics -o o.rec nolab.tsv 2>err &&
	grep -q "^metrics: no field .label. in input" err &&
	test_path_is_missing o.rec
'

test_expect_success 'missing score field' '
	printf "label:int\tprob:float\n1\t0.5\n" >nos.tsv &&
	test_exit 1 metrics nos.tsv >out 2>err &&
	grep -q "no field .score. in input" err &&
	test ! -s out
'

test_expect_success 'wrong score type' '
	printf "label:int\tscore:str\n1\thigh\n" >ws.tsv &&
	test_exit 1 metrics ws.tsv >out 2>err &&
	grep -q "field .score. (the score) is str" err
'

test_expect_success 'wrong label type' '
	printf "label:float\tscore:float\n1\t0.5\n" >wl.tsv &&
	test_exit 1 metrics wl.tsv >out 2>err &&
	grep -q "field .label. (the true label) is float" err
'

test_expect_success 'NaN score: error naming the record' '
	printf "label:int\tscore:float\n1\t0.5\n0\tnan\n" >nan.tsv &&
	test_exit 1 metrics -o o.rec nan.tsv 2>err &&
	grep -q "record 2: score is NaN" err &&
	test_path_is_missing o.rec
'

test_expect_success 'missing label: error, or skipped and counted' '
	printf "label:int\tscore:float\n1\t0.5\n\t0.3\n0\t0.2\n" >nil.tsv &&
	test_exit 1 metrics nil.tsv >out 2>err &&
	grep -q "record 2: label is missing" err &&
	metrics -T --skip-missing nil.tsv >out 2>err &&
	grep -q "skipped 1 record with a missing value" err &&
	grep -q "^overall	accuracy	\\\\N	\\\\N	1			2" out
'

test_expect_success 'empty input' '
	: >empty &&
	test_exit 1 metrics -o o.rec empty 2>err &&
	grep -q "empty input" err &&
	test_path_is_missing o.rec
'

test_expect_success 'header only: no records to evaluate' '
	printf "label:int\tscore:float\n" >hdr.tsv &&
	test_exit 1 metrics -o o.rec hdr.tsv 2>err &&
	grep -q "no records to evaluate" err &&
	test_path_is_missing o.rec
'

test_expect_success 'truncated stream' '
	head -c $(($(wc -c <bin.rec) - 3)) bin.rec >trunc.rec &&
	test_exit 1 metrics -o o.rec trunc.rec 2>err &&
	grep -q "truncated" err &&
	test_path_is_missing o.rec
'

test_expect_success 'class probability outside the classes; str labels need --classes' '
	printf "label:int\tscore:f32[2]\n2\t0.5,0.5\n" >k.tsv &&
	test_exit 1 metrics k.tsv >out 2>err &&
	grep -q "record 1: label 2 is not a class of f32\[2\]" err &&
	printf "label:str\tscore:f32[2]\na\t0.5,0.5\n" >k2.tsv &&
	test_exit 1 metrics k2.tsv >out 2>err &&
	grep -q "need --classes" err &&
	metrics -T --classes a,b k2.tsv >out &&
	grep -q "^overall	confusion	a	a	1	" out
'

test_expect_success 'bad option values are usage errors' '
	test_exit 2 metrics --ci 1.5 bin.tsv >out 2>err &&
	test_exit 2 metrics --bins 0 bin.tsv >out 2>err &&
	test_exit 2 metrics --bootstrap -1 bin.tsv >out 2>err
'

# ---- agreement with scikit-learn ---------------------------------------------

for case in \
	"bin-ties --by split" \
	"bin-imbalanced --pos virus --threshold 0.3 --bins 10" \
	"bin-panels --by split" \
	"multi --by kingdom" \
	"multi-k3 --by kingdom" \
	"multi-classes --by kingdom --classes c0,c1,c2,c3" \
	"multi-pred --by kingdom"
do
	name=${case%% *}
	args=${case#* }
	test_expect_success_if "$HAVE_SK" "sklearn agreement to 1e-9: $name" "
		$PY \"\$SK\" gen $name $name.tsv $name.json &&
		metrics -T $args $name.tsv >$name.out 2>$name.err &&
		$PY \"\$SK\" cmp $name.json $name.out
	"
done

test_expect_success_if "$HAVE_SK" 'sklearn agreement: bootstrap intervals' '
	$PY -c "
import numpy as np
r = np.random.default_rng(5); n = 300
y = (r.random(n) < 0.35).astype(int)
s = np.round(np.clip(r.normal(0.4 + 0.25 * y, 0.2), 0, 1), 2)
with open(\"boot.tsv\", \"w\") as f:
    f.write(\"label:int\tscore:float\n\")
    for a, b in zip(y, s): f.write(\"%d\t%r\n\" % (a, float(b)))
" &&
	metrics -T --bootstrap 200 --seed 42 --ci 0.9 boot.tsv >boot.out 2>/dev/null &&
	$PY "$SK" boot boot.tsv boot.out 200 42 0.9
'

test_done
