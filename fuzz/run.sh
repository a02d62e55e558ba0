#!/bin/sh
# fuzz/run.sh — `make fuzz`: build every fuzz/fuzz-*.c as a libFuzzer
# target (clang, ASan + UBSan) against all of lib/, run each for
# FUZZ_SECONDS (default 60) and copy any crash input to tests/data/fuzz/,
# where the CLI tests replay it.  A new fuzz/fuzz-NAME.c needs no change
# here.  Seeds: fuzz/corpus/NAME/ (in the tree), then earlier crash
# inputs.  Each target prints its executions; fewer than FUZZ_MIN_EXECS
# (default 50000) in a run of 60 s or more fails: a target that slow
# does not reach depth.
#
#   FUZZ_SECONDS=300 make fuzz          longer runs
#   FUZZ_TARGETS="fuzz-tsv" make fuzz   only some targets
#   FUZZ_JOBS=1 make fuzz               one target at a time (default: as
#                                       many as there are cores)
#
# The last lines name what failed, with each sanitizer report.
set -u
cd "$(dirname "$0")/.." || exit 1

SECS=${FUZZ_SECONDS:-60}
MIN_EXECS=${FUZZ_MIN_EXECS:-50000}
OUT=fuzz/build
PKGS="zlib libzstd openblas hdf5 msgpack libxxhash snappy"
CC=${FUZZ_CC:-clang}

command -v "$CC" >/dev/null 2>&1 || { echo "fuzz: $CC not found" >&2; exit 1; }
# Debian ships libFuzzer's runtime apart from the compiler.
probe='int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return !d + (int)n; }'
if ! echo "$probe" | $CC -fsanitize=fuzzer -x c -o /dev/null - 2>/dev/null; then
	v=$($CC -dumpversion | cut -d. -f1)
	PLM_DEPS_EXTRA="libclang-rt-$v-dev" sh scripts/install-deps.sh || exit 1
fi
mkdir -p "$OUT/lib" tests/data/fuzz || exit 1

CFLAGS="-std=c11 -g -O1 -fno-omit-frame-pointer -pthread -Wno-psabi \
	-D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DPLM_VERSION=\"fuzz\" \
	-Iinclude $(pkg-config --cflags $PKGS 2>/dev/null)"
LIBS="$(pkg-config --libs $PKGS 2>/dev/null) -lm"

# The library once, instrumented; each target links against it.
objs=""
for c in lib/*.c; do
	o="$OUT/lib/$(basename "$c" .c).o"
	if [ ! -f "$o" ] || [ "$c" -nt "$o" ] || [ -n "$(find include -newer "$o" 2>/dev/null | head -n 1)" ]; then
		$CC $CFLAGS -fsanitize=fuzzer-no-link,address,undefined -c -o "$o" "$c" || exit 1
	fi
	objs="$objs $o"
done

# Build every target, then run them FUZZ_JOBS (default: the number of
# cores) at a time; each still runs SECS on its own core.
targets=""
for src in fuzz/fuzz-*.c; do
	name=$(basename "$src" .c)
	if [ -n "${FUZZ_TARGETS:-}" ]; then
		case " $FUZZ_TARGETS " in *" $name "*) ;; *) continue ;; esac
	fi
	targets="$targets $name"
done

status=0
built=""
for name in $targets; do
	echo "fuzz: building $name"
	if $CC $CFLAGS -fsanitize=fuzzer,address,undefined -o "$OUT/$name" \
		"fuzz/$name.c" $objs $LIBS; then
		built="$built $name"
	else
		echo "fuzz: $name FAILED (does not build)" >&2
		failed="${failed:-}$name "
		status=1
	fi
done

# run_one NAME: fuzzes NAME for SECS; leaves its verdict in $OUT/NAME.rc.
run_one () {
	bin="$OUT/$1"
	corpus="$OUT/corpus/$1"
	art="$OUT/artifacts/$1/"
	rm -rf "$art"
	mkdir -p "$corpus" "$art"
	[ -d "fuzz/corpus/$1" ] && cp -f fuzz/corpus/"$1"/* "$corpus"/ 2>/dev/null
	# Earlier crash inputs first: they must pass now.
	for f in tests/data/fuzz/"$1"-*; do
		[ -f "$f" ] && cp -f "$f" "$corpus"/
	done
	ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}" \
	UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
	"$bin" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$art" "$corpus" \
		>"$OUT/$1.log" 2>&1
	echo $? >"$OUT/$1.rc"
}

jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
n=0
for name in $built; do
	echo "fuzz: running $name for ${SECS}s"
	run_one "$name" &
	n=$((n + 1))
	if [ "$n" -ge "$jobs" ]; then
		wait
		n=0
	fi
done
wait

for name in $built; do
	art="$OUT/artifacts/$name/"
	rc=$(cat "$OUT/$name.rc" 2>/dev/null || echo 1)
	tail -n 12 "$OUT/$name.log"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$name.log")
	echo "fuzz: $name: ${execs:-0} executions in ${SECS}s"
	if [ "$SECS" -ge 60 ] && [ "${execs:-0}" -lt "$MIN_EXECS" ]; then
		echo "fuzz: $name: fewer than $MIN_EXECS executions" >&2
		rc=1
	fi
	found=0
	for f in "$art"crash-* "$art"leak-* "$art"timeout-* "$art"oom-*; do
		[ -f "$f" ] || continue
		found=1
		cp -f "$f" "tests/data/fuzz/$name-$(basename "$f")"
		echo "fuzz: $name: $(basename "$f") saved to tests/data/fuzz/" >&2
	done
	if [ "$rc" -ne 0 ] || [ $found -eq 1 ]; then
		echo "fuzz: $name FAILED (exit $rc; log in $OUT/$name.log)" >&2
		failed="${failed:-}$name "
		status=1
	else
		echo "fuzz: $name ok"
	fi
done

# What failed, last, where a log's tail shows it: each report, its frames
# in this tree and the input (Base64), enough to replay it elsewhere.
for name in ${failed:-}; do
	[ -f "$OUT/$name.log" ] || continue
	echo "fuzz: $name: the report"
	grep -E '==ERROR|^SUMMARY|runtime error:|ERROR: libFuzzer|deadly signal|^Base64:| in [^ ]+ [^ ]*(lib|fuzz|cmd)/[^ ]+\.[ch]:' \
		"$OUT/$name.log" | head -n 30
done
if [ $status -ne 0 ]; then
	echo "fuzz: FAILED: ${failed:-}"
else
	echo "fuzz: all$(echo "$built" | wc -w | sed 's/^/ /') targets ok"
fi
exit $status
