#!/bin/sh
# rec-fasta: records back to FASTA (as seqkit seq writes it, line width
# 60 or one line) and FASTQ; records that cannot be written faithfully,
# missing fields and wrong types are errors.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

F=$DATA/fasta
U=$DATA/uniprot_20k.fasta.gz
HAVE_SEQKIT='command -v seqkit'

test_expect_success 'setup' '
	cp "$F/small.fa" "$F/small.fq" . &&
	fasta-cat small.fa >small.rec &&
	fasta-cat "$U" >u.rec
'

test_expect_success 'small FASTA, width 5: exact text' '
	rec-fasta -w 5 small.rec >out 2>err &&
	test ! -s err &&
	cat >expect <<-\EOF &&
	>sp|P1|ONE_HUMAN First protein OS=Homo sapiens OX=9606 GN=ONE PE=1 SV=2
	MKVLA
	AGIVG
	LLLAW
	*
	>tr|Q2|Q2_ECOLI Second, lower case
	mkvl*
	aa
	>bare

	>sp|P3|J_YEAST Odd letters OS=Saccharomyces cerevisiae (strain ATCC 204508) GN=J1 PE=3 SV=1
	MJB-Z
	UO.X1
	EOF
	test_cmp expect out
'

test_expect_success_if "$HAVE_SEQKIT" 'small FASTA: as seqkit seq -w 5, -w 60, -w 0' '
	for w in 5 60 0; do
		seqkit seq -w $w small.fa >expect &&
		rec-fasta -w $w small.rec >out &&
		test_cmp expect out || return 1
	done
'

# fasta-cat trims the description: the 20k file has a blank after each
# header, which seqkit keeps.
test_expect_success_if "$HAVE_SEQKIT" 'the 20k file: as seqkit seq -w 60' '
	seqkit seq -w 60 "$U" >s.fa &&
	sed "s/[[:blank:]]*\$//" s.fa >expect &&
	rec-fasta u.rec >out &&
	test_cmp expect out &&
	test $(grep -c "^>" out) -eq 20000
'

test_expect_success_if "$HAVE_SEQKIT" 'the 20k file: as seqkit seq -w 0' '
	seqkit seq -w 0 "$U" >s.fa &&
	sed "s/[[:blank:]]*\$//" s.fa >expect &&
	rec-fasta -w 0 u.rec >out &&
	test_cmp expect out &&
	test $(wc -l <out) -eq 40000
'

test_expect_success 'FASTA in directly, gzip, stdin: the same text' '
	rec-fasta u.rec >expect &&
	rec-fasta "$U" >out &&
	test_cmp expect out &&
	rec-fasta <"$U" >out2 &&
	test_cmp expect out2
'

test_expect_success 'FASTA out, fasta-cat back: the same records' '
	rec-fasta -w 7 u.rec >back.fa &&
	fasta-cat --typed back.fa >a &&
	rec-cat --typed u.rec >b &&
	grep -v "^#meta" a >a1 && grep -v "^#meta" b >b1 &&
	test_cmp b1 a1
'

test_expect_success '-o FILE.gz is compressed' '
	rec-fasta -o out.fa.gz small.rec &&
	gzip -dc out.fa.gz >out &&
	rec-fasta small.rec >expect &&
	test_cmp expect out
'

# ---- FASTQ --------------------------------------------------------------------

test_expect_success 'FASTQ: four lines a record, from a qual field' '
	printf "id:str\tdesc:str\tseq:str\tq:str\n" >fq.tsv &&
	printf "r1\tread one\tACGTACGT\tIIIIIIII\n" >>fq.tsv &&
	printf "r2\t\tACGTAC\tIIIIII\n" >>fq.tsv &&
	rec-fasta --qual q -w 3 fq.tsv >out &&
	printf "@r1 read one\nACGTACGT\n+\nIIIIIIII\n@r2\nACGTAC\n+\nIIIIII\n" >expect &&
	test_cmp expect out
'

test_expect_success_if "$HAVE_SEQKIT" 'FASTQ: as seqkit seq' '
	seqkit seq small.fq >expect &&
	test_cmp expect out
'

test_expect_success 'FASTQ round trip: fasta-cat reads back the records' '
	fasta-cat --typed small.fq >a &&
	fasta-cat --typed out >b &&
	grep -v "^#meta" a >a1 && grep -v "^#meta" b >b1 &&
	test_cmp a1 b1
