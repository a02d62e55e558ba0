#!/bin/sh
# tax-kingdom: superkingdom and kingdom from an NCBI taxdump (old ranks
# "superkingdom", 2025 ranks "domain"/"acellular root"), merged ids
# followed, unknown/deleted ids reported, broken dumps rejected.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

TD="$DATA/taxdump"

test_expect_success 'setup' '
	printf "id:str\ttaxid:int\n" >in.tsv &&
	for t in 562 2190 9606 4932 3702 5833 11676 10665 1 131567; do
		printf "t%s\t%s\n" $t $t >>in.tsv
	done &&
	rec-cat -M in.tsv >in.rec &&
	cat >expect.known <<-\EOT
	t562	562	Bacteria	\N
	t2190	2190	Archaea	\N
	t9606	9606	Eukaryota	Metazoa
	t4932	4932	Eukaryota	Fungi
	t3702	3702	Eukaryota	Viridiplantae
	t5833	5833	Eukaryota	\N
	t11676	11676	Viruses	Orthornavirae
	t10665	10665	Viruses	Heunggongvirae
	t1	1	\N	\N
	t131567	131567	\N	\N
	EOT
'

test_expect_success 'superkingdom and kingdom by walking to the root' '
	tax-kingdom --typed --taxdump "$TD" in.rec >out 2>err &&
	rows out >actual &&
	test_cmp expect.known actual &&
	test ! -s err &&
	test_columns out "id:str\ttaxid:int\tsuperkingdom:str\tkingdom:str" &&
	grep "^#meta" out | grep -q "\"tool\":\"tax-kingdom\""
'

test_expect_success '2025 ranks: domain, acellular root, cellular root' '
	mkdir new &&
	sed -e "s/	superkingdom	/	domain	/" \
	    -e "/^10239	/s/	domain	/	acellular root	/" \
	    -e "/^131567	/s/	no rank	/	cellular root	/" \
	    "$TD/nodes.dmp" >new/nodes.dmp &&
	grep -q "acellular root" new/nodes.dmp &&
	cp "$TD/names.dmp" new/ &&
	tax-kingdom --typed --taxdump new in.rec >out &&
	rows out >actual &&
	test_cmp expect.known actual
'

test_expect_success 'merged ids are followed; unknown, deleted, nil reported' '
	printf "id:str\ttaxid:int\nm\t12\nn\t1005566\nu\t77777\nv\t88888\nd\t4\nz\t\n" >odd.tsv &&
	tax-kingdom --typed --taxdump "$TD" odd.tsv >out 2>err &&
	rows out >actual &&
	printf "m\t12\tBacteria\t\\\\N\nn\t1005566\tEukaryota\tMetazoa\nu\t77777\t\\\\N\t\\\\N\nv\t88888\t\\\\N\t\\\\N\nd\t4\t\\\\N\t\\\\N\nz\t\t\\\\N\t\\\\N\n" >expect &&
	test_cmp expect actual &&
	grep -q "^tax-kingdom: 2 records with unknown taxids (fields nil): 77777, 88888$" err &&
	grep -q "^tax-kingdom: 1 records with deleted taxids (fields nil): 4$" err &&
	grep -q "1 records with a nil .taxid." err &&
	grep -q "2 records with merged taxids" err
'

test_expect_success 'without merged.dmp and delnodes.dmp those ids are unknown' '
	mkdir bare && cp "$TD/nodes.dmp" "$TD/names.dmp" bare/ &&
	tax-kingdom --typed --taxdump bare odd.tsv >out 2>err &&
	grep -q "^tax-kingdom: 5 records with unknown taxids (fields nil): 12, 1005566, 77777, 88888, 4$" err
'

test_expect_success 'gzip-compressed dump files are read' '
	mkdir gz && gzip -c "$TD/nodes.dmp" >gz/nodes.dmp && gzip -c "$TD/names.dmp" >gz/names.dmp &&
	tax-kingdom --typed --taxdump gz in.rec >out &&
	rows out >actual && test_cmp expect.known actual
