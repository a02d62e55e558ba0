#!/bin/sh
# strat-split: seeded, stratified, grouped split; manifest and lock.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

python_any

# 20 records, label pos every third
small () {
	printf 'id:str\tseq:str\tlabel:str\n'
	for i in $(seq 1 20); do
		l=neg; [ $((i % 3)) -eq 0 ] && l=pos
		printf 'r%d\tMKV%dAAA\t%s\n' $i $i $l
	done
}

# strata-1000.tsv: 1000 random 30-residue records, label a, b, c about
# 3:2:1, 150 groups in iso.
test_expect_success 'setup' '
	small >small.tsv &&
	cp "$PLM_TOP/tests/data/split/strata-1000.tsv" big.tsv &&
	$PY - big.tsv >shuf.tsv <<-\PY
	import random, sys
	lines = open(sys.argv[1]).read().splitlines()
	body = lines[1:]
	random.Random(3).shuffle(body)
	print("\n".join([lines[0]] + body))
	PY
	test $(wc -l <shuf.tsv) -eq 1001
'

test_expect_success 'exact split of a small input' '
	strat-split --typed -r train=0.6,val=0.2,test=0.2 -b label small.tsv >out &&
	{ sed -n "4,\$p" out | cut -f1,4 | tr "\n" " "; echo; } >got &&
	echo "r1	test r2	train r3	train r4	train r5	train r6	train r7	val r8	val r9	test r10	train r11	train r12	val r13	test r14	train r15	train r16	train r17	train r18	train r19	val r20	test " >want &&
	test_cmp want got
'

test_expect_success 'fields pass through; split appended; seed in prov' '
	sed -n 3p out >hdr &&
	printf "id:str\tseq:str\tlabel:str\tsplit:str\n" >want &&
	test_cmp want hdr &&
	grep -q "\"tool\":\"strat-split\".*\"seed\":11" out
'

test_expect_success 'largest remainder: per-stratum counts exact' '
	sed -n "4,\$p" out | cut -f3,4 | sort | uniq -c | awk "{print \$1, \$2, \$3}" >got &&
	cat >want <<-\EOF &&
	3 neg test
	8 neg train
	3 neg val
	1 pos test
	4 pos train
	1 pos val
	EOF
	test_cmp want got
'

test_expect_success 'shuffled input gives the same assignment' '
	strat-split --typed -r train=0.7,val=0.2,test=0.1 -b label big.tsv >a.out &&
	strat-split --typed -r train=0.7,val=0.2,test=0.1 -b label shuf.tsv >b.out &&
	sed -n "4,\$p" a.out | sort >a.s &&
	sed -n "4,\$p" b.out | sort >b.s &&
	test_cmp a.s b.s &&
	test $(wc -l <a.s) -eq 1000
'

test_expect_success 'another seed gives another split' '
	strat-split --typed -r train=0.7,val=0.2,test=0.1 -b label -s 12 big.tsv >c.out &&
	sed -n "4,\$p" c.out | sort >c.s &&
	! cmp -s a.s c.s
'

