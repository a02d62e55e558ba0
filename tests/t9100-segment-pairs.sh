#!/bin/sh
# pipelines/segment-pairs on a small generated input: the segments of an
# isolate share a bias in amino-acid composition, so pairs are learnable.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v make >/dev/null 2>&1 || skip_all 'make not installed'
command -v bash >/dev/null 2>&1 || skip_all 'bash not installed (the pipeline SHELL)'
PIPE="$PLM_TOP/pipelines/segment-pairs"
python_any

run () {
	d=$1; shift
	make -s -C "$PIPE" OUT="$TRASH/$d" BIN="$PLM_BIN" INPUT="$TRASH/segs.tsv" \
		MODEL="$DATA/esm2/esm2_tiny" BOOT=200 EPOCHS=30 "$@"
}

test_expect_success 'setup: 60 isolates of 2 to 4 segments' '
	$PY - >segs.tsv <<-\PY
	import random
	r = random.Random(5)
	aa = "ACDEFGHIKLMNPQRSTVWY"
	print("id:str\tseq:str\tisolate:str\tsegment:str")
	for i in range(60):
	    bias = r.sample(aa, 4)
	    for s in r.sample(range(6), r.randint(2, 4)):
	        seq = "".join(r.choice(bias) if r.random() < 0.3 else r.choice(aa) for _ in range(r.randint(40, 80)))
	        print("p%d_%d\t%s\tiso%d\tseg%d" % (i, s, seq, i, s))
	PY
'

test_expect_success 'the pipeline runs and its checks pass' '
	run a >out 2>err &&
	grep -q "check: all passed" out &&
	test -f a/panel.txt && test -f a/split.manifest.tsv
'

test_expect_success 'the panel: an AUROC with its interval for every split' '
	for s in overall test train val; do
		grep -E "^$s +[0-9]+ +[0-9]+  [01]\.[0-9]{4} \[[01]\.[0-9]{4}, [01]\.[0-9]{4}\]" a/panel.txt || return 1
	done &&
	awk "\$1 == \"test\" { split(\$4, v); lo = substr(\$5, 2) + 0; hi = \$6 + 0; \
		exit !(lo <= \$4 && \$4 <= hi && lo < hi) }" a/panel.txt
'

# The threshold and the calibrator are chosen on the val pairs only; no
# panel of the output is tuned on its own records.
test_expect_success 'threshold and calibrator from the val split' '
	metric () { rows "$3" | awk -F"\t" -v g="$1" -v m="$2" "\$1 == g && \$2 == m { print \$3 }"; } &&
	test "$(metric overall threshold_tuned_on_scored a/val.metrics.tsv)" = 1 &&
	t=$(metric overall threshold a/val.metrics.tsv) &&
	for g in overall split=test split=train split=val; do
		test "$(metric $g threshold a/metrics.tsv)" = "$t" &&
		metric $g ece_calibrated a/metrics.tsv | grep -Eq "^0\.[0-9]+" || return 1
	done &&
	! grep -q threshold_tuned_on_scored a/metrics.tsv &&
	grep -q "\"method\":\"platt\".*\"split\":\"val\"" a/val.cal &&
	grep -Eq "^threshold $(printf %.4f "$t"): Youden.s J on the [0-9]+ val pairs; test at it: F1 0\.[0-9]{4}, MCC -?[01]\.[0-9]{4}\$" a/panel.txt &&
	grep -Eq "^calibration: Platt on the val pairs; test ECE 0\.[0-9]{4} -> 0\.[0-9]{4}, Brier 0\.[0-9]{4} -> 0\.[0-9]{4}\$" a/panel.txt &&
	grep -q "^  4 splits\$" out
'

test_expect_success 'no isolate in two splits; pairs labelled by isolate' '
	rec-cut --typed -f isolate,split -o is.tsv a/split.rec &&
	rows is.tsv | sort -u | cut -f1 | uniq -d >dup &&
	test_cmp /dev/null dup &&
	test $(rows is.tsv | cut -f1 | sort -u | wc -l) -eq 60 &&
	rec-cut --typed -f id,isolate -o ids.tsv a/split.rec &&
	rec-cut --typed -f a,b,label,split -o pairs.tsv a/pairs.rec &&
	rows ids.tsv >ids && rows pairs.tsv >pairs &&
	awk -F"\t" "NR == FNR { iso[\$1] = \$2; next } \
		{ n++; if ((iso[\$1] == iso[\$2]) != (\$3 == 1)) bad++ } \
		END { exit !(n > 0 && bad == 0) }" ids pairs
'

test_expect_success 'a second run builds nothing; a new MODE redoes only features on' '
	run a >out2 2>&1 &&
	! grep -q "esm-embed\|pair-make\|pair-feat" out2 &&
	make -C "$PIPE" OUT="$TRASH/a" BIN="$PLM_BIN" INPUT="$TRASH/segs.tsv" \
		MODEL="$DATA/esm2/esm2_tiny" BOOT=200 EPOCHS=30 MODE=sym-prod >out3 2>&1 &&
	grep -q "pair-feat --mode sym-prod" out3 &&
	! grep -q "esm-embed\|pair-make\|strat-split" out3
'

test_expect_success 'the isolate list is reused: ISOLATES= gives the same split' '
	run b ISOLATES="$TRASH/a/isolates.rec" SEED=11 >out 2>err &&
	rec-cut --typed -f id,split -o sa a/split.rec && rec-cut --typed -f id,split -o sb b/split.rec &&
	rows sa >ra && rows sb >rb && test_cmp ra rb
'

test_expect_success 'the check fails on an isolate in two splits' '
	cp -p a/split.rec keep.rec &&
	rec-cat --typed a/split.rec | awk -F"\t" -v OFS="\t" "/^#/ || /:str/ { print; next } \
		\$3 == \"iso0\" && !done { \$5 = (\$5 == \"test\" ? \"train\" : \"test\"); done = 1 } { print }" >bad.tsv &&
	rec-cat -M -o a/split.rec bad.tsv && touch -r keep.rec a/split.rec &&
	test_must_fail make -s -C "$PIPE" OUT="$TRASH/a" BIN="$PLM_BIN" INPUT="$TRASH/segs.tsv" \
		MODEL="$DATA/esm2/esm2_tiny" BOOT=200 EPOCHS=30 check 2>err &&
	grep -q "check: FAILED: 1 isolate(s) in two splits, first: iso0" err
'

test_done
