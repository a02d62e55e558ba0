#!/bin/sh
# feat-export: f32, f16 and bf16 vectors to a .npy that np.load reads as
# the same float32 bits, the ids file, HDF5 (emb, id) read by h5py, the
# round trip import -> export -> import, nil vectors, errors, no partial
# files.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

NP='test_have_python numpy'
H5='test_have_python numpy h5py'

test_expect_success 'setup' '
	printf "id:str\temb:f32[3]\n" >a.tsv &&
	printf "a\t1,-0,0.1\nb\t1e-40,3.4028235e+38,-2.5\nc\t0.33333334,7,8\n" >>a.tsv &&
	printf "id:int\temb:f16[2]\n1\t0.099975586,-2\n2\t65504,6.1035156e-05\n" >h.tsv &&
	printf "id:str\temb:bf16[2]\nx\t1.5,-0.0078125\n" >b.tsv &&
	printf "id:str\temb:f32[2]\na\t1,2\nb\t\nc\t3,4\n" >nil.tsv
'

# The float32 bytes np.load gives, as hex, against those of the TSV
# values parsed by numpy.
npy_same () {
	$PY -c "
import sys, numpy as np
a = np.load(sys.argv[1])
rows = [l.rstrip(\"\n\").split(\"\t\")[1] for l in open(sys.argv[2]) if not l.startswith(\"#\")][1:]
want = np.array([[np.float32(x) for x in r.split(\",\")] for r in rows], dtype=np.float32)
print(a.dtype, a.shape, a.flags[\"C_CONTIGUOUS\"], a.tobytes() == want.tobytes())
" "$1" "$2"
}
# npy_is NPY TSV 'SHAPE': the .npy is C-ordered float32 of that shape and
# holds the TSV's vectors bit for bit.
npy_is () {
	npy_same "$1" "$2" >actual &&
	echo "float32 $3 True True" >expect &&
	test_cmp expect actual
}

test_expect_success_if "$NP" 'f32 to .npy: np.load gives the same float32 bits; ids file' '
	feat-export --ids ids.txt -o a.npy a.tsv &&
	npy_is a.npy a.tsv "(3, 3)" &&
	printf "a\nb\nc\n" >expect &&
	test_cmp expect ids.txt
'

test_expect_success_if "$NP" 'f16 (int ids) and bf16 widen exactly' '
	feat-export --ids ids.txt -o h.npy h.tsv &&
	npy_is h.npy h.tsv "(2, 2)" &&
	printf "1\n2\n" >expect &&
	test_cmp expect ids.txt &&
	feat-export -o b.npy b.tsv &&
	npy_is b.npy b.tsv "(1, 2)"
'

test_expect_success_if "$NP" 'empty stream: a [0, D] array' '
	printf "id:str\temb:f32[4]\n" >e.tsv &&
	feat-export -o e.npy e.tsv &&
	$PY -c "import numpy as np; a = np.load(\"e.npy\"); print(a.dtype, a.shape)" >actual &&
	echo "float32 (0, 4)" >expect &&
	test_cmp expect actual
'

test_expect_success_if "$H5" 'HDF5: emb float32 [N, D] and id UTF-8 strings, read by h5py' '
	feat-export -o a.h5 a.tsv &&
	$PY -c "
import numpy as np, h5py
f = h5py.File(\"a.h5\", \"r\")
e = f[\"emb\"]
print(e.dtype, e.shape, e[:].tobytes() == np.load(\"a.npy\").tobytes())
print(h5py.check_string_dtype(f[\"id\"].dtype).encoding, [x.decode() for x in f[\"id\"][:]])
" >actual &&
	cat >expect <<-\EOF &&
	float32 (3, 3) True
	utf-8 [\x27a\x27, \x27b\x27, \x27c\x27]
	EOF
	sed "s/\\\\x27/'\''/g" expect >e2 &&
	test_cmp e2 actual
'

test_expect_success_if "$NP" 'round trip: import -> export -> import is identical' '
	$PY -c "
import numpy as np
np.save(\"r.npy\", np.random.default_rng(3).standard_normal((50, 768)).astype(np.float32))
" &&
	awk "BEGIN { for (i = 0; i < 50; i++) print \"r\" i }" >rid &&
	feat-import --ids rid -o r1.rec r.npy &&
	feat-export --ids rid2 -o r2.npy r1.rec &&
	cmp r.npy r2.npy &&
	test_cmp rid rid2 &&
	feat-import --ids rid2 -o r3.rec r2.npy &&
	rec-cat --typed r1.rec >t1 && rec-cat --typed r3.rec >t3 &&
	body t1 >b1 && body t3 >b3 &&
	test_cmp b1 b3
'

test_expect_success_if "$H5" 'round trip through HDF5' '
	feat-export -o r.h5 r1.rec &&
	feat-import --dataset emb --ids-dataset id --typed -o t5 r.h5 &&
	body t5 >b5 &&
	test_cmp b1 b5
'

test_expect_success 'a nil vector is an error naming the record; no file left' '
	test_error "^feat-export: nil.tsv: record 2: field .emb. is nil" feat-export -o n.npy nil.tsv &&
	test -z "$(ls | grep "^n.npy")"
'

test_expect_success_if "$NP" '--skip-nil leaves it out and counts it' '
	feat-export --skip-nil --ids n.ids -o n.npy nil.tsv 2>err &&
	grep -q "^feat-export: 1 record with a nil .emb. left out (--skip-nil); 2 written$" err &&
	printf "a\nc\n" >expect &&
	test_cmp expect n.ids &&
	$PY -c "import numpy as np; print(np.load(\"n.npy\").tolist())" >actual &&
	echo "[[1.0, 2.0], [3.0, 4.0]]" >expect &&
	test_cmp expect actual
'

test_expect_success 'errors: missing field, not a vector, changing D, -o missing, --ids with HDF5' '
	test_error "field .x. in input" feat-export --field x -o x.npy a.tsv &&
	test ! -e x.npy &&
	printf "id:str\temb:str\na\tq\n" >s.tsv &&
	test_error "field .emb. is str, not a vector" feat-export -o x.npy s.tsv &&
	test_error "field .emb. changes from 3 to 2 values" feat-export -o x.npy a.tsv b.tsv &&
	test ! -e x.npy &&
	test_usage_error "-o" feat-export a.tsv &&
	test_usage_error "an HDF5 output holds the ids" feat-export --ids i -o x.h5 a.tsv &&
	rec-cat -M a.tsv >a.rec && head -c 60 a.rec >trunc.rec &&
	test_error "truncated input" feat-export -o x.npy trunc.rec &&
	test ! -e x.npy
'

test_done
