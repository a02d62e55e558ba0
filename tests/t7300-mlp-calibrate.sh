#!/bin/sh
# mlp-calibrate: Platt and isotonic calibrators fitted on validation
# predictions only, agreement with scikit-learn 1.2, the calibrated score
# added by --apply and by mlp-predict --calibrator, ECE before and after in
# metrics --calibrator, and clear failures on bad input.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

HAVE_SK='test_have_python sklearn scipy numpy'

# Overconfident scores: the true P(positive) is sigmoid(z), the score is
# sigmoid(3 z).  $1 rows, split $2, awk seed $3.
overconfident () {
	awk -v n="$1" -v sp="$2" -v seed="$3" 'BEGIN {
		srand(seed); print "label:int\tscore:float\tsplit:str"
		for (i = 0; i < n; i++) {
			z = 4 * rand() - 2
			y = rand() < 1 / (1 + exp(-z))
			printf "%d\t%.17g\t%s\n", y, 1 / (1 + exp(-3 * z)), sp
		}
	}'
}

test_expect_success 'setup' '
	overconfident 3000 val 1 >val.tsv &&
	overconfident 3000 test 2 >test.tsv
'

test_expect_success 'platt: a calibrator file naming what it was fitted on' '
	mlp-calibrate -o platt.json val.tsv 2>err &&
	test ! -s err &&
	grep -q "^{\"calibrator\":\"plmkit\",\"version\":1,\"method\":\"platt\",\"on\":\"logit\",\"a\":-0\.3[0-9]*,\"b\":" platt.json &&
	grep -q ",\"rows\":3000,\"positives\":[0-9]*,\"pos\":\"1\",\"split\":\"val\",\"digest\":\"[0-9a-f]\{32\}\"}$" platt.json
'

test_expect_success 'the digest is of the (score, label) pairs, so the same data gives the same file' '
	rec-cat -M val.tsv >val.rec &&
	mlp-calibrate -o again.json val.rec &&
	test_cmp platt.json again.json &&
	head -n 100 val.tsv >part.tsv &&
	mlp-calibrate -o part.json part.tsv &&
	! cmp -s platt.json part.json
'

test_expect_success 'ECE on held-out data drops: metrics --calibrator, platt and isotonic' '
	mlp-calibrate --method isotonic -o iso.json val.tsv &&
	grep -q "\"method\":\"isotonic\",\"on\":\"logit\",\"x\":\[" iso.json &&
	for c in platt iso; do
		metrics --typed --calibrator $c.json test.tsv >m.$c || exit 1
		ece=$(awk -F"\t" "\$1 == \"overall\" && \$2 == \"ece\" { print \$3 }" m.$c) &&
		cal=$(awk -F"\t" "\$1 == \"overall\" && \$2 == \"ece_calibrated\" { print \$3 }" m.$c) &&
		echo "$c: ece $ece calibrated $cal" &&
		awk -v a="$ece" -v b="$cal" "BEGIN { exit !(a > 0.1 && b < a / 3) }" || exit 1
	done &&
	grep -q "^overall	brier_calibrated	0\.[0-9]*			3000	\\\\N$" m.platt &&
	grep -q "^overall	log_loss_calibrated	0\.[0-9]*			3000	\\\\N$" m.platt
'

test_expect_success 'metrics --calibrator fitted for another positive label: exit 1' '
	test_error "platt.json was fitted with positive label .1., the scores here are of .0. (--pos)" \
		metrics --pos 0 --calibrator platt.json test.tsv
'

test_expect_success '--apply adds score_cal; metrics on it agrees with --calibrator' '
	mlp-calibrate --apply platt.json -o cal.rec test.tsv &&
	rec-cat --typed cal.rec >cal.tsv &&
	body cal.tsv | head -n 1 >hdr &&
	printf "label:int\tscore:float\tsplit:str\tscore_cal:float\n" >expect &&
	test_cmp expect hdr &&
	metrics --typed --score score_cal cal.rec >m2 &&
	a=$(awk -F"\t" "\$1 == \"overall\" && \$2 == \"ece\" { print \$3 }" m2) &&
	b=$(awk -F"\t" "\$1 == \"overall\" && \$2 == \"ece_calibrated\" { print \$3 }" m.platt) &&
	test "$a" = "$b"
