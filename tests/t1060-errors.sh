#!/bin/sh
# Errors that teach: a missing field names the fields there are; an empty
# stdin is "stdin", also where a tool reads its input twice.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	printf "id:str\tdesc:str\tseq:str\tlen:int\na\tx\tMKV\t3\n" >in.tsv
'

test_expect_success 'no field: the message lists the fields' '
	for cmd in "rec-cut -f label" "rec-stats -c label" "hash-dedup -k label" \
		   "clust-weight -k label" "kmer-feat --seq label" \
		   "strat-split -r a=1 -b label" "pair-make -g label" \
		   "metrics -y label" "rec-fasta --seq label" \
		   "rec-shard -n 2 -k label sh" "rec-filter label==1"; do
		test_exit 1 $cmd in.tsv >out 2>err </dev/null &&
		grep -q "no field .label.* (fields: id, desc, seq, len)\$" err &&
		test ! -s out || { echo "$cmd:"; cat err; return 1; }
	done &&
	test_error "no field .label. in input (fields: id, desc, seq, len)\$" \
		rec-put "x = label . id" in.tsv
'

test_expect_success 'no field: a long list is cut' '
	awk "BEGIN { for (i = 0; i < 200; i++) printf \"%sfield_%d:int\", i ? \"\t\" : \"\", i; print \"\" }" >wide.tsv &&
	test_error "no field .x. in input (fields: field_0, field_1, .*, \\.\\.\\.)\$" rec-cut -f x wide.tsv &&
	test "$(wc -c <err)" -lt 400
'

test_expect_success 'empty stdin is "stdin", also for tools that read twice' '
	for cmd in "rec-cat" "rec-sample -p 0.5" "rec-sample -n 2" \
		   "strat-split -r a=1" "len-bin --edges 0,10" "pair-make -g id" \
		   "mlp-train -o m.mlp" "metrics" "hash-dedup" "leak-check"; do
		test_exit 1 $cmd </dev/null >out 2>err &&
		echo "${cmd%% *}: stdin: empty input" >expect &&
		test_cmp expect err || { echo "$cmd"; return 1; }
	done
'

test_done
