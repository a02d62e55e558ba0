#!/bin/sh
# emb-cache: import, info, check, export, get (the "every id has an
# embedding" rail), merge, commit; h5py reads the file; errors.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

IMP="--signature 00ff00ff00ff00ff --layer 6 --pool mean --max-len 1022"

test_expect_success 'setup: import two caches' '
	printf "id:str\tseq:str\temb:f32[3]\np1\tMKV\t1,2,3\n" >a.tsv &&
	printf "p2\tMKL\t0.5,-1,2.25\np3\tMKV\t9,9,9\np4\t\t\n" >>a.tsv &&
	printf "id:str\tseq:str\temb:f32[3]\nr1\tMKL\t7,7,7\n" >b.tsv &&
	printf "r2\tGGG\t-0,1e-3,3.5\n" >>b.tsv &&
	emb-cache import $IMP --model m/esm2 a.h5 a.tsv 2>err &&
	echo "emb-cache: a.h5: 2 of 4 records added (2 rows now), nil vectors recorded as failed" >expect &&
	test_cmp expect err &&
	emb-cache import $IMP b.h5 b.tsv 2>err &&
	test_path_is_missing a.h5-journal &&
	test_path_is_missing a.h5-commit
'

test_expect_success 'info' '
	emb-cache info a.h5 >out &&
	grep -v "^bytes" out >actual &&
	cat >expect <<-\EOF &&
	path	a.h5
	format	1
	signature	00ff00ff00ff00ff
	model	m/esm2
	layer	6
	pool	mean
	dtype	f32
	dim	3
	max_len	1022
	rows	2
	failed	1
	journal_rows	0
	journal_failed	0
	EOF
	test_cmp expect actual
'

test_expect_success 'check' '
	emb-cache check a.h5 >out &&
	echo "a.h5: ok: 2 rows, 1 failed" >expect &&
	test_cmp expect out
'

test_expect_success 'export: id, seq_hash, emb; --failed' '
	emb-cache export --typed a.h5 >out &&
	printf "id:str\tseq_hash:str\temb:f32[3]\n" >expect &&
	printf "p1\tf9dce822332e65405ad705de14d9e6f7\t1,2,3\n" >>expect &&
	printf "p2\t97bb6c74e4df1ab80138d8d932731c46\t0.5,-1,2.25\n" >>expect &&
	body out >actual &&
	test_cmp expect actual &&
	emb-cache export --typed --failed a.h5 >out &&
	printf "id:str\tseq_hash:str\treason:str\n" >expect &&
	printf "p4\t99aa06d3014798d86001c324468d497f\tnil vector on import\n" >>expect &&
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'export --ids; an absent id is an error' '
	printf "p2\n" >ids &&
	emb-cache export --typed --ids ids a.h5 >out &&
	body out >actual &&
	printf "id:str\tseq_hash:str\temb:f32[3]\n" >expect &&
	printf "p2\t97bb6c74e4df1ab80138d8d932731c46\t0.5,-1,2.25\n" >>expect &&
	test_cmp expect actual &&
	printf "p2\nzz\np3\n" >ids &&
	test_exit 1 emb-cache export --ids ids -o out.rec a.h5 2>err &&
	echo "emb-cache: ids: 2 of 3 ids not in the cache: '"'"'zz'"'"', '"'"'p3'"'"'" >expect &&
	test_cmp expect err &&
	test_path_is_missing out.rec
'

test_expect_success 'get: records with seq get their emb' '
	printf "id:str\tseq:str\tx:int\nq1\tMKL\t1\nq2\tMKV\t2\n" >q.tsv &&
	emb-cache get --typed a.h5 q.tsv >out &&
	printf "id:str\tseq:str\tx:int\temb:f32[3]\n" >expect &&
	printf "q1\tMKL\t1\t0.5,-1,2.25\nq2\tMKV\t2\t1,2,3\n" >>expect &&
	body out >actual &&
	test_cmp expect actual
'

test_expect_success 'get: a missing embedding fails the run, listing it' '
	printf "id:str\tseq:str\nq1\tMKL\nq3\tAAA\nq4\t\n" >q2.tsv &&
	test_exit 1 emb-cache get -o out.rec a.h5 q2.tsv 2>err &&
	echo "emb-cache: a.h5: 2 of 3 sequences have no embedding (1 recorded as failed): q3, q4 (failed: nil vector on import)" >expect &&
	test_cmp expect err &&
	test_path_is_missing out.rec
