#!/bin/sh
# fasta-cat: FASTA/FASTQ (plain, gzip, zstd) to records id, desc, seq, len.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

F=$DATA/fasta

# The #meta line (argv, version) is compared separately: nometa.

test_expect_success 'setup' '
	cp "$F/small.fa" "$F/crlf.fa" "$F/small.fq" . &&
	printf "#plm\t1\nid:str\tdesc:str\tseq:str\tlen:int\n" >head.tsv
'

# ---- argument checking ---------------------------------------------------

test_expect_success 'bad --min-len is a usage error' '
	test_exit 2 fasta-cat --min-len abc small.fa >out 2>err &&
	grep "^fasta-cat: " err && test ! -s out
'

test_expect_success '--max-len below --min-len is a usage error' '
	test_usage_error "^fasta-cat: --max-len 5 is below --min-len 10" fasta-cat --min-len 10 --max-len 5 small.fa >out
'

test_expect_success 'bad --shard is a usage error' '
	test_exit 2 fasta-cat --shard 3/3 small.fa >out 2>err
'

test_expect_success 'missing file: exit 1, file named' '
	test_exit 1 fasta-cat --typed no-such.fa >out 2>err &&
	echo "fasta-cat: no-such.fa: No such file or directory" >expect &&
	test_cmp expect err
'

# ---- behaviour -------------------------------------------------------------

test_expect_success 'small FASTA: exact records' '
	fasta-cat --typed small.fa >out 2>err &&
	test ! -s err &&
	{
	cat head.tsv &&
	printf "sp|P1|ONE_HUMAN\tFirst protein OS=Homo sapiens OX=9606 GN=ONE PE=1 SV=2\tMKVLAAGIVGLLLAW*\t16\n" &&
	printf "tr|Q2|Q2_ECOLI\tSecond, lower case\tmkvl*aa\t7\n" &&
	printf "bare\t\t\t0\n" &&
	printf "sp|P3|J_YEAST\tOdd letters OS=Saccharomyces cerevisiae (strain ATCC 204508) GN=J1 PE=3 SV=1\tMJB-ZUO.X1\t10\n"
	} >expect &&
	nometa out >actual &&
	test_cmp expect actual
'

test_expect_success 'meta.prov names fasta-cat and its argv' '
	grep "^#meta	{\"prov\":\[{\"tool\":\"fasta-cat\",\"version\":\"[0-9.]*\",\"argv\":\[\"fasta-cat\",\"--typed\",\"small.fa\"\],\"seed\":null}\]}$" out
'

test_expect_success 'stdin, - and a file give the same records' '
	fasta-cat --typed <small.fa >stdin.out &&
	fasta-cat --typed - <small.fa >dash.out &&
	nometa stdin.out >a && nometa dash.out >b && nometa out >c &&
	test_cmp c a && test_cmp c b
'

test_expect_success 'gzip and zstd input (by content, not name)' '
	gzip -c small.fa >s.gz && zstd -q -c small.fa >s.zst &&
	cp s.gz gz-without-suffix &&
	fasta-cat --typed s.gz >gz.out && fasta-cat --typed s.zst >zst.out &&
	fasta-cat --typed gz-without-suffix >gz2.out &&
	nometa gz.out >a && nometa zst.out >b && nometa gz2.out >d &&
	test_cmp c a && test_cmp c b && test_cmp c d
'

test_expect_success 'concatenated gzip members' '
	head -n 3 small.fa | gzip -c >cat.gz &&
	tail -n +4 small.fa | gzip -c >>cat.gz &&
	fasta-cat --typed cat.gz >cat.out && nometa cat.out >a && test_cmp c a
'

test_expect_success 'CRLF input' '
	fasta-cat --typed crlf.fa >out &&
	{ cat head.tsv && printf "a\tfirst\tACDEFG\t6\nb\t\tKL\t2\n"; } >expect &&
	nometa out >actual && test_cmp expect actual
'

test_expect_success 'FASTQ input: multi-line sequence and quality' '
	fasta-cat --typed small.fq >out &&
	{ cat head.tsv && printf "r1\tread one\tACGTACGT\t8\nr2\t\tACGTAC\t6\n"; } >expect &&
	nometa out >actual && test_cmp expect actual
'

test_expect_success 'several files and --source' '
	fasta-cat --typed --source crlf.fa s.gz >out &&
	{
	printf "#plm\t1\nid:str\tdesc:str\tseq:str\tlen:int\tsource:str\n" &&
	printf "a\tfirst\tACDEFG\t6\tcrlf.fa\nb\t\tKL\t2\tcrlf.fa\n" &&
	nometa c | tail -n +3 | sed "s/\$/	s.gz/"
	} >expect &&
	nometa out >actual && test_cmp expect actual