test_expect_success 'each stratum within 1 of ratio x size' '
	awk -F"\t" "
		{ n[\$3]++; c[\$3 SUBSEP \$5]++ }
		END {
			r[\"train\"] = 0.7; r[\"val\"] = 0.2; r[\"test\"] = 0.1; bad = 0
			for (l in n) for (s in r) {
				d = c[l SUBSEP s] - r[s] * n[l]
				if (d > 1 || d < -1) { print l, s, c[l SUBSEP s], n[l]; bad = 1 }
			}
			exit bad
		}" a.s
'

test_expect_success 'groups never cross splits; independent of order' '
	strat-split --typed -r train=0.7,val=0.2,test=0.1 -b label -g iso big.tsv >g1.out &&
	strat-split --typed -r train=0.7,val=0.2,test=0.1 -b label -g iso shuf.tsv >g2.out &&
	sed -n "4,\$p" g1.out | sort >g1.s &&
	sed -n "4,\$p" g2.out | sort >g2.s &&
	test_cmp g1.s g2.s &&
	awk -F"\t" "{ k = \$4; if (k in s && s[k] != \$5) { print k; bad = 1 } s[k] = \$5 }
		END { exit bad }" g1.s &&
	cut -f5 g1.s | sort | uniq -c >counts &&
	awk "{ n[\$2] = \$1 } END { exit !(n[\"train\"] > 600 && n[\"train\"] < 800 && n[\"test\"] > 50 && n[\"test\"] < 150) }" counts
'

test_expect_success 'manifest: format, digest, and digest in prov' '
	strat-split --typed -r train=0.6,val=0.2,test=0.2 -b label --manifest m.tsv small.tsv >out &&
	head -n 6 m.tsv >head &&
	printf "#plm-split-manifest\t2\n#seed\t11\n#ratios\ttrain=0.6,val=0.2,test=0.2\n#by\tlabel\n#input\t%s\nid\tseq_hash\tsplit\n" "$(sed -n "s/^#input\t//p" m.tsv)" >want &&
	test_cmp want head &&
	test $(wc -l <m.tsv) -eq 27 &&
	sed -n 7p m.tsv >l1 &&
	printf "r1\tf38f9c9aa50a79b16e8b5f07272a3cd7\ttest\n" >want &&
	test_cmp want l1 &&
	sed -n "7,26p" m.tsv >lines &&
	d=$(tail -n 1 m.tsv | cut -f2) &&
	grep -q "\"split_digest\":\"$d\"" out &&
	sed -n "7,26p" m.tsv | cut -f1 >ids && sort ids >sorted && test_cmp sorted ids
'

test_expect_success 'an existing manifest is never overwritten; --force says what it replaces' '
	cp m.tsv keep.m &&
	test_exit 1 strat-split --typed -r train=0.6,val=0.2,test=0.2 -s 43 --manifest m.tsv -o o43.tsv small.tsv 2>err &&
	echo "strat-split: m.tsv: manifest exists; a frozen split is never overwritten: reuse it with --lock m.tsv, write a new path, or give --force to replace it" >expect &&
	test_cmp expect err &&
	cmp keep.m m.tsv && test_path_is_missing o43.tsv &&
	d=$(tail -n 1 m.tsv | cut -f2) &&
	strat-split --typed -r train=0.6,val=0.2,test=0.2 -s 43 --manifest m43.tsv small.tsv >o43 &&
	strat-split --typed -r train=0.6,val=0.2,test=0.2 -s 43 --force --manifest m.tsv -o o43.tsv small.tsv 2>err &&
	echo "strat-split: --force: replacing manifest m.tsv (20 records, seed 11, ratios train=0.6,val=0.2,test=0.2, digest $d)" >expect &&
	test_cmp expect err &&
	cmp m43.tsv m.tsv &&
	cp keep.m m.tsv &&
	test_usage_error "applies to --manifest" strat-split -r train=1 --force small.tsv
'

test_expect_success_if 'test_have_python xxhash' 'digest is XXH3-128 of the data lines' '
	d=$(tail -n 1 m.tsv | cut -f2) &&
	$PY -c "import xxhash,sys; print(xxhash.xxh3_128_hexdigest(open(\"lines\",\"rb\").read()))" >got &&
	echo $d >want && test_cmp want got
'

test_expect_success 'lock reproduces the split from shuffled input' '
	strat-split --typed -r train=0.7,val=0.2,test=0.1 -b label -g iso --manifest big.m big.tsv >x.out &&
	strat-split --typed --lock big.m shuf.tsv >y.out &&
	sed -n "4,\$p" x.out | sort >x.s &&
	sed -n "4,\$p" y.out | sort >y.s &&
	test_cmp x.s y.s &&
	grep -q "\"split_lock\":\"big.m\"" y.out &&
	d=$(tail -n 1 big.m | cut -f2) && grep -q "\"split_digest\":\"$d\"" y.out
'

test_expect_success 'lock lists new, missing and changed ids and fails' '
	{ head -n 1 small.tsv; sed -n "3,\$p" small.tsv | sed "s/MKV5AAA/MKV5AAC/"; printf "new1\tMMM\tpos\n"; } >changed.tsv &&
	test_exit 1 strat-split --typed --lock m.tsv -o o.tsv changed.tsv 2>err &&
	test_path_is_missing o.tsv &&
	grep -q "new id .new1." err &&
	grep -q "missing id .r1." err &&
	grep -q "changed sequence for id .r5." err &&
	grep -q "1 new, 1 missing, 1 changed" err
'

test_expect_success 'an edited or truncated manifest is refused' '
	sed "s/	test\$/	train/" m.tsv >edited.tsv &&
	test_exit 1 strat-split --typed --lock edited.tsv small.tsv >o 2>err &&
	grep -q "digest mismatch" err && test ! -s o &&
	sed "\$d" m.tsv >trunc.m &&
	test_error "truncated manifest" strat-split --typed --lock trunc.m small.tsv >o
'

test_expect_success 'a one-member stratum is noted, not fatal' '
	{ cat small.tsv; printf "lonely\tMQQ\trare\n"; } >tiny.tsv &&
	strat-split --typed -r train=0.8,val=0.1,test=0.1 -b label tiny.tsv >o 2>err &&
	grep -q "note: stratum .rare. has 1 record(s): none in val, test" err &&
	grep -q "^lonely	MQQ	rare	train\$" o
'

test_expect_success 'any names and any number of splits' '
	strat-split --typed -r a=0.25,b=0.25,c=0.25,d=0.25 small.tsv >o &&
	{ sed -n "4,\$p" o | cut -f4 | sort | uniq -c | awk "{print \$1}" | tr "\n" " "; echo; } >got &&
	echo "5 5 5 5 " >want && test_cmp want got
'

test_expect_success 'usage errors' '
	test_usage_error "sum to" strat-split -r train=0.8,test=0.1 small.tsv &&
	test_exit 2 strat-split -r train=0.5,train=0.5 small.tsv &&
	test_exit 2 strat-split -r train small.tsv &&
	test_exit 2 strat-split small.tsv &&
	test_exit 2 strat-split --lock m.tsv --manifest n.tsv small.tsv &&
	test_exit 2 strat-split --import m.tsv -s 3 small.tsv
'

test_expect_success 'duplicate id is an error, nothing written' '
	{ cat small.tsv; printf "r3\tMKV\tpos\n"; } >dup.tsv &&
	test_error "record 21: duplicate id .r3." strat-split -r train=0.5,test=0.5 -o o.mp dup.tsv &&
	test_path_is_missing o.mp
'

test_expect_success 'missing field, wrong type, missing group value' '
	test_error "no field .nosuch." strat-split -r train=1 -b nosuch small.tsv &&
	printf "id:str\tv:f32[2]\tseq:str\na\t1,2\tMK\n" >vec.tsv &&
	test_error "must be a scalar" strat-split -r train=1 -b v vec.tsv &&
	test_exit 1 strat-split -r train=1 --manifest m2 --seq v vec.tsv 2>err &&
	grep -q "must be str" err && test_path_is_missing m2 &&
	printf "id:str\tg:str\na\t\\\\N\n" >nilg.tsv &&
	test_error "record 1: missing value in field .g." strat-split -r train=1 -g g nilg.tsv
'

test_expect_success 'empty and truncated input: exit 1, no output or manifest' '
	: >empty &&
	test_error "empty input" strat-split -r train=1 -o o.mp --manifest mm empty &&
	test_path_is_missing o.mp && test_path_is_missing mm &&
	strat-split -M -r train=1 small.tsv >full.mp &&
	head -c $(($(wc -c <full.mp) - 4)) full.mp >cut.mp &&
	test_error "truncated" strat-split -r train=1 -o o.mp --manifest mm cut.mp &&
	test_path_is_missing o.mp && test_path_is_missing mm
'

test_expect_success 'stdin is read (spooled) like a file' '
	strat-split --typed -r train=0.6,val=0.2,test=0.2 -b label <small.tsv >o1 &&
	strat-split --typed -r train=0.6,val=0.2,test=0.2 -b label small.tsv >o2 &&
	sed -n "4,\$p" o1 >r1 && sed -n "4,\$p" o2 >r2 && test_cmp r1 r2
'

test_expect_success 'errors on stdin name "stdin", not the spool file' '
	test_error "^strat-split: stdin: record 1: missing value in field .g." strat-split -r train=1 -g g <nilg.tsv &&
	test_error "^strat-split: stdin: .*truncated" strat-split -r train=1 -o o.mp <cut.mp &&
	! grep -q plm-strat-split err &&
	test_path_is_missing o.mp
'

test_expect_success 'SIGKILL while spooling stdin leaves nothing in TMPDIR' '
	rm -rf spooltmp fifo && mkdir spooltmp && mkfifo fifo || exit 1
	{ cat big.tsv; sleep 3; } >fifo 2>/dev/null </dev/null &
	wpid=$!
	TMPDIR=$PWD/spooltmp strat-split -r train=1 -o killed.mp <fifo 2>/dev/null &
	pid=$!
	# wait until it has its spool file open, then kill it
	n=0
	while test $n -lt 100 &&
	      ! ls -l /proc/$pid/fd 2>/dev/null | grep -q spooltmp
	do
		sleep 0.05; n=$((n + 1))
	done
	kill -9 $pid && { wait $pid; test $? -eq 137; } &&
	{ kill $wpid 2>/dev/null; wait $wpid; true; } &&
	test -z "$(ls -A spooltmp)"
'

test_expect_success '--by with an empty name in the list: the same as without it' '
	strat-split --typed -r train=0.6,val=0.2,test=0.2 -b label small.tsv >expect &&
	strat-split --typed -r train=0.6,val=0.2,test=0.2 -b ,label small.tsv >actual &&
	grep -v "^#meta" expect >e && grep -v "^#meta" actual >a &&
	test_cmp e a
'

test_done
