#!/bin/sh
# pipelines/viral-host on a small DATA/SECOND made from the bundled UniProt
# sample: the report, the pre-flight, and resuming after a kill while
# embedding.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

PIPE="$PLM_TOP/pipelines/viral-host"
VIRAL_RE='[Vv]irus|[Pp]hage|[Vv]iroid'
HOSTS="vertebrate invertebrate plant fungi bacteria archaea protozoa"

command -v make >/dev/null 2>&1 || skip_all 'make not installed'
command -v bash >/dev/null 2>&1 || skip_all 'bash not installed'

# run_pipe OUT DATA SECOND [VAR=value ...]: the pipeline, quick settings
run_pipe () {
	o=$1 d=$2 s=$3; shift 3
	make -s -C "$PIPE" BIN="$PLM_BIN" OUT="$TRASH/$o" DATA="$TRASH/$d" SECOND="$TRASH/$s" \
		MODEL="$DATA/esm2/esm2_tiny" SECOND_DIM=20 BOOTSTRAP=50 THREADS=1 \
		TRAIN_OPTS="--epochs 10" "$@"
}

# DATA: 7 viral files of 25 records; host categories one file of 25 each,
# plant two (one of them is sampled: ceil(7/7) = 1 per category).
# SECOND: amino-acid composition (20 values) per file.
test_expect_success 'setup: small DATA and SECOND' '
	fasta-cat --clean --uniprot -o all.rec "$DATA/uniprot_20k.fasta.gz" 2>/dev/null &&
	rec-filter "organism~$VIRAL_RE && len<=400" all.rec | rec-sample -n 175 -s 1 -o v.rec &&
	rec-filter --invert "organism~$VIRAL_RE" all.rec | rec-filter "len<=400" |
		rec-sample -n 200 -s 1 -o h.rec &&
	mkdir -p data/viral second &&
	rec-shard -n 7 v v.rec &&
	for k in 0 1 2 3 4 5 6; do rec-fasta -o data/viral/v$k.fa v.$k || return 1; done &&
	rec-shard -n 8 h h.rec &&
	k=0 && for c in $HOSTS plant; do
		mkdir -p data/$c && rec-fasta -o data/$c/$c$k.fasta h.$k && k=$((k + 1)) || return 1
	done &&
	for f in data/*/*; do
		b=$(basename "$f"); b=${b%.*}
		kmer-feat --aac "$f" 2>/dev/null | rec-cut -f id,emb -o second/$b.rec || return 1
	done &&
	test $(ls data/*/* | wc -l) -eq 15
'

test_expect_success 'pipeline runs: report with an AUROC and its interval' '
	run_pipe run data second >log 2>&1 &&
	test -s run/report.md &&
	grep -E "^\| auroc \| 0\.[0-9]{4} \| \[0\.[0-9]{4}, [01]\.[0-9]{4}\] \|$" run/report.md &&
	grep -E "^  auroc +0\.[0-9]{4}  \[" log &&
	test $(wc -l <run/sample.tsv) -eq 14 &&
	test $(grep -c "^plant" run/sample.tsv) -eq 1 &&
	test -s run/plots/overall.roc.svg && test -s run/plots/training.svg &&
	grep -q "digest \`[0-9a-f]\{32\}\` (the model.s split digest is the same)" run/report.md &&
	cp run/model.mlp model.a && cp run/metrics.tsv metrics.a
'

# One nested strat-split run: one manifest with the recipe; test and
# validation shares per label as asked; no sequence in two splits.
test_expect_success 'one split run: train, val, test in one manifest with its recipe' '
	test ! -e run/test.manifest.tsv && test ! -e run/val.manifest.tsv &&
	printf "#plm-split-manifest\t2\n#seed\t42\n#ratios\ttrain=0.9,test=0.1\n#then\ttrain:train=0.9,val=0.1\n#by\tlabel\n#group\tseq\n" >recipe.want &&
	head -n 6 run/split.manifest.tsv >recipe.got && test_cmp recipe.want recipe.got &&
	rec-cut --typed -f split,label,seq run/split.rec | rows >sl &&
	cut -f1,2 sl | sort | uniq -c | awk "{ print \$2, \$3, \$1 }" >counts &&
	printf "test host 17\ntest viral 17\ntrain host 136\ntrain viral 142\nval host 15\nval viral 16\n" >counts.want &&
	test_cmp counts.want counts &&
	cut -f1,3 sl | sort -u | cut -f2 | sort | uniq -d >seq2 && test_cmp /dev/null seq2 &&
	test $(grep -vc "^#" run/split.manifest.tsv) -eq 344
'

# The threshold and the calibrator come from the validation split only.
test_expect_success 'threshold and calibrator from the validation split' '
	metric () { rows "$2" | awk -F"\t" -v m="$1" "\$1 == \"overall\" && \$2 == m { print \$3 }"; } &&
	test "$(metric threshold_tuned_on_scored run/val.metrics.tsv)" = 1 &&
	test "$(metric threshold run/val.metrics.tsv)" = "$(metric threshold run/metrics.tsv)" &&
	test -z "$(metric threshold_tuned_on_scored run/metrics.tsv)" &&
	test $(rows run/val.metrics.tsv | awk -F"\t" "\$2 == \"auroc\" { print \$6 }") -eq 31 &&
	grep -q "\"method\":\"platt\".*\"rows\":31,.*\"split\":\"val\"" run/val.cal &&
	for m in ece_calibrated brier_calibrated log_loss_calibrated; do
		metric $m run/metrics.tsv | grep -Eq "^0\.[0-9]+" || return 1
	done &&
	rec-cut --typed -f score_cal run/pred.rec | rows | grep -c . >n && test $(cat n) -eq 34 &&
	grep -q "^mlp-predict: --allow-val: 31 validation records of the model scored" run/val-predict.log &&
	t=$(printf %.4f "$(metric threshold run/metrics.tsv)") &&
	grep -q "^34 test proteins, positive class viral, threshold $t\$" run/report.md &&
	grep -q "^from the validation split (\`metrics --threshold-from val.metrics.tsv\`)" run/report.md &&
	grep -Eq "^\| ece_calibrated \| 0\.[0-9]{4} \| \|\$" run/report.md &&
	grep -q "^  threshold          $t  chosen on the validation split (Youden.s J, 31 proteins)\$" log &&
	grep -Eq "^  ece_calibrated     0\.[0-9]{4}\$" log &&
	! grep -q "threshold 0\.5;" run/report.md
