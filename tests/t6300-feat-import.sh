#!/bin/sh
# feat-import: .npy (f16, f32, f64; C and Fortran order), .npz (stored and
# deflated, ids arrays '<U' and '|S'), HDF5 (h5py) read into records whose
# values equal numpy's bit for bit; a 768-d array merged with a 1280-d
# stream trains; every refusal with its message and no output.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

NP='test_have_python numpy'
H5='test_have_python numpy h5py'

# cmp.py OUT REF IDS: the ids of OUT (TSV records) are the lines of IDS and
# the f32 bits of its vectors those of the array in REF cast to float32:
# prints "same" or "differ".
cat >cmp.py <<-\EOF
import sys, numpy as np
rec, ref, ids = sys.argv[1], sys.argv[2], sys.argv[3]
want = np.load(ref).astype(np.float32)
rows = [l.rstrip("\n").split("\t") for l in open(rec, encoding="utf-8") if not l.startswith("#")]
rows = rows[1:]
got = np.array([[np.float32(x) for x in r[1].split(",")] for r in rows],
               dtype=np.float32).reshape(want.shape)
ok = [r[0] for r in rows] == open(ids, encoding="utf-8").read().split("\n")[:-1]
print("same" if ok and got.tobytes() == want.tobytes() else "differ")
EOF

test_expect_success_if "$NP" 'setup: numpy writes the inputs' '
	$PY -c "
