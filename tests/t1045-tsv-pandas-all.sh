#!/bin/sh
# Every program that writes records: pandas reads its plain TSV (-T) with
# pd.read_csv(path, sep='\t') alone and finds the values of its exact typed
# form (--typed), vectors included (tests/data/tsv/check.py).  The split
# manifest reads as a record stream, so rec-cat -T makes it plain TSV; the
# mlp-train log is plain TSV, --log-typed the typed form.  (feat-export
# writes arrays, not records; rec-fasta writes FASTA; t1040 covers the
# record tools, kmer-feat, esm-embed and metrics.)
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_have_python pandas numpy || skip_all 'python3 with pandas and numpy not found'

CHECK="$DATA/tsv/check.py"
U="$DATA/uniprot_20k.fasta.gz"
IMP="--signature 00ff00ff00ff00ff --layer 6 --pool mean --max-len 1022"

# both NAME CMD...: CMD -T and CMD --typed; pandas reads the first with no
# options and finds the values of the second; at least one row
both () {
	n=$1
	shift
	"$@" -T >"$n.tsv" 2>/dev/null && "$@" --typed >"$n.typed" 2>/dev/null &&
	pdcheck "$n.tsv" "$n.typed" "$n.count"
}
pdcheck () {
	$PY "$CHECK" "$1" "$2" >"$3" && test "$(cat "$3")" -gt 0
}
# exit status 0 or 1 (leak-check: 1 = pairs found, the report complete)
rc01 () {
	"$@"
	test $? -le 1
}

test_expect_success 'setup: 300 records, labelled, binned, grouped, split' '
	fasta-cat --uniprot -M "$U" 2>/dev/null | rec-head -M -n 300 >s.rec &&
	rec-put -M "label = len > 300; grp = len % 20" s.rec |
		len-bin -M --edges 0,100,300,100000 >g.rec &&
	strat-split -M -r train=0.6,val=0.2,test=0.2 -b label -g grp -s 1 \
		--manifest m.tsv g.rec >sp.rec 2>/dev/null &&
	kmer-feat -M --aac sp.rec >aac.rec 2>/dev/null &&
	kmer-feat -M --dpc sp.rec >dpc.rec 2>/dev/null &&
	pair-make -M -g grp -s 3 sp.rec >p.rec &&
	printf "id:str\ttaxid:int\n" >tx.tsv &&
	for t in 562 2190 9606 4932 3702 5833 11676 10665 1 131567; do
		printf "t%s\t%s\n" $t $t >>tx.tsv || return 1
	done &&
	gen lin 400 8 1 >lin.tsv &&
	rec-filter -M "split!=\"test\"" lin.tsv >tv.rec
'

test_expect_success 'fasta-cat, len-bin, tax-kingdom, clust-weight, rec-join, seq-cluster' '
	both fasta fasta-cat --uniprot "$U" && test $(cat fasta.count) -eq 20000 &&
	both lenbin len-bin --edges 0,100,300,100000 s.rec &&
	both tax tax-kingdom --taxdump "$DATA/taxdump" tx.tsv &&
	test $(cat tax.count) -eq 10 &&
	both cw clust-weight -k grp g.rec &&
	both join rec-join -k id --prefix r_ s.rec g.rec &&
	both clu seq-cluster --min-sim 0.5 s.rec && test $(cat clu.count) -eq 300
'

test_expect_success 'strat-split, leak-check, pair-make, pair-feat' '
	both split strat-split -r train=0.6,val=0.2,test=0.2 -b label -g grp -s 1 g.rec &&
	both leak rc01 leak-check --min-sim 0.3 sp.rec &&
	both pairs pair-make -g grp -s 3 sp.rec &&
	both pf pair-feat -e aac.rec p.rec &&
	test $(cat pf.count) -eq $(cat pairs.count)
'

test_expect_success 'feat-merge, feat-import, emb-cache export and get (vectors)' '
	both fm feat-merge -k id -x emb aac.rec dpc.rec &&
	rec-cut -M -f id,emb aac.rec | feat-export --ids a.ids -o a.npy &&
	both fi feat-import --ids a.ids a.npy && test $(cat fi.count) -eq 300 &&
	rec-cut -M -f id,seq,emb aac.rec >ae.rec &&
	emb-cache import $IMP c.h5 ae.rec 2>/dev/null &&
	both ecx emb-cache export c.h5 &&
	rec-cut -M -f id,seq ae.rec | rec-head -M -n 50 >ids.rec &&
	both ecg emb-cache get c.h5 ids.rec && test $(cat ecg.count) -eq 50
'

