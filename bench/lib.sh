# bench/lib.sh — helpers of the bench/*.sh scripts, sourced after $top is
# set:  . "$top/bench/lib.sh"
#
# Sourcing it sets bin (PLM_BIN, default bin/ of this tree) and prints the
# machine line (bench_machine), which every figure is read against.
#
#   bench_machine       prints the CPU model, the number of cores and the
#                       OpenBLAS core
#   bench_dir NAME      sets dir: $BENCH_DIR/NAME, kept between runs, or
#                       without BENCH_DIR a temporary removed at exit
#   bench_python NAME MOD...  sets py to a python3 that imports every MOD
#                       (scripts/plm-python.sh), else exits naming them
#   bench_run LABEL CMD the run of CMD (sh -c) with the best CPU time (user +
#                       sys, over all its processes) of $reps, under
#                       /usr/bin/time -v in $dir; prints LABEL, its wall
#                       time, CPU time and peak RSS and leaves them in $wall,
#                       $cpu, $rss.  A failing CMD ends the bench.
#   bench_esm SHAPE     sets N (layers), H (hidden), F (FFN) of ESM-2
#                       SHAPE (8M, 35M, 150M, 650M) and m, its checkpoint:
#                       $BENCH_ESM_CKPT/SHAPE, else random weights written
#                       once into $dir by bench/make_esm_ckpt.py ($py)

. "$top/scripts/plm-python.sh"

# The core OpenBLAS picks, as the programs load it (openblas_get_corename).
bench_blas_core () {
	_bbc=$(mktemp -d "${TMPDIR:-/tmp}/plm-core.XXXXXX") || return 1
	printf '%s\n' '#include <stdio.h>' 'char *openblas_get_corename(void);' \
		'int main(void) { puts(openblas_get_corename()); return 0; }' >"$_bbc/c.c"
	# shellcheck disable=SC2046 # pkg-config prints several words
	${CC:-cc} -o "$_bbc/c" "$_bbc/c.c" $(pkg-config --cflags --libs openblas) \
		2>/dev/null && "$_bbc/c"
	_bbc_rc=$?
	rm -rf "$_bbc"
	return $_bbc_rc
}

bench_machine () {
	_bm_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
	_bm_core=$(bench_blas_core) || _bm_core=unknown
	echo "machine: ${_bm_cpu:-unknown CPU}, $(nproc) cores, OpenBLAS core $_bm_core${OPENBLAS_CORETYPE:+ (OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE)}"
}

bench_dir () {
	if [ -n "${BENCH_DIR:-}" ]; then
		dir=$BENCH_DIR/$1
		mkdir -p "$dir"
	else
		dir=$(mktemp -d "${TMPDIR:-/tmp}/plm-bench-$1.XXXXXX")
		trap 'rm -rf "$dir"' EXIT
	fi
}

bench_python () {
	_bp_name=$1; shift
	py=$(plm_python "$@") && return 0
	_bp_mods=$(echo "$*" | sed -e 's/ /, /g')
	echo "bench: $_bp_name needs python3${_bp_mods:+ with $_bp_mods}" >&2
	exit 1
}

bench_esm () {
	case $1 in
	8M) N=6 H=320 F=1280 ;;
	35M) N=12 H=480 F=1920 ;;
	150M) N=30 H=640 F=2560 ;;
	650M) N=33 H=1280 F=5120 ;;
	*) echo "bench: unknown shape $1" >&2; exit 2 ;;
	esac
	m=$dir/esm2_${1}_random
	[ -n "${BENCH_ESM_CKPT:-}" ] && m=$BENCH_ESM_CKPT/$1
	if [ ! -s "$m/model.safetensors" ]; then
		echo "bench: writing $m (random weights)" >&2
		$py "$top/bench/make_esm_ckpt.py" "$m" "$1"
	fi
}

bin=${PLM_BIN:-$top/bin}
bench_machine

bench_run () {
	_br_label=$1; shift
	cpu=; _br_i=0
	while [ $_br_i -lt "$reps" ]; do
		/usr/bin/time -v -o "$dir/time.txt" sh -c "$*" 2>"$dir/err.txt" >/dev/null || {
			echo "bench: $_br_label failed:" >&2
			cat "$dir/err.txt" >&2
			exit 1
		}
		_br_w=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0;
			for (k = 1; k <= n; k++) s = s * 60 + t[k]; print s }' "$dir/time.txt")
		_br_c=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$dir/time.txt")
		_br_m=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$dir/time.txt")
		if [ -z "$cpu" ] || awk "BEGIN { exit !($_br_c < $cpu) }"; then
			cpu=$_br_c; wall=$_br_w; rss=$_br_m
		fi
		_br_i=$((_br_i + 1))
	done
	printf "%-40s %8.2f s %8.2f s %9d KB\n" "$_br_label" "$wall" "$cpu" "$rss"
}
