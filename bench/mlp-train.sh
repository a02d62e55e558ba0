#!/bin/sh
# bench/mlp-train.sh — mlp-train against PyTorch (bench/mlp_torch.py) on the
# viral-vs-host shape: 2048-d synthetic features, BENCH_ROWS rows (default
# 200,000: 80% train, 20% val), 2048 -> 512 -> 1, SGD momentum, batch 32,
# the same number of epochs (BENCH_EPOCHS, default 1, no early stopping),
# BENCH_THREADS threads each (default 2).  An epoch is the training pass
# plus the val pass (loss; mlp-train also its metrics).  Prints seconds per
# epoch of each and the speed-up PyTorch / mlp-train (above 1: mlp-train
# is faster).  Loading is not timed: PyTorch's clock starts after loading,
# and mlp-train's per-epoch seconds come from its --log.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
py=$(plm_python numpy msgpack torch) || bench_python mlp-train numpy msgpack
epochs=${BENCH_EPOCHS:-1}
threads=${BENCH_THREADS:-2}
rows=${BENCH_ROWS:-200000}

bench_dir mlp-train
data=$dir/feat-$rows.rec
if [ ! -s "$data" ]; then
	echo "bench: building $data" >&2
	$py "$top/bench/mlp_torch.py" gen "$data.tmp" "$rows" 2048 42
	mv "$data.tmp" "$data"
fi
if ! $py -c 'import torch' 2>/dev/null; then
	echo "bench: mlp-train: PyTorch not installed; skipped" >&2
	exit 0
fi

"$bin/mlp-train" --preset viral-host --epochs "$epochs" --patience 0 \
	--threads "$threads" --log "$dir/log.tsv" --out "$dir/m.mlp" "$data" 2>/dev/null
plm=$(awk -F'\t' '!/^#/ && NR > 1 && $1 ~ /^[0-9]+$/ { s += $10; n++ }
	END { printf "%.4f", s / n }' "$dir/log.tsv")
torch=$($py "$top/bench/mlp_torch.py" train "$data" "$epochs" "$threads" |
	sed -n 's/^seconds_per_epoch //p')
printf 'tool\tseconds_per_epoch\n'
printf 'mlp-train\t%s\n' "$plm"
printf 'pytorch\t%s\n' "$torch"
printf 'speed-up pytorch/mlp-train\t%s\n' \
	"$($py -c "print('%.2f' % ($torch / $plm))")"
echo "(${rows} rows, 2048 -> 512 -> 1, batch 32, $epochs epochs, $threads threads; OpenBLAS core: ${OPENBLAS_CORETYPE:-auto})"
