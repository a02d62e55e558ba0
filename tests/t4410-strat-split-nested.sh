#!/bin/sh
# strat-split: nested splits in one run, the recipe in the manifest and its
# lock, and --import of a frozen assignment.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

python_any

NEST="-r train=0.9,test=0.1 --then train:train=0.9,val=0.1 -s 42 -b label"

# strata-1000.tsv: 1000 random 30-residue records, label a, b, c about
# 3:2:1, 150 groups in iso.
test_expect_success 'setup' '
	cp "$PLM_TOP/tests/data/split/strata-1000.tsv" big.tsv &&
	test $(wc -l <big.tsv) -eq 1001
'

test_expect_success 'nested split in one run: train, val, test from one manifest' '
	strat-split --typed $NEST --manifest m.tsv big.tsv >n.out &&
	rows n.out | cut -f5 | sort | uniq -c | awk "{print \$1, \$2}" >got &&
	printf "100 test\n810 train\n90 val\n" >want &&
	test_cmp want got &&
	head -n 7 m.tsv | cut -f1 >keys &&
	printf "#plm-split-manifest\n#seed\n#ratios\n#then\n#by\n#input\nid\n" >want &&
	test_cmp want keys &&
	grep -q "^#seed	42$" m.tsv &&
	grep -q "^#ratios	train=0.9,test=0.1$" m.tsv &&
	grep -q "^#then	train:train=0.9,val=0.1$" m.tsv &&
	grep -q "^#by	label$" m.tsv &&
	grep -q "\"split_recipe\":\"seed=42; ratios=train=0.9,test=0.1; then=train:train=0.9,val=0.1; by=label; input=[0-9a-f]\{32\}\"" n.out
'

test_expect_success 'split_recipe keeps a # inside a name or value' '
	strat-split --typed -r "tr#1=0.9,test=0.1" -g "iso" big.tsv >h.out &&
	grep -q "\"split_recipe\":\"seed=11; ratios=tr#1=0.9,test=0.1; group=iso; input=[0-9a-f]\{32\}\"" h.out
'

