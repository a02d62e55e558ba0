#!/bin/sh
# seq-cluster: exact cluster ids on constructed near-duplicate chains, the
# guarantee checked by leak-check after a grouped split of real data,
# --max-cluster / --removed, thread-count invariance, bad input.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

# Ten random 50-residue segments (seeded); record i of a chain is segments
# i, i+1, i+2: neighbours share two thirds of their 5-mers (sim 0.66),
# records two apart one third (0.32, below 0.5).
S0=YKNTARICGENSIPVEWIAHQKGPGDFYYRFFAAHHGGLMHVHGHPLANQ
S1=GFKDMLYWAYMDLNLSMGSSGCKANPAVQNPWARCGYHEIRNTNTKREWN
S2=LCQDHMTYNFMKVDLMLGDFLSGCDYVPCIYNKRQFCCSMHFWFQEGQNF
S3=CQLFRYGTRSMSKLSPFEPVGSMGDSKTVTNDNWCLNVKSKLMGWASVKM
S4=KRLTNNKNQNGRNMTFTGHNSLDQGYWTQLYVKAHGWRYGIGCSIGCFEM
S5=GSHVCQRNPYDWHINANPKQEVNCVYLELVTMWLNFQQWVNRFGYPWSHF
S6=YDNAPEMWYVFMWPQQISLSPPGYYKLSKQAMLSLFSAEYRILCFPASVV
S7=KISCISKFLLSYSTYEAFLLVMYLTARNNWFCAKVREVHAQQYWSPSPHL
S8=RDLAQWLSLFGSVSMVFQWVCDIKDDAMQDPSCEEIYEFLRFGYGQGDYH
S9=CVEPDKCWWEPYFAQDMYSSNNCFLFWTLVVYIKDVIKLTFINRPGFAMD

test_expect_success 'setup' '
	{
		printf "id:str\tseq:str\n" &&
		printf "A\t%s\n" "$S0$S1$S2" &&
		printf "D\t%s\n" "$S7$S8$S9" &&
		printf "B\t%s\n" "$S1$S2$S3" &&
		printf "C\t%s\n" "$S2$S3$S4" &&
		printf "E\t%s\n" "$S7$S8$S9" &&
		printf "F\tMK\n" &&
		printf "G\tMK\n" &&
		printf "H\tmk\n" &&
		printf "I\t%s\n" "$S5"
	} >chain.tsv &&
	{
		printf "id:str\tseq:str\n" &&
		printf "c1\t%s\n" "$S0$S1$S2" &&
		printf "c2\t%s\n" "$S1$S2$S3" &&
		printf "c3\t%s\n" "$S2$S3$S4" &&
		printf "c4\t%s\n" "$S3$S4$S5" &&
		printf "c5\t%s\n" "$S4$S5$S6" &&
		printf "u1\t%s\nu2\t%s\nu3\t%s\n" "$S7" "$S8" "$S9" &&
		printf "u4\t%s\nu5\t%s\n" "$(echo $S7 | rev)" "$(echo $S8 | rev)"
	} >five.tsv
'

test_expect_success 'a chain A~B~C is one cluster though A and C are not similar' '
	seq-cluster --typed chain.tsv >out.tsv 2>err &&
	rows out.tsv | cut -f1,3 >got &&
	printf "A\t0\nD\t1\nB\t0\nC\t0\nE\t1\nF\t2\nG\t2\nH\t3\nI\t4\n" >want &&
	test_cmp want got &&
	grep -q "9 records, 7 distinct sequences, 2 pairs at sim >= 0.5: 5 clusters; the largest holds 3 records (33.33%)" err &&
	grep -q "note: 2 distinct sequence(s) have no 5-mer" err &&
	grep -q "\"clusters\":\"5\",\"largest_cluster\":\"3\",\"largest_share\":\"0.333333\",\"removed\":\"0\"" out.tsv
'

test_expect_success 'leak-check agrees: A~B and B~C leak, A and C do not' '
	rows chain.tsv | awk -F"\t" "BEGIN { print \"id:str\tseq:str\tsplit:str\" }
		\$1 == \"A\" { print \$0 \"\ttrain\" } \$1 == \"C\" { print \$0 \"\ttest\" }" >ac.tsv &&
	leak-check --typed ac.tsv >/dev/null &&
	rows chain.tsv | awk -F"\t" "BEGIN { print \"id:str\tseq:str\tsplit:str\" }
		\$1 == \"A\" { print \$0 \"\ttrain\" } \$1 == \"B\" { print \$0 \"\ttest\" }" >ab.tsv &&
	test_exit 1 leak-check --typed ab.tsv >/dev/null 2>&1
'

