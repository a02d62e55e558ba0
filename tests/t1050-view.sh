#!/bin/sh
# The terminal view (include/plm/view.h): what a stream looks like on a
# terminal, and PLM_FORMAT.  A pseudo-terminal comes from script(1);
# the width from $COLUMNS (a pty made by script has no size), or from a
# tmux pane of 100x30.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

# term CMD: run CMD with stdout (and stderr) on a pseudo-terminal; its
# output, without the terminal's carriage returns, in ./out.
term () {
	script -qec "$1" /dev/null >raw </dev/null || return 1
	tr -d '\r' <raw >out
}

test_expect_success 'setup' '
	printf "id:str\tlen:int\tscore:float\tok:bool\temb:f32[6]\tv2:f32[2]\tnote:str\n" >in.tsv &&
	printf "a\t10\t0.123456789\ttrue\t1,2,3,4,5,0.000123456\t1.5,-2\tshort\n" >>in.tsv &&
	printf "bb\t\t\t\t\t\t\\\\N\n" >>in.tsv &&
	printf "ccc\t12345\t-1e-10\tfalse\t-0.333333,0,0,0,0,1e+20\t0,0\ta very long note that goes on and on and on and on past the edge\n" >>in.tsv &&
	printf "\t1\t0\ttrue\t0,0,0,0,0,0\t0,0\t\n" >>in.tsv &&
	rec-cat -M in.tsv >in.rec
'

test_expect_success 'a terminal: aligned columns, 4 digits, vectors abbreviated, nil shown, no meta' '
	term "COLUMNS=100 LC_ALL=C.UTF-8 rec-cat in.rec" &&
	cat >expect <<-\EOT &&
	id     len   score  ok     emb                     v2            note
	a       10  0.1235  true   [1 2 … 0.000123] (6)    [1.5 -2] (2)  short
	bb       ∅       ∅  ∅      ∅                       ∅             ∅
	ccc  12345  -1e-10  false  [-0.333 0 … 1e+20] (6)  [0 0] (2)     a very long note that goes on and …
	""       1       0  true   [0 0 … 0] (6)           [0 0] (2)     ""
	EOT
	test_cmp expect out
'

