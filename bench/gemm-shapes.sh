#!/bin/sh
# bench/gemm-shapes.sh — plmkit's own GEMM kernels next to OpenBLAS and
# oneDNN on the ESM-2 150M and 650M linear-layer shapes, one product at a
# time: Y[T,N] = X[T,K] W[N,K]^T for (N,K) in 640x640 2560x640 640x2560
# (150M) and 1280x1280 5120x1280 1280x5120 (650M), weights N x K as the
# engine stores them, the fastest of REPS calls after one to warm up.
#
# Columns, per shape (GFLOP/s = 2 T N K / 1e9 / seconds):
#   sgemm       cblas_sgemm, OPENBLAS_CORETYPE as the environment has it
#               (set or unset; plm_blas_tune picks the core as esm-embed)
#   sgemm CPL   cblas_sgemm with OPENBLAS_CORETYPE=Cooperlake: the AVX-512
#               reference rate (bench/sgemm_shapes.c run a second time
#               with that variable; only this column is taken from it)
#   plm_gemm    the engine's fp32 kernel (plm/gemm.h), the weight pre-packed
#               once outside the timing, as the engine runs it (plm_gemm_pw)
#   plm_bf16    plm_gemm_bf16: bf16 weights, fp32 activations (pre-packed)
#   dnnl f32    oneDNN matmul, f32, weights read as stored
#               (bench/dnnl_shapes.c)
#   dnnl bf16   the same, bf16 source and weights, f32 destination
#   f32 pack    oneDNN f32 with the weights reordered once into the
#               layout it prefers (dnnl_format_tag_any), outside the timing
#   bf16 pack   the same for bf16
# and the ratios plm_gemm / sgemm CPL (goal >= 0.80), plm_bf16 / plm_gemm,
# plm_bf16 / dnnl* bf16 and plm_gemm / dnnl* f32, where dnnl* is, per
# shape, the faster of oneDNN's as-stored and packed setups; then per
# model the FLOP-weighted figure of each column (sum of FLOPs / sum of
# times; for dnnl* the faster setup's time per shape).
# At the end, dnnl_shapes -i: for oneDNN (packed) and plm_gemm /
# plm_gemm_bf16, how many of 64 rows' outputs change bitwise when they are
# computed T=1, 7 or 64 rows a call instead of in one call of 4096 rows,
# or on one thread instead of INV_THREADS (plmkit's kernels promise 0).
# Then dnnl_shapes -x, once per instruction set oneDNN may dispatch to
# (ONEDNN_MAX_CPU_ISA unset, AVX512_CORE, AVX2; a cap above the CPU's
# changes nothing): Y of 64 rows (one call, one thread) on 1280x1280 and
# 1280x5120, oneDNN f32 and bf16 (packed), plm_gemm under each of its
# kernels (avx512, avx2, base) and plm_gemm_bf16 under each of its own
# (avx512bf16, base), as far as the CPU has them; per product the ISA,
# oneDNN's implementation and a hash of Y's bits, per kind and shape how
# many of the 64 N values differ from the first ISA's and the verdict
# "same bits across ISAs" or "differ" (over the ISAs where oneDNN has an
# implementation: its bf16 matmul needs AVX-512).
#
#   bench/gemm-shapes.sh isa    only that part (oneDNN needed; seconds)
#
# oneDNN is Debian's libdnnl-dev; without it (or if dnnl_shapes does not
# build) its columns read "-" and the invariance and ISA checks are
# skipped.  Needs build/libplm.a (make).
#
# Environment: T rows (default 4096), THREADS (2), REPS (5), INV_THREADS
# (THREADS; the invariance check's threads); BENCH_DIR keeps the two
# programs between runs.  The load average is printed before and after:
# on a shared machine the fastest call is the figure to read.
set -eu
case ${1-} in
"" | isa) mode=${1:-all} ;;
*) echo "usage: bench/gemm-shapes.sh [isa]" >&2; exit 2 ;;
esac
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
T=${T:-4096}
THREADS=${THREADS:-2}
REPS=${REPS:-5}
INV_THREADS=${INV_THREADS:-$THREADS}
bench_dir gemm-shapes
lib=$top/build/libplm.a
[ -f "$lib" ] || { echo "bench: $lib missing: run make" >&2; exit 1; }