test_expect_success 'a higher --min-sim splits the chain; --field names the field' '
	seq-cluster --typed --min-sim 0.7 --field fam chain.tsv >out.tsv 2>err &&
	rows out.tsv | cut -f1,3 >got &&
	printf "A\t0\nD\t1\nB\t2\nC\t3\nE\t1\nF\t4\nG\t4\nH\t5\nI\t6\n" >want &&
	test_cmp want got &&
	sed -n 3p out.tsv >got &&
	printf "id:str\tseq:str\tfam:int\n" >want &&
	test_cmp want got
'

test_expect_success 'an existing cluster field is replaced' '
	rec-put "cluster = \"x\"" chain.tsv >in.mp &&
	seq-cluster --typed in.mp >out.tsv &&
	sed -n 3p out.tsv >got &&
	printf "id:str\tseq:str\tcluster:int\n" >want &&
	test_cmp want got &&
	rows out.tsv | cut -f3 | tr "\n" " " >got &&
	printf "0 1 0 0 1 2 2 3 4 " >want &&
	test_cmp want got
'

test_expect_success '--max-cluster removes the fewest it finds, into --removed' '
	seq-cluster --typed five.tsv >out.tsv 2>err &&
	grep -q "the largest holds 5 records (50.00%)" err &&
	seq-cluster --typed --max-cluster 0.3 --removed rm.tsv five.tsv >out.tsv 2>err &&
	rows out.tsv | cut -f1,3 >got &&
	printf "c1\t0\nc3\t1\nc4\t1\nc5\t1\nu1\t2\nu2\t3\nu3\t4\nu4\t5\nu5\t6\n" >want &&
	test_cmp want got &&
	rows rm.tsv >got &&
	printf "c2\t%s\t\n" "$S1$S2$S3" >want &&
	test_cmp want got &&
	grep -q "1 record(s) (1 distinct sequences) removed so that no cluster exceeds 3 records (--max-cluster 0.3 of 10): written to rm.tsv" err &&
	grep -q "9 records, 9 distinct sequences, 4 pairs at sim >= 0.5: 7 clusters; the largest holds 3 records (33.33%)" err &&
	grep -q "\"removed\":\"1\"" out.tsv
'

test_expect_success '--max-cluster: a clique keeps as many as fit' '
	{
		printf "id:str\tseq:str\n" &&
		for i in 1 2 3 4 5 6; do
			printf "k%d\t%s%s\n" $i "$S0$S1$S2" "$(echo $S3 | cut -c1-$i)" || return 1
		done &&
		for i in 1 2 3 4; do
			printf "u%d\t%s\n" $i "$(echo $S5$S6 | cut -c$((i * 10))-)" || return 1
		done
	} >clique.tsv &&
	seq-cluster --typed --max-cluster 0.4 --removed rm.tsv clique.tsv >out.tsv 2>err &&
	rows out.tsv | cut -f1 | tr "\n" " " >got &&
	printf "k3 k4 k5 k6 u1 u2 u3 u4 " >want &&
	test_cmp want got &&
	rows rm.tsv | cut -f1 | tr "\n" " " >got &&
	printf "k1 k2 " >want &&
	test_cmp want got
'

test_expect_success '--max-cluster without --removed: exit 1, nothing written' '
	test_error "nothing written: give --removed FILE" \
		seq-cluster --typed --max-cluster 0.3 -o none.tsv five.tsv &&
	grep -q "1 record(s) (1 distinct sequences) would be removed" err &&
	test_path_is_missing none.tsv &&
	seq-cluster --typed --max-cluster 0.5 five.tsv >out.tsv &&
	test $(rows out.tsv | wc -l) -eq 10
'

test_expect_success 'usage errors' '
	test_usage_error "give --max-cluster" seq-cluster --removed x five.tsv &&
	test_usage_error "max-cluster" seq-cluster --max-cluster 0 five.tsv &&
	test_usage_error "max-cluster" seq-cluster --max-cluster 1.5 five.tsv &&
	test_usage_error "min-sim" seq-cluster --min-sim 0 five.tsv &&
	test_usage_error "kmer" seq-cluster --kmer 7 five.tsv &&
	test_usage_error "go with --min-id" seq-cluster --cand-sim 0.1 five.tsv &&
	test_usage_error "go with --min-id" seq-cluster --min-cov 0.8 five.tsv &&
	test_usage_error "go with --min-id" seq-cluster --evalue 1 five.tsv &&
	test_usage_error "min-id" seq-cluster --min-id 0 five.tsv &&
	test_usage_error "min-id" seq-cluster --min-id 1.5 five.tsv
'