'

test_expect_success 'mlp-predict --calibrator adds score_cal, the same as --apply' '
	gen lin 300 6 1 >lin.tsv &&
	rec-filter "split!=test" lin.tsv -o tv.rec &&
	mlp-train --hidden 8 --lr 0.01 --epochs 20 -o lin.mlp tv.rec 2>/dev/null &&
	rec-filter "split==val" lin.tsv -o lval.rec &&
	rec-filter "split==test" lin.tsv -o ltest.rec &&
	mlp-predict --model lin.mlp --allow-seen -o pval.rec lval.rec &&
	mlp-calibrate -o lin.cal pval.rec &&
	mlp-predict --typed --model lin.mlp --calibrator lin.cal ltest.rec >p.tsv &&
	body p.tsv | head -n 1 | cut -f5- >hdr &&
	printf "score:float\tpred:int\tscore_cal:float\n" >expect &&
	test_cmp expect hdr &&
	mlp-predict --model lin.mlp -o p0.rec ltest.rec &&
	mlp-calibrate --typed --apply lin.cal p0.rec >q.tsv &&
	body p.tsv | cut -f7 >a &&
	body q.tsv | cut -f7 >b &&
	test_cmp a b &&
	test $(wc -l <a) -eq 61
'

test_expect_success 'refuses the test or train split unless --any-split' '
	test_error "the records are the test split: fit a calibrator on validation predictions" mlp-calibrate -o t.json test.tsv &&
	test_path_is_missing t.json &&
	mlp-calibrate --any-split -o t.json test.tsv &&
	cat val.tsv test.tsv | grep -v "^label" | sed "1i label:int	score:float	split:str" >mixed.tsv &&
	test_error "split is .test. but earlier records are .val.: fit on one split" mlp-calibrate -o t2.json mixed.tsv &&
	test_path_is_missing t2.json
'

test_expect_success 'one class (all positive or all negative): fitted, with a warning' '
	printf "label:int\tscore:float\n1\t0.9\n1\t0.2\n" >allpos.tsv &&
	mlp-calibrate -o ap.json allpos.tsv 2>err &&
	grep -q "^mlp-calibrate: only one class in 2 records" err &&
	printf "label:int\tscore:float\n0\t0.9\n0\t0.2\n0\t0.5\n" >allneg.tsv &&
	mlp-calibrate -o an.json allneg.tsv 2>err &&
	grep -q "^mlp-calibrate: only one class in 3 records" err &&
	grep -q "\"rows\":3,\"positives\":0," an.json
'

# labels of 130 bytes and more, alike in their first 124
test_expect_success 'long str labels compare whole' '
	L=$(printf "%0130d" 0 | tr 0 h) &&
	printf "label:str\tscore:float\n${L}1\t0.9\n${L}2\t0.2\n${L}2\t0.4\n${L}1\t0.7\n" >long.tsv &&
	mlp-calibrate --pos "${L}1" -o long.json long.tsv 2>err &&
	test ! -s err &&
	grep -q "\"rows\":4,\"positives\":2," long.json &&
	printf "label:str\tscore:float\n${L}1\t0.9\n${L}2\t0.2\n${L}3\t0.4\n" >long3.tsv &&
	test_error "label takes a third value .${L}3." mlp-calibrate --pos "${L}1" long3.tsv >out
'

