#!/bin/sh
# pipelines/membership: reference set, length bins, quota-matched disjoint
# samples, frozen splits, leak checks, on the bundled 20k UniProt data.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

PIPE="$PLM_TOP/pipelines/membership"
q="'"    # SQL string quotes inside the test bodies

command -v make >/dev/null 2>&1 || skip_all 'make not installed'

# run_pipe DIR [VAR=value ...]: the pipeline into $TRASH/DIR
run_pipe () {
	d=$1; shift
	make -s -C "$PIPE" OUT="$TRASH/$d" BIN="$PLM_BIN" "$@"
}

# cut_rows ARGS...: the data rows of rec-cut --typed ARGS
cut_rows () {
	rec-cut --typed "$@" | rows
}

test_expect_success 'pipeline runs and checks pass' '
	run_pipe out >log 2>&1 &&
	grep -q "^check: all passed" log &&
	test -s out/report.txt &&
	for s in N S1 S2 S3; do
		test -s out/$s.rec && test -s out/$s.split.rec &&
		test -s out/$s.manifest.tsv || return 1
	done
'

test_expect_success 'set sizes: N 2000, S1..S3 1000 each, split 80/20' '
	for s in N S1 S2 S3; do
		printf "%s %s %s %s\n" $s $(rec-filter --count "len>=0" out/$s.rec) \
			$(rec-filter --count "split==train" out/$s.split.rec) \
			$(rec-filter --count "split==test" out/$s.split.rec)
	done >got &&
	cat >want <<-\EOF &&
	N 2000 1599 401
	S1 1000 801 199
	S2 1000 801 199
	S3 1000 801 199
	EOF
	test_cmp want got
'

test_expect_success 'quotas sum to 1000; every sample equals them per kingdom x bin' '
	cut_rows -f kingdom,bin,quota out/quota.rec | sort >quota &&
	test $(awk -F"	" "{ s += \$3 } END { print s }" quota) -eq 1000 &&
	test $(wc -l <quota) -eq 20 &&
	for s in S1 S2 S3; do
		cut_rows -f kingdom,bin out/$s.rec | sort | uniq -c |
			awk "{ print \$2 \"\t\" \$3 \"\t\" \$1 }" >got.$s &&
		test_cmp quota got.$s || return 1
	done
'

