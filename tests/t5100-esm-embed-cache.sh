#!/bin/sh
# esm-embed --cache: hits are not recomputed, a repeated sequence is
# computed once, failures are recorded, the output does not depend on the
# cache; settings mismatches; --cache-only; SIGKILL at random moments and
# rerun until done gives the cache of one uninterrupted run; h5py (and
# h5dump when installed) read the file.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

TINY=$DATA/esm2/esm2_tiny

# One thread, as beside other tests.  --max-len 200 keeps it fast.
emb () { esm-embed --threads 1 --model "$TINY" --max-len 200 "$@"; }
# keys and vectors of a cache, sorted by key (float text is bit-exact)
sorted () { emb-cache export --typed "$1" >"$1.tsv" && body "$1.tsv" | sort -t "	" -k2,2; }

test_expect_success 'setup: 600 UniProt sequences; a small set with repeats and an empty one' '
	fasta-cat --clean "$DATA/uniprot_20k.fasta.gz" -o all.rec &&
	rec-head -n 600 all.rec >u.rec &&
	rec-head -n 40 all.rec >h.rec &&
	rec-cut --typed -f id,seq h.rec >h.tsv &&
	{ body h.tsv &&
	  body h.tsv | sed -n "3p;7p" | sed "s/^[^	]*/again_&/" &&
	  body h.tsv | sed -n "3p" | sed "s/^[^	]*/third/" &&
	  printf "void\t\n"
	} >s.tsv &&
	test $(wc -l <s.tsv) -eq 45
'

test_expect_success 'no cache, new cache, all hits: the same rows and messages' '
	emb --failed dropped.rec --typed -o ref.tsv s.tsv 2>ref.err &&
	emb --cache s.h5 --failed dropped.rec -v --typed -o c1.tsv s.tsv 2>c1.err &&
	emb --cache s.h5 --failed dropped.rec -v --typed -o c2.tsv s.tsv 2>c2.err &&
	body ref.tsv >expect &&
	test $(wc -l <expect) -eq 44 &&
	body c1.tsv >actual && test_cmp expect actual &&
	body c2.tsv >actual && test_cmp expect actual &&
	grep -v "^esm-embed: cache\|OpenBLAS\|matrix kernel\|model \|--max-len \|records, \|residues/s" c1.err >actual &&
	test_cmp ref.err actual &&
	grep -v "^esm-embed: cache\|OpenBLAS\|matrix kernel\|model \|--max-len \|records, \|residues/s" c2.err >actual &&
	test_cmp ref.err actual &&
	grep "void.: empty sequence" ref.err &&
	grep "^esm-embed: 1 record not embedded (written to the --failed file)\$" ref.err &&
	grep "^esm-embed: cache s.h5: 0 of 44 records answered by the cache, 40 computed and stored, 3 repeats of a sequence computed in this run, 1 failures recorded$" c1.err &&
	grep "^esm-embed: cache s.h5: 44 of 44 records answered by the cache, 0 computed and stored, 0 repeats of a sequence computed in this run, 0 failures recorded$" c2.err &&
	grep "^esm-embed: 43 records, 0 residues" c2.err
'

test_expect_success 'the cache: one row per distinct sequence, the failure with its reason' '
	emb-cache ls s.h5 >ls &&
	grep "^rows	40$" ls && grep "^failed	1$" ls &&
	grep "^max_len	200$" ls && grep "^layer	2$" ls && grep "^pool	mean$" ls &&
	emb-cache export --typed --failed s.h5 >f.tsv &&
	body f.tsv | cut -f1,3 >actual &&
	printf "id:str\treason:str\nvoid\tempty sequence\n" >expect &&
	test_cmp expect actual &&
	emb-cache check s.h5 >out &&
	echo "s.h5: ok: 40 rows, 1 failed" >expect && test_cmp expect out
'

test_expect_success 'a later run adds only what is new' '
	rec-head -n 50 all.rec >h50.rec &&
	emb --cache s.h5 -v -o /dev/null h50.rec 2>err &&
	grep "cache s.h5: 40 of 50 records answered by the cache, 10 computed and stored" err &&
	emb-cache check s.h5 >out &&
	echo "s.h5: ok: 50 rows, 1 failed" >expect && test_cmp expect out
'

test_expect_success '--dtype f16: the same rows with and without the cache' '
	emb --dtype f16 --failed dropped.rec --typed -o r16.tsv s.tsv 2>/dev/null &&
	emb --dtype f16 --cache s16.h5 --failed dropped.rec --typed -o a16.tsv s.tsv 2>/dev/null &&
	emb --dtype f16 --cache s16.h5 --failed dropped.rec --typed -o b16.tsv s.tsv 2>/dev/null &&
	body r16.tsv >expect &&
	body a16.tsv >actual && test_cmp expect actual &&
	body b16.tsv >actual && test_cmp expect actual