'

test_expect_success 'get --missing FILE writes them aside' '
	emb-cache get --typed --missing miss.rec a.h5 q2.tsv >out 2>err &&
	body out >actual &&
	printf "id:str\tseq:str\temb:f32[3]\nq1\tMKL\t0.5,-1,2.25\n" >expect &&
	test_cmp expect actual &&
	rec-cat --typed miss.rec >m.tsv &&
	body m.tsv >actual &&
	printf "id:str\tseq:str\nq3\tAAA\nq4\t\n" >expect &&
	test_cmp expect actual &&
	grep -q "2 of 3 sequences have no embedding (1 recorded as failed), written to miss.rec" err
'

test_expect_success 'merge: union, duplicates collapsed, first wins' '
	emb-cache merge m.h5 a.h5 b.h5 2>err &&
	echo "emb-cache: m.h5: 3 rows from 2 caches (1 duplicates collapsed), 1 failed" >expect &&
	test_cmp expect err &&
	emb-cache export --typed m.h5 >out &&
	body out >actual &&
	printf "id:str\tseq_hash:str\temb:f32[3]\n" >expect &&
	printf "p1\tf9dce822332e65405ad705de14d9e6f7\t1,2,3\n" >>expect &&
	printf "p2\t97bb6c74e4df1ab80138d8d932731c46\t0.5,-1,2.25\n" >>expect &&
	printf "r2\te8587744eda000736f349b4df2aa88e4\t-0,0.001,3.5\n" >>expect &&
	test_cmp expect actual &&
	emb-cache check m.h5
'

# The merge runs in the background (so the chain is broken there) and is
# killed once its temporary exists; 100,000 rows take it seconds.
test_expect_success 'merge killed with SIGKILL: the next merge removes its temporary' '
	awk "BEGIN { print \"id:str\tseq:str\temb:f32[64]\"
		for (i = 0; i < 100000; i++) {
			printf \"k%d\tMK%d\t%d\", i, i, i
			for (j = 1; j < 64; j++) printf \",%d\", j
			print \"\"
		} }" >big.tsv &&
	emb-cache import $IMP big.h5 big.tsv 2>/dev/null || exit 1
	emb-cache merge km.h5 big.h5 big.h5 2>/dev/null &
	pid=$!
	n=0 && while ! ls km.h5.tmp.$pid.* >/dev/null 2>&1 && [ $n -lt 5000 ]; do
		n=$((n + 1))
	done &&
	kill -9 $pid && ! wait $pid &&
	ls km.h5.tmp.$pid.* >left &&
	test $(wc -l <left) = 1 &&
	test_path_is_missing km.h5 &&
	emb-cache merge km.h5 a.h5 2>err &&
	test_path_is_missing "$(cat left)" &&
	ls | grep "^km\.h5" >actual &&
	echo km.h5 >expect &&
	test_cmp expect actual || exit 1
	sh -c "exit 0" &
	wait $!
	dead=$!
	: >km.h5.tmp.$dead.Ab12Cd &&
	: >km.h5.tmp$dead &&
	emb-cache merge km.h5 b.h5 2>err &&
	test_path_is_missing km.h5.tmp.$dead.Ab12Cd &&
	test -f km.h5.tmp$dead &&
	rm -f big.tsv big.h5 km.h5*
'

test_expect_success 'merge refuses other settings' '
	printf "id:str\tseq:str\temb:f32[3]\nx\tMK\t1,1,1\n" >c.tsv &&
	emb-cache import --signature 00ff00ff00ff00ff --layer 5 --pool mean --max-len 1022 c.h5 c.tsv 2>/dev/null &&
	test_exit 1 emb-cache merge m2.h5 a.h5 c.h5 2>err &&
	echo "emb-cache: a.h5 and c.h5 have different settings: layer 6 vs 5" >expect &&
	test_cmp expect err &&
	test_path_is_missing m2.h5
'

test_expect_success 'import into a cache with other settings is refused' '
	test_error "a.h5: the cache was made with other settings (cache vs this run: layer 6 vs 7)" emb-cache import --signature 00ff00ff00ff00ff --layer 7 --pool mean --max-len 1022 a.h5 c.tsv &&
	printf "id:str\tseq:str\temb:f32[4]\nx\tMK\t1,1,1,1\n" >d4.tsv &&
	test_error "field .emb. is f32\[4\] but the cache holds f32\[3\]" emb-cache import a.h5 d4.tsv
