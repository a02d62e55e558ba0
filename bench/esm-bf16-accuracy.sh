#!/bin/sh
# bench/esm-bf16-accuracy.sh — how far esm-embed --precision bf16 is from
# --precision fp32, per model shape.
#
# For each shape (BENCH_ESM_SHAPES, default "8M 35M 150M"; checkpoints with
# random weights as in bench/esm-embed.sh, in $BENCH_DIR or BENCH_ESM_CKPT/
# SHAPE):
#   per layer: the hidden states (--pool none --layer K) of the first
#     $BENCH_ACC_LAYER_N (default 8) real sequences, truncated to 256
#     residues, for K = 1 .. N in steps of ceil(N / 6) and the last layer;
#     max relative error max|bf16 - fp32| / max|fp32| of each sequence's
#     rows, the largest over the sequences
#   pooled: the mean-pooled last-layer vectors of the first $BENCH_ACC_N
#     (default 200) real sequences, truncated to 1022 residues; cosine of
#     bf16 against fp32, mean and minimum, and the max relative error
# The sequences are the 20k UniProt sample (fasta-cat --clean).
# Random weights (std 0.02) are not trained ones: the figures say what the
# rounding of the Linear weights and inputs to bfloat16 does through N
# layers of this shape, not how a trained model's downstream use changes.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
bench_dir esm-bf16-accuracy
bench_python esm-bf16-accuracy numpy msgpack
shapes=${BENCH_ESM_SHAPES:-8M 35M 150M}
nl=${BENCH_ACC_LAYER_N:-8}
np_=${BENCH_ACC_N:-200}
th=${BENCH_ESM_THREADS:-2}
src=$top/tests/data/uniprot_20k.fasta.gz

"$bin/fasta-cat" --clean -M "$src" | "$bin/rec-head" -n "$np_" |
	"$bin/rec-cut" -M -f id,seq >"$dir/pooled.rec"
"$bin/rec-head" -n "$nl" "$dir/pooled.rec" -o "$dir/layer.rec"

# cmp A B: "maxrel cos_mean cos_min" of the emb fields of two MessagePack
# outputs (per record: rows or one vector)
cmp () {
	"$py" - "$1" "$2" <<-\PY
	import sys, msgpack, numpy as np
	def read(p):
	    out, fields = {}, None
	    with open(p, "rb") as f:
	        for o in msgpack.Unpacker(f, raw=False):
	            if isinstance(o, dict):
	                fields = [n for n, _ in o["fields"]] if "fields" in o else fields
	                continue
	            r = dict(zip(fields, o))
	            e = r["emb"]
	            e = np.frombuffer(e, "<f4") if isinstance(e, bytes) else \
	                np.array(e, np.float64).ravel()
	            out[r["id"]] = e.astype(np.float64)
	    return out
	a, b = read(sys.argv[1]), read(sys.argv[2])
	assert a.keys() == b.keys() and a
	rel = max(np.abs(b[k] - a[k]).max() / np.abs(a[k]).max() for k in a)
	cos = [a[k] @ b[k] / np.linalg.norm(a[k]) / np.linalg.norm(b[k]) for k in a]
	print("%.2e %.6f %.6f" % (rel, np.mean(cos), np.min(cos)))
	PY
}

echo "bench: bf16 against fp32; $nl sequences (<= 256 residues) per layer," \
	"$np_ sequences (<= 1022 residues) pooled; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for shape in $shapes; do
	bench_esm "$shape"
	step=$(( (N + 5) / 6 ))
	ks=$(awk -v n=$N -v s=$step 'BEGIN { for (k = 1; k < n; k += s) printf "%d ", k; print n }')
	line=
	for k in $ks; do
		for p in fp32 bf16; do
			"$bin/esm-embed" -M --model "$m" --threads "$th" --precision $p \
				--layer "$k" --pool none --max-len 256 \
				-o "$dir/l.$p.rec" "$dir/layer.rec" 2>/dev/null
		done
		line="$line L$k $(cmp "$dir/l.fp32.rec" "$dir/l.bf16.rec" | cut -d' ' -f1)"
	done
	for p in fp32 bf16; do
		"$bin/esm-embed" -M --model "$m" --threads "$th" --precision $p \
			-o "$dir/p.$p.rec" "$dir/pooled.rec" 2>/dev/null
	done
	set -- $(cmp "$dir/p.fp32.rec" "$dir/p.bf16.rec")
	echo "== $shape ($N layers): max rel err per layer:$line"
	echo "   pooled ($np_ sequences): cosine mean $2, min $3; max rel err $1;" \
		"load average $(cut -d' ' -f1 /proc/loadavg)"
done
