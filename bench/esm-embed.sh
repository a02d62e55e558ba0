#!/bin/sh
# bench/esm-embed.sh — esm-embed against a plain PyTorch forward pass and
# against cblas_sgemm at the model's own GEMM shapes, in one run.
#
# For each shape (BENCH_ESM_SHAPES, default "35M 150M": 12 x 480, 20 heads,
# ffn 1920; 30 x 640, 20 heads, ffn 2560), a checkpoint with random weights
# in the hub's layout is written into $BENCH_DIR (bench/make_esm_ckpt.py;
# kept between runs), and the first $BENCH_ESM_N (default 200) sequences of
# the real 20k UniProt sample (fasta-cat --clean) are embedded, truncated
# to 1022 residues, mean pooling, $BENCH_ESM_THREADS (default 2) threads:
#   esm-embed --threads 2 (token budget 4096)
#   bench/esm_torch.py: the same forward pass in PyTorch (Debian's
#     python3-torch), batched as fair-esm's extract.py does (sorted by
#     length, --toks_per_batch 4096), torch.set_num_threads(2),
#     inference_mode — first checked against esm-embed (max relative error
#     of the pooled embeddings <= 1e-4 on 16 sequences), then timed
#   bench/sgemm_shapes.c: cblas_sgemm on the four linear-layer shapes at
#     4096 rows, same OpenBLAS core
#   $BENCH_ESM_BASE, when set: another esm-embed binary (an older build,
#     say), timed right after this one on the same input, with the ratio
# and prints residues/s, GFLOP/s (model FLOPs: per token and layer
# 2(4H^2 + 2HF), plus 4 L H per token and layer for attention, L = tokens
# of the sequence; padding not counted), peak RSS (GNU time), the OpenBLAS
# core, esm-embed / PyTorch and esm-embed / sgemm.
# Goal: >= 3x PyTorch and >= 50% of the sgemm rate, both shapes.
#
# The load average is printed before and after: wall times count waiting
# for a core.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/plmkit-bench}
n=${BENCH_ESM_N:-200}
th=${BENCH_ESM_THREADS:-2}
shapes=${BENCH_ESM_SHAPES:-35M 150M}
src=$top/tests/data/uniprot_20k.fasta.gz
py=$(plm_python numpy torch msgpack) || bench_python esm-embed numpy
mkdir -p "$dir"

for p in esm-embed fasta-cat rec-head rec-cut; do
	[ -x "$bin/$p" ] || { echo "bench: $bin/$p missing: run make" >&2; exit 1; }
done
torch=1
$py -c 'import numpy, torch, msgpack' 2>/dev/null || {
	echo "bench: no PyTorch/numpy/msgpack for $py: PyTorch column skipped" >&2
	torch=0
}
timer=
/usr/bin/time -v true >/dev/null 2>&1 && timer="/usr/bin/time -v -o $dir/time.txt"
rss() { [ -n "$timer" ] && awk -F': ' '/Maximum resident/ { printf "%.0f", $2 / 1024 }' "$dir/time.txt" || echo -; }

# The sequences: the first $n, and the first 16 for the agreement check.
seqs=$dir/esm_seqs_$n
"$bin/fasta-cat" --clean -M "$src" | "$bin/rec-head" -n "$n" |
	"$bin/rec-cut" -M -f id,seq >"$seqs.rec"
"$bin/rec-cut" -T -f id,seq "$seqs.rec" | grep -v '^#' | tail -n +2 >"$seqs.tsv"
head -n 16 "$seqs.tsv" >"$seqs.16.tsv"
{ printf 'id:str\tseq:str\n'; cat "$seqs.16.tsv"; } >"$seqs.16.in.tsv"
residues=$(awk -F'\t' '{ l = length($2); s += l > 1022 ? 1022 : l } END { print s }' "$seqs.tsv")

# sgemm at the model's shapes, linked like esm-embed.
sg=$dir/sgemm_shapes
if [ ! -x "$sg" ] || [ "$top/bench/sgemm_shapes.c" -nt "$sg" ] ||
	[ "$top/build/libplm.a" -nt "$sg" ]; then
	pk="zlib libzstd openblas hdf5 msgpack libxxhash"
	${CC:-cc} -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -I"$top/include" \
		$(pkg-config --cflags $pk) -o "$sg" "$top/bench/sgemm_shapes.c" \
		"$top/build/libplm.a" $(pkg-config --libs $pk) -lm -pthread
fi

