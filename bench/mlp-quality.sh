#!/bin/sh
# bench/mlp-quality.sh — the real-data quality check of mlp-train: the
# viral-vs-host task from tests/data/uniprot_20k.fasta.gz with kmer-feat
# composition features (--aac --dpc, 420 values) and a grouped, stratified
# split (by label, grouped by organism, train/val/test 0.8/0.1/0.1, seed 1).
# mlp-train scores the test split with mlp-predict; scikit-learn's
# MLPClassifier and a PyTorch MLP (bench/mlp_quality_peers.py) train on the
# same split with the same architecture (420 -> 512 -> 1, ReLU, Adam lr
# 1e-3, batch 64, standardised with the train rows' statistics, early
# stopping on the val loss with patience 10, best weights restored).
# Prints one table: tool, test AUROC, AUPRC, F1 (threshold 0.5), and the
# gap of mlp-train to the best peer.
#
#   sh bench/mlp-quality.sh              (BENCH_DIR=DIR keeps the files)
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
py=$(plm_python numpy sklearn torch) || bench_python mlp-quality numpy sklearn
fasta=${QUALITY_FASTA:-$top/tests/data/uniprot_20k.fasta.gz}
threads=${BENCH_THREADS:-2}

bench_dir mlp-quality
cd "$dir"
viral='organism~[Vv]irus|[Pp]hage|[Vv]iroid'

# data: clean, label (1 = virus/phage/viroid), dedup, features, split
"$bin/fasta-cat" --clean --uniprot -o raw.rec "$fasta" 2>/dev/null
"$bin/rec-filter" "$viral" raw.rec | "$bin/rec-put" label:int=1 -o pos.rec
"$bin/rec-filter" "!($viral)" raw.rec | "$bin/rec-put" label:int=0 -o neg.rec
"$bin/rec-cat" pos.rec neg.rec | "$bin/hash-dedup" 2>/dev/null |
	"$bin/kmer-feat" --aac --dpc --field x |
	"$bin/strat-split" --by label --group organism \
		--ratios train=0.8,val=0.1,test=0.1 --seed 1 -o feat.rec
"$bin/rec-filter" 'split!=test' feat.rec -o trainval.rec
"$bin/rec-filter" 'split==test' feat.rec -o test.rec

# plmkit
"$bin/mlp-train" --x x --y label --hidden 512 --opt adam --lr 1e-3 \
	--batch-size 64 --epochs 200 --patience 10 --seed 1 \
	--threads "$threads" --out plm.mlp trainval.rec 2>train.err
"$bin/mlp-predict" --model plm.mlp -o pred.rec test.rec
"$bin/metrics" -T --y label --score score pred.rec >metrics.tsv
plm=$(awk -F'\t' '$2 == "auroc" { a = $3 } $2 == "auprc" { p = $3 }
	$2 == "f1" { f = $3 } END { printf "%.4f\t%.4f\t%.4f", a, p, f }' metrics.tsv)

# the peers, on the same rows and split (exported as TSV)
"$bin/rec-cut" -f id,split,label,x feat.rec -o feat-x.rec
"$bin/rec-cat" -T feat-x.rec >feat.tsv
$py "$top/bench/mlp_quality_peers.py" feat.tsv "$threads" >peers.tsv

n=$(awk -F'\t' '!/^#/ && NR > 1 { c[$2]++ } END { printf "train %d, val %d, test %d", c["train"], c["val"], c["test"] }' feat.tsv)
printf 'tool\ttest_auroc\ttest_auprc\ttest_f1\n'
printf 'plmkit mlp-train\t%s\n' "$plm"
cat peers.tsv
awk -F'\t' -v a="${plm%%	*}" '{ if ($2 > b) b = $2 } END {
	printf "mlp-train AUROC - best peer: %+.4f (goal >= -0.01)\n", a - b }' peers.tsv
echo "($n rows; 420 features: kmer-feat --aac --dpc; 420 -> 512 -> 1, Adam 1e-3, batch 64, patience 10)"
echo "$(tail -n 1 train.err)"
