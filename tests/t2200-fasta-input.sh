#!/bin/sh
# FASTA and FASTQ wherever records are read: a FASTA file (plain, gzip,
# stdin) given to a record tool gives the output of that tool fed
# `fasta-cat FILE`; FASTQ likewise; malformed input fails with fasta-cat's
# message; a stream and a FASTA file together are two sections.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

F=$DATA/fasta
TINY=$DATA/esm2/esm2_tiny

# The #meta line holds each run's argv: the rest must be byte for byte equal.
nometa () { grep -v '^#meta' "$1"; }

# same FILE CMD...: CMD FILE and CMD on the records of `fasta-cat FILE`
# write the same bytes (all but #meta), and so do both on stdin.
same () {
	f=$1
	shift
	fasta-cat "$f" >fc.rec &&
	"$@" "$f" >direct.out &&
	"$@" fc.rec >piped.out &&
	nometa direct.out >direct &&
	nometa piped.out >piped &&
	test_cmp piped direct &&
	"$@" <"$f" >stdin.out &&
	nometa stdin.out >stdin &&
	test_cmp piped stdin &&
	test -s direct
}

test_expect_success 'setup' '
	cp "$F/small.fa" "$F/small.fq" "$F/crlf.fa" . &&
	gzip -dc "$DATA/uniprot_20k.fasta.gz" |
	awk "/^>/ { n++ } n <= 300" >sub.fa &&
	test $(grep -c "^>" sub.fa) -eq 300 &&
	gzip -c sub.fa >sub.fa.gz &&
	awk "/^>/ { n++ } n <= 6" sub.fa >six.fa &&
	printf ">x\nAC\001GT\n" >bad.fa &&
	printf "@r\nACGT\n+\nII\n" >bad.fq
'

# ---- the records ------------------------------------------------------------

test_expect_success 'rec-head: the first records of the 20k file, gzip' '
	rec-head --typed -n 3 "$DATA/uniprot_20k.fasta.gz" >out &&
	nometa out >body &&
	head -n 2 body >hdr &&
	printf "#plm\t1\nid:str\tdesc:str\tseq:str\tlen:int\n" >expect &&
	test_cmp expect hdr &&
	cut -f 1,4 body | sed -n "3,\$p" >got &&
	printf "tr|W0FSK4|W0FSK4_9FLAV\t1880\ntr|M4KW32|M4KW32_BACIU\t381\nsp|Q8AWH3|SX17A_XENTR\t383\n" >expect &&
	test_cmp expect got
'

test_expect_success 'meta.prov holds only the reading tool' '
	grep "^#meta	{\"prov\":\[{\"tool\":\"rec-head\",\"version\":\"[0-9.]*\",\"argv\":\[\"rec-head\",\"--typed\",\"-n\",\"3\",\"[^\"]*uniprot_20k.fasta.gz\"\],\"seed\":null}\]}$" out
'

test_expect_success 'rec-cat: every record of the 20k file, as fasta-cat' '
	fasta-cat --typed "$DATA/uniprot_20k.fasta.gz" >fc.out &&
	rec-cat --typed "$DATA/uniprot_20k.fasta.gz" >rc.out &&
	test $(nometa rc.out | wc -l) -eq 20002 &&
	nometa fc.out >a && nometa rc.out >b && test_cmp a b
'

test_expect_success 'rec-head, plain and gzip' '
	same sub.fa rec-head --typed -n 7 &&
	same sub.fa.gz rec-head --typed -n 7
'

test_expect_success 'rec-filter' '
	same sub.fa rec-filter --typed "len>=300" &&
	test $(wc -l <direct) -gt 100 &&
	same sub.fa.gz rec-filter --typed "len<300"
'

test_expect_success 'strat-split (two passes: stdin is spooled)' '
	same sub.fa strat-split --typed -r train=0.8,val=0.1,test=0.1 &&
	same sub.fa.gz strat-split --typed -r train=0.5,test=0.5 -s 3
'

test_expect_success 'kmer-feat' '
	same sub.fa kmer-feat --typed --aac --dpc &&
	same sub.fa.gz kmer-feat --typed --kmer 3 --dim 64
'

test_expect_success 'esm-embed (tiny checkpoint)' '
	same six.fa esm-embed --typed --threads 1 --model "$TINY" &&
	test $(wc -l <direct) -eq 8
'