# Independent oracle: bins from N's lengths by the documented quantile rule,
# the sample size shared by kingdom and then by bin by largest remainder.
test_expect_success_if 'test_have_python' 'quotas and bins agree with an oracle' '
	cut_rows -f len,kingdom,bin out/N.rec >n.tsv &&
	$PY - n.tsv quota >oracle.out <<-\PY &&
	import sys
	rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
	L = sorted(int(r[0]) for r in rows)
	n = len(L)
	edges = [0] + [L[k * n // 10] for k in range(1, 10)] + [L[-1] + 1]
	assert edges == sorted(set(edges)), "tied edges"
	def binof(x):
	    return max(i for i in range(10) if edges[i] <= x)
	for r in rows:
	    assert binof(int(r[0])) == int(r[2]), r
	def lr(total, counts):
	    t = sum(counts)
	    q = [total * c // t for c in counts]
	    rem = sorted(range(len(counts)), key=lambda i: (-(total * counts[i] - q[i] * t), i))
	    for i in rem[: total - sum(q)]:
	        q[i] += 1
	    return q
	ks = ["Viruses", "cellular"]
	kc = [sum(r[1] == k for r in rows) for k in ks]
	kq = lr(1000, kc)
	want = []
	for k, q in zip(ks, kq):
	    bc = [sum(r[1] == k and int(r[2]) == b for r in rows) for b in range(10)]
	    for b, x in enumerate(lr(q, bc)):
	        want.append("%s\t%d\t%d" % (k, b, x))
	got = [l.rstrip("\n") for l in open(sys.argv[2])]
	print("ok" if sorted(want) == got else "want %s got %s" % (sorted(want), got))
	PY
	echo ok >want && test_cmp want oracle.out
'

test_expect_success 'sets are disjoint by sequence (not only by hash)' '
	for s in N S1 S2 S3; do cut_rows -f seq out/$s.rec; done >seqs &&
	test $(wc -l <seqs) -eq 5000 &&
	test $(sort -u seqs | wc -l) -eq 5000 &&
	for s in N S1 S2 S3; do cut_rows -f id out/$s.rec; done | sort | uniq -d >dup &&
	test ! -s dup
'

test_expect_success 'every set holds sequences of the data only' '
	fasta-cat --clean --uniprot "$DATA/uniprot_20k.fasta.gz" >all.rec 2>/dev/null &&
	cut_rows -f seq all.rec | sort -u >pool.seqs &&
	sort -u seqs >set.seqs &&
	test $(comm -13 pool.seqs set.seqs | wc -l) -eq 0
'

test_expect_success 'leak-check: no exact copy across train/test or across sets' '
	for f in N S1 S2 S3 cross; do
		test -f out/$f.leaks.rec &&
		test $(rec-filter --count "exact==true" out/$f.leaks.rec) -eq 0 || return 1
	done
'

test_expect_success 'leak-check on a split: exit status only from near-duplicates' '
	leak-check --forbid train:test -o rep.rec out/S1.split.rec 2>err;
	code=$? &&
	n=$(rec-filter --count "exact==false" rep.rec) &&
	x=$(rec-filter --count "exact==true" rep.rec) &&
	test $x -eq 0 &&
	if test $n -eq 0; then test $code -eq 0; else test $code -eq 1; fi
'

test_expect_success 'leak-check catches an exact copy planted across train/test' '
	rec-filter "split==train" out/S1.split.rec >train.rec &&
	rec-head -n 1 train.rec >one.rec &&
	rec-put id=planted split=test one.rec >planted.rec &&
	rec-cat out/S1.split.rec planted.rec >bad.rec &&
	test_exit 1 leak-check --forbid train:test -o rep2.rec bad.rec 2>err &&
	test $(rec-filter --count "exact==true && b==planted" rep2.rec) -eq 1
'

test_expect_success 'deterministic: a second run gives the same manifests and sets' '
	run_pipe out2 >log2 2>&1 &&
	for s in N S1 S2 S3; do
		test_cmp out/$s.manifest.tsv out2/$s.manifest.tsv &&
		grep "^#digest	[0-9a-f]\{32\}$" out/$s.manifest.tsv || return 1
	done >digests &&
	test $(wc -l <digests) -eq 4 &&
	test_cmp out/report.txt out2/report.txt
'

test_expect_success 'incremental: a rerun rebuilds nothing' '
	ls -l --time-style=+%s.%N out/*.rec out/*.tsv out/*.hashes >before &&
	run_pipe out >log3 2>&1 &&
	ls -l --time-style=+%s.%N out/*.rec out/*.tsv out/*.hashes >after &&
	test_cmp before after &&
	grep -q "^check: all passed" log3
'

test_expect_success 'another SEED gives other sets, still checked' '
	run_pipe out2 SEED=12 >log4 2>&1 &&
	grep -q "^check: all passed" log4 &&
	! cmp -s out/S1.manifest.tsv out2/S1.manifest.tsv
'

test_expect_success 'check fails loudly when sets overlap' '
	cp out2/N.rec out2/S1.rec &&
	test_must_fail run_pipe out2 SEED=12 check >log5 2>&1 &&
	grep "FAILED" log5 &&
	grep -q "shared between sets" log5
'

test_expect_success 'a sample the pool cannot fill stops the pipeline' '
	test_must_fail run_pipe out3 SIZE=8000 >log6 2>&1 &&
	grep -q "short by" log6 &&
	test -s out3/S1.rec &&
	test_path_is_missing out3/S2.rec &&
	test_path_is_missing out3/report.txt
'

# The same sequences as FASTA and as Parquet shards shaped like ESM-2's
# pretraining data (ur50_id, ur90_id, sequence; several row groups; snappy
# and zstd), with the organisms in a separate id table: the pipeline gives
# the same sets, bins, quotas, splits and report.
test_expect_success 'Parquet shards (snappy, zstd, row groups) give the FASTA result' '
	gzip -dc "$DATA/uniprot_20k.fasta.gz" |
		awk "/^>/ { split(\$1, a, \"|\"); \$1 = \">UniRef90_\" a[2] } { print }" >ur.fasta &&
	fasta-cat ur.fasta | rec-cut -T -f id,seq |
		awk -F"	" "BEGIN { OFS = \"\t\" } NR == 1 { print \"ur50_id\", \"ur90_id\", \"sequence\"; next }
			{ c = \$1; sub(/90_/, \"50_\", c); print c, \$1, \$2 }" >ur.tsv &&
	test $(wc -l <ur.tsv) -eq 20001 &&
	head -n 12001 ur.tsv >a.tsv && { head -n 1 ur.tsv && tail -n +12002 ur.tsv; } >b.tsv &&
	PLM_PARQUET=codec=snappy,row_group=1000 rec-cat -o a.parquet a.tsv &&
	PLM_PARQUET=codec=zstd,row_group=3000 rec-cat -o b.parquet b.tsv &&
	fasta-cat --uniprot ur.fasta | rec-cut -f id,organism -o taxa.parquet &&
	run_pipe fa DATA="$TRASH/ur.fasta" >log7 2>&1 &&
	run_pipe pq DATA="$TRASH/a.parquet $TRASH/b.parquet" TAXA="$TRASH/taxa.parquet" >log8 2>&1 &&
	grep -q "^check: all passed" log8 &&
	sed 1d fa/report.txt >want && sed 1d pq/report.txt >got && test_cmp want got &&
	grep -q "^pool: 20000 in, 18801 kept, 1199 duplicates" got &&
	for s in N S1 S2 S3; do
		test_cmp fa/$s.manifest.tsv pq/$s.manifest.tsv &&
		cut_rows -f id,seq,len,organism,kingdom,bin,split fa/$s.split.rec >want.$s &&
		cut_rows -f id,seq,len,organism,kingdom,bin,split pq/$s.split.rec >got.$s &&
		test $(wc -l <got.$s) -eq $(rec-filter --count "len>=0" fa/$s.rec) &&
		test_cmp want.$s got.$s || return 1
	done &&
	head -n 1 got.N | grep -q "^UniRef90_" &&
	body fa/N.bins.tsv | sed 1d >want && body pq/N.bins.tsv | sed 1d >got && test_cmp want got &&
	cut_rows -f kingdom,bin,quota fa/quota.rec >want && cut_rows -f kingdom,bin,quota pq/quota.rec >got &&
	test_cmp want got
'

test_expect_success_if 'test_have_duckdb' 'the shards have several row groups of each codec' '
	$PQ_ORACLE sql "select count(distinct row_group_id), string_agg(distinct compression, $q,$q), sum(row_group_num_rows) / 3 from parquet_metadata($q$TRASH/a.parquet$q)" >got &&
	$PQ_ORACLE sql "select count(distinct row_group_id), string_agg(distinct compression, $q,$q), sum(row_group_num_rows) / 3 from parquet_metadata($q$TRASH/b.parquet$q)" >>got &&
	printf "%s\n" "[\"12\",\"SNAPPY\",12000]" "[\"3\",\"ZSTD\",8000]" >want &&
	test_cmp want got
'

test_expect_success 'Parquet input: a missing TAXA or column is an error, no pool' '
	test_must_fail run_pipe pq2 DATA="$TRASH/a.parquet" >log9 2>&1 &&
	grep -q "TAXA=FILE" log9 &&
	test_must_fail run_pipe pq2 DATA="$TRASH/a.parquet" TAXA="$TRASH/taxa.parquet" IDCOL=uniref90 >log10 2>&1 &&
	grep -q "uniref90" log10 &&
	test_path_is_missing pq2/uniq.rec
'

test_done
