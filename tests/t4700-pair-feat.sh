#!/bin/sh
# pair-feat: pair vectors from two embeddings, each mode exact.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

python_any

test_expect_success 'setup' '
	printf "id:str\temb:f32[3]\np1\t1,2,3\np2\t0.5,-1,4\np3\t0.25,0.5,-8\n" >e.tsv &&
	printf "a:str\tb:str\tlabel:int\tsplit:str\np1\tp2\t1\ttrain\np2\tp3\t0\ttest\n" >p.tsv &&
	$PY - <<-\PY
	import random
	r = random.Random(7)
	D = 6
	ids = ["q%d" % i for i in range(25)]
	# values with few bits, so that the text is exact in f32 and f16 alike
	def val():
	    return r.choice([-1, 1]) * r.randint(0, 2047) / r.choice([1, 8, 64, 1024])
	with open("emb.tsv", "w") as f, open("emb16.tsv", "w") as g:
	    f.write("id:str\temb:f32[%d]\n" % D)
	    g.write("id:str\temb:f16[%d]\n" % D)
	    for i in ids:
	        v = ",".join(repr(val()) for _ in range(D))
	        f.write("%s\t%s\n" % (i, v))
	        g.write("%s\t%s\n" % (i, v))
	with open("pairs.tsv", "w") as f, open("swap.tsv", "w") as g:
	    f.write("a:str\tb:str\tlabel:int\tsplit:str\tnote:str\n")
	    g.write("a:str\tb:str\tlabel:int\tsplit:str\tnote:str\n")
	    for k in range(40):
	        a, b = r.sample(ids, 2)
	        rest = "%d\t%s\tn%d" % (k % 2, r.choice(["train", "test"]), k)
	        f.write("%s\t%s\t%s\n" % (a, b, rest))
	        g.write("%s\t%s\t%s\n" % (b, a, rest))
	PY
'

test_expect_success 'each mode, by hand' '
	pair-feat --typed --mode concat -e e.tsv -o c.tsv p.tsv &&
	pair-feat --typed -e e.tsv -o s.tsv p.tsv &&
	pair-feat --typed --mode prod -e e.tsv -o p.out p.tsv &&
	pair-feat --typed --mode sym-prod -e e.tsv -o sp.tsv p.tsv &&
	test_columns c.tsv "a:str\tb:str\tlabel:int\tsplit:str\tx:f32[6]" &&
	test_columns s.tsv "a:str\tb:str\tlabel:int\tsplit:str\tx:f32[6]" &&
	test_columns p.out "a:str\tb:str\tlabel:int\tsplit:str\tx:f32[3]" &&
	test_columns sp.tsv "a:str\tb:str\tlabel:int\tsplit:str\tx:f32[9]" &&
	printf "p1\tp2\t1\ttrain\t1,2,3,0.5,-1,4\np2\tp3\t0\ttest\t0.5,-1,4,0.25,0.5,-8\n" >want &&
	rows c.tsv >got && test_cmp want got &&
	printf "p1\tp2\t1\ttrain\t1.5,1,7,0.5,3,1\np2\tp3\t0\ttest\t0.75,-0.5,-4,0.25,1.5,12\n" >want &&
	rows s.tsv >got && test_cmp want got &&
	printf "p1\tp2\t1\ttrain\t0.5,-2,12\np2\tp3\t0\ttest\t0.125,-0.5,-32\n" >want &&
	rows p.out >got && test_cmp want got &&
	printf "p1\tp2\t1\ttrain\t1.5,1,7,0.5,3,1,0.5,-2,12\np2\tp3\t0\ttest\t0.75,-0.5,-4,0.25,1.5,12,0.125,-0.5,-32\n" >want &&
	rows sp.tsv >got && test_cmp want got &&
	grep -q "\"tool\":\"pair-feat\"" s.tsv
'

# The oracle: numpy float32, compared bit for bit (TSV floats parse back
# to the same bits).  Fields other than x pass through unchanged.
cat >check.py <<\PY
import sys
import numpy as np
emb, dt, pairs, out, mode = sys.argv[1:6]
E = {}
for l in open(emb).read().splitlines()[1:]:
    i, v = l.split("\t")
    E[i] = np.array([float(x) for x in v.split(",")], dtype=dt).astype(np.float32)
P = [l.split("\t") for l in open(pairs).read().splitlines()[1:]]
O = [l.split("\t") for l in open(out).read().splitlines() if not l.startswith("#")][1:]
assert len(P) == len(O), (len(P), len(O))
for p, o in zip(P, O):
    assert o[:-1] == p, (o, p)
    a, b = E[p[0]], E[p[1]]
    want = {"concat": lambda: np.concatenate([a, b]),
            "sym": lambda: np.concatenate([a + b, np.abs(a - b)]),
            "prod": lambda: a * b,
            "sym-prod": lambda: np.concatenate([a + b, np.abs(a - b), a * b])}[mode]()
    got = np.array([float(x) for x in o[-1].split(",")], dtype=np.float32)
    assert want.dtype == np.float32
    assert got.tobytes() == want.tobytes(), (p, mode, got, want)
print("ok", mode, len(O))
PY

for mode in concat sym prod sym-prod; do
	test_expect_success_if 'test_have_python numpy' "$mode: equal to numpy float32, f32 and f16 input" "
		pair-feat --typed --mode $mode -e emb.tsv -o out.$mode pairs.tsv &&
		\$PY check.py emb.tsv float32 pairs.tsv out.$mode $mode &&
		pair-feat --typed --mode $mode -e emb16.tsv -o out16.$mode pairs.tsv &&
		\$PY check.py emb16.tsv float16 pairs.tsv out16.$mode $mode
	"
