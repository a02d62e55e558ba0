#!/bin/sh
# hash-dedup: first occurrence of each sequence wins, order kept; --exclude
# from a stream, FASTA or hash list; --write-hashes; counts on stderr; the
# same survivors as seqkit rmdup -s on real data.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	printf "id:str\tseq:str\tn:int\n" >in.tsv &&
	printf "a\tMKV\t1\nb\tMKL\t2\nc\tMKV\t3\nd\tmkv\t4\ne\t\t5\nf\tMKL\t6\ng\t\t7\n" >>in.tsv &&
	rec-cat -M in.tsv >in.rec
'

test_expect_success 'first wins, order kept, other fields passed through' '
	hash-dedup --typed in.rec >out 2>err &&
	rows out >actual &&
	printf "a\tMKV\t1\nb\tMKL\t2\nd\tmkv\t4\ne\t\t5\n" >expect &&
	test_cmp expect actual &&
	head -n 3 out | grep -q "^id:str	seq:str	n:int$"
'

test_expect_success 'counts on stderr; -q silences them' '
	grep -q "^hash-dedup: 7 in, 4 kept, 3 duplicates, 0 excluded;" err &&
	hash-dedup -q -o x.rec in.rec 2>err2 &&
	test ! -s err2
'

test_expect_success 'meta.prov names hash-dedup' '
	grep "^#meta" out | grep -q "\"tool\":\"hash-dedup\""
'

test_expect_success '-i compares upper-cased sequences' '
	hash-dedup --typed -i in.tsv >out 2>/dev/null &&
	rows out | cut -f1 >actual &&
	printf "a\nb\ne\n" >expect &&
	test_cmp expect actual
'

test_expect_success '-k dedups on another str field' '
	printf "id:str\tp:str\nx\tA\ny\tA\nz\tB\n" >k.tsv &&
	hash-dedup --typed -k p k.tsv >out 2>/dev/null &&
	rows out | cut -f1 >actual &&
	printf "x\nz\n" >expect &&
	test_cmp expect actual
'

test_expect_success '--write-hashes: header, one 32-hex XXH3-128 per kept record, #end' '
	hash-dedup -q -o kept.rec --write-hashes h.txt in.rec &&
	test $(wc -l <h.txt) -eq 6 &&
	sed -n 1p h.txt >actual && printf "#plm-hashes\t1\n" >expect &&
	test_cmp expect actual &&
	sed -n 6p h.txt >actual && printf "#end\t4\n" >expect &&
	test_cmp expect actual &&
	test $(grep -c "^[0-9a-f]\{32\}$" h.txt) -eq 4 &&
	# XXH3-128 of the empty sequence (record e), a published test vector
	sed -n 5p h.txt >actual &&
	echo 99aa06d3014798d86001c324468d497f >expect &&
	test_cmp expect actual
'

test_expect_success '--exclude a hash list drops everything in it' '
	printf "id:str\tseq:str\tn:int\nq\tMKV\t1\nr\tWWW\t2\nr2\tWWW\t3\ns\t\t4\n" >b.tsv &&
	hash-dedup --typed --exclude h.txt b.tsv >out 2>err &&
	rows out >actual &&
	printf "r\tWWW\t2\n" >expect &&
	test_cmp expect actual &&
	grep -q "4 in, 1 kept, 1 duplicates, 2 excluded (exclude set: 4 entries, 4 distinct)" err
'

test_expect_success '--exclude a stream, a FASTA file, gzip compressed' '
	hash-dedup --typed --exclude in.rec b.tsv >out1 2>/dev/null &&
	rows out1 >actual &&
	test_cmp expect actual &&
	printf ">p1 x\nMK\nV\n>p2\n\n>p3\nQQ\n" >ex.fa && gzip -c ex.fa >ex.fa.gz &&
	hash-dedup --typed --exclude ex.fa.gz b.tsv >out2 2>/dev/null &&
	rows out2 | cut -f1 >actual2 &&
	printf "r\n" >expect2 &&
	test_cmp expect2 actual2
'

test_expect_success '--exclude makes sets disjoint' '
	hash-dedup -q -o a.rec --write-hashes ha.txt in.rec &&
	hash-dedup -q --typed --exclude ha.txt b.tsv in.tsv >out &&
	rows out | cut -f2 | sort >bseqs &&
	hash-dedup -q --typed in.rec >aout && rows aout | cut -f2 | sort >aseqs &&
	comm -12 aseqs bseqs >common &&
	test ! -s common
'

test_expect_success 'a hash list with no hashes excludes nothing' '
	printf "id:str\tseq:str\n" >none.tsv &&
	hash-dedup -q -o none.rec --write-hashes empty.txt none.tsv &&
	printf "#plm-hashes\t1\n#end\t0\n" >expect &&
	test_cmp expect empty.txt &&
	hash-dedup -q --typed --exclude empty.txt in.rec >out &&
	test $(rows out | wc -l) -eq 4
