#!/bin/sh
# leak-check: exact and k-mer near-duplicates across splits, recall at known
# identity levels, index == all-pairs, exit codes, report records.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

# Two real proteins (UniProt) for the exact small cases.
A=MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDEDRLSPLHSVYVDQWDWERVMGDGERQFSTLKSTVEAIWAGIKATEAAVSEEFGLAPFLPDQIHFVHSQELLSRYPDLDAKGRERAIAKDLGAVFLVGIGGKLSDGHRHDVRAPDYDDWSTPSELGHAGLNGDILVWNPVLEDAFELSSMGIRVDADTLKHQLALTGDEDRLELEWHQALLRGEMPQTIGGGIGQSRLTMLLLQLPHIGQVQCGVWPAACRESVPALL
B=MSTNPKPQRKTKRNTNRRPQDVKFPGGGQIVGGVYLLPRRGPRLGVRATRKTSERSQPRGRRQPIPKARRPEGRTWAQPGYPWPLYGNEGCGWAGWLLSPRGSRPSWGPTDPRRRSRNLGKVIDTLTCGFADLMGYIPLVGAPLGGAARALAHGVRVLEDGVNYATGNLPGCSFSIFLLALLSCLTVPASA

python_any

test_expect_success 'setup: generator and all-pairs oracle' '
	cat >gen.py <<-\PY &&
	# gen.py N L SEED: N random originals (train); for each, copies with
	# exactly round((1-p)L) substitutions at p = 99, 90, 70, 30 % identity
	# and one unrelated random sequence (test).
	import random, sys
	n, L, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
	rng = random.Random(seed)
	AA = "ACDEFGHIKLMNPQRSTVWY"
	def rand(l): return "".join(rng.choice(AA) for _ in range(l))
	def mutate(s, p):
	    s = list(s)
	    for i in rng.sample(range(len(s)), round((1 - p) * len(s))):
	        s[i] = rng.choice([a for a in AA if a != s[i]])
	    return "".join(s)
	print("id:str\tseq:str\tsplit:str")
	for i in range(n):
	    o = rand(L)
	    print(f"o{i}\t{o}\ttrain")
	    for p in (99, 90, 70, 30):
	        print(f"m{p}_{i}\t{mutate(o, p / 100)}\ttest")
	    print(f"u{i}\t{rand(L)}\ttest")
	PY
	cat >brute.py <<-\PY &&
	# brute.py FILE K MINSIM: all train x test pairs with containment >= MINSIM
	import sys
	f, k, t = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
	AA = set("ACDEFGHIKLMNPQRSTVWY")
	def ks(s):
	    s = s.upper()
	    return {s[i:i + k] for i in range(len(s) - k + 1) if set(s[i:i + k]) <= AA}
	tr, te = [], []
	for line in open(f):
	    if line.startswith(("#", "id:")):
	        continue
	    i, s, sp = line.rstrip("\n").split("\t")[:3]
	    (tr if sp == "train" else te).append((i, ks(s)))
	for a, A in tr:
	    for b, B in te:
	        m = min(len(A), len(B))
	        if m and len(A & B) / m >= t:
	            print(f"{a}\t{b}\t{len(A & B) / m:.6f}")
	PY
	$PY gen.py 200 300 7 >g300.tsv &&
	$PY gen.py 200 60 7 >g60.tsv &&
	$PY gen.py 60 150 3 >g150.tsv &&
	test $(wc -l <g300.tsv) -eq 1201
'

