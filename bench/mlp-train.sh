#!/bin/sh
# bench/mlp-train.sh — mlp-train against PyTorch (bench/mlp_torch.py) on the
# viral-vs-host shape: 2048-d features, 20,000 rows (16,000 train, 4,000
# val), 2048 -> 512 -> 1, SGD momentum, batch 32, the same number of epochs
# (BENCH_EPOCHS, default 5, no early stopping), 2 threads each
# (BENCH_THREADS).  Prints seconds per epoch of each and the ratio
# mlp-train / PyTorch (below 1: mlp-train is faster).  Loading the data is
# not timed for PyTorch; for mlp-train it is measured separately with
# --epochs 0 and subtracted.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${PLM_BIN:-$top/bin}
py=/usr/bin/python3
epochs=${BENCH_EPOCHS:-5}
threads=${BENCH_THREADS:-2}
rows=${BENCH_ROWS:-20000}

if [ -n "${BENCH_DIR:-}" ]; then
	dir=$BENCH_DIR/mlp-train
	mkdir -p "$dir"
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/plm-bench.XXXXXX")
	trap 'rm -rf "$dir"' EXIT
fi
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

now() { $py -c 'import time; print(time.time())'; }
t0=$(now)
"$bin/mlp-train" --preset viral-host --epochs 0 --threads "$threads" \
	-o "$dir/m0.mlp" "$data" 2>/dev/null
t1=$(now)
"$bin/mlp-train" --preset viral-host --epochs "$epochs" --patience 0 \
	--threads "$threads" --log "$dir/log.tsv" -o "$dir/m.mlp" "$data" 2>/dev/null
t2=$(now)
plm=$($py -c "print('%.4f' % ((($t2 - $t1) - ($t1 - $t0)) / $epochs))")
torch=$($py "$top/bench/mlp_torch.py" train "$data" "$epochs" "$threads" |
	sed -n 's/^seconds_per_epoch //p')
printf 'tool\tseconds_per_epoch\n'
printf 'mlp-train\t%s\n' "$plm"
printf 'pytorch\t%s\n' "$torch"
printf 'ratio mlp-train/pytorch\t%s\n' \
	"$($py -c "print('%.2f' % ($plm / $torch))")"
echo "(${rows} rows, 2048 -> 512 -> 1, batch 32, $epochs epochs, $threads threads; OpenBLAS core: ${OPENBLAS_CORETYPE:-auto})"