test_expect_success 'narrow: strings narrowed first, then the rest; no line wider than COLUMNS' '
	term "COLUMNS=60 LC_ALL=C.UTF-8 rec-cat in.rec" &&
	cat >expect <<-\EOT &&
	id     len   score  ok     emb         v2           note
	a       10  0.1235  true   [1 2 … 0.…  [1.5 -2] (…  short
	bb       ∅       ∅  ∅      ∅           ∅            ∅
	ccc  12345  -1e-10  false  [-0.333 0…  [0 0] (2)    a very …
	""       1       0  true   [0 0 … 0]…  [0 0] (2)    ""
	EOT
	test_cmp expect out &&
	term "COLUMNS=20 LC_ALL=C.UTF-8 rec-cat in.rec" &&
	test "$(LC_ALL=C.UTF-8 wc -L <out)" -eq 20
'

test_expect_success 'outside UTF-8: ... and NA; control bytes shown as ?' '
	printf "id:str\tnote:str\nx\ta\\\\tb\n" >ctl.tsv &&
	term "COLUMNS=40 LC_ALL=C LANG= LC_CTYPE= rec-cat in.rec ctl.tsv" &&
	cat >expect <<-\EOT &&
	id     len   score  ok     emb       ...
	a       10  0.1235  true   [1 2 ...  ...
	bb      NA      NA  NA     NA        ...
	ccc  12345  -1e-10  false  [-0.3...  ...
	""       1       0  true   [0 0 ...  ...

	id  note
	x   a?b
	EOT
	test_cmp expect out
'

test_expect_success 'field names too: control bytes and invalid UTF-8 shown as ?' '
	printf "i\033[2Jd:str\tn\303:int\nx\t1\n" >ctlname.tsv &&
	term "COLUMNS=40 LC_ALL=C.UTF-8 rec-cat ctlname.tsv" &&
	printf "i?[2Jd  n?\nx        1\n" >expect &&
	test_cmp expect out
'

test_expect_success '--typed on a terminal is the exact TSV; a pipe gets MessagePack' '
	term "COLUMNS=60 rec-cat --typed in.rec" &&
	body in.tsv >expect &&
	body out >actual &&
	test_cmp expect actual &&
	grep -q "^#meta	{\"prov\"" out &&
	rec-cat in.tsv >pipe.out &&
	rec-cat --typed pipe.out >actual &&
	body actual >actual.body &&
	test_cmp expect actual.body
'

test_expect_success 'PLM_FORMAT: the default in pipes and on terminals; -M/--typed still win' '
	body in.tsv >expect &&
	PLM_FORMAT=typed rec-cat in.rec >out &&
	body out >actual && test_cmp expect actual &&
	term "PLM_FORMAT=typed rec-cat in.rec" &&
	body out >actual && test_cmp expect actual &&
	PLM_FORMAT=msgpack term "rec-cat in.tsv" &&
	test "$(head -c 1 out | od -An -tx1 | tr -d " ")" = 83 &&
	for f in "PLM_FORMAT=typed rec-cat -M" "PLM_FORMAT=msgpack rec-cat" "PLM_FORMAT= rec-cat"; do
		eval "$f in.tsv" >out &&
		rec-cat --typed out >actual && body actual >actual.body &&
		test_cmp expect actual.body || return 1
	done &&
	PLM_FORMAT=msgpack rec-cat --typed in.rec >out &&
	body out >actual && test_cmp expect actual &&
	PLM_FORMAT=csv test_error "^rec-cat: PLM_FORMAT: .csv. is not tsv, typed or msgpack\$" rec-cat in.rec
'

test_expect_success 'a later section: a blank line and its own header and widths' '
	printf "id:str\tk:int\nlonger-id\t7\n" >b.tsv &&
	term "COLUMNS=80 LC_ALL=C.UTF-8 rec-cat in.rec b.tsv" &&
	tail -n 3 out >actual &&
	printf "\nid         k\nlonger-id  7\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'an empty stream shows its header' '
	rec-head -n 0 in.rec >empty.rec &&
	term "COLUMNS=80 rec-cat empty.rec" &&
	echo "id  len  score  ok  emb  v2  note" >expect &&
	test_cmp expect out
'

# A 1280-d vector stream in a tmux pane of 100x30: every line fits, and
# every column starts (left-aligned) or ends (len, right-aligned) at the
# header's position on every row.
test_expect_success_if 'command -v tmux' 'tmux: a 1280-d stream fits the pane, columns align' '
	rec-head -n 20 "$DATA/uniprot_20k.fasta.gz" >p.rec &&
	sock="$TRASH/tmux.sock" &&
	tmux -u -S "$sock" -f /dev/null new-session -d -x 100 -y 30 \
		"env LC_ALL=C.UTF-8 PATH=\"$PATH\" sh -c \"kmer-feat --kmer 3 --dim 1280 p.rec 2>err; echo done >fin\"; sleep 30" &&
	i=0 && while [ ! -s fin ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done &&
	tmux -S "$sock" capture-pane -p >cap &&
	tmux -S "$sock" kill-server &&
	test ! -s err &&
	cat cap &&
	sed -e "/^\$/d" -e "s/…/./g" -e "s/∅/-/g" cap >c &&
	test "$(wc -l <c)" -eq 21 &&
	test "$(awk "length > 100" c | wc -l)" -eq 0 &&
	head -n 1 c | grep -q "^id  *desc  *seq  *len  emb\$" &&
	grep -q "(1280)" c &&
	h=$(head -n 1 c) &&
	d=$(expr "$h" : "\\(id  *\\)desc") && d=${#d} &&
	q=$(expr "$h" : "\\(.*  \\)seq") && q=${#q} &&
	l=$(expr "$h" : "\\(.*len\\)") && l=${#l} &&
	e=$(expr "$h" : "\\(.*  \\)emb") && e=${#e} &&
	sed 1d c | awk -v d=$d -v q=$q -v l=$l -v e=$e "
		function col(p) { return substr(\$0, p + 1, 1) != \" \" && substr(\$0, p - 1, 2) == \"  \" }
		!(col(d) && col(q) && col(e) && substr(\$0, l, 1) ~ /[0-9]/ &&
		  substr(\$0, l + 1, 2) == \"  \" && substr(\$0, e + 1, 1) == \"[\") { bad++; print \"misaligned: \" \$0 }
		END { exit bad > 0 }"
'

test_done
