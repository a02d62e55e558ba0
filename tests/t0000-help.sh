#!/bin/sh
# Every program answers --help (stdout, exit 0), --version, and rejects an
# unknown option with exit 2 and a usage message on stderr.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

for c in "$PLM_TOP"/cmd/*.c; do
	t=$(basename "$c" .c)
	test_expect_success "$t --help" "
		$t --help >out 2>err &&
		grep -q '^usage: $t' out &&
		test ! -s err
	"
	test_expect_success "$t --version" "
		$t --version >out &&
		grep -q '^$t (plmkit) ' out
	"
	test_expect_success "$t rejects an unknown option" "
		test_exit 2 $t --no-such-option >out 2>err &&
		grep -q '^$t: ' err &&
		test ! -s out
	"
	test_expect_success "$t has a man page that names it" "
		grep -q '^\.Nm $t' \"\$PLM_TOP/man/$t.1\"
	"
done

test_done