# oneDNN: Debian ships no pkg-config file for libdnnl; -ldnnl otherwise.
dn=$dir/dnnl_shapes
dnnl=1
if [ ! -x "$dn" ] || [ "$top/bench/dnnl_shapes.c" -nt "$dn" ] || [ "$lib" -nt "$dn" ]; then
	dflags=-ldnnl
	pkg-config --exists dnnl 2>/dev/null && dflags=$(pkg-config --cflags --libs dnnl)
	# shellcheck disable=SC2086 # pkg-config prints several words
	${CC:-cc} -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -fopenmp -I"$top/include" \
		-o "$dn" "$top/bench/dnnl_shapes.c" "$lib" $dflags -lm -pthread \
		2>"$dir/dnnl.err" || {
		echo "bench: oneDNN (libdnnl-dev) missing or unusable: dnnl columns skipped" \
			"($(head -n 1 "$dir/dnnl.err"))"
		rm -f "$dn"
		dnnl=0
	}
fi

# dnnl_shapes -x once per oneDNN ISA cap, then the table (see above).
isa_check () {
	echo "bench: instruction sets (dnnl_shapes -x: Y of 64 rows, one call," \
		"one thread; oneDNN capped by ONEDNN_MAX_CPU_ISA, plmkit's kernels" \
		"forced by plm_gemm_select):"
	for cap in default AVX512_CORE AVX2; do
		rm -rf "$dir/isa-$cap"
		mkdir "$dir/isa-$cap"
		if [ $cap = default ]; then
			env -u ONEDNN_MAX_CPU_ISA -u DNNL_MAX_CPU_ISA \
				"$dn" -x "$dir/isa-$cap" >"$dir/isa-$cap.txt"
		else
			ONEDNN_MAX_CPU_ISA=$cap DNNL_MAX_CPU_ISA=$cap \
				"$dn" -x "$dir/isa-$cap" >"$dir/isa-$cap.txt"
		fi
	done
	# oneDNN's lines from every run, plmkit's (whose kernels the cap does
	# not touch) from the first
	awk -v dn="$dn" -v dir="$dir" '
function q(s) { gsub(/\047/, "\047\\\047\047", s); return "\047" s "\047" }
/^bits / {
	cap = FILENAME; sub(/.*\/isa-/, "", cap); sub(/\.txt$/, "", cap)
	plm = $2 ~ /^plm/
	if (plm && cap != "default") next
	key = $2 " " $3 " " $4; isa = $6; sub(/:$/, "", isa)
	impl = $0; sub(/.*\(impl /, "", impl); sub(/\)$/, "", impl)
	if (!(key in n)) keys[++nk] = key
	i = ++n[key]
	label[key, i] = plm ? isa : isa " (" cap ")"
	hash[key, i] = $7; im[key, i] = impl
	file[key, i] = dir "/isa-" cap "/" $2 "-" $3 "-" $4 "-" isa ".f32"
}
END {
	fmt = "%-14s %5s %5s  %-30s %-16s  %-24s %s\n"
	printf fmt, "kind", "N", "K", "ISA (oneDNN: cap)", "hash (FNV-1a)",
		"impl", "vs first"
	for (j = 1; j <= nk; j++) {
		key = keys[j]; split(key, d, " "); same = 1; have = 0; none = ""
		for (i = 1; i <= n[key]; i++) {
			vs = "-"
			if (hash[key, i] == "none") {
				none = none (none == "" ? "" : ", ") label[key, i]
				vs = "(oneDNN has no implementation)"
			} else if (++have > 1) {
				cmd = q(dn) " -c " q(file[key, 1]) " " q(file[key, i])
				if ((cmd | getline vs) <= 0) vs = "? (compare failed)"
				close(cmd)
				if (hash[key, i] != hash[key, 1]) same = 0
			}
			printf fmt, d[1], d[2], d[3], label[key, i], hash[key, i],
				im[key, i], vs
		}
		printf "  => %s %s %s: %s%s\n", d[1], d[2], d[3],
			have < 2 ? "one ISA only" : same ? "same bits across ISAs" : "differ",
			none == "" ? "" : " (none at " none ")"
	}
}' "$dir/isa-default.txt" "$dir/isa-AVX512_CORE.txt" "$dir/isa-AVX2.txt"
	for cap in default AVX512_CORE AVX2; do
		sed -n "1s/^# /bench: $cap: /p" "$dir/isa-$cap.txt"
	done
}

if [ "$mode" = isa ]; then
	[ $dnnl = 1 ] || { echo "bench: oneDNN missing: no ISA check" >&2; exit 1; }
	isa_check
	exit 0
fi

sg=$dir/sgemm_shapes
if [ ! -x "$sg" ] || [ "$top/bench/sgemm_shapes.c" -nt "$sg" ] || [ "$lib" -nt "$sg" ]; then
	pk="zlib libzstd openblas hdf5 msgpack libxxhash"
	# shellcheck disable=SC2046,SC2086 # pkg-config prints several words
	${CC:-cc} -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -I"$top/include" \
		$(pkg-config --cflags $pk) -o "$sg" "$top/bench/sgemm_shapes.c" \
		"$lib" $(pkg-config --libs $pk) -lm -pthread
