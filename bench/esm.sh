#!/bin/sh
# bench/esm.sh — the ESM-2 engine's forward pass against raw cblas_sgemm.
#
# Builds bench/esm-bench.c against build/libplm.a and runs it on random
# weights of the 35M and 150M shapes (8 sequences of 254 residues, and 2
# of 1022), BENCH_THREADS threads (default 2).  It prints the GFLOP/s of
# the whole forward and of sgemm alone on the same linear-layer shapes;
# target: forward >= 50% of the sgemm rate.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
t=${BENCH_THREADS:-2}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cd "$top"
make --no-print-directory build/libplm.a >/dev/null
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude -Ilib \
	$(pkg-config --cflags openblas) bench/esm-bench.c build/libplm.a \
	$(pkg-config --libs openblas libxxhash) -lm -pthread -o "$out/esm-bench"
for shape in 35M 150M; do
	"$out/esm-bench" -t "$t" -r 2 "$shape"
	"$out/esm-bench" -t "$t" -r 1 -n 2 -l 1022 "$shape"
done
