#!/bin/sh
# pipelines/parallel: esm-embed fanned out over 3 shards with GNU parallel
# (300 UniProt sequences, the tiny checkpoint).  The merged shard caches
# hold the rows of one run's cache, the concatenated shard outputs are one
# run's records (compared after sorting: shards come out in id-hash order),
# and emb.rec, rebuilt in input order from the merged cache, is one run's
# output line for line in order (TSV: floats exact; #meta lines differ).
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

PIPE="$PLM_TOP/pipelines/parallel"
TINY=$DATA/esm2/esm2_tiny
N=300 LEN=150
if [ -n "${PLM_SAN:-}" ]; then N=60 LEN=60; fi

command -v make >/dev/null 2>&1 || skip_all 'make not installed'
command -v parallel >/dev/null 2>&1 ||
	skip_all 'GNU parallel not installed (apt-get install parallel)'

# run_pipe DIR [VAR=value ...]: the pipeline into $TRASH/DIR
run_pipe () {
	d=$1; shift
	make -s -C "$PIPE" OUT="$TRASH/$d" BIN="$PLM_BIN" MODEL="$TINY" \
		HEAD=$N SHARDS=3 JOBS=2 EMBED="--max-len $LEN" "$@"
}

# the rows of a TSV output, column line first, then sorted
sorted_rows () { body "$1" | head -n 1; body "$1" | tail -n +2 | LC_ALL=C sort; }

test_expect_success "pipeline: $N sequences in 3 shards, merged, checked" '
	run_pipe out >log 2>&1 &&
	grep -q "^shards to run: 0 1 2 (of 3, 2 at a time)" log &&
	grep -q "^check: $N records embedded in 3 shards" log &&
	for k in 0 1 2; do
		test -s out/shard-$k.rec && test -s out/shard-$k.h5 || return 1
	done &&
	test $(sed 1d out/joblog | wc -l) -eq 3 &&
	test -s out/cache.h5 && test -s out/emb.rec && test -s out/shards.rec
'

test_expect_success 'one run of the whole input, with a cache' '
	esm-embed --model "$TINY" --threads 2 --max-len $LEN --cache one.h5 \
		--typed -o one.tsv out/input.rec &&
	test $(rows one.tsv | wc -l) -eq $N
'

test_expect_success 'merged cache: the rows of the one run cache' '
	emb-cache export --typed one.h5 >one.exp &&
	emb-cache export --typed out/cache.h5 >merged.exp &&
	# a sequence under two ids is stored once, under either id: compare
	# the sequence keys and the vectors
	sorted_rows one.exp | cut -f 2- | LC_ALL=C sort >expect &&
	sorted_rows merged.exp | cut -f 2- | LC_ALL=C sort >actual &&
	test $(wc -l <expect) -gt $((N * 9 / 10)) &&
	test_cmp expect actual &&
	emb-cache check out/cache.h5 >chk &&
	emb-cache check one.h5 >chk1 &&
	sed "s|^.*: ok:|ok:|" chk >actual && sed "s|^.*: ok:|ok:|" chk1 >expect &&
	test_cmp expect actual
'

test_expect_success 'shards concatenated: one run, byte for byte after sorting' '
	rec-cat --typed out/shards.rec >shards.tsv &&
	sorted_rows one.tsv >expect &&
	sorted_rows shards.tsv >actual &&
	test_cmp expect actual &&
	# in shard order, not input order
	! cmp -s expect shards.tsv
'

test_expect_success 'emb.rec: one run, byte for byte, in input order' '
	rec-cat --typed out/emb.rec >emb.tsv &&
	nometa one.tsv >expect &&
	nometa emb.tsv >actual &&
	test_cmp expect actual
'

test_expect_success 'a rerun does nothing' '
	ls -l --time-style=+%s.%N out >before &&
	run_pipe out >log2 2>&1 &&
	ls -l --time-style=+%s.%N out >after &&
	test_cmp before after &&
	! grep -q "^shards to run" log2
'

test_expect_success 'a lost shard: only it runs again, same results' '
	cp out/cache.h5 cache.before &&
	rm out/shard-1.rec out/shards.done &&
	run_pipe out >log3 2>&1 &&
	grep -q "^shards to run: 1 (of 3" log3 &&
	rec-cat --typed out/emb.rec >emb2.tsv &&
	nometa one.tsv >expect && nometa emb2.tsv >actual &&
	test_cmp expect actual &&
	emb-cache export --typed out/cache.h5 >merged2.exp &&
	sorted_rows merged2.exp | cut -f 2- | LC_ALL=C sort >actual &&
	sorted_rows one.exp | cut -f 2- | LC_ALL=C sort >expect &&
	test_cmp expect actual
'

test_expect_success 'a failing shard stops the pipeline, names the shard, no outputs' '
	test_must_fail run_pipe bad MODEL=/nonexistent/model >log4 2>&1 &&
	grep -q "^shard [0-2]/3 failed:" log4 &&
	grep -q "esm-embed: " log4 &&
	test_path_is_missing bad/shards.done &&
	test_path_is_missing bad/cache.h5 &&
	test_path_is_missing bad/emb.rec
'

test_done
