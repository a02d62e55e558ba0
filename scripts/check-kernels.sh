#!/bin/sh
# scripts/check-kernels.sh — `make check-kernels`: the determinism tests
# under every OpenBLAS core this CPU can run (OPENBLAS_CORETYPE unset,
# Haswell, and SkylakeX where the CPU has AVX-512) and with plmkit's own
# kernels held to AVX2 (PLM_ISA=avx2).  Each combination must pass: the
# bitwise promises (batch, thread, shard, order and cache invariance,
# identical checkpoints for any --threads) belong to plmkit's kernels, not
# to the BLAS kernel that happens to be picked.
#
#   sh scripts/check-kernels.sh BUILD_DIR BIN_DIR
#
# CHECK_KERNELS_SKIP_CURRENT=1 leaves out the combination the environment
# already is (OPENBLAS_CORETYPE as set, PLM_ISA as set): for a run just
# after `make check`, which ran these tests that way with more sequences.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
bin=${2:-bin}
units="t-gemm t-gemm-bf16 t-mlp t-esm"
clis="t5100-esm-embed-cache t5200-esm-determinism t7100-mlp-train t7200-mlp-predict"
avx512=0
grep -q '\<avx512f\>' /proc/cpuinfo 2>/dev/null && avx512=1
combos="unset Haswell"
[ $avx512 = 1 ] && combos="$combos SkylakeX avx2"
# fewer sequences per run than `make check`: the same properties, 4 times
: "${PLM_DET_N:=80}"
export PLM_DET_N
current=${OPENBLAS_CORETYPE:-unset}
[ "${PLM_ISA:-}" = avx2 ] && current=avx2
status=0
for c in $combos; do
	if [ "${CHECK_KERNELS_SKIP_CURRENT:-0}" = 1 ] && [ "$c" = "$current" ]; then
		echo "check-kernels: $c: as the environment is, run by make check"
		continue
	fi
	ran="${ran:-}${ran:+ }$c"
	case $c in
	unset) set -- env -u OPENBLAS_CORETYPE; what="OPENBLAS_CORETYPE unset" ;;
	avx2) set -- env PLM_ISA=avx2; what="PLM_ISA=avx2 (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})" ;;
	*) set -- env OPENBLAS_CORETYPE=$c; what="OPENBLAS_CORETYPE=$c" ;;
	esac
	echo "check-kernels: $what"
	files=
	for u in $units; do files="$files $top/$build/tests/$u"; done
	(cd "$top/tests" && "$@" PLM_TOP="$top" PLM_BIN="$top/$bin" \
		prove -j2 --exec '' $files) || status=1
	files=
	for t in $clis; do files="$files $top/tests/$t.sh"; done
	(cd "$top" && "$@" PLM_TOP="$top" PLM_BIN="$top/$bin" \
		prove -j2 --exec sh $files) || status=1
done
[ $status = 0 ] && echo "check-kernels: PASS (${ran:-none})" ||
	echo "check-kernels: FAIL" >&2
exit $status