test_expect_success 'bad input: no field, wrong type, missing value' '
	test_error "no field .nope. (--seq)" seq-cluster --seq nope five.tsv &&
	printf "id:str\tseq:int\nx\t3\n" >int.tsv &&
	test_error "must be str" seq-cluster int.tsv &&
	printf "id:str\tseq:str\nx\t\\\\N\n" >nil.tsv &&
	test_error "record 1: missing value in field .seq." seq-cluster nil.tsv
'

# mut SEQ: positions 0-3 of every 10 changed (each letter to the one 7
# further in ACDEFGHIKLMNPQRSTVWY): identity 60%, and only the 5-mers in
# positions 4-9 kept (k-mer containment about 0.2)
mut() {
	echo "$1" | awk '{ A = "ACDEFGHIKLMNPQRSTVWY"; o = ""
		for (i = 1; i <= length($0); i++) { c = substr($0, i, 1)
			if ((i - 1) % 10 < 4) c = substr(A, (index(A, c) + 6) % 20 + 1, 1)
			o = o c }
		print o }'
}

test_expect_success '--min-id: pairs below --min-sim joined by alignment identity' '
	P=$S0$S1$S2$S3 && R=$S5$S6$S7$S8 &&
	{
		printf "id:str\tseq:str\n" &&
		printf "P\t%s\nR\t%s\n" "$P" "$R" &&
		printf "Q\t%s\nR2\t%s\n" "$(mut $P)" "$(mut $R)"
	} >fam.tsv &&
	seq-cluster --typed fam.tsv >out.tsv 2>err &&
	rows out.tsv | cut -f1,3 >got &&
	printf "P\t0\nR\t1\nQ\t2\nR2\t3\n" >want &&
	test_cmp want got &&
	seq-cluster --typed --min-id 0.5 fam.tsv >out.tsv 2>err &&
	rows out.tsv | cut -f1,3 >got &&
	printf "P\t0\nR\t1\nQ\t0\nR2\t1\n" >want &&
	test_cmp want got &&
	grep -q "^seq-cluster: 2 candidate pair(s) at 0.05 <= sim < 0.5: 2 aligned (the others already in one cluster), 2 at identity >= 0.5 with E <= 0.001$" err &&
	grep -q "4 records, 4 distinct sequences, 0 pairs at sim >= 0.5: 2 clusters" err
'

test_expect_success '--min-id above the identity, --cand-sim above the sim, a tight --evalue: not joined' '
	printf "P\t0\nR\t1\nQ\t2\nR2\t3\n" >want &&
	seq-cluster --typed --min-id 0.65 fam.tsv >out.tsv 2>err &&
	rows out.tsv | cut -f1,3 >got &&
	test_cmp want got &&
	grep -q "2 candidate pair(s) at 0.05 <= sim < 0.5: 2 aligned (the others already in one cluster), 0 at identity >= 0.65" err &&
	seq-cluster --typed --min-id 0.5 --cand-sim 0.3 fam.tsv >out.tsv 2>err &&
	rows out.tsv | cut -f1,3 >got &&
	test_cmp want got &&
	grep -q "0 candidate pair(s) at 0.3 <= sim < 0.5: 0 aligned" err &&
	seq-cluster --typed --min-id 0.5 --evalue 1e-100 fam.tsv >out.tsv 2>err &&
	rows out.tsv | cut -f1,3 >got &&
	test_cmp want got &&
	grep -q "2 aligned (the others already in one cluster), 0 at identity >= 0.5 with E <= 1e-100" err
'

test_expect_success '--min-cov: a homologous half (a shared domain) joins only without it' '
	D1=$S0$S1$S2$S3 &&
	{
		printf "id:str\tseq:str\n" &&
		printf "D1\t%s\nD2\t%s%s\n" "$D1" "$(mut $S0$S1)" "$S7$S8$S9"
	} >dom.tsv &&
	seq-cluster --typed --min-id 0.5 dom.tsv >out.tsv 2>err &&
	rows out.tsv | cut -f1,3 >got &&
	printf "D1\t0\nD2\t0\n" >want &&
	test_cmp want got &&
	seq-cluster --typed --min-id 0.5 --min-cov 0.8 dom.tsv >out.tsv 2>err &&
	rows out.tsv | cut -f1,3 >got &&
	printf "D1\t0\nD2\t1\n" >want &&
	test_cmp want got &&
	grep -q "1 aligned (the others already in one cluster), 0 at identity >= 0.5 with E <= 0.001 covering >= 0.8 of the shorter" err &&
	seq-cluster --typed --min-id 0.5 --min-cov 0.45 dom.tsv >out.tsv &&
	rows out.tsv | cut -f1,3 >got &&
	printf "D1\t0\nD2\t0\n" >want &&
	test_cmp want got &&
	seq-cluster --typed --min-id 0.5 --min-cov 0.8 fam.tsv >out.tsv &&
	rows out.tsv | cut -f1,3 >got &&
	printf "P\t0\nR\t1\nQ\t0\nR2\t1\n" >want &&
	test_cmp want got