'

test_expect_success 'other settings or another model: a clear error, exit 1, nothing written' '
	cp s.h5 keep.h5 &&
	test_exit 1 emb --cache s.h5 --layer 1 -o o.rec s.tsv 2>err &&
	echo "esm-embed: s.h5: the cache was made with other settings (cache vs this run: layer 2 vs 1); use another cache file" >expect &&
	test_cmp expect err &&
	test_error "(cache vs this run: dtype f32 vs f16)" emb --cache s.h5 --dtype f16 -o o.rec s.tsv &&
	test_error "(cache vs this run: max_len 200 vs 100)" emb --cache s.h5 --max-len 100 -o o.rec s.tsv &&
	test_error "(cache vs this run: pool mean vs max)" emb --cache s.h5 --pool max -o o.rec s.tsv &&
	test_error "(cache vs this run: model signature [0-9a-f]* vs [0-9a-f]*)" esm-embed --model "$DATA/esm2/esm2_tiny_f16" --max-len 200 --cache s.h5 -o o.rec s.tsv &&
	test_path_is_missing o.rec &&
	cmp s.h5 keep.h5 &&
	test_path_is_missing s.h5-journal
'

test_expect_success '--cache-only: no model needed, the same rows' '
	esm-embed --cache s.h5 --cache-only --failed dropped.rec --typed -o co.tsv s.tsv 2>err &&
	body co.tsv >actual && body ref.tsv >expect && test_cmp expect actual &&
	test_cmp ref.err err &&
	emb --cache s.h5 --cache-only --failed dropped.rec --typed -o co2.tsv s.tsv 2>/dev/null &&
	body co2.tsv >actual && test_cmp expect actual &&
	esm-embed --cache s.h5 --cache-only --failed dropped.rec --layer 2 --pool mean --max-len 200 -o /dev/null s.tsv 2>/dev/null &&
	test_usage_error "precision: --cache-only without --model takes the cache" \
		esm-embed --cache s.h5 --cache-only --precision bf16 -o no.rec s.tsv &&
	test_path_is_missing no.rec
'

test_expect_success '--cache-only: sequences not in the cache are an error listing them' '
	rec-head -n 60 all.rec >h60.rec &&
	test_exit 1 esm-embed --cache s.h5 --cache-only -o o.rec h60.rec 2>err &&
	rec-cut --typed -f id h60.rec >ids && body ids | sed -n "52,56p" |
		sed "s/.*/id '"'"'&'"'"'/" | paste -s -d, - | sed "s/,/, /g" >list &&
	echo "esm-embed: s.h5: 10 of 60 records have a sequence that is not in the cache: $(cat list), ..." >expect &&
	test_cmp expect err &&
	test_path_is_missing o.rec &&
	test_error "(cache vs this run: layer 2 vs 1)" esm-embed --cache s.h5 --cache-only --layer 1 -o o.rec s.tsv &&
	test_exit 1 esm-embed --cache nope.h5 --cache-only -o o.rec s.tsv 2>err &&
	test_path_is_missing nope.h5 &&
	test_path_is_missing o.rec
'

test_expect_success 'usage errors exit 2' '
	test_exit 2 emb --cache-only s.tsv 2>err && grep -q "needs --cache" err &&
	test_exit 2 emb --cache x.h5 --pool none s.tsv 2>err &&
	test_exit 2 emb --cache x.h5 --logits s.tsv 2>err &&
	test_exit 2 esm-embed --cache s.h5 --cache-only --layer -1 s.tsv 2>err &&
	test_exit 2 esm-embed --cache x.h5 s.tsv 2>err && grep -q -- "--model" err &&
	test_path_is_missing x.h5
'

