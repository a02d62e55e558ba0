#!/bin/sh
# bench/esm-embed.sh — esm-embed against a plain PyTorch forward pass and
# against cblas_sgemm at the model's own GEMM shapes, in one run, in float32
# and in bfloat16.
#
# For each shape (BENCH_ESM_SHAPES, default "8M 35M 150M 650M": 6 x 320,
# 12 x 480, 30 x 640, 33 x 1280 layers x hidden, 20 heads, ffn 4 x hidden),
# a checkpoint with random weights in the hub's layout is written into
# $BENCH_DIR (bench/make_esm_ckpt.py; kept between runs; BENCH_ESM_CKPT=DIR
# takes DIR/SHAPE instead), and the first $BENCH_ESM_N (default 64)
# sequences of the real 20k UniProt sample (fasta-cat --clean) are
# embedded, truncated to 1022 residues, mean pooling, $BENCH_ESM_THREADS
# (default 2) threads:
#   esm-embed --threads 2 (token budget 4096), --precision fp32 then bf16,
#     back to back
#   bench/esm_torch.py: the same forward pass in PyTorch (Debian's
#     python3-torch), batched as fair-esm's extract.py does (sorted by
#     length, --toks_per_batch 4096), torch.set_num_threads(2),
#     inference_mode, glibc's malloc told to keep its memory
#     (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_: no page faults on
#     every batch's tensors) — first checked against esm-embed (max
#     relative error of the pooled embeddings <= 1e-4 on 16 sequences),
#     then timed; the bf16 peer is torch.autocast("cpu", bfloat16)
#     (BENCH_ESM_TORCH_BF16=0 skips it)
#   bench/sgemm_shapes.c: cblas_sgemm on the four linear-layer shapes at
#     4096 rows, same OpenBLAS core
#   $BENCH_ESM_BASE, when set: another esm-embed binary (an older build,
#     say), timed right after this one on the same input, with the ratio
# and prints residues/s, GFLOP/s (model FLOPs: per token and layer
# 2(4H^2 + 2HF), plus 4 L H per token and layer for attention, L = tokens
# of the sequence; padding not counted), peak RSS (GNU time, loading
# included), the 1-minute load average when each run ended, the OpenBLAS
# core, esm-embed / PyTorch, esm-embed / sgemm and bf16 / fp32; for 650M
# also residues/s per core, next to esm.cpp's published ~118 residues/s
# per vCPU for ESM-2 650M (their figure: W8A8 int8, Sapphire Rapids; not
# measured here).
# Goals: fp32 >= 3x PyTorch and >= 50% of the sgemm rate; bf16 >= 1.8x fp32
# on 150M and 650M.
#
# The load average is printed with every figure: wall times count waiting
# for a core on a shared machine.
# Per kernel and shape (OpenBLAS, plm_gemm, plm_gemm_bf16, oneDNN):
# bench/gemm-shapes.sh.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/plmkit-bench}
n=${BENCH_ESM_N:-64}
th=${BENCH_ESM_THREADS:-2}
shapes=${BENCH_ESM_SHAPES:-8M 35M 150M 650M}
tbf16=${BENCH_ESM_TORCH_BF16:-1}
# glibc malloc keeps freed memory: PyTorch at its best
export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-17179869184}
export MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-17179869184}
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
la() { cut -d' ' -f1 /proc/loadavg; }
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
for shape in $shapes; do
	bench_esm "$shape"
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

	# esm-embed fp32 and bf16 back to back, then the PyTorch peers
	for prec in fp32 bf16; do
		$timer "$bin/esm-embed" -v --model "$m" --threads "$th" \
			--precision $prec -o "$dir/out.rec" "$seqs.rec" \
			2>"$dir/esm.err" || { cat "$dir/esm.err"; exit 1; }
		eval "e_la_$prec=$(la) e_rss_$prec=$(rss)"
		eval "e_s_$prec=$(awk '/ residues\/s/ { print $2 }' "$dir/esm.err")"
		eval "e_rs_$prec=$(awk '/ residues\/s/ { print $4 }' "$dir/esm.err")"
	done

	b_line=
	if [ -n "${BENCH_ESM_BASE:-}" ]; then
		$timer "$BENCH_ESM_BASE" -v --model "$m" --threads "$th" \
			-o "$dir/base.rec" "$seqs.rec" 2>"$dir/base.err" ||
			{ cat "$dir/base.err"; exit 1; }
		b_rss=$(rss)
		b_s=$(awk '/ residues\/s/ { print $2 }' "$dir/base.err")
		b_rs=$(awk '/ residues\/s/ { print $4 }' "$dir/base.err")
		b_gf=$(echo "$gflop $b_s" | awk '{ printf "%.1f", $1 / $2 }')
		b_line=$(printf '%-24s %10s %9s %8s M %9s %5s   (esm-embed / base: %s)' \
			"base: $(basename "$BENCH_ESM_BASE")" "$b_rs" "$b_gf" "$b_rss" "$b_s" "$(la)" \
			"$(echo "$e_rs_fp32 $b_rs" | awk '{ printf "%.2fx", $1 / $2 }')")
	fi

	for prec in fp32 bf16; do
		eval "t_rs_$prec=- t_s_$prec=- t_rss_$prec=- t_la_$prec=-"
		[ $torch = 1 ] || continue
		[ $prec = bf16 ] && [ "$tbf16" != 1 ] && continue
		flag=; [ $prec = bf16 ] && flag=--bf16
		OMP_NUM_THREADS=$th OPENBLAS_NUM_THREADS=$th $timer $py \
			"$top/bench/esm_torch.py" --model "$m" --input "$seqs.tsv" \
			--threads "$th" $flag >"$dir/torch.txt" || exit 1
		eval "t_la_$prec=$(la) t_rss_$prec=$(rss)"
		eval "t_s_$prec=$(awk '/^torch:/ { print $6 }' "$dir/torch.txt")"
		eval "t_rs_$prec=$(awk '/^torch:/ { printf "%.0f", $8 }' "$dir/torch.txt")"
	done

	"$sg" 4096 $H $F "$th" 5 >"$dir/sgemm.txt"
	sgf=$(awk '/^sgemm:/ { print $(NF - 1) }' "$dir/sgemm.txt")
	pgf=$(awk '/^plm_gemm:/ { print $(NF - 1) }' "$dir/sgemm.txt")
	pk=$(awk '/^plm_gemm:/ { print $3 }' "$dir/sgemm.txt" | tr -d ,)
	core=$(awk '/^sgemm:/ { print $3 }' "$dir/sgemm.txt" | tr -d ,)
	gf() { echo "$gflop $1" | awk '$2 != "-" { printf "%.1f", $1 / $2; next } { print "-" }'; }
	div() { echo "$1 $2" | awk '$1 != "-" && $2 != "-" && $2 > 0 { printf "%.2f", $1 / $2; next } { print "-" }'; }

	echo "== $shape ($N layers x $H, ffn $F): $gflop GFLOP, OpenBLAS core $core"
	printf '%-24s %10s %9s %10s %9s %5s\n' "" "residues/s" "GFLOP/s" "peak RSS" "seconds" "load"
	for row in "esm-embed fp32:e:fp32" "esm-embed bf16:e:bf16" \
		"PyTorch fp32:t:fp32" "PyTorch autocast bf16:t:bf16"; do
		lab=${row%%:*}; k=${row#*:}; who=${k%%:*}; prec=${k#*:}
		eval "rs=\$${who}_rs_$prec s=\$${who}_s_$prec r=\$${who}_rss_$prec l=\$${who}_la_$prec"
		printf '%-24s %10s %9s %8s M %9s %5s\n' "$lab" "$rs" "$(gf "$s")" "$r" "$s" "$l"
		[ "$who$prec" = efp32 ] && [ -n "$b_line" ] && echo "$b_line"
	done
	printf '%-24s %10s %9s\n' "sgemm, same shapes" "" "$sgf"
	printf '%-24s %10s %9s   (plm_gemm / sgemm: %s)\n' "plm_gemm ($pk), same" "" "$pgf" \
		"$(div "$pgf" "$sgf")"
	ratio=$(div "$e_rs_fp32" "$t_rs_fp32")
	frac=$(echo "$(gf "$e_s_fp32") $sgf" | awk '{ printf "%.0f%%", 100 * $1 / $2 }')
	bf=$(div "$e_rs_bf16" "$e_rs_fp32")
	echo "   esm-embed / PyTorch: fp32 ${ratio}x (goal >= 3), bf16 $(div "$e_rs_bf16" "$t_rs_bf16")x;" \
		"esm-embed fp32 / sgemm: $frac (goal >= 50%); agreement: max rel err $tcheck"
	echo "   esm-embed bf16 / fp32: ${bf}x (goal >= 1.8 on 150M and 650M)"
	if [ "$shape" = 650M ]; then
		echo "   per core: fp32 $(div "$e_rs_fp32" "$th") residues/s, bf16 $(div "$e_rs_bf16" "$th") residues/s" \
			"(esm.cpp's published figure: ~118 residues/s per vCPU, W8A8 int8 on Sapphire Rapids)"
	fi
	echo "$ratio $(gf "$e_s_fp32") $sgf" | awk '$1 != "-" && $1 < 3 || $2 < 0.5 * $3 { exit 1 }' ||
		echo "   (goal not met)"
done
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
