#!/bin/sh
# Plain TSV (-T) as pandas and R read it; --typed as the exact form;
# untyped TSV written by pandas read back with types inferred; comparisons
# of numbers with str values from untyped TSV.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

CHECK="$DATA/tsv/check.py"
PD='test_have_python pandas numpy'
PDMP='test_have_python pandas numpy msgpack'
U="$DATA/uniprot_20k.fasta.gz"
E2="$DATA/esm2"

# both NAME CMD...: CMD -T and CMD --typed; pandas reads the first with no
# options and finds the values of the second
both () {
	n=$1
	shift
	"$@" -T >"$n.tsv" && "$@" --typed >"$n.typed" &&
	$PY "$CHECK" "$n.tsv" "$n.typed" >"$n.count" &&
	test "$(cat "$n.count")" -gt 0
}

test_expect_success 'setup' '
	fasta-cat -M "$U" >u.rec &&
	rec-head -M -n 400 u.rec >s.rec &&
	rec-filter -M "desc ~ \"#\"" u.rec >hash.rec &&
	rec-cat -M s.rec hash.rec >sh.rec
'

test_expect_success '-T: one header line of bare names, no #plm or #meta' '
	rec-head -T -n 2 u.rec >out &&
	head -n 1 out >hdr && printf "id\tdesc\tseq\tlen\n" >expect &&
	test_cmp expect hdr && test $(wc -l <out) -eq 3 &&
	! grep "^#" out
'

test_expect_success '--typed: the exact form; -M with --typed is a usage error' '
	rec-head --typed -n 2 u.rec >out &&
	head -n 1 out | grep "^#plm	1\$" &&
	sed -n 3p out >hdr && printf "id:str\tdesc:str\tseq:str\tlen:int\n" >expect &&
	test_cmp expect hdr &&
	test_usage_error "exclude each other" rec-cat --typed -M u.rec
'

test_expect_success 'quoting: tab, line ends and quotes; nil empty, "" quoted' '
	printf "#plm\t1\nid:str\tx:str\tn:int\na\tp\\\\tq\t1\nb\tsay \"hi\"\t\nc\t\\\\N\t3\nd\t\t4\ne\tl1\\\\nl2\\\\r\t5\n#f\t\\\\#x\t6\n" >q.tsv &&
	rec-cat -T q.tsv >out &&
	printf "id\tx\tn\na\t\"p\tq\"\t1\nb\t\"say \"\"hi\"\"\"\t\nc\t\t3\nd\t\"\"\t4\ne\t\"l1\nl2\r\"\t5\n\"#f\"\t#x\t6\n" >expect &&
	test_cmp expect out &&
	rec-cat --typed out | nometa >back &&
	rec-cat --typed q.tsv | nometa >orig && test_cmp orig back
'

test_expect_success 'a name holding ":" is quoted by -T and read back as it is' '
	printf "#plm\t1\nid:str\tratio:float:float\tk:int:int\na\t0.5\t2\n" >c.tsv &&
	rec-cat -T c.tsv >out &&
	printf "id\t\"ratio:float\"\t\"k:int\"\na\t0.5\t2\n" >expect &&
	test_cmp expect out &&
	rec-cat --typed out | nometa >back &&
	rec-cat --typed c.tsv | nometa >orig && test_cmp orig back &&
	printf "\"a:int\"\t\"b:str\"\n1\tx\n" >allq.tsv &&
	rec-cat --typed allq.tsv | nometa >got &&
	printf "#plm\t1\na:int:int\tb:str:str\n1\tx\n" >expect &&
	test_cmp expect got
'

test_expect_success_if "$PD" 'pandas reads a quoted ":" name as the name' '
	$PY -c "import pandas as pd; print(\",\".join(pd.read_csv(\"out\", sep=\"\t\").columns))" >got &&
	echo "id,ratio:float,k:int" >expect &&
	test_cmp expect got
'

test_expect_success_if "$PD" 'pandas reads -T of the 55 records with # in the organism' '
	rec-cat -T hash.rec >h.tsv && test $(sed 1d h.tsv | wc -l) -eq 55 &&
	both hash rec-cat hash.rec && test $(cat hash.count) -eq 55
'

test_expect_success_if "$PD" 'pandas reads -T of record tools exactly' '
	both cat rec-cat sh.rec &&
	both head rec-head -n 50 sh.rec &&
	both cut rec-cut -f id,len sh.rec &&
	both filter rec-filter "len > 300" sh.rec &&
	both put rec-put "half = len / 2; big = len > 300; o = substr(desc, 0, 3)" sh.rec &&
	both sample rec-sample -n 30 -s 1 sh.rec &&
	both stats rec-stats sh.rec &&
	both dedup hash-dedup sh.rec &&
	both kmer kmer-feat --aac s.rec
'

test_expect_success_if "$PD" 'pandas reads -T of esm-embed vectors exactly' '
	{ printf "id:str\tseq:str\n" && cat "$E2/sequences.tsv"; } >seqs.tsv &&
	both esm esm-embed --threads 1 --model "$E2/esm2_tiny" seqs.tsv
'