test_expect_success 'nested: test equals the one-level run; val is 10% of the rest per stratum' '
	strat-split --typed -r train=0.9,test=0.1 -s 42 -b label big.tsv >one.out &&
	rows one.out | awk -F "\t" "\$5 == \"test\" {print \$1}" | sort >t1 &&
	rows n.out | awk -F "\t" "\$5 == \"test\" {print \$1}" | sort >t2 &&
	test_cmp t1 t2 &&
	test $(wc -l <t1) -eq 100 &&
	rows n.out | awk -F "\t" "
		{ n[\$3]++ }
		\$5 != \"test\" { rest[\$3]++ }
		\$5 == \"val\" { val[\$3]++ }
		END { for (s in n) { d = val[s] - 0.1 * rest[s]; if (d < 0) d = -d;
			printf \"%s %d %d %d\n\", s, n[s], rest[s], val[s]; if (d > 1) bad = 1 }
			exit bad }" | sort >per &&
	printf "a 509 458 46\nb 343 309 31\nc 148 133 13\n" >want &&
	test_cmp want per
'

test_expect_success 'nested with groups: no group crosses a split' '
	strat-split --typed -r train=0.8,test=0.2 --then train:train=0.75,val=0.25 -g iso big.tsv >g.out &&
	rows g.out | cut -f4,5 | sort -u | cut -f1 | uniq -d >crossing &&
	test ! -s crossing &&
	rows g.out | cut -f5 | sort -u >names &&
	printf "test\ntrain\nval\n" >want && test_cmp want names
'

test_expect_success 'same input and recipe: byte-identical manifest, from shuffled input too' '
	"$PY" -c "
import random, sys
l = open(\"big.tsv\").read().splitlines()
b = l[1:]; random.Random(3).shuffle(b)
print(\"\n\".join([l[0]] + b))" >shuf.tsv &&
	strat-split --typed $NEST --manifest m2.tsv shuf.tsv >/dev/null &&
	cmp m.tsv m2.tsv &&
	strat-split --typed -r train=0.90,test=0.10 --then train:train=0.9,val=0.1 -s 42 -b label --manifest m3.tsv big.tsv >/dev/null &&
	cmp m.tsv m3.tsv
'

test_expect_success 'lock with the same recipe reproduces the split' '
	strat-split --typed --lock m.tsv big.tsv >l.out &&
	rows l.out >a && rows n.out >b && test_cmp b a &&
	strat-split --typed $NEST --lock m.tsv shuf.tsv >l2.out &&
	rows l2.out | sort >a && sort b >bs && test_cmp bs a &&
	grep -q "\"split_recipe\":\"seed=42; ratios=train=0.9,test=0.1; then=train:train=0.9,val=0.1" l.out
'

test_expect_success 'lock: every recipe element that differs is named and fails' '
	test_error "seed is 43 here, 42 in the locked split" strat-split --typed -r train=0.9,test=0.1 --then train:train=0.9,val=0.1 -s 43 -b label --lock m.tsv -o o.out big.tsv &&
	test_path_is_missing o.out &&
	test_error "then is train:train=0.8,val=0.2 here" strat-split --typed -r train=0.9,test=0.1 --then train:train=0.8,val=0.2 -s 42 -b label --lock m.tsv big.tsv &&
	test_error "then is (none) here" strat-split --typed -r train=0.9,test=0.1 -s 42 -b label --lock m.tsv big.tsv &&
	test_error "by is (none) here, label in the locked split" strat-split --typed -r train=0.9,test=0.1 --then train:train=0.9,val=0.1 -s 42 --lock m.tsv big.tsv &&
	test_error "group is iso here, (none)" strat-split --typed $NEST -g iso --lock m.tsv big.tsv &&
	test_error "seed is 11 here" strat-split --typed -r train=0.9,test=0.1 --then train:train=0.9,val=0.1 -b label --lock m.tsv big.tsv &&
	test_error "3 recipe element(s) differ" strat-split --typed -r train=0.8,test=0.2 -s 1 -b label --lock m.tsv big.tsv &&
	test_error "ratios is (none) here, train=0.9,test=0.1 in the locked split" strat-split --typed -s 42 -b label --lock m.tsv big.tsv
'

test_expect_success 're-run with another seed cannot silently change a locked manifest' '
	cp m.tsv keep.m &&
	test_error "manifest exists" strat-split --typed $NEST -s 43 --manifest m.tsv big.tsv &&
	cmp keep.m m.tsv &&
	sed "s/^#seed	42$/#seed	43/" m.tsv >edited.m &&
	test_error "digest mismatch" strat-split --typed --lock edited.m big.tsv &&
	sed "s/^#then	train:train=0.9,val=0.1$/#then	train:train=0.8,val=0.2/" m.tsv >edited2.m &&
	test_error "digest mismatch" strat-split --typed --lock edited2.m big.tsv
'

# tests/data/split/v1-small.manifest: written by the version 1 writer (its
# digest covers the data lines only) for t4400's 20-record input with
# -r train=0.60,val=0.2,test=0.2 -b label
test_expect_success 'a version 1 manifest still locks, and its recipe is compared' '
	{ printf "id:str\tseq:str\tlabel:str\n"
	  for i in $(seq 1 20); do
		l=neg; [ $((i % 3)) -eq 0 ] && l=pos
		printf "r%d\tMKV%dAAA\t%s\n" $i $i $l
	  done; } >small.tsv &&
	strat-split --typed --lock "$DATA/split/v1-small.manifest" small.tsv >v1.out &&
	{ rows v1.out | cut -f1,4 | tr "\n" " "; echo; } >got &&
	echo "r1	test r2	train r3	train r4	train r5	train r6	train r7	val r8	val r9	test r10	train r11	train r12	val r13	test r14	train r15	train r16	train r17	train r18	train r19	val r20	test " >want &&
	test_cmp want got &&
	strat-split --typed -r train=0.6,val=0.2,test=0.2 -b label --lock "$DATA/split/v1-small.manifest" small.tsv >/dev/null &&
	test_error "seed is 12 here, 11 in the locked split" strat-split --typed -r train=0.6,val=0.2,test=0.2 -b label -s 12 --lock "$DATA/split/v1-small.manifest" small.tsv
'

test_expect_success '--then usage errors' '
	test_usage_error "is not a split of --ratios" strat-split -r train=0.9,test=0.1 --then val:a=1 big.tsv &&
	test_usage_error "already a split of --ratios" strat-split -r train=0.9,test=0.1 --then train:test=0.5,val=0.5 big.tsv &&
	test_usage_error "expected SPLIT:NAME=RATIO" strat-split -r train=0.9,test=0.1 --then val=0.1 big.tsv &&
	test_usage_error "sum to" strat-split -r train=0.9,test=0.1 --then train:val=0.1 big.tsv &&
	test_usage_error "give --ratios" strat-split --then train:val=0.1,train=0.9 --lock m.tsv big.tsv
'

test_expect_success 'import: a frozen assignment becomes a lockable manifest' '
	{ printf "id\tsplit\n"; rows n.out | cut -f1,5; } >assign.tsv &&
	strat-split --typed --import assign.tsv --manifest im.m shuf.tsv >i.out &&
	rows i.out | sort >a && test_cmp bs a &&
	head -n 4 im.m | cut -f1 >keys &&
	printf "#plm-split-manifest\n#import\n#input\nid\n" >want &&
	test_cmp want keys &&
	sed 1,3d im.m >x && sed 1,6d m.tsv >y &&
	sed "\$d" x >x2 && sed "\$d" y >y2 && test_cmp y2 x2 &&
	strat-split --typed --lock im.m big.tsv >il.out &&
	rows il.out >a && test_cmp b a &&
	strat-split --typed --import assign.tsv --manifest im2.m big.tsv >/dev/null &&
	cmp im.m im2.m &&
	test_error "seed is 42 here, (none)" strat-split --typed $NEST --lock im.m big.tsv
'

test_expect_success 'import refuses missing, unknown and duplicated ids, listing them' '
	{ sed -n 1,4p assign.tsv; echo "s1	test"; echo "zz	train"; echo "yy	val"; sed -n "7,\$p" assign.tsv; } >bad.tsv &&
	test_error "assignment refused: 2 input id(s) with no assignment, 2 id(s) not in the input, 1 id(s) assigned more than once" \
		strat-split --typed --import bad.tsv --manifest bad.m -o bad.out big.tsv &&
	grep -q "bad.tsv: record 4: id .s1. is assigned more than once" err &&
	grep -q "bad.tsv: input id .s3. has no assignment" err &&
	grep -q "bad.tsv: input id .s4. has no assignment" err &&
	grep -q "bad.tsv: id .zz. is not in the input" err &&
	grep -q "bad.tsv: id .yy. is not in the input" err &&
	test_path_is_missing bad.m &&
	test_path_is_missing bad.out
'

test_expect_success 'import: bad tables and usage' '
	printf "id\tother\na\tb\n" >nosplit.tsv &&
	test_error "needs fields .id. and .split." strat-split --import nosplit.tsv big.tsv &&
	printf "id\tsplit\ns0\t\n" >empty.tsv &&
	test_error "record 1: missing split name" strat-split --import empty.tsv big.tsv &&
	test_usage_error "do not apply" strat-split --import assign.tsv -s 3 big.tsv &&
	test_usage_error "do not apply" strat-split --import assign.tsv --lock m.tsv big.tsv
'

test_done