'

test_expect_success '--min-id: a pair at --min-sim or above needs no alignment' '
	seq-cluster --typed --min-id 0.99 chain.tsv >out.tsv 2>err &&
	rows out.tsv | cut -f1,3 >got &&
	printf "A\t0\nD\t1\nB\t0\nC\t0\nE\t1\nF\t2\nG\t2\nH\t3\nI\t4\n" >want &&
	test_cmp want got &&
	grep -q "1 candidate pair(s) at 0.05 <= sim < 0.5: 0 aligned (the others already in one cluster), 0 at identity" err
'

U=$DATA/uniprot_20k.fasta.gz

test_expect_success 'real data: a split grouped by cluster does not leak, a random one does' '
	fasta-cat "$U" >u.mp &&
	seq-cluster --threads 2 u.mp >c2.mp 2>err &&
	grep -q "20000 records, 18801 distinct sequences" err &&
	strat-split -r train=0.8,val=0.1,test=0.1 -g cluster c2.mp >g.mp 2>/dev/null &&
	leak-check --typed g.mp >r.tsv &&
	test $(rows r.tsv | wc -l) -eq 0 &&
	leak-check --typed --forbid train:val,train:test,val:test g.mp >/dev/null &&
	strat-split -r train=0.8,val=0.1,test=0.1 u.mp >s.mp 2>/dev/null &&
	test_exit 1 leak-check --typed s.mp >r.tsv 2>/dev/null &&
	test $(rows r.tsv | wc -l) -gt 1000
'

test_expect_success 'real data: the same clusters with 1 and 2 threads' '
	seq-cluster --threads 1 --typed u.mp >c1.tsv 2>/dev/null &&
	rec-cat --typed c2.mp | nometa >want &&
	nometa c1.tsv >got &&
	test_cmp want got
'

test_expect_success 'real data, --min-id 0.5: fewer clusters, the same with 1 and 2 threads, no leak at sim 0.5' '
	rec-head -n 4000 u.mp >u4.mp &&
	seq-cluster --threads 1 --typed u4.mp >k1.tsv 2>err1 &&
	seq-cluster --threads 1 --typed --min-id 0.5 u4.mp >i1.tsv 2>err1 &&
	seq-cluster --threads 2 --typed --min-id 0.5 u4.mp >i2.tsv 2>err2 &&
	nometa i1.tsv >want &&
	nometa i2.tsv >got &&
	test_cmp want got &&
	k=$(rows k1.tsv | cut -f5 | sort -u | wc -l) &&
	i=$(rows i1.tsv | cut -f5 | sort -u | wc -l) &&
	test $i -lt $k &&
	grep -q "$i clusters" err2 &&
	strat-split -r train=0.8,val=0.1,test=0.1 -g cluster i1.tsv >g.mp 2>/dev/null &&
	leak-check --typed g.mp >r.tsv &&
	test $(rows r.tsv | wc -l) -eq 0
'

test_expect_success 'real data: --max-cluster at 0.05%: 10 records per cluster at most' '
	seq-cluster --max-cluster 0.0005 --removed rm.mp u.mp >m.mp 2>err &&
	rec-cat --typed m.mp >m.tsv &&
	rows m.tsv | cut -f5 | sort | uniq -c | sort -rn | head -n 1 >top &&
	test $(awk "{print \$1}" top) -le 10 &&
	rec-cat --typed rm.mp >rm.tsv &&
	kept=$(rows m.tsv | wc -l) &&
	gone=$(rows rm.tsv | wc -l) &&
	test $((kept + gone)) -eq 20000 &&
	test $gone -gt 0 &&
	grep -q "^seq-cluster: $gone record(s) .* removed so that no cluster exceeds 10 records" err
'

test_expect_success 'PLM_CLUSTER_STATS: index entries and posting entries walked' '
	# a: 6 distinct 5-mers, b shares 5 of its 6, c none: 18 entries;
	# a walks the 5 entries of b (targets after it), b and c walk none
	printf "id:str\tseq:str\na\tACDEFGHIKL\nb\tACDEFGHIKM\nc\tMNPQRSTVWY\n" >st.tsv &&
	PLM_CLUSTER_STATS=1 seq-cluster --typed st.tsv >/dev/null 2>err &&
	grep -q "^seq-cluster: stats: 18 postings, 5 hits, 0 verified, 0 frequent k-mers skipped, index [0-9]* bytes\$" err &&
	seq-cluster --typed st.tsv >/dev/null 2>err &&
	! grep -q stats err
'

test_done