test_expect_success 'rec-shard -T: every shard' '
	mkdir t y &&
	rec-shard -T -n 3 t/p sp.rec && rec-shard --typed -n 3 y/p sp.rec &&
	for k in 0 1 2; do pdcheck t/p.$k y/p.$k c.$k || return 1; done &&
	test $(($(cat c.0) + $(cat c.1) + $(cat c.2))) -eq 300
'

test_expect_success 'mlp-train --log, mlp-predict, mlp-calibrate --apply' '
	mlp-train --hidden 4 --epochs 3 --log log.tsv -o m.mlp tv.rec 2>/dev/null &&
	mlp-train --hidden 4 --epochs 3 --log log.typed --log-typed -o m2.mlp tv.rec 2>/dev/null &&
	cmp m.mlp m2.mlp &&
	rec-cat -T log.typed >log2.tsv &&
	pdcheck log2.tsv log.typed log.count && test $(cat log.count) -eq 3 &&
	cut -f1-9 log.tsv >a && cut -f1-9 log2.tsv >b && test_cmp a b &&
	both pred mlp-predict --allow-seen --model m.mlp lin.tsv &&
	test $(cat pred.count) -eq 400 &&
	mlp-predict -M --model m.mlp --allow-seen lin.tsv 2>/dev/null |
		rec-filter -M "split==\"val\"" >val.rec &&
	mlp-calibrate -o cal.json val.rec 2>/dev/null &&
	both cal mlp-calibrate --apply cal.json val.rec
'

test_expect_success 'the mlp-train log: plain has no provenance, --log-typed keeps argv and seed' '
	head -n 1 log.tsv >hdr &&
	printf "epoch\ttrain_loss\tval_loss\tval_acc\tval_f1\tval_precision\tval_recall\tval_auroc\tlr\tseconds\n" >expect &&
	test_cmp expect hdr && ! grep "^#" log.tsv &&
	head -n 1 log.typed | grep "^#plm	1\$" &&
	sed -n 2p log.typed | grep "^#meta	.*\"tool\":\"mlp-train\".*\"--log-typed\".*\"seed\":11}" &&
	test_usage_error "--log-typed: no log file: give --log FILE" mlp-train --log-typed -o x.mlp tv.rec
'

test_expect_success 'the split manifest reads as a record stream; rec-cat -T makes it plain' '
	rec-cat --typed m.tsv >m.typed &&
	sed -n 3p m.typed >hdr && printf "id:str\tseq_hash:str\tsplit:str\n" >expect &&
	test_cmp expect hdr &&
	dg=$(sed -n "s/^#digest	//p" m.tsv) &&
	sed -n 2p m.typed | grep "^#meta	{\"split_manifest\":{\"version\":2,\"digest\":\"$dg\",\"recipe\":{\"seed\":\"1\",\"ratios\":\"train=0.6,val=0.2,test=0.2\",\"by\":\"label\",\"group\":\"grp\",\"input\":\"[0-9a-f]\{32\}\"}}" &&
	rows m.tsv >data && rows m.typed >got && test_cmp data got &&
	rec-cat -T m.tsv >m.plain.tsv && pdcheck m.plain.tsv m.typed m.count &&
	test $(cat m.count) -eq 300 &&
	$PY -c "
import pandas as pd
m = pd.read_csv(\"m.plain.tsv\", sep=\"\t\")
s = pd.read_csv(\"split.tsv\", sep=\"\t\")
j = s.merge(m, on=\"id\", suffixes=(\"\", \"_m\"))
assert len(j) == 300 and (j.split == j.split_m).all()
print(m.split.value_counts().sort_index().to_dict())
" >counts &&
	rows m.typed | cut -f3 | sort | uniq -c | awk "{ printf \"%s%s: %s\", n++ ? \", \" : \"{\", \"\\x27\" \$2 \"\\x27\", \$1 } END { print \"}\" }" >expect &&
	test_cmp expect counts
'

test_expect_success 'a manifest is read whole and verified: an edited one, a truncated one' '
	sed "3s/train\$/val/;3s/val\$/train/" m.tsv >e.tsv && ! cmp -s m.tsv e.tsv &&
	test_error "e.tsv: digest mismatch" rec-cat -T e.tsv &&
	test_must_fail rec-cat -T e.tsv >out 2>/dev/null; test ! -s out &&
	sed "\$d" m.tsv >tr.tsv &&
	test_error "tr.tsv: truncated manifest (no digest line)" rec-filter -T "split==\"val\"" tr.tsv &&
	gzip -c m.tsv | rec-filter -T "split==\"val\"" >v.tsv &&
	test $(sed 1d v.tsv | wc -l) -eq $(grep -c "	val\$" m.tsv)
'

test_done