'

test_expect_success 'FASTQ: quality length differs: error' '
	printf "id:str\tseq:str\tq:str\nr1\tACGT\tII\n" >badq.tsv &&
	test_exit 1 rec-fasta --qual q -o x.fq badq.tsv >out 2>err &&
	echo "rec-fasta: badq.tsv: record 1: quality length 2 differs from sequence length 4" >expect &&
	test_cmp expect err &&
	test ! -e x.fq
'

# ---- fields -----------------------------------------------------------------

test_expect_success 'no desc field: headers are the id; an int id' '
	printf "id:int\tseq:str\n7\tMKV\n-2\tAC\n" >nd.tsv &&
	rec-fasta nd.tsv >out &&
	printf ">7\nMKV\n>-2\nAC\n" >expect &&
	test_cmp expect out
'

test_expect_success 'other field names' '
	printf "acc:str\tnote:str\taa:str\nP1\tsome note\tMKV\n" >o.tsv &&
	rec-fasta --id acc --desc note --seq aa o.tsv >out &&
	printf ">P1 some note\nMKV\n" >expect &&
	test_cmp expect out
'

test_expect_success 'a missing field is an error, no output left' '
	test_exit 1 rec-fasta --seq nope -o x.fa small.rec >out 2>err &&
	echo "rec-fasta: small.rec: no field '"'"'nope'"'"' in input (--seq) (fields: id, desc, seq, len)" >expect &&
	test_cmp expect err && test ! -e x.fa &&
	test_exit 1 rec-fasta nd.tsv --desc desc >out 2>err &&
	echo "rec-fasta: nd.tsv: no field '"'"'desc'"'"' in input (--desc) (fields: id, seq)" >expect &&
	test_cmp expect err &&
	test_exit 1 rec-fasta --qual qual small.rec >out 2>err &&
	grep "no field '"'"'qual'"'"' in input (--qual)" err &&
	test_exit 1 rec-fasta o.tsv >out 2>err &&
	grep "no field '"'"'id'"'"' in input (--id)" err
'

test_expect_success 'a field of the wrong type is an error' '
	test_exit 1 rec-fasta --seq len small.rec >out 2>err &&
	echo "rec-fasta: small.rec: field '"'"'len'"'"' is int, not str" >expect &&
	test_cmp expect err
'

test_expect_success 'a later section without the fields is an error' '
	test_exit 1 rec-fasta small.rec o.tsv >out 2>err &&
	echo "rec-fasta: o.tsv: no field '"'"'id'"'"' in input (--id) (fields: acc, note, aa)" >expect &&
	test_cmp expect err
'

test_expect_success 'nil sequence, blank in the id, line break: errors' '
	printf "id:str\tseq:str\na\tMK\nb\t\\\\N\n" >nil.tsv &&
	test_exit 1 rec-fasta nil.tsv >out 2>err &&
	echo "rec-fasta: nil.tsv: record 2: field '"'"'seq'"'"' is nil" >expect &&
	test_cmp expect err &&
	printf "id:str\tseq:str\na b\tMK\n" >sp.tsv &&
	test_exit 1 rec-fasta sp.tsv >out 2>err &&
	grep "record 1: field '"'"'id'"'"' holds a blank or line break" err &&
	printf "id:str\tseq:str\na\tM\\\\nK\n" >nl.tsv &&
	test_exit 1 rec-fasta nl.tsv >out 2>err &&
	grep "record 1: field '"'"'seq'"'"' holds a line break" err
'

test_expect_success 'a bad width is a usage error' '
	test_exit 2 rec-fasta -w -1 small.rec >out 2>err &&
	grep "^rec-fasta: " err && test ! -s out
'

test_expect_success '--shard: the shards together are the whole' '
	rec-fasta -w 0 --shard 0/2 u.rec >s0 &&
	rec-fasta -w 0 --shard 1/2 u.rec >s1 &&
	rec-fasta -w 0 u.rec >all &&
	test -s s0 && test -s s1 &&
	cat s0 s1 | paste - - | sort >a &&
	paste - - <all | sort >b &&
	test_cmp b a
'

test_expect_success 'empty stream: empty output' '
	rec-head -n 0 small.rec >empty.rec &&
	rec-fasta empty.rec >out &&
	test ! -s out
'

test_done