'

test_expect_success 'a pending journal is seen, then committed' '
	cp a.h5 j.h5 &&
	printf "id:str\tseq:str\temb:f32[3]\nz\tWWW\t4,5,6\n" >z.tsv &&
	emb-cache import j.h5 z.tsv 2>/dev/null &&
	emb-cache check j.h5 >out &&
	echo "j.h5: ok: 3 rows, 1 failed" >expect &&
	test_cmp expect out
'

test_expect_success_if 'test_have_python h5py' 'check finds a broken counter' '
	cp a.h5 bad.h5 &&
	$PY -c "import h5py; f = h5py.File(\"bad.h5\", \"r+\"); f.attrs[\"rows\"] = 5" &&
	test_error "^emb-cache: bad.h5: rows attribute is 5, key has 2 rows" emb-cache check bad.h5
'

test_expect_success_if 'test_have_python h5py' 'h5py reads the cache' '
	$PY -c "
import h5py
f = h5py.File(\"a.h5\", \"r\")
print(f.attrs[\"signature\"], int(f.attrs[\"layer\"]), f.attrs[\"pool\"], f.attrs[\"dtype\"], int(f.attrs[\"rows\"]))
print(f[\"key\"][0].decode(), f[\"id\"][1].decode(), f[\"emb\"].shape, f[\"emb\"].dtype, list(f[\"emb\"][1]))
print(f[\"failed\"][0][\"id\"].decode(), f[\"failed\"][0][\"reason\"].decode())
" >out &&
	cat >expect <<-\EOF &&
	00ff00ff00ff00ff 6 mean f32 2
	f9dce822332e65405ad705de14d9e6f7 p2 (2, 3) float32 [0.5, -1.0, 2.25]
	p4 nil vector on import
	EOF
	test_cmp expect out
'

test_expect_success_if 'test_have_python h5py' 'f16 cache reads as float16 in h5py' '
	printf "id:str\tseq:str\temb:f16[2]\na\tMK\t1.5,-2\n" >h.tsv &&
	emb-cache import $IMP h.h5 h.tsv 2>/dev/null &&
	$PY -c "
import h5py
f = h5py.File(\"h.h5\", \"r\")
print(f[\"emb\"].dtype, list(f[\"emb\"][0]))
" >out &&
	echo "float16 [1.5, -2.0]" >expect &&
	test_cmp expect out &&
	emb-cache export --typed h.h5 >out &&
	tail -n 1 out | cut -f3 >actual &&
	echo "1.5,-2" >expect &&
	test_cmp expect actual
'

test_expect_success 'errors: not a cache, missing, usage' '
	echo junk >junk.h5 &&
	test_exit 1 emb-cache info junk.h5 2>err &&
	echo "emb-cache: junk.h5: cannot open as HDF5" >expect &&
	test_cmp expect err &&
	test_exit 1 emb-cache check nope.h5 2>err &&
	test_usage_error "unknown subcommand .frob." emb-cache frob a.h5 &&
	test_exit 2 emb-cache info 2>err &&
	test_exit 2 emb-cache --ids x info a.h5 2>err &&
	test_usage_error "needs --signature" emb-cache import new.h5 a.tsv &&
	test_path_is_missing new.h5
'

test_expect_success 'get: bad input is an error, no output file' '
	printf "id:str\tsq:str\nq\tMK\n" >noseq.tsv &&
	test_error "no field .seq. in input" emb-cache get -o o.rec a.h5 noseq.tsv &&
	printf "id:str\tseq:int\nq\t5\n" >intseq.tsv &&
	test_error "field .seq. is int, not str" emb-cache get -o o.rec a.h5 intseq.tsv &&
	: >empty &&
	test_error "empty input" emb-cache get -o o.rec a.h5 empty &&
	rec-cat -M q.tsv >q.rec &&
	head -c 30 q.rec >trunc.rec &&
	test_error "truncated" emb-cache get -o o.rec a.h5 trunc.rec &&
	test_path_is_missing o.rec
'

test_expect_success 'get --shard: the shards cover the input once' '
	emb-cache get --typed --shard 0/2 a.h5 q.tsv >s0 &&
	emb-cache get --typed --shard 1/2 a.h5 q.tsv >s1 &&
	body s0 >b0 && body s1 >b1 &&
	test $(cat b0 b1 | grep -c "^q") = 2
'

test_done
