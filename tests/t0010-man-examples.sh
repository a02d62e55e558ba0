#!/bin/sh
# The EXAMPLES of every man page run as the reader sees them: each page is
# rendered (mandoc -T ascii, overstrike removed), the indented code blocks
# of its EXAMPLES section are cut out, a leading "$ " is stripped, and each
# block runs with sh -e in a scratch directory of its page, in page order
# (later examples use the files earlier ones wrote).  The scratch
# directory starts with the inputs the examples name, made from bundled
# data (make_fixtures).  The table below says, for every block, what to
# do: run it, or skip it with a reason; a block missing from the table
# fails, so a new example is never dropped silently.  The README's first
# example runs too.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

command -v mandoc >/dev/null 2>&1 || skip_all 'needs mandoc'
command -v col >/dev/null 2>&1 || skip_all 'needs col (bsdextrautils)'

# page.N  what   (run: exit 0; out: exit 0 and something on stdout;
#                 skip REASON; ifcmd CMD: run when CMD is on PATH;
#                 ifpy MOD: run when the python3 on PATH imports MOD)
cat >table <<'TABLE'
clust-weight.1 run
clust-weight.2 run
emb-cache.1 run
emb-cache.2 run
emb-cache.3 run
esm-embed.1 run
esm-embed.2 skip --layer 6 needs a checkpoint of 6 layers or more; the bundled esm2_tiny has 2
esm-embed.3 run
esm-embed.4 run
fasta-cat.1 out
fasta-cat.2 run
fasta-cat.3 run
feat-export.1 ifpy numpy
feat-export.2 run
feat-export.3 run
feat-import.1 run
feat-import.2 skip needs an .npz archive of an emb array and an id array (numpy)
feat-import.3 run
feat-merge.1 run
feat-merge.2 run
feat-merge.3 skip --dims 1280,768 are ESM-2 650M's and a nucleotide model's; the bundled inputs have other dimensions
hash-dedup.1 run
hash-dedup.2 run
hash-dedup.3 run
kmer-feat.1 run
kmer-feat.2 run
leak-check.1 run
leak-check.2 run
len-bin.1 run
len-bin.2 run
metrics.1 out
metrics.2 out
metrics.3 run
metrics.4 out
mlp-calibrate.1 out
mlp-calibrate.2 run
mlp-predict.1 run
mlp-predict.2 run
mlp-train.1 run
mlp-train.2 run
mlp-train.3 run
pair-feat.1 run
pair-feat.2 run
pair-make.1 run
plmkit.1 out
plm-stream.1 skip a picture of the typed TSV form, not a command
plm-stream.2 skip a picture of the plain TSV form, not a command
plm-stream.3 skip a picture of the MessagePack form, not a command
plm-stream.4 run
rec-cat.1 skip interactive: pages through less(1)
rec-cat.2 run
rec-cat.3 run
rec-cat.4 run
rec-cut.1 run
rec-cut.2 out
rec-fasta.1 run
rec-fasta.2 out
rec-fasta.3 out
rec-filter.1 run
rec-filter.2 out
rec-filter.3 out
rec-head.1 out
rec-head.2 run
rec-join.1 run
rec-join.2 run
rec-put.1 run
rec-put.2 out
rec-put.3 out
rec-sample.1 run
rec-sample.2 run
rec-shard.1 ifcmd parallel
rec-stats.1 out
rec-stats.2 out
seq-cluster.1 run
seq-cluster.2 run
seq-cluster.3 run
strat-split.1 run
strat-split.2 run
strat-split.3 run
strat-split.4 run
strat-split.5 run
strat-split.6 run
strat-split.7 run
tax-kingdom.1 run
README.1 run
TABLE