test_expect_success 'mlp-predict on kmer-feat features of FASTA' '
	fasta-cat --typed sub.fa >sub.tsv &&
	awk -F"\t" "BEGIN { OFS = FS }
		/^#/ { next }
		!h { print \"id:str\", \"seq:str\", \"label:int\", \"split:str\"; h = 1; next }
		{ print \$1, \$3, (\$4 > 300), (NR % 5 ? \"train\" : \"val\") }" sub.tsv >lab.tsv &&
	kmer-feat --aac lab.tsv -o lab.rec 2>/dev/null &&
	mlp-train --hidden 4 --epochs 3 -o m.mlp lab.rec 2>/dev/null &&
	kmer-feat --typed --aac six.fa >feat.out 2>/dev/null &&
	fasta-cat six.fa >six.rec &&
	kmer-feat --typed --aac six.rec >feat-piped.out 2>/dev/null &&
	mlp-predict --typed --allow-seen -m m.mlp feat.out >p.out &&
	mlp-predict --typed --allow-seen -m m.mlp feat-piped.out >q.out &&
	nometa p.out >a && nometa q.out >b && test_cmp b a &&
	test $(wc -l <a) -eq 8
'

test_expect_success 'mlp-predict: FASTA has no feature field, named as for a stream' '
	test_exit 1 mlp-predict -m m.mlp six.fa >out 2>err &&
	echo "mlp-predict: six.fa: no field '"'"'emb'"'"' in input (the features, --x) (fields: id, desc, seq, len)" >expect &&
	test_cmp expect err && test ! -s out
'

# ---- FASTQ, CRLF, several files ----------------------------------------------

test_expect_success 'FASTQ: id, desc, seq, len; no quality field' '
	same small.fq rec-head --typed &&
	printf "#plm\t1\nid:str\tdesc:str\tseq:str\tlen:int\nr1\tread one\tACGTACGT\t8\nr2\t\tACGTAC\t6\n" >expect &&
	test_cmp expect direct
'

test_expect_success 'CRLF FASTA' '
	same crlf.fa rec-filter --typed "len>0"
'

test_expect_success 'two FASTA files: one section, as fasta-cat A B' '
	fasta-cat --typed small.fa crlf.fa >a.out &&
	rec-cat --typed small.fa crlf.fa >b.out &&
	nometa a.out >a && nometa b.out >b && test_cmp a b
'

test_expect_success 'a stream and a FASTA file: two sections' '
	printf "#plm\t1\nid:str\tx:int\nq\t5\n" >s.tsv &&
	rec-cat --typed s.tsv small.fq >out &&
	nometa out >got &&
	printf "#plm\t1\nid:str\tx:int\nq\t5\n#plm\t1\nid:str\tdesc:str\tseq:str\tlen:int\nr1\tread one\tACGTACGT\t8\nr2\t\tACGTAC\t6\n" >expect &&
	test_cmp expect got
'

test_expect_success 'a fasta-cat stream and a FASTA file: one section' '
	fasta-cat small.fa >small.rec &&
	rec-cat --typed small.rec small.fq >out &&
	test $(grep -c "^#plm" out) -eq 1 &&
	test $(nometa out | wc -l) -eq 8
'

# ---- malformed input ---------------------------------------------------------

# bad FILE CMD...: CMD FILE fails (exit 1) with the message fasta-cat gives,
# under CMD's name; from stdin the message names stdin.
bad () {
	f=$1
	shift
	test_exit 1 fasta-cat "$f" >out 2>fc.err &&
	test_exit 1 "$@" "$f" >out 2>err &&
	sed "s/^fasta-cat: /$1: /" fc.err >expect &&
	test_cmp expect err &&
	test_exit 1 "$@" <"$f" >out 2>err &&
	sed "s/^fasta-cat: $f:/$1: stdin:/" fc.err >expect &&
	test_cmp expect err
}

test_expect_success 'control byte in a sequence: FILE:LINE message' '
	bad bad.fa rec-head &&
	echo "rec-head: stdin:2: control byte 0x01 in sequence (binary data?)" >expect &&
	test_cmp expect err &&
	bad bad.fa strat-split -r a=1 &&
	bad bad.fa kmer-feat --aac
'

test_expect_success 'FASTQ quality shorter than the sequence' '
	bad bad.fq rec-filter "len>0" &&
	bad bad.fq rec-cat
'

test_expect_success 'FASTA and FASTQ mixed in one file' '
	cat small.fa small.fq >mixed.fa &&
	bad mixed.fa rec-head
'

test_expect_success 'gzip FASTA truncated: an error, not a short stream' '
	head -c 2000 sub.fa.gz >cut.fa.gz &&
	test_exit 1 rec-cat --typed cut.fa.gz >out 2>err &&
	grep "^rec-cat: cut.fa.gz" err
'

test_expect_success 'a blank input is not FASTA: still an error' '
	printf "\n\n" >blank &&
	test_exit 1 rec-head blank >out 2>err &&
	grep "^rec-head: blank" err
'

test_done