done

test_expect_success 'sym, prod, sym-prod: swapping a and b gives the same bits' '
	for m in sym prod sym-prod; do
		pair-feat -M --mode $m -e emb.tsv -o f.$m pairs.tsv &&
		pair-feat -M --mode $m -e emb.tsv -o g.$m swap.tsv &&
		rec-cut --typed -f x -o fx f.$m && rows fx >fr &&
		rec-cut --typed -f x -o gx g.$m && rows gx >gr &&
		test $(wc -l <fr) -eq 40 && test_cmp fr gr || return 1
	done &&
	pair-feat --typed --mode concat -e emb.tsv -o f.c pairs.tsv &&
	pair-feat --typed --mode concat -e emb.tsv -o g.c swap.tsv &&
	rec-cut --typed -f x -o fx f.c && rows fx >fr &&
	rec-cut --typed -f x -o gx g.c && rows gx >gr &&
	! cmp -s fr gr
'

test_expect_success 'MessagePack in, the same vectors as TSV in' '
	rec-cat -M -o emb.mp emb16.tsv && rec-cat -M -o pairs.mp pairs.tsv &&
	pair-feat --typed -e emb.mp -o a.tsv pairs.mp &&
	pair-feat --typed -e emb16.tsv -o b.tsv pairs.tsv &&
	nometa a.tsv >a && nometa b.tsv >b && test_cmp a b
'

test_expect_success 'other field names: -a, -b, -x, --id, --field' '
	printf "name:str\tv:f32[3]\np1\t1,2,3\np2\t0.5,-1,4\n" >e2.tsv &&
	printf "l:str\tr:str\np2\tp1\n" >p2.tsv &&
	pair-feat --typed -a l -b r -x v --id name --field feat -e e2.tsv -o o.tsv p2.tsv &&
	test_columns o.tsv "l:str\tr:str\tfeat:f32[6]" &&
	printf "p2\tp1\t1.5,1,7,0.5,3,1\n" >want && rows o.tsv >got && test_cmp want got
'

test_expect_success 'a pair without an embedding is an error naming the record' '
	printf "p1\tzz\t0\ttest\n" >>p.tsv &&
	test_error "p.tsv: record 3: no embedding for b=.zz. in e.tsv" \
		pair-feat -e e.tsv -o m.out p.tsv &&
	test_path_is_missing m.out &&
	printf "a:str\tb:str\n\\\\N\tp1\n" >nil.tsv &&
	test_error "nil.tsv: record 1: a is nil" pair-feat -e e.tsv -o m.out nil.tsv &&
	test_path_is_missing m.out
'

test_expect_success '--missing drop: dropped, counted, reported' '
	printf "zz\tp3\t1\ttest\n" >>p.tsv &&
	pair-feat --typed --missing drop -e e.tsv -o d.tsv p.tsv 2>err &&
	grep -q "2 of 4 pairs dropped: an id had no embedding (first: record 3: no embedding for b=.zz. in e.tsv)" err &&
	rows d.tsv >got && rows s.tsv >want && test_cmp want got
'

test_expect_success 'a nil embedding counts as missing, with a note' '
	printf "p4\t\n" >>e.tsv &&
	printf "a:str\tb:str\np1\tp4\n" >p4.tsv &&
	test_error "no embedding for b=.p4." pair-feat -e e.tsv -o m.out p4.tsv &&
	grep -q "e.tsv: 1 record(s) with a nil vector" err
'

test_expect_success 'bad input: fields, types, duplicates, empty, truncated' '
	printf "x:str\tb:str\np1\tp2\n" >noa.tsv &&
	test_error "no field .a. (the pair.s ids)" pair-feat -e e.tsv -o m.out noa.tsv &&
	printf "a:int\tb:int\n1\t2\n" >int.tsv &&
	test_error "field .a. is int but the embeddings. ids are str" pair-feat -e e.tsv -o m.out int.tsv &&
	printf "id:str\temb:float\np1\t1\n" >sc.tsv &&
	test_error "field .emb. is float; want a vector" pair-feat -e sc.tsv -o m.out p.tsv &&
	test_error "no vector field .v." pair-feat -x v -e e.tsv -o m.out p.tsv &&
	printf "p2\t1,1,1\n" >>e.tsv &&
	test_error "e.tsv: record 5: duplicate id .p2. (first at record 2)" pair-feat -e e.tsv -o m.out p.tsv &&
	: >empty &&
	test_error "empty input" pair-feat -e empty -o m.out p.tsv &&
	test_error "empty input" pair-feat -e emb.tsv -o m.out empty &&
	rec-cat -M -o pairs.mp pairs.tsv &&
	size=$(wc -c <pairs.mp) && head -c $((size - 3)) pairs.mp >trunc.mp &&
	test_error "truncated input" pair-feat -e emb.tsv -o m.out trunc.mp &&
	test_path_is_missing m.out
'

test_expect_success 'usage errors' '
	test_usage_error "--emb FILE is required" pair-feat pairs.tsv &&
	test_usage_error "mode" pair-feat --mode diff -e emb.tsv pairs.tsv &&
	test_usage_error "would overwrite a pair id" pair-feat --field a -e emb.tsv pairs.tsv &&
	test_usage_error "cannot both be stdin" pair-feat -e - </dev/null
'

test_done
