#!/bin/sh
# esm-embed is bitwise batch-, thread-, order- and shard-invariant: 200
# real sequences, with the tiny checkpoint (per residue and logits) and an
# 8M-shaped one (6 x 320, 20 heads, ffn 1280; random weights written by
# bench/make_esm_ckpt.py), embedded one per batch, each in a run of its
# own, in one run, with --batch-tokens 256 / 4096 / 65536, --threads 1 / 2
# / 3, shuffled, and as 3 shards: every record's fields are the same bits
# (TSV floats are exact).  Shard caches merged with emb-cache merge hold
# the same emb bytes as the cache of one run.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

TINY=$DATA/esm2/esm2_tiny
N=${PLM_DET_N:-200} LEN=150 LEN8=100
# Sanitizer builds are ~20x slower: fewer and shorter sequences.
if [ -n "${PLM_SAN:-}" ]; then N=40 LEN=60 LEN8=40; fi

# the rows of a TSV output, header first, then sorted
sorted_rows () { body "$1" | head -n 1; body "$1" | tail -n +2 | LC_ALL=C sort; }

test_expect_success "setup: $N UniProt sequences, shuffled copy" '
	fasta-cat --clean "$DATA/uniprot_20k.fasta.gz" -o all.rec &&
	rec-head -n $N all.rec -o s.rec &&
	rec-cut --typed -f id,seq s.rec >s.tsv &&
	test $(body s.tsv | wc -l) -eq $((N + 1)) &&
	{ body s.tsv | head -n 1 &&
	  body s.tsv | tail -n +2 |
	  awk "BEGIN { srand(7) } { printf \"%.9f\t%s\n\", rand(), \$0 }" |
	  LC_ALL=C sort | cut -f 2-
	} >shuf.tsv &&
	! cmp -s s.tsv shuf.tsv
'

# same_everywhere NAME MODEL OPTIONS...: the runs listed above agree with
# a one-thread run of the whole input, record by record.
same_everywhere () {
	name=$1 model=$2
	shift 2
	e () { esm-embed --model "$model" --typed "$@"; }
	e --threads 1 "$@" -o $name.ref.tsv s.tsv &&
	sorted_rows $name.ref.tsv >$name.expect &&
	test $(wc -l <$name.expect) -eq $((N + 1)) &&
	e --threads 2 --batch-tokens 3 "$@" -o $name.one.tsv s.tsv &&
	sorted_rows $name.one.tsv >actual && test_cmp $name.expect actual &&
	for bt in 256 4096 65536; do
		e --threads 2 --batch-tokens $bt "$@" -o $name.bt$bt.tsv s.tsv &&
		sorted_rows $name.bt$bt.tsv >actual && test_cmp $name.expect actual ||
		return 1
	done &&
	for th in 2 3; do
		e --threads $th "$@" -o $name.th$th.tsv s.tsv &&
		sorted_rows $name.th$th.tsv >actual && test_cmp $name.expect actual ||
		return 1
	done &&
	e --threads 3 --batch-tokens 1000 "$@" -o $name.shuf.tsv shuf.tsv &&
	sorted_rows $name.shuf.tsv >actual && test_cmp $name.expect actual &&
	for k in 0 1 2; do
		e --threads 2 --shard $k/3 "$@" -o $name.sh$k.tsv s.tsv || return 1
	done &&
	{ body $name.sh0.tsv | head -n 1 &&
	  for k in 0 1 2; do body $name.sh$k.tsv | tail -n +2; done |
	  LC_ALL=C sort
	} >actual &&
	test_cmp $name.expect actual &&
	# each of the first 8 sequences in a run of its own
	body s.tsv | sed -n "2,9p" >first8 &&
	i=0 && while IFS= read -r line; do
		i=$((i + 1)) &&
		{ body s.tsv | head -n 1 && printf "%s\n" "$line"; } >alone.tsv &&
		e --threads 2 "$@" -o alone.out alone.tsv &&
		body alone.out | tail -n +2 >got &&
		grep -F -x -f got $name.expect >/dev/null || {
			echo "sequence $i alone differs"; return 1; }
	done <first8 &&
	test $i -eq 8
}

test_expect_success 'tiny model, per residue with logits: the same bits every way' '
	same_everywhere tiny "$TINY" --max-len $LEN --pool none --logits
'

test_expect_success 'tiny model, layer 1, f16: the same bits every way' '
	same_everywhere tinyf16 "$TINY" --max-len $LEN --layer 1 --dtype f16
'

test_expect_success_if 'test_have_python numpy' 'setup: an 8M-shaped checkpoint' '
	"$PY" "$PLM_TOP/bench/make_esm_ckpt.py" m8 8M >/dev/null &&
	test -s m8/model.safetensors
'
M8=$TRASH/m8

test_expect_success_if 'test -s "$M8/model.safetensors"' '8M shape, mean and logits: the same bits every way' '
	same_everywhere m8 "$M8" --max-len $LEN8 --logits
'

test_expect_success_if 'test -s "$M8/model.safetensors"' '8M shape, layer 3 per residue: the same bits every way' '
	same_everywhere m8l3 "$M8" --max-len 30 --layer 3 --pool none
'

test_expect_success_if 'test -s "$M8/model.safetensors"' 'three shard caches merged: the emb bytes of one run' '
	esm-embed --threads 1 --model "$M8" --max-len $LEN8 --cache one.h5 -o /dev/null s.rec &&
	for k in 0 1 2; do
		esm-embed --threads $((k + 1)) --batch-tokens $((700 * (k + 1))) \
			--model "$M8" --max-len $LEN8 --shard $k/3 \
			--cache part$k.h5 -o /dev/null shuf.tsv || return 1
	done &&
	emb-cache merge merged.h5 part0.h5 part1.h5 part2.h5 &&
	emb-cache export --typed one.h5 >one.tsv &&
	emb-cache export --typed merged.h5 >merged.tsv &&
	# a sequence under two ids is stored once, under either id: compare
	# the sequence keys and the vectors
	sorted_rows one.tsv | cut -f 2- | LC_ALL=C sort >expect &&
	sorted_rows merged.tsv | cut -f 2- | LC_ALL=C sort >actual &&
	test $(wc -l <expect) -gt $((N * 9 / 10)) &&
	test_cmp expect actual &&
	emb-cache check merged.h5
'

test_done