test_expect_success_if "$PD" 'pandas reads -T of metrics exactly' '
	both metrics metrics --bins 2 "$DATA/metrics/binary.tsv"
'

test_expect_success_if "$PDMP" 'MessagePack -> --typed -> MessagePack is byte-identical' '
	rec-cat --typed sh.rec >sh.typed && rec-cat -M sh.typed >sh2.rec &&
	kmer-feat -M --aac s.rec >k.rec && rec-cat --typed k.rec >k.typed &&
	rec-cat -M k.typed >k2.rec &&
	$PY -c "
import msgpack, sys
def objs(p):
    u = msgpack.Unpacker(open(p, \"rb\"), raw=True)
    o = list(u)
    return [o[0][b\"fields\"]] + o[1:]        # meta gains a prov entry
for a, b in ((\"sh.rec\", \"sh2.rec\"), (\"k.rec\", \"k2.rec\")):
    assert objs(a) == objs(b), a
"
'

test_expect_success_if "$PD" 'untyped TSV from pandas: types inferred, rec-filter selects as on the stream' '
	rec-cut -M -f id,len,desc sh.rec >c.rec &&
	rec-put -M "w = float(len) / 3" c.rec >cw.rec &&
	rec-cat -T cw.rec >cw.tsv &&
	$PY -c "
import pandas as pd
df = pd.read_csv(\"cw.tsv\", sep=\"\t\", float_precision=\"round_trip\")
df[\"code\"] = [\"%03d\" % (i % 50) for i in range(len(df))]
df.to_csv(\"pd.tsv\", sep=\"\t\", index=False)
" &&
	rec-cat --typed pd.tsv >pd.typed &&
	sed -n 3p pd.typed >hdr &&
	printf "id:str\tlen:int\tdesc:str\tw:float\tcode:str\n" >expect &&
	test_cmp expect hdr &&
	rec-filter -T "len>50" pd.tsv | cut -f1 >a &&
	rec-filter -T "len>50" c.rec | cut -f1 >b &&
	test_cmp b a && test $(wc -l <a) -gt 300 &&
	rec-cut --typed -f id,len,desc,w pd.tsv | grep -v "^#" >x &&
	rec-cat --typed cw.rec | grep -v "^#" >y && test_cmp y x
'

test_expect_success 'inference: 007 and +5 stay text, NA and empty are nil, mixed int/float is float' '
	printf "id\tn\tf\tb\tz\n007\t1\t1\ttrue\tNA\n+5\t\t2.5\tFalse\tx\nc\tNA\tnan\tTRUE\t\n" >i.tsv &&
	rec-cat --typed i.tsv >out &&
	sed -n 3,6p out >got &&
	printf "id:str\tn:int\tf:float\tb:bool\tz:str\n007\t1\t1\ttrue\tNA\n+5\t\t2.5\tfalse\tx\nc\t\tnan\ttrue\t\\\\N\n" >expect &&
	test_cmp expect got
'

test_expect_success 'a value past the lookahead that does not fit: error naming file, record, field, fix' '
	{ printf "id\tn\n" && seq 1 1200 | sed "s/^/r/;s/\$/\t&/;s/\tr/\t/" && printf "bad\tx7\n"; } >late.tsv &&
	test_error "late.tsv:1202: record 1201: field .n. (int, inferred from the first 1000 records): bad value .x7.: give the type in the header (.n:str. for .n.)" rec-cat -M late.tsv &&
	test_must_fail rec-cat -M late.tsv >out 2>/dev/null;
	{ printf "id\tn:str\n" && seq 1 1200 | sed "s/^/r/;s/\$/\t&/;s/\tr/\t/" && printf "bad\tx7\n"; } >fixed.tsv &&
	rec-cat --typed fixed.tsv >out && tail -n 1 out >got &&
	printf "bad\tx7\n" >expect && test_cmp expect got
'

test_expect_success 'a quoted cell without its end is named' '
	printf "id\tx\na\t\"open\nb\tc\n" >uq.tsv &&
	test_error "uq.tsv:2: a quoted cell" rec-cat -M uq.tsv
'

test_expect_success 'comparisons: str text that is not a number against a number' '
	printf "id\tv\na\t10\nb\tx\n" >m.tsv &&
	test_error "record 2: .x. is not a number" rec-filter -M "v > 5" m.tsv &&
	rec-filter -T "v == 10" m.tsv >out && printf "id\tv\na\t10\n" >expect &&
	test_cmp expect out &&
	rec-filter -T "v != 10" m.tsv >out && printf "id\tv\nb\tx\n" >expect &&
	test_cmp expect out
'

test_expect_success_if 'command -v Rscript' 'R read.delim reads -T' '
	rec-cat -T sh.rec >r.tsv &&
	Rscript -e "d <- read.delim(\"r.tsv\", na.strings = \"\"); cat(nrow(d), sum(d\$len), sep = \"\\n\")" >got &&
	rec-cat --typed sh.rec | grep -v "^#" | sed 1d |
		awk -F"\t" "{ s += \$4 } END { print NR; print s }" >expect &&
	test_cmp expect got
'

test_done