# The uninterrupted run's time T sets the delays.  Each interrupted run is
# let go until its journal has grown (so every run makes progress, on any
# machine speed), then killed after a further random 0..5% of T (fixed
# seed): mid-batch, mid-write or between batches, wherever that lands.
test_expect_success 'SIGKILL at random moments, rerun until done: the cache of one run' '
	t0=$(date +%s%N) &&
	emb --cache one.h5 --typed -o one.tsv u.rec 2>/dev/null &&
	t1=$(date +%s%N) &&
	awk -v ns=$((t1 - t0)) "BEGIN { srand(5100);
		for (i = 0; i < 8; i++) printf \"%.3f\n\", ns * 0.05 * rand() / 1e9 }" >delays &&
	jsize () { stat -c %s k.h5-journal 2>/dev/null || echo 0; } &&
	kills=0 runs=0 &&
	while :; do
		runs=$((runs + 1))
		d=$(sed -n "${runs}p" delays)
		esm-embed --threads 1 --model "$TINY" --max-len 200 --cache k.h5 \
			--typed -o k.tsv u.rec </dev/null 2>>k.err &
		pid=$!
		if test -n "$d"; then
			j0=$(jsize) polls=0
			while test $(jsize) -le $j0 && kill -0 $pid 2>/dev/null &&
				test $polls -lt 3000; do
				sleep 0.01; polls=$((polls + 1))
			done
			sleep $d && kill -9 $pid 2>/dev/null
		fi
		wait $pid
		rc=$?
		test $rc -eq 0 && break
		test $rc -eq 137 || { echo "run $runs: exit $rc"; return 1; }
		kills=$((kills + 1))
		if test -f k.h5; then
			emb-cache check k.h5 >/dev/null &&
			emb-cache ls k.h5 | sed -n "s/^journal_rows	//p" >>jrows ||
			return 1
		fi
		test $runs -lt 20 || return 1
	done &&
	echo "$kills kills in $runs runs (delays: $(paste -s -d " " delays) s; rows resumed from the journal: $(paste -s -d " " jrows))" >"$TRASH/kills" &&
	test $kills -ge 5 &&
	sort -n jrows | tail -n 1 >most &&
	test $(cat most) -gt 0 && test $(cat most) -lt 599 &&
	emb-cache check k.h5 >out &&
	echo "k.h5: ok: 599 rows, 0 failed" >expect && test_cmp expect out &&
	test_path_is_missing k.h5-journal && test_path_is_missing k.h5-commit &&
	sorted one.h5 >expect && sorted k.h5 >actual &&
	test $(wc -l <actual) -eq 600 &&
	test_cmp expect actual &&
	cut -f2 actual | sort | uniq -d >dups && test ! -s dups &&
	body one.tsv >expect && body k.tsv >actual && test_cmp expect actual
'

test -f "$TRASH/kills" && echo "# $(cat "$TRASH/kills")"

test_expect_success_if 'test_have_python h5py' 'h5py reads the cache: keys, ids, emb as exported' '
	$PY -c "
import h5py
f = h5py.File(\"k.h5\", \"r\")
a = f.attrs
print(a[\"format\"], a[\"pool\"], a[\"dtype\"], a[\"dim\"], a[\"max_len\"], a[\"layer\"], a[\"rows\"], len(a[\"signature\"]))
print(f[\"emb\"].shape, f[\"emb\"].dtype, f[\"key\"].shape, f[\"id\"].shape, f[\"failed\"].shape)
rows = sorted(zip(f[\"key\"][:], f[\"id\"][:], f[\"emb\"][:]))
for k, i, e in rows[:3]:
    print(i.decode(), k.decode(), e[0].item(), e[63].item())
" >out &&
	cat >expect <<-\EOF &&
	1 mean f32 64 200 2 599 16
	(599, 64) float32 (599,) (599,) (0,)
	EOF
	head -n 2 out >actual && test_cmp expect actual &&
	sorted k.h5 | head -n 3 | cut -f1,2 >ids3 &&
	tail -n 3 out | cut -d " " -f1,2 | tr " " "\t" >actual &&
	test_cmp ids3 actual
'

test_expect_success_if 'command -v h5dump' 'h5dump -H shows the layout' '
	h5dump -H k.h5 >out &&
	grep -q "DATASET \"emb\"" out && grep -q "DATASET \"key\"" out &&
	grep -q "ATTRIBUTE \"signature\"" out
'

test_expect_success '--cache-compress: gzip-filtered emb, same vectors, smaller file' '
	emb --cache z.h5 --cache-compress 6 -o z.rec u.rec &&
	emb --cache z0.h5 -o z0.rec u.rec &&
	sorted z.h5 >z.sorted && sorted z0.h5 >z0.sorted &&
	test_cmp z0.sorted z.sorted &&
	emb-cache check z.h5 &&
	test $(wc -c <z.h5) -lt $(wc -c <z0.h5) &&
	test_exit 2 emb --cache bad.h5 --cache-compress 10 -o bad.rec u.rec 2>err &&
	test_path_is_missing bad.h5
'

test_expect_success_if 'test_have_python h5py' 'h5py sees the gzip filter on emb only' '
	$PY -c "
import h5py
f = h5py.File(\"z.h5\", \"r\")
assert f[\"emb\"].compression == \"gzip\", f[\"emb\"].compression
assert f[\"key\"].compression is None
"
'

test_done
