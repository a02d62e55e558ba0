# tests/lib.sh — TAP helpers for the command-line tests, in the manner of
# git's t/test-lib.sh.  Source it first:  . "${PLM_TOP:-..}/tests/lib.sh"
#
#   test_expect_success 'title' 'commands chained with &&'
#   test_must_fail CMD...     CMD must exit 1 or 2 (not crash, not succeed)
#   test_cmp expect actual    files equal, shows a diff otherwise
#   skip_all 'reason'         the whole script is skipped
#   test_done                 prints the plan and exits
#
# Each test runs in the scratch directory $TRASH (fresh per script); the
# programs under test come first on PATH ($PLM_BIN); $DATA is tests/data.
# Never pipe the program under test: a pipe hides its exit status.

: "${PLM_TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${PLM_BIN:=$PLM_TOP/bin}"
PATH="$PLM_BIN:$PATH"
DATA="$PLM_TOP/tests/data"
SHARED="$PLM_TOP/../shared"
export PATH DATA SHARED PLM_TOP LC_ALL=C
# Sanitizer runs: leaks are reported, halt on the first error.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Keep OpenBLAS from oversubscribing two-core CI machines.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/plm-test.XXXXXX")
trap 'rm -rf "$TRASH"' EXIT
cd "$TRASH" || exit 1

test_count=0
test_failed=0

test_expect_success () {
	test_count=$((test_count + 1))
	if ( eval "$2" ) >"$TRASH/.out" 2>&1; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		sed -e 's/^/#   /' "$TRASH/.out" | head -n 40
		printf '#   commands:\n' ; printf '%s\n' "$2" | sed -e 's/^/#     /'
	fi
}

# Like test_expect_success, but skipped (as TAP "ok # skip") when the
# prerequisite command $1 fails.
test_expect_success_if () {
	if eval "$1" >/dev/null 2>&1; then
		test_expect_success "$2" "$3"
	else
		test_count=$((test_count + 1))
		echo "ok $test_count # skip $2 (needs: $1)"
	fi
}

test_must_fail () {
	"$@"
	code=$?
	if [ $code -eq 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif [ $code -gt 2 ]; then
		echo "test_must_fail: command died with status $code: $*" >&2
		return 1
	fi
	return 0
}

# test_exit CODE CMD...: CMD must exit with exactly CODE.
test_exit () {
	want=$1; shift
	"$@"
	code=$?
	if [ $code -ne "$want" ]; then
		echo "test_exit: wanted $want, got $code: $*" >&2
		return 1
	fi
}

test_cmp () {
	diff -u "$1" "$2"
}

# The file must not exist (no partial output after a failure).
test_path_is_missing () {
	if [ -e "$1" ]; then
		echo "test_path_is_missing: $1 exists" >&2
		return 1
	fi
}

skip_all () {
	echo "1..0 # SKIP $1"
	exit 0
}

test_done () {
	echo "1..$test_count"
	[ $test_failed -eq 0 ]
	exit $?
}