# per level: how many of the 200 copies were reported against their original
levels () {
	sed -n "4,\$p" "$1" | awk -F"\t" "{ split(\$2, x, \"_\"); if (x[2] != \"\" && \$1 == \"o\" x[2]) n[x[1]]++; else if (\$2 ~ /^u/) n[\"u\"]++ }
		END { printf \"m99=%d m90=%d m70=%d m30=%d u=%d\n\", n[\"m99\"], n[\"m90\"], n[\"m70\"], n[\"m30\"], n[\"u\"] }"
}

test_expect_success 'recall at identity levels, length 300, -s 0.5' '
	test_exit 1 leak-check --typed g300.tsv >r.tsv 2>err &&
	levels r.tsv >got &&
	echo "m99=200 m90=200 m70=0 m30=0 u=0" >want &&
	test_cmp want got &&
	grep -q "400 pair(s) cross forbidden split boundaries (0 exact, 400 near" err
'

test_expect_success 'recall at identity levels, length 300, -s 0.1' '
	test_exit 1 leak-check --typed --min-sim 0.1 g300.tsv >r.tsv 2>err &&
	levels r.tsv >got &&
	echo "m99=200 m90=200 m70=198 m30=0 u=0" >want &&
	test_cmp want got
'

test_expect_success 'recall at identity levels, length 60' '
	test_exit 1 leak-check --typed g60.tsv >r.tsv 2>err &&
	levels r.tsv >got &&
	echo "m99=200 m90=189 m70=0 m30=0 u=0" >want &&
	test_cmp want got &&
	test_exit 1 leak-check --typed --min-sim 0.1 g60.tsv >r.tsv 2>err &&
	levels r.tsv >got &&
	echo "m99=200 m90=200 m70=164 m30=0 u=0" >want &&
	test_cmp want got
'

for args in "g60.tsv 0.5" "g150.tsv 0.1" "g150.tsv 0.3"; do
	set -- $args
	test_expect_success "the index finds exactly the all-pairs answer ($1, -s $2)" "
		test_exit 1 leak-check --typed --min-sim $2 $1 >r.tsv &&
		sed -n '4,\$p' r.tsv | awk -F'\t' '{printf \"%s\t%s\t%.6f\n\", \$1, \$2, \$5}' | sort >mine &&
		$PY brute.py $1 5 $2 | sort >oracle &&
		test_cmp oracle mine
	"
done

# Three splits, every pair forbidden: the indexed side is two of them, so
# pairs inside it are met from both sides and must be reported once.  At
# -s 0.5 the 150-residue sequences are "long" (sampled index), at -s 0.1
# "short" (every k-mer indexed).
test_expect_success 'setup: three splits, all-pairs oracle' '
	awk -F"\t" -v OFS="\t" "NR > 1 && \$3 == \"test\" && NR % 2 { \$3 = \"val\" } { print }" g150.tsv >g3.tsv &&
	cat >brute3.py <<-\PY
	import sys
	AA = set("ACDEFGHIKLMNPQRSTVWY")
	def ks(s):
	    return {s[i:i + 5] for i in range(len(s) - 4) if set(s[i:i + 5]) <= AA}
	r = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
	r = [(i, ks(s), sp) for i, s, sp in r]
	t = float(sys.argv[2])
	for x in range(len(r)):
	    for y in range(x + 1, len(r)):
	        (a, A, p), (b, B, q) = r[x], r[y]
	        m = min(len(A), len(B))
	        if p != q and m and len(A & B) / m >= t:
	            print("%s\t%s\t%.6f" % (min(a, b), max(a, b), len(A & B) / m))
	PY
'

for s in 0.5 0.1; do
	test_expect_success "three splits, all pairs forbidden, -s $s: the all-pairs answer, once each" "
		test_exit 1 leak-check --typed --min-sim $s --forbid train:val,train:test,val:test g3.tsv >r.tsv &&
		sed -n '4,\$p' r.tsv | awk -F'\t' '{ if (\$1 > \$2) { t = \$1; \$1 = \$2; \$2 = t }
			printf \"%s\t%s\t%.6f\n\", \$1, \$2, \$5 }' | sort >mine &&
		$PY brute3.py g3.tsv $s | sort >oracle &&
		test \$(wc -l <oracle) -gt 60 &&
		test_cmp oracle mine &&
		test_exit 1 leak-check --typed --min-sim $s --threads 1 --forbid train:val,train:test,val:test g3.tsv >r1.tsv &&
		sed -n '4,\$p' r.tsv >a && sed -n '4,\$p' r1.tsv >b && test_cmp a b
	"
done

# A query with more than 65,535 distinct k-mers in the index: its counts
# do not fit 16 bits (a copy of 70,000 random residues, 20 substituted).
test_expect_success 'a 70,000-residue pair: its exact count past 16 bits' '
	$PY - <<-\PY >big.tsv &&
	import random
	r = random.Random(5)
	a = [r.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(70000)]
	b = list(a)
	for i in r.sample(range(70000), 20):
	    b[i] = "W" if b[i] != "W" else "A"
	print("id:str\tseq:str\tsplit:str")
	print("x\t%s\ttrain" % "".join(a))
	print("y\t%s\ttest" % "".join(b))
	def ks(s):
	    return {s[i:i + 5] for i in range(len(s) - 4)}
	A, B = ks("".join(a)), ks("".join(b))
	open("want", "w").write("%d %d %.6f\n" % (len(A), len(A & B), len(A & B) / min(len(A), len(B))))
	PY
	test $(cut -d" " -f2 want) -gt 65535 &&
	for s in 1 8; do
		test_exit 1 leak-check --typed --scale $s big.tsv >r.tsv &&
		sed -n "4,\$p" r.tsv | awk -F"\t" "{ printf \"%.6f\n\", \$5 }" >got &&
		cut -d" " -f3 want >w3 && test_cmp w3 got || return 1
	done
'

test_expect_success 'every k-mer indexed (--scale 1) gives the same pairs' '
	test_exit 1 leak-check --typed --min-sim 0.1 g150.tsv >a.tsv &&
	test_exit 1 leak-check --typed --min-sim 0.1 --scale 1 g150.tsv >b.tsv &&
	sed -n "4,\$p" a.tsv >a && sed -n "4,\$p" b.tsv >b && test_cmp a b
'

test_expect_success 'threads do not change the report' '
	test_exit 1 leak-check --typed --threads 1 g300.tsv >a.tsv &&
	test_exit 1 leak-check --typed --threads 3 g300.tsv >b.tsv &&
	sed -n "4,\$p" a.tsv >a && sed -n "4,\$p" b.tsv >b && test_cmp a b
'

test_expect_success 'exact report on a small input' '
	Bmut=$(echo $B | sed "s/^MSTNP/MSTNQ/") &&
	{ printf "id:str\tseq:str\tsplit:str\textra:int\n" &&
	  printf "a1\t%s\ttrain\t1\n" $A &&
	  printf "b1\t%s\tval\t2\n" $B &&
	  printf "a2\t%s\ttest\t3\n" $A &&
	  printf "b2\t%s\ttest\t4\n" $Bmut &&
	  printf "c1\tMKV\ttest\t5\n" &&
	  printf "a3\t%s\ttrain\t6\n" $(echo $A | tr A-Z a-z); } >small.tsv &&
	test_exit 1 leak-check --typed small.tsv >r.tsv 2>err &&
	sed -n 3p r.tsv >hdr &&
	printf "a:str\tb:str\tsplit_a:str\tsplit_b:str\tsim:float\texact:bool\n" >want &&
	test_cmp want hdr &&
	sed -n "4,\$p" r.tsv >got &&
	printf "a1\ta2\ttrain\ttest\t1\ttrue\nb1\tb2\tval\ttest\t0.9732620320855615\tfalse\na3\ta2\ttrain\ttest\t1\tfalse\n" >want &&
	test_cmp want got &&
	grep -q "3 pair(s) cross forbidden split boundaries (1 exact, 2 near" err &&
	grep -q "note: 1 sequence(s) have no 5-mer" err
'

test_expect_success 'no leak: exit 0, empty report, prov appended' '
	sed "/^b2/d; /^a2/d" small.tsv >clean.tsv &&
	leak-check --typed clean.tsv >r.tsv 2>err &&
	test $(wc -l <r.tsv) -eq 3 &&
	! grep -v "note: 1 sequence(s) have no 5-mer" err &&
	grep -q "\"tool\":\"leak-check\"" r.tsv
'

test_expect_success '--forbid chooses the boundaries and the orientation' '
	leak-check --typed --forbid train:val small.tsv >r.tsv &&
	test $(wc -l <r.tsv) -eq 3 &&
	test_exit 1 leak-check --typed --forbid test:train -o r.tsv small.tsv &&
	sed -n "4,\$p" r.tsv | cut -f1-4 >got &&
	printf "a2\ta1\ttest\ttrain\na2\ta3\ttest\ttrain\n" >want &&
	test_cmp want got &&
	leak-check --typed --forbid train:nosuch small.tsv >r.tsv 2>err &&
	grep -q "no record in split .nosuch." err
'

test_expect_success 'usage errors' '
	test_exit 2 leak-check --forbid train small.tsv &&
	test_exit 2 leak-check --forbid test:test small.tsv &&
	test_exit 2 leak-check --kmer 7 small.tsv &&
	test_exit 2 leak-check --min-sim 0 small.tsv &&
	test_exit 2 leak-check --min-sim 1.5 small.tsv
'

test_expect_success 'missing field, wrong type, missing value' '
	cut -f1,2 small.tsv >nosplit.tsv &&
	test_exit 1 leak-check -o r.mp nosplit.tsv 2>err &&
	grep -q "no field .split." err && test_path_is_missing r.mp &&
	test_error "field .extra. (--split) must be str" leak-check --split extra small.tsv &&
	printf "id:str\tseq:str\tsplit:str\nx\t\\\\N\ttrain\n" >nil.tsv &&
	test_error "record 1: missing value in field .seq." leak-check nil.tsv
'

test_expect_success 'empty and truncated input: exit 1, no report file' '
	: >empty &&
	test_exit 1 leak-check -o r.mp empty 2>err &&
	grep -q "empty input" err && test_path_is_missing r.mp &&
	strat-split -M -r train=0.5,test=0.5 --id id small.tsv >s.mp &&
	head -c $(($(wc -c <s.mp) - 3)) s.mp >cut.mp &&
	test_exit 1 leak-check -o r.mp cut.mp 2>err &&
	grep -q "truncated" err && test_path_is_missing r.mp
'

# --mem 1k holds 42 pairs: g150 at -s 0.1 (178 pairs) spills five runs
# and merges them in several passes; the report (all but the meta line,
# whose prov names the options) must not change.
test_expect_success '--mem: pairs sorted on disk give the same report, byte for byte' '
	test_exit 1 env PLM_LEAK_STATS=1 leak-check --typed --min-sim 0.1 g150.tsv >r.tsv 2>err &&
	grep -q " 0 pair run(s) on disk" err &&
	sed -n "3,\$p" r.tsv >mem &&
	test $(wc -l <mem) -eq 179 &&
	test_exit 1 env PLM_LEAK_STATS=1 leak-check --typed --min-sim 0.1 --mem 1k g150.tsv >r.tsv 2>err &&
	grep -q " 5 pair run(s) on disk" err &&
	sed -n "3,\$p" r.tsv >disk &&
	test_cmp mem disk &&
	test_exit 1 env PLM_LEAK_STATS=1 leak-check --typed --min-sim 0.1 --mem 100 --threads 1 g150.tsv >r.tsv 2>err &&
	grep -q " 45 pair run(s) on disk" err &&
	sed -n "3,\$p" r.tsv >disk &&
	test_cmp mem disk &&
	test_exit 1 leak-check --typed --min-sim 0.5 --forbid train:val,train:test,val:test g3.tsv >r.tsv &&
	sed -n "3,\$p" r.tsv >mem &&
	test_exit 1 leak-check --typed --min-sim 0.5 --forbid train:val,train:test,val:test --mem 1k -o r.tsv g3.tsv &&
	sed -n "3,\$p" r.tsv >disk &&
	test_cmp mem disk
'

test_expect_success '--max-pairs-per-record: the first N pairs of each record a, by position of b' '
	Amut=$(echo $A | sed "s/^MKTAY/MKTAW/") &&
	{ printf "id:str\tseq:str\tsplit:str\n" &&
	  printf "t1\t%s\ttrain\n" $A &&
	  printf "x3\t%s\ttest\n" $Amut &&
	  printf "x1\t%s\ttest\n" $A &&
	  printf "t2\t%s\ttrain\n" $B &&
	  printf "x2\t%s\ttest\n" $A &&
	  printf "x4\t%s\ttest\n" $B; } >cap.tsv &&
	test_exit 1 leak-check --typed cap.tsv >r.tsv 2>err &&
	sed -n "4,\$p" r.tsv | cut -f1,2,6 >got &&
	printf "t1\tx3\tfalse\nt1\tx1\ttrue\nt1\tx2\ttrue\nt2\tx4\ttrue\n" >want &&
	test_cmp want got &&
	! grep -q "written" err &&
	test_exit 1 leak-check --typed --max-pairs-per-record 2 cap.tsv >r.tsv 2>err &&
	sed -n "4,\$p" r.tsv | cut -f1,2,6 >got &&
	printf "t1\tx3\tfalse\nt1\tx1\ttrue\nt2\tx4\ttrue\n" >want &&
	test_cmp want got &&
	grep -q "4 pair(s) cross forbidden split boundaries (3 exact, 1 near" err &&
	grep -q "3 of them written: at most 2 per record" err &&
	test_exit 1 leak-check --typed --max-pairs-per-record 1 --mem 100 cap.tsv >r.tsv 2>err &&
	sed -n "4,\$p" r.tsv | cut -f1,2 >got &&
	printf "t1\tx3\nt2\tx4\n" >want &&
	test_cmp want got &&
	grep -q "2 of them written: at most 1 per record" err &&
	test_exit 1 leak-check --typed --max-pairs-per-record 3 cap.tsv >r.tsv 2>err &&
	test $(wc -l <r.tsv) -eq 7 &&
	! grep -q "written" err
'

test_expect_success '--mem and --max-pairs-per-record: usage errors' '
	test_exit 2 leak-check --mem 0 cap.tsv 2>err &&
	grep -q "mem" err &&
	test_exit 2 leak-check --mem 5X cap.tsv &&
	test_exit 2 leak-check --mem "" cap.tsv &&
	test_exit 2 leak-check --mem -1M cap.tsv &&
	test_exit 2 leak-check --max-pairs-per-record -1 cap.tsv &&
	test_exit 2 leak-check --max-pairs-per-record x cap.tsv
'

test_done