'

test_expect_success '--shard K/N covers the input exactly once' '
	tax-kingdom --typed --taxdump "$TD" --shard 0/2 in.rec >o0 &&
	tax-kingdom --typed --taxdump "$TD" --shard 1/2 in.rec >o1 &&
	{ rows o0; rows o1; } | sort >actual &&
	sort expect.known >expect &&
	test_cmp expect actual
'

# ---- broken dumps -----------------------------------------------------

test_expect_success 'a parent cycle: exit 1 naming it, no output file' '
	mkdir cyc && cp "$TD/names.dmp" cyc/ &&
	sed -e "/^33154	/s/	2759	/	9606	/" "$TD/nodes.dmp" >cyc/nodes.dmp &&
	test_error "^tax-kingdom: in.rec: record 3: taxdump: parent cycle through taxid" tax-kingdom --taxdump cyc -o o.rec in.rec &&
	test_path_is_missing o.rec
'

test_expect_success 'a garbage line: exit 1 with file:line' '
	mkdir garb && cp "$TD/names.dmp" garb/ &&
	{ head -n 3 "$TD/nodes.dmp"; echo "this is not a dump line"; sed 1,3d "$TD/nodes.dmp"; } >garb/nodes.dmp &&
	test_error "^tax-kingdom: garb/nodes.dmp:4: malformed line" tax-kingdom --taxdump garb -o o.rec in.rec &&
	test_path_is_missing o.rec
'

test_expect_success 'a parent that is not a node; a missing scientific name' '
	mkdir orph && cp "$TD/names.dmp" orph/ &&
	sed -e "/^4930	/s/	4751	/	999	/" "$TD/nodes.dmp" >orph/nodes.dmp &&
	test_error "taxid 4930 has parent 999, which is not in nodes.dmp" tax-kingdom --taxdump orph -o o.rec in.rec &&
	mkdir non && cp "$TD/nodes.dmp" non/ &&
	grep -v "^4751	|	Fungi	|	Fungi <kingdom>" "$TD/names.dmp" | grep -v "^4751	|	Fungi	|		|	scientific" >non/names.dmp &&
	test_error "non/names.dmp: no scientific name for taxid 4751" tax-kingdom --taxdump non -o o.rec in.rec &&
	test_path_is_missing o.rec
'

test_expect_success 'no taxdump: exit 1; no --taxdump: exit 2' '
	test_error "nowhere/nodes.dmp" tax-kingdom --taxdump nowhere -o o.rec in.rec &&
	test_usage_error "taxdump DIR is required" tax-kingdom in.rec
'

# ---- bad records ------------------------------------------------------

test_expect_success 'missing field, wrong type: exit 1, no output file' '
	printf "id:str\ttx:int\na\t1\n" >nf.tsv &&
	test_error "no field .taxid." tax-kingdom --taxdump "$TD" -o o.rec nf.tsv &&
	printf "id:str\ttaxid:str\na\t562\n" >wt.tsv &&
	test_error "field .taxid. is str: a taxid must be int" tax-kingdom --taxdump "$TD" -o o.rec wt.tsv &&
	test_path_is_missing o.rec &&
	tax-kingdom --typed -k tx --taxdump "$TD" nf.tsv >out &&
	rows out >actual && printf "a\t1\t\\\\N\t\\\\N\n" >expect && test_cmp expect actual
'

test_expect_success 'empty and truncated input: exit 1, no output file' '
	: >empty &&
	test_error "empty input" tax-kingdom --taxdump "$TD" -o o.rec empty &&
	size=$(wc -c <in.rec) && head -c $((size - 2)) in.rec >trunc.rec &&
	test_error "truncated" tax-kingdom --taxdump "$TD" -o o.rec trunc.rec &&
	test_path_is_missing o.rec
'

test_done
