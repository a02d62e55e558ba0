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

bin=${PLM_BIN:-$top/bin}
bench_machine