fi
echo "bench: T $T, $THREADS threads, fastest of $REPS calls"
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$sg" -s "$T" "$THREADS" "$REPS" >"$dir/env.txt"
OPENBLAS_CORETYPE=Cooperlake "$sg" -s "$T" "$THREADS" "$REPS" >"$dir/cpl.txt"
: >"$dir/dnnl.txt"
[ $dnnl = 1 ] && "$dn" "$T" "$THREADS" "$REPS" >"$dir/dnnl.txt"
echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
sed -n 's/^# /bench: /p' "$dir/env.txt"
sed -n 's/^# sgemm core \([^,]*\),.*/bench: sgemm CPL: OpenBLAS core \1 (OPENBLAS_CORETYPE=Cooperlake)/p' "$dir/cpl.txt"
sed -n 's/^# /bench: /p' "$dir/dnnl.txt"

awk -v envf="$dir/env.txt" -v cplf="$dir/cpl.txt" '
function val(name,   i) {
	for (i = 5; i < NF; i++) if ($i == name) return $(i + 1)
	return "-"
}
function div(a, b) { return a == "-" || b == "-" || b <= 0 ? "-" : sprintf("%.2f", a / b) }
function faster(a, b) { return a == "-" ? b : b == "-" ? a : a + 0 >= b + 0 ? a : b }
function row(label, c) {
	printf fmt, label, c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8],
		div(c[3], c[2]), div(c[4], c[3]), div(c[4], c[10]), div(c[3], c[9])
}
/^shape / {
	key = $2 " " $3 " " ($4 + 0)
	if (FILENAME == envf) {
		keys[++n] = key; flop[key] = 2 * $2 * $3 * $4
		v[key, 1] = val("sgemm"); v[key, 3] = val("plm_gemm")
		v[key, 4] = val("plm_gemm_bf16")
	} else if (FILENAME == cplf)
		v[key, 2] = val("sgemm")
	else {
		v[key, 5] = val("dnnl_f32"); v[key, 6] = val("dnnl_bf16")
		v[key, 7] = val("dnnl_f32_packed"); v[key, 8] = val("dnnl_bf16_packed")
		v[key, 9] = faster(v[key, 5], v[key, 7])
		v[key, 10] = faster(v[key, 6], v[key, 8])
		im = $0; sub(/.*\(impl /, "", im); sub(/\)$/, "", im)
		impls[im] = 1
	}
}
END {
	fmt = "%-16s %7s %7s %8s %8s %7s %7s %7s %7s %7s %8s %9s %8s\n"
	printf fmt, "T N K (GFLOP/s)", "sgemm", "sgm CPL", "plm_gemm", "plm_bf16",
		"dnnl", "dnnl", "dnnl", "dnnl", "plm/CPL", "bf16/plm", "bf16/dnnl*",
		"plm/dnnl*"
	h = sprintf(fmt, "", "", "", "", "", "f32", "bf16", "f32 pk", "bf16 pk", "", "", "", "")
	sub(/ +\n$/, "", h); print h
	for (i = 1; i <= n; i++) {
		k = keys[i]; split(k, d, " ")
		m = (d[2] < d[3] ? d[2] : d[3]) == 640 ? "150M" : "650M"
		for (c = 1; c <= 10; c++) {
			x[c] = (k, c) in v ? v[k, c] : "-"
			if (x[c] == "-" || x[c] <= 0) miss[m, c] = 1
			else { F[m, c] += flop[k]; S[m, c] += flop[k] / x[c] }
		}
		row(k, x)
	}
	split("150M 650M", ms, " ")
	for (j = 1; j <= 2; j++) {
		m = ms[j]
		for (c = 1; c <= 10; c++)
			x[c] = (m, c) in miss || !S[m, c] ? "-" : sprintf("%.1f", F[m, c] / S[m, c])
		row(m " weighted", x)
	}
	print "dnnl* = per shape the faster of oneDNN as stored and packed (pk)"
	for (s in impls) {
		split(s, p, /, /)
		printf "dnnl implementations: f32 %s, bf16 %s; packed f32 %s, bf16 %s\n",
			p[1], p[2], p[3], p[4]
	}
	print "goal: plm/CPL >= 0.80"
}' "$dir/env.txt" "$dir/cpl.txt" "$dir/dnnl.txt"

if [ $dnnl = 1 ]; then
	echo "bench: invariance (dnnl_shapes -i $INV_THREADS):"
	"$dn" -i "$INV_THREADS" | sed -n 's/^# /bench: /p; /^invariance /p'
	isa_check
fi