echo "bench: $n sequences ($residues residues after truncation to 1022), $th threads, $(nproc) CPUs"
echo "bench: CPU $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for shape in $shapes; do
	case $shape in
	35M) N=12 H=480 F=1920 ;;
	150M) N=30 H=640 F=2560 ;;
	8M) N=6 H=320 F=1280 ;;
	650M) N=33 H=1280 F=5120 ;;
	*) echo "bench: unknown shape $shape" >&2; exit 2 ;;
	esac
	m=$dir/esm2_${shape}_random
	if [ ! -s "$m/model.safetensors" ]; then
		echo "bench: writing $m (random weights)" >&2
		$py "$top/bench/make_esm_ckpt.py" "$m" "$shape"
	fi
	# model GFLOP of the run (truncated lengths, no padding)
	gflop=$(awk -F'\t' -v N=$N -v H=$H -v F=$F '{
		l = length($2); if (l > 1022) l = 1022; t = l + 2
		s += N * (t * 2 * (4 * H * H + 2 * H * F) + 4 * t * t * H)
	} END { printf "%.1f", s / 1e9 }' "$seqs.tsv")

	# agreement first
	tcheck=-
	if [ $torch = 1 ]; then
		"$bin/esm-embed" --model "$m" --threads "$th" -o "$dir/check.rec" "$seqs.16.in.tsv"
		OMP_NUM_THREADS=$th OPENBLAS_NUM_THREADS=$th $py "$top/bench/esm_torch.py" \
			--model "$m" --input "$seqs.16.tsv" --threads "$th" \
			--check "$dir/check.rec" >"$dir/check.txt" ||
			{ cat "$dir/check.txt"; echo "bench: $shape: PyTorch and esm-embed disagree" >&2; exit 1; }
		tcheck=$(awk '/^check:/ { print $5 }' "$dir/check.txt")
	fi

	$timer "$bin/esm-embed" -v --model "$m" --threads "$th" -o "$dir/out.rec" \
		"$seqs.rec" 2>"$dir/esm.err" || { cat "$dir/esm.err"; exit 1; }
	e_rss=$(rss)
	e_s=$(awk '/ residues\/s/ { print $2 }' "$dir/esm.err")
	e_rs=$(awk '/ residues\/s/ { print $4 }' "$dir/esm.err")
	e_gf=$(echo "$gflop $e_s" | awk '{ printf "%.1f", $1 / $2 }')

	b_line=
	if [ -n "${BENCH_ESM_BASE:-}" ]; then
		$timer "$BENCH_ESM_BASE" -v --model "$m" --threads "$th" \
			-o "$dir/base.rec" "$seqs.rec" 2>"$dir/base.err" ||
			{ cat "$dir/base.err"; exit 1; }
		b_rss=$(rss)
		b_s=$(awk '/ residues\/s/ { print $2 }' "$dir/base.err")
		b_rs=$(awk '/ residues\/s/ { print $4 }' "$dir/base.err")
		b_gf=$(echo "$gflop $b_s" | awk '{ printf "%.1f", $1 / $2 }')
		b_line=$(printf '%-22s %10s %9s %8s M %9s   (esm-embed / base: %s)' \
			"base: $(basename "$BENCH_ESM_BASE")" "$b_rs" "$b_gf" "$b_rss" "$b_s" \
			"$(echo "$e_rs $b_rs" | awk '{ printf "%.2fx", $1 / $2 }')")
	fi

	t_rs=- t_gf=- t_rss=- ratio=-
	if [ $torch = 1 ]; then
		OMP_NUM_THREADS=$th OPENBLAS_NUM_THREADS=$th $timer $py \
			"$top/bench/esm_torch.py" --model "$m" --input "$seqs.tsv" \
			--threads "$th" >"$dir/torch.txt"
		t_rss=$(rss)
		t_s=$(awk '/^torch:/ { print $6 }' "$dir/torch.txt")
		t_rs=$(awk '/^torch:/ { printf "%.0f", $8 }' "$dir/torch.txt")
		t_gf=$(echo "$gflop $t_s" | awk '{ printf "%.1f", $1 / $2 }')
		ratio=$(echo "$e_rs $t_rs" | awk '{ printf "%.2f", $1 / $2 }')
	fi

	"$sg" 4096 $H $F "$th" 5 >"$dir/sgemm.txt"
	sgf=$(awk '/^sgemm:/ { print $(NF - 1) }' "$dir/sgemm.txt")
	pgf=$(awk '/^plm_gemm:/ { print $(NF - 1) }' "$dir/sgemm.txt")
	pk=$(awk '/^plm_gemm:/ { print $3 }' "$dir/sgemm.txt" | tr -d ,)
	core=$(awk '/^sgemm:/ { print $3 }' "$dir/sgemm.txt" | tr -d ,)
	frac=$(echo "$e_gf $sgf" | awk '{ printf "%.0f%%", 100 * $1 / $2 }')

	echo "== $shape ($N layers x $H, ffn $F): $gflop GFLOP, OpenBLAS core $core"
	printf '%-22s %10s %9s %10s %9s\n' "" "residues/s" "GFLOP/s" "peak RSS" "seconds"
	printf '%-22s %10s %9s %8s M %9s\n' "esm-embed" "$e_rs" "$e_gf" "$e_rss" "$e_s"
	[ -n "$b_line" ] && echo "$b_line"
	printf '%-22s %10s %9s %8s M %9s\n' "PyTorch (fair-esm way)" "$t_rs" "$t_gf" "$t_rss" "${t_s:--}"
	printf '%-22s %10s %9s\n' "sgemm, same shapes" "" "$sgf"
	printf '%-22s %10s %9s   (plm_gemm / sgemm: %s)\n' "plm_gemm ($pk), same" "" "$pgf" \
		"$(echo "$pgf $sgf" | awk '{ printf "%.2fx", $1 / $2 }')"
	echo "   esm-embed / PyTorch: ${ratio}x (goal >= 3); esm-embed / sgemm: $frac (goal >= 50%);" \
		"agreement: max rel err $tcheck"
	echo "$ratio $e_gf $sgf" | awk '$1 != "-" && $1 < 3 || $2 < 0.5 * $3 { exit 1 }' ||
		echo "   (goal not met)"
done
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