test_expect_success 'bad input: fields, types, labels, scores' '
	printf "y:int\tscore:float\n1\t0.5\n" >nolab.tsv &&
	test_error "no field .label. in input" mlp-calibrate nolab.tsv >out &&
	test ! -s out &&
	printf "label:int\tscore:f32[2]\n1\t0.5,0.5\n" >vec.tsv &&
	test_error "field .score. (the score) is f32\[2\]: it must be float" mlp-calibrate vec.tsv >out &&
	printf "label:int\tscore:float\n1\t0.5\n0\t0.2\n2\t0.3\n" >three.tsv &&
	test_error "label takes a third value .2." mlp-calibrate three.tsv >out &&
	printf "label:int\tscore:float\n1\t1.5\n0\t0.2\n" >range.tsv &&
	test_error "score 1.5 is not a probability in \[0, 1\]" mlp-calibrate range.tsv >out &&
	mlp-calibrate --on score -o r.json range.tsv &&
	printf "label:int\tscore:float\n1\tnan\n" >nan.tsv &&
	test_error "score is NaN" mlp-calibrate nan.tsv >out &&
	printf "label:int\tscore:float\n" >hdr.tsv &&
	test_error "no records to fit on" mlp-calibrate -o h.json hdr.tsv &&
	test_path_is_missing h.json &&
	test_usage_error "method" mlp-calibrate --method beta val.tsv >out
'

test_expect_success 'bad calibrator files' '
	echo "{\"method\":\"platt\"}" >bad1.json &&
	test_error "bad1.json: no \"calibrator\":\"plmkit\"" mlp-calibrate --apply bad1.json test.tsv >out &&
	echo "{\"calibrator\":\"plmkit\",\"method\":\"isotonic\",\"on\":\"logit\",\"x\":[1,0],\"y\":[0,1]}" >bad2.json &&
	test_error "bad2.json: the breakpoints are not increasing" metrics --calibrator bad2.json test.tsv >out &&
	echo "not json" >bad3.json &&
	test_error "bad3.json: not a calibrator" mlp-predict --model lin.mlp --calibrator bad3.json ltest.rec >out &&
	test_error "calibrator applies to binary input" metrics --calibrator platt.json "$DATA/metrics/multi.tsv" >out &&
	sed "s/\"rows\":3000/\"rows\":-1/" platt.json >bad4.json &&
	test_error "bad4.json: \"rows\" is not a count" metrics --calibrator bad4.json test.tsv >out &&
	sed "s/\"rows\":3000/\"rows\":1e300/" platt.json >bad5.json &&
	test_error "bad5.json: \"rows\" is not a count" mlp-calibrate --apply bad5.json test.tsv >out &&
	sed "s/\"positives\":[0-9]*/\"positives\":3001/" platt.json >bad6.json &&
	test_error "bad6.json: \"positives\" is not a count of at most \"rows\"" metrics --calibrator bad6.json test.tsv >out &&
	for k in 1 2 3 4 5 6 7 8; do cat platt.json; done | gzip >long.json.gz &&
	head -c 40 long.json.gz >cut.json.gz &&
	test_error "^mlp-calibrate: cut.json.gz: truncated gzip input$" mlp-calibrate --apply cut.json.gz test.tsv >out
'

test_expect_success_if "$HAVE_SK" 'sklearn 1.2 agreement: platt to 1e-5 (1e-9 at the optimum), isotonic to 1e-9' '
	mkdir sk &&
	$PY "$DATA/calib/sk_calib.py" gen sk &&
	for k in $(cat sk/cases); do
		for m in platt isotonic; do
			for on in logit score; do
				mlp-calibrate --method $m --on $on -o sk/c.json sk/fit-$k.tsv &&
				mlp-calibrate --typed --apply sk/c.json sk/grid.tsv >sk/$k.$m.$on.tsv || exit 1
			done
		done
	done &&
	$PY "$DATA/calib/sk_calib.py" cmp sk >sk.cmp &&
	cat sk.cmp &&
	grep -q "checked 14688 values in 48 fits, 0 bad" sk.cmp
'

test_done