'

test_expect_success '--clean: upper case, stops, X; summary on stderr' '
	fasta-cat --typed --clean small.fa >out 2>err &&
	{
	cat head.tsv &&
	printf "sp|P1|ONE_HUMAN\tFirst protein OS=Homo sapiens OX=9606 GN=ONE PE=1 SV=2\tMKVLAAGIVGLLLAW\t15\n" &&
	printf "tr|Q2|Q2_ECOLI\tSecond, lower case\tMKVLXAA\t7\n" &&
	printf "bare\t\t\t0\n" &&
	printf "sp|P3|J_YEAST\tOdd letters OS=Saccharomyces cerevisiae (strain ATCC 204508) GN=J1 PE=3 SV=1\tMXBXZUOXXX\t10\n"
	} >expect &&
	nometa out >actual && test_cmp expect actual &&
	echo "fasta-cat: clean: 3 of 4 records changed: 6 lower-case letters upper-cased, 1 trailing '\''*'\'' removed, 1 internal '\''*'\'' to X, 1 '\''J'\'' to X, 3 other bytes to X" >expect &&
	test_cmp expect err
'

test_expect_success '--uniprot: organism, taxid, gene, pe (nil when absent)' '
	fasta-cat --typed --uniprot small.fa >out &&
	printf "id:str\tdesc:str\tseq:str\tlen:int\torganism:str\ttaxid:int\tgene:str\tpe:int\n" >expect &&
	printf "Homo sapiens\t9606\tONE\t1\n\\\\N\t\t\\\\N\t\n\\\\N\t\t\\\\N\t\nSaccharomyces cerevisiae (strain ATCC 204508)\t\tJ1\t3\n" >>expect &&
	nometa out | sed -n "2p" >actual &&
	nometa out | tail -n +3 | cut -f 5- >>actual &&
	test_cmp expect actual
'

test_expect_success '--uniprot: a bad OX= is an error with file:line' '
	printf ">a x OS=y OX=12z\nMK\n" >badox.fa &&
	test_exit 1 fasta-cat --typed --uniprot -o o.tsv badox.fa 2>err &&
	echo "fasta-cat: badox.fa:1: OX= value '\''12z'\'' is not an integer" >expect &&
	test_cmp expect err && test_path_is_missing o.tsv
'

test_expect_success '--label: int or str' '
	fasta-cat --typed --label 1 crlf.fa >int.out &&
	fasta-cat --typed --label viral crlf.fa >str.out &&
	fasta-cat --typed --label -7 crlf.fa >neg.out &&
	nometa int.out | sed -n "2p;3p" >actual &&
	nometa str.out | sed -n "2p;3p" >>actual &&
	nometa neg.out | sed -n "3p" >>actual &&
	{
	printf "id:str\tdesc:str\tseq:str\tlen:int\tlabel:int\na\tfirst\tACDEFG\t6\t1\n" &&
	printf "id:str\tdesc:str\tseq:str\tlen:int\tlabel:str\na\tfirst\tACDEFG\t6\tviral\n" &&
	printf "a\tfirst\tACDEFG\t6\t-7\n"
	} >expect &&
	test_cmp expect actual
'

test_expect_success '--min-len/--max-len: skipped records counted on stderr' '
	fasta-cat --typed --min-len 7 --max-len 10 small.fa >out 2>err &&
	nometa out | cut -f 1 >actual &&
	printf "#plm\nid:str\ntr|Q2|Q2_ECOLI\nsp|P3|J_YEAST\n" >expect &&
	test_cmp expect actual &&
	echo "fasta-cat: length filter: 1 records shorter than 7 and 1 longer than 10 skipped" >expect &&
	test_cmp expect err
'

test_expect_success '--min-len counts the cleaned length' '
	fasta-cat --typed --clean --min-len 16 small.fa >out 2>err &&
	test $(nometa out | wc -l) = 2 &&
	grep "length filter: 4 records shorter than 16" err
'

test_expect_success '--shard K/N: the shards cover the input exactly once' '
	gzip -dc "$DATA/uniprot_20k.fasta.gz" | head -n 2000 >some.fa &&
	fasta-cat --typed some.fa >all.out &&
	fasta-cat --typed --shard 0/3 some.fa >s0 &&
	fasta-cat --typed --shard 1/3 some.fa >s1 &&
	fasta-cat --typed --shard 2/3 some.fa >s2 &&
	for s in s0 s1 s2; do nometa $s | tail -n +3; done | sort >union &&
	nometa all.out | tail -n +3 | sort >expect &&
	test_cmp expect union &&
	test $(nometa s0 | tail -n +3 | wc -l) -gt 250
'

