# tests/lib.sh — TAP helpers for the command-line tests, in the manner of
# git's t/test-lib.sh.  Source it first:  . "${PLM_TOP:-..}/tests/lib.sh"
#
#   test_expect_success 'title' 'commands chained with &&'
#   test_expect_success_if 'prereq' 'title' 'commands'   skipped unless prereq
#   test_must_fail CMD...     CMD must exit 1 or 2 (not crash, not succeed)
#   test_exit CODE CMD...     CMD must exit with exactly CODE
#   test_error PATTERN CMD... CMD must exit 1 with PATTERN (grep) on stderr,
#                             which stays in ./err for further checks
#   test_usage_error PATTERN CMD...   the same with exit status 2 (usage)
#   test_columns FILE 'LINE'  FILE's column line is LINE (a printf format)
#   test_cmp expect actual    files equal, shows a diff otherwise
#   skip_all 'reason'         the whole script is skipped
#   test_done                 prints the plan and exits
#
# Python oracles: nothing names an interpreter path.  plm_python MOD...
# (scripts/plm-python.sh) prints a python3 on PATH that imports every MOD;
# as a prerequisite, test_have_python MOD... runs the test with $PY set to
# it, or skips it "(needs: python with MOD, ...)":
#
#   test_expect_success_if 'test_have_python numpy msgpack' 'title' '$PY ...'
#
# Data from outside the repository is opt-in through an environment
# variable: test_opt_in VAR 'reason' skips the test with that reason while
# VAR is unset or empty.
#
# Readers of TSV streams, each of FILE or, without one, of stdin:
#   body [FILE]      the lines that do not start with # (no #plm, no #meta)
#   nometa [FILE]    every line but #meta (its prov differs after every tool)
#   rows [FILE]      the data rows: body without the column line
# and a generator of labelled data for the MLP tests:
#   gen KIND N D SEED   N rows of D features (tests/data/mlp/gen.awk)
# Generators written in Python that import nothing but the standard
# library run as $PY after python_any (PY: the python3 plm_python finds, or
# plain python3, whose absence then fails the test that needs it).
#
# Each test runs in the scratch directory $TRASH (fresh per script); the
# programs under test come first on PATH ($PLM_BIN); $DATA is tests/data.
# Never pipe the program under test: a pipe hides its exit status.

: "${PLM_TOP:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${PLM_BIN:=$PLM_TOP/bin}"
PATH="$PLM_BIN:$PATH"
DATA="$PLM_TOP/tests/data"
export PATH DATA PLM_TOP LC_ALL=C
# Sanitizer runs: leaks are reported, halt on the first error.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Keep OpenBLAS from oversubscribing two-core CI machines.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"

. "$PLM_TOP/scripts/plm-python.sh"

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/plm-test.XXXXXX")
trap 'rm -rf "$TRASH"' EXIT
cd "$TRASH" || exit 1

test_count=0
test_failed=0

body () { grep -v '^#' "$@"; }
nometa () { grep -v '^#meta' "$@"; }
rows () { grep -v '^#' "$@" | sed 1d; }
gen () { awk -v kind="$1" -v n="$2" -v d="$3" -v seed="$4" -f "$DATA/mlp/gen.awk"; }
python_any () { PY=$(plm_python) || PY=python3; }

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
# prerequisite command $1 fails.  The reason printed is "needs: $1", or
# test_skip_why when the prerequisite set it.  $PY is restored afterwards.
test_expect_success_if () {
	_tesi_py=${PY-}
	test_skip_why=
	if eval "$1" >/dev/null 2>&1; then
		test_expect_success "$2" "$3"
	else
		test_count=$((test_count + 1))
		echo "ok $test_count # skip $2 (${test_skip_why:-needs: $1})"
	fi
	PY=$_tesi_py
}

# test_have_python MOD...: prerequisite; sets PY to an interpreter that
# imports every MOD (found once per script for each list of modules).
test_have_python () {
	_thp_key=$(printf '%s_' "$@" | tr -c 'A-Za-z0-9_' '_')
	eval "_thp_py=\${_plm_py_memo_$_thp_key-}"
	if [ -z "$_thp_py" ]; then
		_thp_py=$(plm_python "$@") || _thp_py=-
		eval "_plm_py_memo_$_thp_key=\$_thp_py"
	fi
	if [ "$_thp_py" != - ]; then
		PY=$_thp_py
		return 0
	fi
	_thp_why=
	for _thp_m; do
		_thp_why="${_thp_why:+$_thp_why, }$_thp_m"
	done
	test_skip_why="needs: python${_thp_why:+ with $_thp_why}"
	return 1
}

# test_have_duckdb, test_have_polars: prerequisites; the npm packages
# @duckdb/node-api and nodejs-polars are in build/node (make deps puts them
# there).  They set NODE_PATH and PQ_ORACLE, the command of
# tests/parquet-oracle.js: $PQ_ORACLE sql|duckdb|polars ...
test_have_node_module () {
	test_skip_why="needs: npm $1 in build/node (make deps)"
	command -v node >/dev/null 2>&1 &&
	[ -d "$PLM_TOP/build/node/node_modules/$1" ] || return 1
	NODE_PATH=$PLM_TOP/build/node/node_modules
	PQ_ORACLE="node $PLM_TOP/tests/parquet-oracle.js"
	export NODE_PATH
}

test_have_duckdb () { test_have_node_module @duckdb/node-api; }
test_have_polars () { test_have_node_module nodejs-polars-linux-x64-gnu; }

# test_opt_in VAR REASON: prerequisite; VAR is set and not empty, else the
# test is skipped with REASON.
test_opt_in () {
	eval "[ -n \"\${$1-}\" ]" && return 0
	test_skip_why=$2
	return 1
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

# test_error PATTERN CMD...: CMD exits with exactly 1 (a data or runtime
# error) and its stderr, kept in ./err, matches PATTERN.
# test_usage_error PATTERN CMD...: the same for exit status 2 (usage).
test_error () {
	_test_fails_with 1 "$@"
}

test_usage_error () {
	_test_fails_with 2 "$@"
}

_test_fails_with () {
	_te_code=$1 _te_pat=$2; shift 2
	if ! test_exit "$_te_code" "$@" 2>err; then
		cat err >&2
		return 1
	fi
	if ! grep -q -- "$_te_pat" err; then
		echo "stderr does not match: $_te_pat" >&2
		cat err >&2
		return 1
	fi
}

# test_columns FILE LINE: the first line of FILE that is not #plm or #meta
# (the column line) is LINE, given as a printf format.
test_columns () {
	body "$1" | head -n 1 >"$TRASH/.columns" &&
	# shellcheck disable=SC2059 # LINE is a format: \t for the tabs
	printf "$2\n" >"$TRASH/.columns.want" &&
	test_cmp "$TRASH/.columns.want" "$TRASH/.columns"
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
