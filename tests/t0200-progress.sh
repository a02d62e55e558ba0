#!/bin/sh
# Progress lines (plm_progress_*): none for a quick run, erased at the end
# on a terminal, plain lines (no \r, no escapes, at most one a second and
# a last one) with --progress into a file.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	printf "id:str\tn:int\n" >in.tsv &&
	awk "BEGIN { for (i = 0; i < 4000; i++) printf \"r%d\t%d\n\", i, i }" >>in.tsv &&
	head -n 2001 in.tsv >first.tsv && sed 1,2001d in.tsv >rest.tsv &&
	printf "\r\033[K" >erase
'

test_expect_success 'a quick run on a terminal leaves nothing on stderr' '
	script -qec "rec-head -n 5 in.tsv >/dev/null" /dev/null >out </dev/null &&
	test ! -s out
'

test_expect_success 'a quick run with --progress into a file: one last line' '
	rec-head --progress -n 5 in.tsv >/dev/null 2>err &&
	test "$(wc -l <err)" -eq 1 &&
	grep -q "^rec-head: .* B, 5 records, .*/s, 0:00:0[0-9]\$" err
'

test_expect_success 'a slow run on a terminal: redrawn in place, erased at the end' '
	script -qec "sh -c \"{ cat first.tsv; sleep 1.5; cat rest.tsv; } | rec-cat >/dev/null\"" /dev/null >out </dev/null &&
	grep -q "rec-cat: .* records" out &&
	tail -c 4 out >end &&
	cmp end erase
'

test_expect_success 'a slow run with --progress into a file: plain lines, a last line' '
	{ cat first.tsv; sleep 1.5; cat rest.tsv; } | rec-cat --progress >/dev/null 2>err &&
	test "$(wc -l <err)" -ge 2 && test "$(wc -l <err)" -le 3 &&
	! grep -q "$(printf "[\r\033]")" err &&
	tail -n 1 err | grep -q "^rec-cat: .* B, 4000 records, .*/s, 0:00:0[0-9]\$"
'

test_done