test_expect_success '-o FILE, -o FILE.gz, -o FILE.zst' '
	fasta-cat --typed small.fa >stdout.tsv &&
	fasta-cat --typed -o o.tsv small.fa &&
	fasta-cat --typed -o o.tsv.gz small.fa &&
	fasta-cat --typed -o o.tsv.zst small.fa &&
	gzip -dc o.tsv.gz >gz.tsv && zstd -q -dc o.tsv.zst >zst.tsv &&
	nometa stdout.tsv >expect &&
	nometa o.tsv >a && nometa gz.tsv >b && nometa zst.tsv >d &&
	test_cmp expect a && test_cmp expect b && test_cmp expect d &&
	test $(ls | grep -c "\.tmp\.") = 0
'

test_expect_success_if 'test_have_python msgpack' 'MessagePack output decodes to the same rows' '
	fasta-cat -M small.fa >small.mp &&
	$PY -c "
import msgpack, sys
objs = list(msgpack.Unpacker(open(\"small.mp\", \"rb\"), raw=False))
h, rows, t = objs[0], objs[1:-1], objs[-1]
assert h[\"plm\"] == 1, h
assert h[\"fields\"] == [[\"id\", \"str\"], [\"desc\", \"str\"], [\"seq\", \"str\"], [\"len\", \"int\"]], h
assert t == {\"end\": 4}, t
assert rows[2] == [\"bare\", \"\", \"\", 0], rows
assert rows[1] == [\"tr|Q2|Q2_ECOLI\", \"Second, lower case\", \"mkvl*aa\", 7], rows
"
'

test_expect_success 'empty input: no records, a warning, exit 0' '
	: >empty.fa &&
	fasta-cat --typed empty.fa >out 2>err &&
	nometa out >actual && test_cmp head.tsv actual &&
	echo "fasta-cat: empty.fa: no records" >expect && test_cmp expect err
'

test_expect_success '--progress reports on stderr, output unchanged' '
	fasta-cat --typed --progress small.fa >out 2>err &&
	grep "4 records" err && nometa out >actual && nometa stdout.tsv >expect &&
	test_cmp expect actual
'

# ---- bad input: exit 1, "fasta-cat: file:line: what", no -o file left -----

bad () { # bad NAME 'printf text' 'expected message'
	test_expect_success "bad input: $1" "
		$2 >$1 &&
		test_exit 1 fasta-cat --typed -o out.tsv $1 2>err >stdout &&
		echo \"fasta-cat: $3\" >expect &&
		test_cmp expect err && test_path_is_missing out.tsv &&
		test \$(ls | grep -c '\\.tmp\\.') = 0
	"
}
bad junk.fa "printf 'hello\n>a\nMK\n'" \
	"junk.fa:1: expected '>' or '@' at the start of a record (not FASTA or FASTQ?)"
bad nul.fa "printf '>a\nMK\n>b\nMK\nA\000C\n'" \
	"nul.fa:5: control byte 0x00 in sequence (binary data?)"
bad ctl.fa "printf '>a\001\nMK\n'" \
	"ctl.fa:1: control byte 0x01 in header (binary data?)"
# CR-only (old Mac) line ends: named as such, not as a control byte
bad cr.fa "printf '>a x\rMKV\r>b\rMKL\r'" \
	"cr.fa:1: CR line endings (a carriage return without a line feed): convert them to LF"
bad cr2.fa "printf '>a\nMKVLAAGG\rMKLLAAGGMKVLAAGGMKLLAAGGMKVLAAGGMKLLAAGG\r'" \
	"cr2.fa:2: CR line endings (a carriage return without a line feed): convert them to LF"
bad qual.fq "printf '@r\nACGT\n+\nIIIII\n'" \
	"qual.fq:4: quality length 5 differs from sequence length 4"
# Quality may span lines: a short one swallows the next header, and the
# mismatch shows on the line after.
bad qual1.fq "printf '@r\nACGT\n+\nII\n@s\nAC\n+\nII\n'" \
	"qual1.fq:6: quality length 6 differs from sequence length 4"
bad qual2.fq "printf '@r\nACGT\n+\nIIII\n@s\nAC\n+\nIII\n'" \
	"qual2.fq:8: quality length 3 differs from sequence length 2"
bad trunc.fq "printf '@r\nACGT\n+\nIIII\n@s\nACGT\n'" \
	"trunc.fq:6: truncated FASTQ record 's': no '+' line"
bad trunc2.fq "printf '@r\nACGT\n+\nII'" \
	"trunc2.fq:4: truncated FASTQ record 'r': quality length 2 differs from sequence length 4"
bad mixed.fa "printf '>a\nMK\n@r\nAC\n+\nII\n'" \
	"mixed.fa:3: '@' line in FASTA input (FASTA and FASTQ mixed?)"

# zlib says "invalid block type", ISA-L (used when present) "invalid data".
test_expect_success 'bad input: binary.gz' '
	printf "\037\213\010\000\000\000\000\000\000\003garbage" >binary.gz &&
	test_exit 1 fasta-cat --typed -o out.tsv binary.gz 2>err >stdout &&
	grep -Eq "^fasta-cat: binary.gz: gzip: invalid (block type|data)\$" err &&
	test $(wc -l <err) = 1 && test_path_is_missing out.tsv && test ! -s stdout
'

test_expect_success 'truncated gzip: an error, not a short output' '
	gzip -dc "$DATA/uniprot_20k.fasta.gz" | head -c 3000000 | gzip -c >t.gz &&
	size=$(wc -c <t.gz) &&
	head -c $((size - 5000)) t.gz >trunc.gz &&
	test_exit 1 fasta-cat -M -o out.mp trunc.gz 2>err &&
	echo "fasta-cat: trunc.gz: truncated gzip input" >expect &&
	test_cmp expect err && test_path_is_missing out.mp
'

test_expect_success 'an error in the second file leaves no -o file' '
	test_exit 1 fasta-cat --typed -o out.tsv small.fa junk.fa 2>err &&
	grep "^fasta-cat: junk.fa:1: " err && test_path_is_missing out.tsv
'

# ---- the man page's examples ----------------------------------------------

test_expect_success_if 'command -v rec-head' 'EXAMPLES: --uniprot into rec-head' '
	cp "$DATA/uniprot_20k.fasta.gz" uniprot.fasta.gz &&
	fasta-cat --uniprot uniprot.fasta.gz >up.mp &&
	rec-head --typed -n 3 up.mp >out &&
	nometa out | cut -f 1,5- >actual &&
	{
	printf "#plm\nid:str\torganism:str\ttaxid:int\tgene:str\tpe:int\n" &&
	printf "tr|W0FSK4|W0FSK4_9FLAV\tDengue virus 3\t\t\\\\N\t4\n" &&
	printf "tr|M4KW32|M4KW32_BACIU\tBacillus subtilis XF-1\t\topuBA\t4\n" &&
	printf "sp|Q8AWH3|SX17A_XENTR\tXenopus tropicalis\t\tsox17a\t2\n"
	} >expect &&
	test_cmp expect actual
'

test_expect_success 'EXAMPLES: clean, length range, label, .zst output' '
	cp small.fa a.fa && gzip -c crlf.fa >b.fa.gz &&
	fasta-cat --clean --min-len 50 --max-len 1022 --label viral -o viral.rec.zst a.fa b.fa.gz 2>err &&
	zstd -q -dc viral.rec.zst >viral.mp && test -s viral.mp &&
	grep "length filter: 6 records shorter than 50 and 0 longer than 1022 skipped" err
'

test_expect_success 'EXAMPLES: four shards in parallel cover the input' '
	cp some.fa big.fa && gzip big.fa &&
	for k in 0 1 2 3; do fasta-cat --typed --shard $k/4 -o part$k.rec big.fa.gz & done; wait &&
	cat part0.rec part1.rec part2.rec part3.rec | grep -vc "^#" >n &&
	echo $((1000 + 4)) >expect && test_cmp expect n
'

# ---- cross-check with seqkit on the real 20k file ------------------------

seqkit_check () { # FILE [SEQKIT_FILE]: fasta-cat (id, seq) == seqkit fx2tab (id, seq)
	fasta-cat --typed "$1" >fc.out &&
	nometa fc.out | tail -n +3 | cut -f 1,3 >fc.tsv &&
	seqkit fx2tab -i "${2:-$1}" >sk.out &&
	cut -f 1,2 sk.out >sk.tsv &&
	test $(wc -l <fc.tsv) = 20000 &&
	test_cmp sk.tsv fc.tsv
}

test_expect_success_if 'command -v seqkit' 'seqkit agrees on the 20k file: gzip' '
	seqkit_check "$DATA/uniprot_20k.fasta.gz"
'
test_expect_success_if 'command -v seqkit' 'seqkit agrees on the 20k file: plain' '
	gzip -dc "$DATA/uniprot_20k.fasta.gz" >u.fa && seqkit_check u.fa
'
# (this seqkit does not read zstd: it reads the plain file)
test_expect_success_if 'command -v seqkit && command -v zstd' 'seqkit agrees on the 20k file: zstd' '
	zstd -q -c u.fa >u.fa.zst && seqkit_check u.fa.zst u.fa
'
test_expect_success_if 'command -v seqkit' 'seqkit agrees on the 20k file wrapped at 60 columns' '
	seqkit seq -w 60 u.fa >w.fa && test $(wc -l <w.fa) -gt 150000 &&
	seqkit_check w.fa
'

test_done
