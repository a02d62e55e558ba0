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
	test_expect_success "$t has an entry in the README" "
		grep -q '^| \`$t\` | ' \"\$PLM_TOP/README.md\"
	"
	test_expect_success "$t --help lists every option the man page documents" "
		$t --help >help &&
		grep '^\.It Fl' \"\$PLM_TOP/man/$t.1\" |
			grep -o 'Fl \\\\\\?-[a-z][a-z0-9-]*' | sed 's/^Fl [^-]*-//' | sort -u >man-opts &&
		missing= &&
		for o in \$(cat man-opts); do grep -q -- \"--\$o\" help || missing=\"\$missing \$o\"; done &&
		test -z \"\$missing\" || { echo \"not in --help:\$missing\"; false; }
	"
done

test_done