'

test_expect_success 'concatenated hash lists are one list' '
	hash-dedup -q -k p -o x.rec --write-hashes hk.txt k.tsv &&
	cat h.txt hk.txt empty.txt >cat.txt &&
	hash-dedup --typed -k p --exclude cat.txt k.tsv >out 2>err &&
	grep -q "3 in, 0 kept, 0 duplicates, 3 excluded (exclude set: 6 entries, 6 distinct)" err &&
	hash-dedup --typed --exclude cat.txt in.rec >out 2>err &&
	grep -q "7 in, 0 kept, 0 duplicates, 7 excluded (exclude set: 6 entries, 6 distinct)" err
'

test_expect_success 'duplicates across files and sections count once' '
	hash-dedup --typed in.rec in.tsv >out 2>err &&
	test $(rows out | wc -l) -eq 4 &&
	grep -q "14 in, 4 kept, 10 duplicates" err
'

# ---- errors -----------------------------------------------------------

test_expect_success 'missing field: exit 1, no output file' '
	test_error "^hash-dedup: .*no field .nope." hash-dedup -k nope -o o.rec in.rec &&
	test_path_is_missing o.rec
'

test_expect_success 'wrong type: exit 1' '
	test_error "field .n. is int" hash-dedup -k n -o o.rec in.rec &&
	test_path_is_missing o.rec
'

test_expect_success 'nil sequence: exit 1, names the record' '
	printf "id:str\tseq:str\nx\tMK\ny\t\\\\N\n" >nil.tsv &&
	test_error "record 2: field .seq. is nil" hash-dedup -o o.rec nil.tsv &&
	test_path_is_missing o.rec
'

test_expect_success 'empty input: exit 1' '
	: >empty &&
	test_error "empty input" hash-dedup -o o.rec empty &&
	test_path_is_missing o.rec
'

test_expect_success 'truncated stream: exit 1, no output files' '
	size=$(wc -c <in.rec) &&
	head -c $((size - 3)) in.rec >trunc.rec &&
	test_error "truncated" hash-dedup -o o.rec --write-hashes oh.txt trunc.rec &&
	test_path_is_missing o.rec &&
	test_path_is_missing oh.txt
'

test_expect_success 'bad hash list line: exit 1 with file:line' '
	printf "#plm-hashes\t1\n99aa06d3014798d86001c324468d497f\nnot-a-hash\n#end\t2\n" >bad.txt &&
	test_exit 1 hash-dedup -o o.rec --exclude bad.txt in.rec 2>err &&
	echo "hash-dedup: bad.txt:3: not a sequence hash (32 hex digits)" >expect &&
	test_cmp expect err &&
	test_path_is_missing o.rec
'

test_expect_success '--exclude a 0-byte file: exit 1, not an empty list' '
	: >zero.txt &&
	test_exit 1 hash-dedup -o o.rec --exclude zero.txt in.rec 2>err &&
	echo "hash-dedup: zero.txt: empty file, not a hash list, FASTA or stream" >expect &&
	test_cmp expect err &&
	test_path_is_missing o.rec
'

test_expect_success '--exclude a truncated hash list: exit 1' '
	head -n 3 h.txt >trunc.txt &&
	test_exit 1 hash-dedup -o o.rec --exclude trunc.txt in.rec 2>err &&
	echo "hash-dedup: trunc.txt:3: truncated hash list (no #end line)" >expect &&
	test_cmp expect err &&
	test_path_is_missing o.rec &&
	head -c 9 h.txt >trunc2.txt &&
	test_exit 1 hash-dedup -o o.rec --exclude trunc2.txt in.rec 2>err &&
	echo "hash-dedup: trunc2.txt:1: truncated hash list (the last line has no newline)" >expect &&
	test_cmp expect err &&
	size=$(wc -c <h.txt) &&
	head -c $((size - 2)) h.txt >trunc3.txt &&
	test_exit 1 hash-dedup -o o.rec --exclude trunc3.txt in.rec 2>err &&
	echo "hash-dedup: trunc3.txt:6: truncated hash list (the last line has no newline)" >expect &&
	test_cmp expect err &&
	sed 1d h.txt >nohead.txt &&
	test_exit 1 hash-dedup -o o.rec --exclude nohead.txt in.rec 2>err &&
	grep -F "hash-dedup: nohead.txt:1: hash list without its #plm-hashes header" err &&
	test_path_is_missing o.rec
'

test_expect_success '--exclude a hash list whose #end disagrees: exit 1' '
	sed "s/^#end.*/#end\t5/" h.txt >miscount.txt &&
	test_exit 1 hash-dedup -o o.rec --exclude miscount.txt in.rec 2>err &&
	printf "hash-dedup: miscount.txt:6: #end says 5 hashes, the section has 4\n" >expect &&
	test_cmp expect err &&
	printf "#end\t0\n" >>h2.txt && cat h.txt h2.txt >after.txt &&
	test_exit 1 hash-dedup -o o.rec --exclude after.txt in.rec 2>err &&
	grep -F "after.txt:7: expected a hash list header (#plm-hashes<TAB>1) after #end" err &&
	test_path_is_missing o.rec