# The code blocks of the EXAMPLES section of rendered page $1, into
# $2.1, $2.2, ...: lines indented by 11 or more columns, a block ending
# at a blank or prose line.
extract () {
	mandoc -T ascii -O width=200 "$1" | col -bx | awk -v pfx="$2" '
		/^[A-Z]/ { in_ex = ($0 == "EXAMPLES"); open = 0; next }
		!in_ex { next }
		/^           / {
			if (!open) { n++; open = 1; f = pfx "." n; printf "" >f }
			line = substr($0, 12)
			sub(/^\$ /, "", line)
			print line >>f
			next
		}
		{ open = 0 }'
}

# Inputs named by the examples, from the bundled data, in $1.
make_fixtures () (
	set -e
	cd "$1"
	U=$DATA/uniprot_20k.fasta.gz
	ln -s "$DATA" data
	ln -s "$PLM_TOP/tests" tests
	ln -s "$PLM_BIN" bin
	ln -s "$DATA/taxdump" taxdump
	mkdir models
	for m in esm2_t6_8M_UR50D esm2_t12_35M_UR50D esm2_t33_650M_UR50D; do
		ln -s "$DATA/esm2/esm2_tiny" models/$m
	done
	for f in uniprot.fasta.gz uniprot.fa.gz big.fa.gz; do ln -s "$U" $f; done
	cp "$DATA/fasta/small.fa" a.fa
	gzip -c "$DATA/fasta/small.fa" >b.fa.gz
	# 300 short proteins, labelled viral (1) or host (0)
	fasta-cat --clean --uniprot "$U" 2>/dev/null |
		rec-filter 'len>=30 && len<=200' |
		rec-sample -n 300 -s 7 |
		rec-put 'label = organism ~ "[Vv]irus|[Pp]hage" ? 1 : 0' \
			'cluster = organism' 'uniref50 = organism' \
			'isolate = "iso" . str(int(len / 3) % 40)' \
			'segment = "seg" . str(len % 3)' >proteins.plm
	for f in proteins.rec p.plm viral.plm host.plm in.rec seqs.rec \
		 set.rec all.rec prots.mp in.mp members.rec train.rec \
		 pool.rec train_raw.rec prot.rec segs.mp; do
		cp proteins.plm $f
	done
	rec-head -n 100 proteins.plm >ref.rec
	rec-head -n 100 proteins.plm >test_raw.rec
	rec-cat -T proteins.plm >proteins.tsv
	rec-fasta proteins.plm >proteins.fa
	cp proteins.fa viral.fa
	rec-head -n 50 proteins.plm | rec-fasta | gzip >prot.fasta.gz
	rec-cut -T -f acc=id,aa=seq,len proteins.plm >table.tsv
	strat-split -r train=0.8,val=0.1,test=0.1 -b label -g cluster \
		proteins.plm >data.plm 2>/dev/null
	strat-split -r train=0.8,val=0.1,test=0.1 -g isolate proteins.plm \
		>prots.mp 2>/dev/null
	# split.mp: data.plm less the records that leak at the strictest
	# setting of leak-check(1)'s examples
	leak-check -T --min-sim 0.3 --forbid train:test,val:test,train:val \
		data.plm >leaks.tsv 2>/dev/null || true
	rec-cat -T data.plm | awk -F'\t' 'NR == FNR { if ($1 !~ /^#|:/) drop[$2] = 1; next }
		!($1 in drop)' leaks.tsv - | rec-cat -M >split.mp
	# embeddings (tiny model), composition features, caches
	esm-embed --model "$DATA/esm2/esm2_tiny" --cache cache.h5 \
		-o emb.rec proteins.plm
	for k in 0 1 2 3; do
		esm-embed --model "$DATA/esm2/esm2_tiny" --shard $k/4 \
			--cache shard$k.h5 -o /dev/null proteins.plm
	done
	cp emb.rec esm.rec; cp emb.rec prot_esm.rec; cp emb.rec emb.mp
	kmer-feat --aac -o aac.rec proteins.plm 2>/dev/null
	cp aac.rec nt_emb.rec
	rec-cut -f acc=id,emb,len proteins.plm >/dev/null
	kmer-feat --aac proteins.plm 2>/dev/null | rec-cut -f acc=id,len,emb >nt.rec
	feat-export --ids ids.txt -o nt_emb.npy emb.rec
	feat-export -o nt.h5 emb.rec
	feat-merge emb.rec aac.rec 2>/dev/null |
		strat-split -r train=0.8,val=0.1,test=0.1 -b label -g cluster \
		>feats.rec 2>/dev/null
	rec-filter 'split!=test' feats.rec |
		mlp-train -x emb -y label -o model.mlp 2>/dev/null
	rec-put 'label = organism ~ "[Vv]irus|[Pp]hage" ? "viral" : "host"' \
		feats.rec >s.rec
	# four classes named by str labels, a kingdom per record
	rec-put 'label = substr("ABCD", len % 4, 1)' \
		'kingdom = len % 2 == 0 ? "even" : "odd"' feats.rec >s.rec
	rec-filter 'split!=test' s.rec | mlp-train -x emb -y label -o m.mlp 2>/dev/null
	rec-filter 'split==test' s.rec >test.rec
	mlp-predict --allow-seen --model m.mlp s.rec >pred4.rec
	# binary scores on every split, informative but not perfect
	rec-put 'score = (label == 1 ? 0.6 : 0.4) + (len % 7) * 0.05 - 0.15' \
		data.plm >pred.rec
	printf 'taxid:int\tkingdom:str\n9606\tMetazoa\n10090\tMetazoa\n' >kingdoms.rec
	len-bin --edges 0,100,300 proteins.plm |
		rec-put 'kingdom = label == 1 ? "viral" : "host"' >binned.rec
	printf 'kingdom:str\tbin:int\tquota:int\nhost\t0\t5\nviral\t0\t2\n' >quota.tsv
	mkdir parts plots
)

