#!/bin/sh
# kmer-feat: hand-computed values, block order, non-standard letters,
# hashing, a Python oracle on real UniProt sequences, errors.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

test_expect_success 'setup' '
	printf "id:str\tseq:str\na\tACDA\nb\taXc*\nc\t\\\\N\nd\tW\n" >in.tsv
'

test_expect_success '--aac by hand; lower case counts, X and * skipped' '
	kmer-feat --typed --aac in.tsv >out 2>err &&
	body out >actual &&
	z="0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0" &&
	printf "id:str\tseq:str\temb:f32[20]\n" >expect &&
	printf "a\tACDA\t0.5,0.25,0.25,0,$z\n" >>expect &&
	printf "b\taXc*\t0.5,0.5,0,0,$z\n" >>expect &&
	printf "c\t\\\\N\t\n" >>expect &&
	printf "d\tW\t0,0,$z,1,0\n" >>expect &&
	test_cmp expect actual &&
	cat >expect.err <<-\EOF &&
	kmer-feat: skipped 2 non-standard residues in 1 of 4 records
	kmer-feat: 1 records had no sequence (nil): emb nil
	EOF
	test_cmp expect.err err
'

test_expect_success 'default is --aac --dpc: 420 values, dipeptides at 20a+b' '
	kmer-feat --typed in.tsv >out 2>err &&
	head -n 3 out | tail -n 1 | cut -f3 >hdr &&
	echo "emb:f32[420]" >expect &&
	test_cmp expect hdr &&
	grep "^a" out | cut -f3 | tr , "\n" >v &&
	test $(wc -l <v) = 420 &&
	sed -n "21p;22p;43p;61p" v >actual &&
	printf "0\n0.33333334\n0.33333334\n0.33333334\n" >expect &&
	test_cmp expect actual &&
	grep -q "^kmer-feat: 2 records had a block with no window" err
'

test_expect_success 'flags combine in a fixed order' '
	kmer-feat --typed --dpc --aac --kmer 1 in.tsv >o1 2>/dev/null &&
	kmer-feat --typed --aac --dpc --kmer 1 in.tsv >o2 2>/dev/null &&
	body o1 >b1 && body o2 >b2 &&
	test_cmp b1 b2 &&
	grep "^a" o1 | cut -f3 | cut -d, -f1-20 >aac &&
	grep "^a" o1 | cut -f3 | cut -d, -f421-440 >k1 &&
	test_cmp aac k1
'

test_expect_success 'hashed k-mers: documented bucket function' '
	printf "id:str\tseq:str\nx\tACDE\n" >x.tsv &&
	kmer-feat --typed --kmer 3 --dim 7 --field km x.tsv >out &&
	body out | cut -f3 >actual &&
	echo "km:f32[7]" >expect &&
	# ACD = 0*400 + 1*20 + 2 = 22 -> bucket 6; CDE = 443 -> bucket 1
	echo "0,0.5,0,0,0,0,0.5" >>expect &&
	test_cmp expect actual
'

test_expect_success_if 'test_have_python numpy' 'agrees bitwise with Python on 300 UniProt sequences' '
	fasta-cat "$DATA"/uniprot_20k.fasta.gz >all.rec &&
	rec-head -n 300 all.rec >u.rec &&
	kmer-feat --typed --aac --dpc --kmer 3 --dim 97 -o feat.tsv u.rec 2>/dev/null &&
	kmer-feat --typed --kmer 3 -o k3.tsv u.rec 2>/dev/null &&
	cat >oracle.py <<-\EOF &&
	import sys, numpy as np
	AA = "ACDEFGHIKLMNPQRSTVWY"
	IDX = {c: i for i, c in enumerate(AA)}
	IDX.update({c.lower(): i for i, c in enumerate(AA)})
	def block(seq, k, dim):
	    v = np.zeros(dim if dim else 20 ** k, dtype=np.float64)
	    n = 0
	    for i in range(len(seq) - k + 1):
	        w = seq[i:i + k]
	        if not all(c in IDX for c in w):
	            continue
	        x = 0
	        for c in w:
	            x = x * 20 + IDX[c]
	        if dim:
	            x = (((x * 0x9E3779B97F4A7C15) & (2**64 - 1)) >> 32) % dim
	        v[x] += 1
	        n += 1
	    return (v / n if n else v).astype(np.float32)
	def check(path, blocks):
	    lines = [l for l in open(path) if not l.startswith("#")][1:]
	    bad = 0
	    for l in lines:
	        f = l.rstrip("\n").split("\t")
	        seq = f[2]
	        want = np.concatenate([block(seq, k, d) for k, d in blocks])
	        got = np.array([float(x) for x in f[-1].split(",")], dtype=np.float32)
	        bad += not np.array_equal(want, got)
	    return len(lines), bad
	print(*check("feat.tsv", [(1, 0), (2, 0), (3, 97)]))
	print(*check("k3.tsv", [(3, 0)]))
	EOF
	$PY oracle.py >actual &&
	printf "300 0\n300 0\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'errors: missing field, wrong type, empty, truncated' '
	printf "id:str\tsq:str\na\tMK\n" >noseq.tsv &&
	test_exit 1 kmer-feat -o o.rec noseq.tsv 2>err &&
	echo "kmer-feat: noseq.tsv: no field '"'"'seq'"'"' in input (fields: id, sq)" >expect &&
	test_cmp expect err &&
	printf "id:str\tseq:f32[2]\na\t1,2\n" >vseq.tsv &&
	test_error "field .seq. is f32\[2\], not str" kmer-feat -o o.rec vseq.tsv &&
	: >empty &&
	test_error "empty input" kmer-feat -o o.rec empty &&
	rec-cat -M in.tsv >in.rec &&
	head -c 40 in.rec >trunc.rec &&
	test_error "truncated" kmer-feat -o o.rec trunc.rec &&
	test_path_is_missing o.rec
'

test_expect_success 'usage errors' '
	test_usage_error "give --dim D" kmer-feat --kmer 5 in.tsv &&
	test_exit 2 kmer-feat --dim 10 in.tsv 2>err &&
	test_exit 2 kmer-feat --kmer 15 --dim 10 in.tsv 2>err &&
	test_exit 2 kmer-feat --field seq in.tsv 2>err
'

test_expect_success '--shard K/N covers the input once' '
	kmer-feat --typed --shard 0/2 in.tsv >s0 2>/dev/null &&
	kmer-feat --typed --shard 1/2 in.tsv >s1 2>/dev/null &&
	body s0 >b0 && body s1 >b1 &&
	tail -n +2 b0 >r0 && tail -n +2 b1 >r1 &&
	test $(cat r0 r1 | wc -l) = 4
'

test_done
