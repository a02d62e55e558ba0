#!/bin/sh
# esm-embed --precision bf16: Linear layers in bfloat16 with float32 sums.
# Against --precision fp32 (transformers' numbers) the mean-pooled vectors
# of real sequences keep a cosine above 0.999 (tiny checkpoint) and
# 0.9999 (8M shape, random weights); the vectors differ from fp32 (the
# option does something) and carry another model signature; the bits do
# not depend on the batch or the thread count (t5200 runs the same
# checks for fp32).
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

TINY=$DATA/esm2/esm2_tiny
PY=$(plm_python numpy) || PY=python3

test_expect_success 'setup: 60 UniProt sequences' '
	fasta-cat --clean "$DATA/uniprot_20k.fasta.gz" -o all.rec &&
	rec-head -n 60 all.rec -o s.rec &&
	rec-cut --typed -f id,seq s.rec >s.tsv
'

test_expect_success 'bad --precision is a usage error' '
	test_usage_error "precision" esm-embed --model "$TINY" --precision fp16 s.tsv
'

# cosines FP32.tsv BF16.tsv: min and mean cosine of the emb vectors
cosines () {
	"$PY" - "$1" "$2" <<-\PY
	import sys, numpy as np
	def vecs(p):
	    rows = [l.rstrip("\n").split("\t") for l in open(p) if l.strip() and not l.startswith("#")]
	    return {r[0]: np.array(r[2].strip("[]").split(","), float) for r in rows[1:]}
	a, b = vecs(sys.argv[1]), vecs(sys.argv[2])
	assert a.keys() == b.keys() and len(a) == 60
	c = [a[k] @ b[k] / np.linalg.norm(a[k]) / np.linalg.norm(b[k]) for k in a]
	same = sum(np.array_equal(a[k], b[k]) for k in a)
	print("%.7f %.7f %d" % (min(c), np.mean(c), same))
	PY
}

test_expect_success_if 'test_have_python numpy' 'tiny model: bf16 close to fp32, not equal' '
	esm-embed --model "$TINY" --typed -o f32.tsv s.tsv &&
	esm-embed --model "$TINY" --precision bf16 --typed -o bf16.tsv s.tsv &&
	cosines f32.tsv bf16.tsv >cos &&
	cat cos &&
	read min mean same <cos &&
	awk -v m=$min -v n=$mean "BEGIN { exit !(m > 0.999 && n > 0.9995) }" &&
	test "$same" = 0
'

test_expect_success 'bf16: another signature, batch- and thread-invariant' '
	esm-embed --model "$TINY" --precision bf16 --threads 1 --typed -o a.tsv s.tsv &&
	esm-embed --model "$TINY" --precision bf16 --threads 3 \
		--batch-tokens 300 --typed -o b.tsv s.tsv &&
	body a.tsv >expect && body b.tsv >actual && test_cmp expect actual &&
	body s.tsv | sed -n "1p;7p" >one.tsv &&
	esm-embed --model "$TINY" --precision bf16 --threads 2 --typed -o c.tsv one.tsv &&
	body c.tsv | tail -n 1 >got && grep -F -x -f got expect >/dev/null &&
	grep -o "\"model\":\"[0-9a-f]*\"" a.tsv >s16 &&
	grep -o "\"model\":\"[0-9a-f]*\"" f32.tsv >s32 &&
	! cmp -s s16 s32
'

test_expect_success 'bf16: the portable kernels give the same bits (PLM_ISA=avx2)' '
	esm-embed --model "$TINY" --precision bf16 --typed -o a.tsv s.tsv &&
	PLM_ISA=avx2 esm-embed --model "$TINY" --precision bf16 --typed \
		-o p.tsv s.tsv &&
	body a.tsv >expect && body p.tsv >actual && test_cmp expect actual
'

test_expect_success_if 'test_have_python numpy' 'setup: an 8M-shaped checkpoint' '
	"$PY" "$PLM_TOP/bench/make_esm_ckpt.py" m8 8M >/dev/null &&
	test -s m8/model.safetensors
'

test_expect_success_if 'test -s m8/model.safetensors' '8M shape: bf16 cosine to fp32 above 0.9999' '
	esm-embed --model m8 --max-len 200 --typed -o f32.tsv s.tsv &&
	esm-embed --model m8 --max-len 200 --precision bf16 --typed -o bf16.tsv s.tsv &&
	cosines f32.tsv bf16.tsv >cos &&
	cat cos &&
	read min mean same <cos &&
	awk -v m=$min -v n=$mean "BEGIN { exit !(m > 0.9999 && n > 0.9999) }"
'

test_done