# What a page's block needs before it runs, beyond the fixtures.
setup () {
	case $1 in
	metrics.3)
		rec-put 'label = label == 1 ? "virus" : "host"' pred.rec >p.rec &&
		mv p.rec pred.rec ;;
	metrics.4)
		cp pred4.rec pred.rec ;;
	rec-cat.3)
		for k in 0 1 2 3; do rec-cat --shard $k/4 -o part.$k in.rec; done ;;
	strat-split.5)
		strat-split -T -r a=0.5,b=0.5 in.mp | rec-cut -T -f id,split >assigned.tsv ;;
	esac
}

mkdir fix pages
make_fixtures "$TRASH/fix" >fix.log 2>&1 || { cat fix.log; echo "not ok 1 - fixtures"; echo 1..1; exit 1; }

for m in "$PLM_TOP"/man/*.[1-9]; do
	p=$(basename "$m"); p=${p%.*}
	extract "$m" "pages/$p"
done
awk '/^```sh$/ { n++; if (n == 1) { on = 1; next } } /^```$/ { on = 0 } on' \
	"$PLM_TOP/README.md" >pages/README.1

# Every block is in the table, every table row has its block.
test_expect_success 'every example is in the table' '
	(cd pages && ls) | sort >have &&
	awk "{ print \$1 }" table | sort >want &&
	test_cmp want have
'

rm -rf run; mkdir run
while read -r id what reason; do
	f=pages/$id
	[ -f "$f" ] || continue
	page=${id%.*}
	d=run/$page
	[ -d "$d" ] || { cp -R fix "$d"; }
	why=
	case $what in
	skip) why=$reason ;;
	ifcmd) command -v "$reason" >/dev/null 2>&1 || why="needs $reason" ;;
	ifpy) python3 -c "import $reason" >/dev/null 2>&1 ||
		why="needs python3 with $reason" ;;
	esac
	if [ -n "$why" ]; then
		test_count=$((test_count + 1))
		echo "ok $test_count # skip $id: $why"
		continue
	fi
	want_out=; [ "$what" = out ] && want_out=y
	test_expect_success "example $id: $(head -n 1 "$f" | cut -c 1-60)" "
		cd '$d' && setup '$id' && sh -e '$TRASH/$f' >'$id.out' &&
		{ test -z '$want_out' || test -s '$id.out'; }
	"
done <table

test_done