import numpy as np
r = np.random.default_rng(7)
a = (r.standard_normal((5, 3)) * 3).astype(np.float64)
a[0, 0] = 1e-40; a[1, 1] = -0.0; a[2, 2] = 65504.0; a[3, 0] = 1/3
ids = np.array([\"s1\", \"s2\", \"s\\u00e9q3\", \"s4\", \"s5\"])
for t in (\"f2\", \"f4\", \"f8\"):
    b = a.astype(\"<\" + t)
    np.save(\"c\" + t + \".npy\", b)
    np.save(\"f\" + t + \".npy\", np.asfortranarray(b))
np.savez(\"s.npz\", emb=a.astype(np.float32), id=ids)
np.savez_compressed(\"z.npz\", emb=np.asfortranarray(a), id=np.array([b\"s1\", b\"s2\", b\"s3\", b\"s4\", b\"s5\"]))
np.save(\"one.npy\", a[0])
" &&
	printf "s1\ns2\ns\303\251q3\ns4\ns5\n" >ids &&
	printf "s1\ns2\ns3\ns4\ns5\n" >ids-ascii
'

for t in f2 f4 f8; do
	for o in c f; do
		test_expect_success_if "$NP" "$o$t.npy ($o order) equals numpy bit for bit" "
			feat-import --ids ids --typed -o out.tsv $o$t.npy &&
			\$PY cmp.py out.tsv $o$t.npy ids >actual &&
			echo same >expect &&
			test_cmp expect actual
		"
	done
done

test_expect_success_if "$NP" '.npz stored, <U ids: values and ids equal numpy' '
	feat-import --array emb --ids-array id --typed -o out.tsv s.npz &&
	$PY cmp.py out.tsv cf4.npy ids >actual &&
	echo same >expect &&
	test_cmp expect actual
'

test_expect_success_if "$NP" '.npz deflated, float64 in Fortran order, |S ids' '
	$PY -c "
import numpy as np
print(np.load(\"z.npz\")[\"id\"].dtype)" >actual &&
	echo "|S2" >expect &&
	test_cmp expect actual &&
	feat-import --array emb --ids-array id --typed -o out.tsv z.npz &&
	$PY cmp.py out.tsv cf8.npy ids-ascii >actual &&
	echo same >expect &&
	test_cmp expect actual
'

test_expect_success_if "$NP" '--dtype f16 from float16 keeps the bits; --field names the vector' '
	feat-import --ids ids --dtype f16 --field nt -o h.rec cf2.npy &&
	rec-cat --typed h.rec >out.tsv &&
	body out.tsv | head -n 1 >actual &&
	printf "id:str\tnt:f16[3]\n" >expect &&
	test_cmp expect actual &&
	$PY cmp.py out.tsv cf2.npy ids >actual &&
	echo same >expect &&
	test_cmp expect actual
'

test_expect_success_if "$NP" '--1d row and --1d column' '
	echo s1 >id1 &&
	feat-import --1d row --ids id1 --typed -o out.tsv one.npy &&
	body out.tsv | head -n 1 >actual &&
	printf "id:str\temb:f32[3]\n" >expect &&
	test_cmp expect actual &&
	printf "a\nb\nc\n" >id3 &&
	feat-import --1d column --ids id3 --typed -o out.tsv one.npy &&
	test $(rows out.tsv | wc -l) = 3 &&
	body out.tsv | head -n 1 >actual &&
	printf "id:str\temb:f32[1]\n" >expect &&
	test_cmp expect actual
'

test_expect_success_if "$H5" 'HDF5 [N, D] float16 and ids from h5py' '
	$PY -c "
import numpy as np, h5py
a = np.load(\"cf2.npy\")
with h5py.File(\"e.h5\", \"w\") as f:
    f[\"emb\"] = a
    f[\"id\"] = [\"s1\", \"s2\", \"s\\u00e9q3\", \"s4\", \"s5\"]
    f[\"fid\"] = np.array([b\"s1\", b\"s2\", b\"s3\", b\"s4\", b\"s5\"])
    f[\"cube\"] = np.zeros((2, 2, 2), np.float32)
    f[\"ints\"] = np.zeros((2, 2), np.int32)
" &&
	feat-import --dataset emb --ids-dataset id --typed -o out.tsv e.h5 &&
	$PY cmp.py out.tsv cf2.npy ids >actual &&
	echo same >expect &&
	test_cmp expect actual &&
	feat-import --dataset emb --ids-dataset fid --typed -o out.tsv e.h5 &&
	rows out.tsv | cut -f 1 | tr "\n" " " >actual &&
	printf "s1 s2 s3 s4 s5 " >expect &&
	test_cmp expect actual
'

test_expect_success_if "$NP" '768-d import merges with a 1280-d stream to 2048, trains, exports back bit for bit' '
	gen lin 40 1280 1 >esm.tsv &&
	rows esm.tsv | cut -f 1 >eids &&
	$PY -c "
import numpy as np
np.save(\"nt.npy\", np.random.default_rng(1).standard_normal((40, 768)).astype(np.float32))
" &&
	feat-import --ids eids -o nt.rec nt.npy &&
	feat-merge -x emb --field emb esm.tsv nt.rec -o m.rec &&
	rec-cat --typed m.rec >m.tsv &&
	body m.tsv | head -n 1 | tr "\t" "\n" | grep "^emb:" >actual &&
	echo "emb:f32[2048]" >expect &&
	test_cmp expect actual &&
	test $(rows m.tsv | wc -l) = 40 &&
	rec-filter "split!=test" m.rec -o tv.rec &&
	mlp-train --hidden 8 --epochs 2 -o m.mlp tv.rec 2>err &&
	test -s m.mlp &&
	feat-export --ids m.ids -o m.npy m.rec &&
	feat-export -o esm.npy esm.tsv &&
	cmp eids m.ids &&
	$PY -c "
import numpy as np
m, nt, esm = np.load(\"m.npy\"), np.load(\"nt.npy\"), np.load(\"esm.npy\")
assert m.shape == (40, 2048) and m.dtype == np.float32, m.shape
assert m[:, 1280:].tobytes() == nt.tobytes(), \"768-d part not bit-identical\"
assert m[:, :1280].tobytes() == esm.tobytes(), \"1280-d part not bit-identical\"
"
'

# ---- refusals: each names the file and says what, exit 1, no output ----

refuse () {
	pat=$1
	shift
	test_error "$pat" feat-import -o bad.rec "$@" && test ! -e bad.rec
}

test_expect_success_if "$NP" 'refused: count mismatch, duplicate and empty ids' '
	printf "s1\ns2\n" >short &&
	refuse "^feat-import: cf4.npy: 2 ids (short) for 5 rows$" --ids short cf4.npy &&
	printf "s1\ns2\ns1\ns4\ns5\n" >dup &&
	refuse "^feat-import: cf4.npy: duplicate id .s1. (rows 0 and 2)$" --ids dup cf4.npy &&
	printf "s1\n\ns3\ns4\ns5\n" >empty &&
	refuse "^feat-import: empty:2: empty id$" --ids empty cf4.npy
'

test_expect_success_if "$NP" 'refused: non-finite values, unless --allow-nonfinite' '
	$PY -c "
import numpy as np
a = np.ones((2, 2), np.float32); a[1, 1] = np.nan
np.save(\"nan.npy\", a)
np.save(\"big.npy\", np.array([[1.0, 1e300]]))
" &&
	printf "a\nb\n" >ab &&
	refuse "^feat-import: nan.npy: row 1 (id b), column 1: non-finite value" --ids ab nan.npy &&
	echo a >a1 &&
	refuse "^feat-import: big.npy: row 0 (id a), column 1: non-finite value in float32" --ids a1 big.npy &&
	feat-import --allow-nonfinite --ids ab --typed -o out.tsv nan.npy &&
	rows out.tsv >actual &&
	printf "a\t1,1\nb\t1,nan\n" >expect &&
	test_cmp expect actual
'

test_expect_success_if "$NP" 'refused: wrong rank, dtype, big-endian, object, truncated, ragged' '
	$PY -c "
import numpy as np
np.save(\"r3.npy\", np.zeros((2, 2, 2), np.float32))
np.save(\"i4.npy\", np.zeros((2, 2), np.int32))
np.save(\"be.npy\", np.zeros((2, 2), \">f4\"))
np.save(\"obj.npy\", np.array([[1, None]], dtype=object), allow_pickle=True)
np.savez(\"rag.npz\", emb=np.zeros((3, 2), np.float32), id=np.array([\"a\", \"b\"]), n=np.zeros(3, np.int64))
" &&
	refuse "^feat-import: r3.npy: the array has shape (2, 2, 2), not \[N, D\]$" --ids ab r3.npy &&
	refuse "^feat-import: one.npy: the array has shape (3,), not \[N, D\] (--1d" --ids ab one.npy &&
	refuse "^feat-import: i4.npy: dtype .<i4. is not supported" --ids ab i4.npy &&
	refuse "^feat-import: be.npy: dtype .>f4.: big-endian data is not supported$" --ids ab be.npy &&
	refuse "^feat-import: obj.npy: dtype .|O.: object arrays (pickled) are not supported$" --ids ab obj.npy &&
	head -c 150 cf4.npy >trunc.npy &&
	refuse "^feat-import: trunc.npy: 22 data bytes, the shape needs 60$" --ids ids trunc.npy &&
	refuse "^feat-import: rag.npz: 2 ids (id) for 3 rows$" --array emb --ids-array id rag.npz &&
	refuse "^feat-import: rag.npz: array .n.: dtype .<i8. is not supported" --array emb --ids-array n rag.npz &&
	refuse "^feat-import: rag.npz: ids array .emb.: dtype .<f4. is not strings" --array emb --ids-array emb rag.npz &&
	refuse "^feat-import: rag.npz: --array: no array .x. (the archive has: emb.npy, id.npy, n.npy)$" --array x --ids-array id rag.npz &&
	echo junk >junk.bin &&
	refuse "^feat-import: junk.bin: not a .npy, .npz or HDF5 file$" --ids ab junk.bin
'

test_expect_success_if "$H5" 'refused: HDF5 wrong rank, non-float, missing dataset' '
	refuse "^feat-import: e.h5: dataset .cube. has 3 dimensions, not 2" --dataset cube --ids ids e.h5 &&
	refuse "^feat-import: e.h5: dataset .ints.: not float16, float32 or float64$" --dataset ints --ids ids e.h5 &&
	refuse "^feat-import: e.h5: no dataset .nope.$" --dataset nope --ids ids e.h5
'

test_expect_success_if "$NP" 'usage errors: no ids, two id sources, .npz without --array' '
	test_usage_error "the ids: one of" feat-import cf4.npy &&
	test_usage_error "the ids: one of" feat-import --ids ids --ids-array id s.npz &&
	test_usage_error "--array NAME says which array" feat-import --ids ids s.npz
'

test_done