'

test_expect_success 'exclude stream without the field: exit 1' '
	test_error "no field .seq." hash-dedup -o o.rec --exclude k.tsv in.rec &&
	test_path_is_missing o.rec
'

# ---- real data: same survivors as seqkit rmdup -s ---------------------

test_expect_success_if 'test -f "$DATA/uniprot_20k.fasta.gz"' 'real data with known duplicates' '
	fasta-cat -o u.rec "$DATA/uniprot_20k.fasta.gz" &&
	# 2,000 records again under new ids: all must go
	gzip -dc "$DATA/uniprot_20k.fasta.gz" | awk "/^>/{n++} n<=2000" |
		sed "s/^>/>dup_/" >dups.fa &&
	gzip -dc "$DATA/uniprot_20k.fasta.gz" >u.fa && cat u.fa dups.fa >all.fa &&
	fasta-cat -o all.rec all.fa &&
	hash-dedup -o d.rec all.rec 2>err &&
	# the sample itself holds 1,199 duplicate sequences
	grep -q "22000 in, 18801 kept, 3199 duplicates" err &&
	rec-cut --typed -f id d.rec >ids && ! grep -q "^dup_" ids
'

test_expect_success_if 'command -v seqkit && test -f all.fa' 'same surviving ids as seqkit rmdup -s' '
	seqkit rmdup -s -P all.fa 2>/dev/null | grep "^>" | sed "s/^>//; s/ .*//" >expect &&
	rows ids >actual &&
	test_cmp expect actual
'

# ---- FASTA input: read directly, records shaped like fasta-cat's --------

test_expect_success 'FASTA input gives what fasta-cat | hash-dedup gives' '
	printf ">a one\nMKV\n>b\nMK\nL\n>c three\nMKV\n>d\nmkv\n" >s.fa &&
	hash-dedup --typed s.fa >out 2>err &&
	rows out >actual &&
	printf "a\tone\tMKV\t3\nb\t\tMKL\t3\nd\t\tmkv\t3\n" >expect &&
	test_cmp expect actual &&
	grep -q "^id:str	desc:str	seq:str	len:int$" out &&
	grep -q "^hash-dedup: 4 in, 3 kept, 1 duplicates" err &&
	fasta-cat -o s.rec s.fa &&
	hash-dedup -q --typed s.rec >out2 &&
	rows out2 >actual2 &&
	test_cmp expect actual2
'

test_expect_success 'FASTA: several files, gzip, -i, -k id, --write-hashes' '
	printf ">e\nMKL\n>f\nWWW\n" | gzip >t.fa.gz &&
	hash-dedup -q -i --typed --write-hashes fh.txt s.fa t.fa.gz >out &&
	rows out | cut -f1 >actual &&
	printf "a\nb\nf\n" >expect &&
	test_cmp expect actual &&
	test $(wc -l <fh.txt) -eq 5 &&
	test $(grep -c "^[0-9a-f]\{32\}$" fh.txt) -eq 3 &&
	hash-dedup -q --typed -k id s.fa s.fa >out &&
	test $(rows out | wc -l) -eq 4
'

test_expect_success 'FASTA on stdin, FASTQ files, an empty FASTA file: the records fasta-cat makes' '
	printf "@q1 x\nMKV\n+\nIII\n@q2\nWW\n+\nII\n" >q.fq &&
	: >empty.fa &&
	hash-dedup -q --typed - q.fq <s.fa >out &&
	rows out >actual &&
	printf "a\tone\tMKV\t3\nb\t\tMKL\t3\nd\t\tmkv\t3\nq2\t\tWW\t2\n" >expect &&
	test_cmp expect actual &&
	fasta-cat -o sq.rec s.fa q.fq &&
	hash-dedup -q --typed sq.rec >out2 &&
	rows out2 >actual2 &&
	test_cmp expect actual2 &&
	hash-dedup -q --typed q.fq empty.fa s.fa >out3 &&
	rows out3 | cut -f1 >actual3 &&
	printf "q1\nq2\nb\nd\n" >expect3 &&
	test_cmp expect3 actual3
'

test_expect_success 'FASTA then a record stream: exit 1, no output file' '
	test_error "s.rec: not FASTA" hash-dedup -o o.rec s.fa s.rec &&
	test_path_is_missing o.rec
'

test_expect_success 'FASTA: -k len is not a sequence; bad FASTA is an error' '
	test_error "field .len. is int" hash-dedup -o o.rec -k len s.fa &&
	printf ">a\nMKV\n>b\nMKV\n@q\n" >bad.fa &&
	test_exit 1 hash-dedup -q -o o.rec s.fa bad.fa 2>err &&
	test_path_is_missing o.rec
'

test_done
