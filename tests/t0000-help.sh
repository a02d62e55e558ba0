#!/bin/sh
# Every program answers --help (stdout, exit 0), --version, and rejects an
# unknown option with exit 2 and a usage message on stderr.  Its --help,
# the usage line generated from its option table and its man page agree:
# the man SYNOPSIS names exactly the options of the usage line, the man
# option list documents each of them, and every option the man page names
# is in --help.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

# The options of a usage block (the lines up to the first empty one), one
# per line: "-T", "--shard".  [-TM] is -T and -M.
usage_opts () {
	sed '/^$/q' "$1" | tr ' ' '\n' | tr -d '[]' | awk '
		/^--[a-z0-9][a-z0-9-]*$/ { print; next }
		/^-[A-Za-z]+$/ { for (i = 2; i <= length($0); i++)
			print "-" substr($0, i, 1) }' | sort -u
}

# The options --help lists: "  -o, --output=FILE  ..." gives -o, --output.
help_opts () {
	grep '^  *-' "$1" | sed 's/^ *//; s/  .*//' | tr ',' '\n' |
		sed 's/^ *//; s/[= ].*//' | grep -- '^-' | sort -u
}

# The options named by Fl in mdoc lines on stdin: "Fl Fl name" is --name,
# "Fl TM" is -T and -M.
mdoc_opts () {
	awk '{
		for (i = 1; i < NF; i++) {
			if ($i != "Fl" && $i != ".Fl")
				continue
			if ($(i + 1) == "Fl" && i + 2 <= NF) {
				print "--" $(i + 2)
				i += 2
			} else if ($(i + 1) ~ /^[A-Za-z0-9]+$/ &&
				   $(i + 1) !~ /^[A-Z][a-z]$/) {
				w = $(i + 1)
				for (j = 1; j <= length(w); j++)
					print "-" substr(w, j, 1)
				i++
			}
		}
	}' | sort -u
}

man_synopsis () {
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$1" | mdoc_opts
}

man_list () {
	grep '^\.It .*Fl' "$1" | mdoc_opts
}

# --help of the program, and of each subcommand for programs that have
# them ("subcommands:" in --help), into $2.
all_help () {
	"$1" --help >"$2" || return 1
	for sub in $(sed -n '/^subcommands:/,/^$/p' "$2" |
		     awk 'NR > 1 && NF { print $1 }'); do
		"$1" "$sub" --help >>"$2" || return 1
	done
}

# Long options written otherwise than "Fl Fl name" (Fl \-name, Fl -name).
other_long_spelling () {
	grep -n -e 'Fl \\-' -e 'Fl -[a-z]' "$1"
}

# Lines of $1 missing from $2, after "$3"; fails when there are any.
subset () {
	missing=$(comm -23 "$1" "$2" | tr '\n' ' ')
	test -z "$missing" || { echo "$3 $missing"; false; }
}

for c in "$PLM_TOP"/cmd/*.c; do
	t=$(basename "$c" .c)
	man="$PLM_TOP/man/$t.1"
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
		grep -q '^\.Nm $t' '$man'
	"
	test_expect_success "$t has an entry in the README" "
		grep -q '^| \`$t\` | ' \"\$PLM_TOP/README.md\"
	"
	test_expect_success "$t: usage line, --help and man page agree" "
		all_help $t help &&
		usage_opts help >usage &&
		help_opts help | sort -u - usage >known &&
		man_synopsis '$man' >syn &&
		man_list '$man' >list &&
		test -s usage &&
		subset usage syn 'not in the man SYNOPSIS:' &&
		subset syn usage 'not in the usage line:' &&
		subset usage list 'not in the man option list:' &&
		subset list known 'not in --help:'
	"
	test_expect_success "$t: long options spelled Fl Fl name in the man page" "
		! other_long_spelling '$man'
	"
done

test_done