'

# --allow-val admits the model's validation records only: a "validation"
# file that holds training records of the model is refused, nothing left.
test_expect_success 'validation predictions refuse training records of the model' '
	cp -rp run seen && cp -p seen/trainval.rec seen/val.rec && rm seen/val.pred.rec &&
	test_must_fail run_pipe seen data second "$TRASH/seen/val.pred.rec" 2>err &&
	grep -q "^mlp-predict: .*/seen/val.rec: record [0-9]*: id .* was seen by the model: 278 records were in its training data" err &&
	test ! -e seen/val.pred.rec
'

test_expect_success 'a second make does nothing' '
	run_pipe run data second >log2 2>&1 &&
	test run/report.md -nt run/model.mlp &&
	! grep -q "esm-embed\|mlp-train" log2
'

# The same second feature sets (run with make -j3) as numpy arrays (STEM.npy + STEM.ids, written
# by feat-export) and as one HDF5 table of every file (datasets emb and id,
# more ids than the sample): the same features, so the same metrics.  The
# cache of the first run is shared (its vectors are reused).
test_expect_success 'SECOND as .npy files with ids, and as one HDF5 table' '
	mkdir -p npy &&
	for f in second/*.rec; do
		b=$(basename "$f" .rec) &&
		feat-export --ids npy/$b.ids -o npy/$b.npy "$f" || return 1
	done &&
	run_pipe run-npy data npy SECOND_EXT=.npy CACHE="$TRASH/run/esm-cache.h5" -j3 >log-npy 2>&1 &&
	body metrics.a >metrics.a.body && body run-npy/metrics.tsv >m.npy &&
	cmp metrics.a.body m.npy &&
	rec-cat second/*.rec | feat-export -o table.h5 &&
	run_pipe run-h5 data table.h5 CACHE="$TRASH/run/esm-cache.h5" >log-h5 2>&1 &&
	body run-h5/metrics.tsv >m.h5 && cmp metrics.a.body m.h5
'

test_expect_success 'pre-flight of arrays: a missing ids file, a wrong count, a wrong dimension' '
	cp -r npy bnpy && rm bnpy/v0.ids &&
	sed 1d npy/v1.ids >bnpy/v1.ids &&
	kmer-feat --dpc data/viral/v2.fa 2>/dev/null | feat-export --ids bnpy/v2.ids -o bnpy/v2.npy &&
	test_must_fail run_pipe bad-npy data bnpy SECOND_EXT=.npy 2>err &&
	grep "preflight: .*/v0.npy: unreadable: .*v0.ids" err &&
	grep "preflight: .*/v1.npy: unreadable: .*" err &&
	grep "preflight: .*/v2.npy: field .emb. has dimension 400; SECOND_DIM is 20" err &&
	grep "preflight: 3 problem(s)" err &&
	test ! -e bad-npy/esm-cache.h5
'

test_expect_success 'pre-flight lists a missing file, a missing id and a wrong dimension at once' '
	cp -r data bdata && cp -r second bsecond &&
	rm bsecond/v0.rec &&
	id=$(rec-cut --typed -f id data/viral/v1.fa | rows | head -n 1) &&
	rec-filter --invert "id==\"$id\"" second/v1.rec -o bsecond/v1.rec &&
	kmer-feat --dpc data/viral/v2.fa 2>/dev/null | rec-cut -f id,emb -o bsecond/v2.rec &&
	test_must_fail run_pipe bad bdata bsecond 2>err &&
	grep "preflight: .*/v0.fa: second feature file .*/v0.rec is missing" err &&
	grep "preflight: .*/v1.rec: 1 of the 25 ids of .*/v1.fa missing, e.g. $id" err &&
	grep "preflight: .*/v2.rec: field .emb. has dimension 400; SECOND_DIM is 20" err &&
	grep "preflight: 3 problem(s)" err &&
	test ! -e bad/esm.rec && test ! -e bad/esm-cache.h5 && test ! -e bad/records.rec
'

test_expect_success 'killed while embedding, make again: same model and metrics' '
	rm -rf run &&
	( setsid make -s -C "$PIPE" BIN="$PLM_BIN" OUT="$TRASH/run" DATA="$TRASH/data" \
		SECOND="$TRASH/second" MODEL="$DATA/esm2/esm2_tiny" SECOND_DIM=20 BOOTSTRAP=50 \
		THREADS=1 BATCH_TOKENS=256 TRAIN_OPTS="--epochs 10" >killed.log 2>&1 & echo $! >pid ) &&
	i=0 && while [ ! -e run/esm-cache.h5-journal ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done &&
	kill -9 -$(cat pid) &&
	sleep 0.5 &&
	test -e run/esm-cache.h5-journal && test ! -e run/esm.rec &&
	run_pipe run data second >log3 2>&1 &&
	test ! -e run/esm-cache.h5-journal &&
	cmp model.a run/model.mlp && cmp metrics.a run/metrics.tsv
'

test_done
