#!/bin/sh
# bench/leak-check.sh — leak-check against mmseqs2 on real proteins, and
# its time at 20k and 200k sequences.
#
#   sh bench/leak-check.sh [OUTDIR]
#
# 1. The 20k UniProt sample is split 80/10/10 (strat-split, seed 11).
# 2. leak-check -s 0.5 (5-mer containment) reports train/val × test pairs.
# 3. mmseqs easy-search, test against train+val, keeps hits with identity
#    >= 90% over >= 80% of the shorter sequence (the usual "near-duplicate"
#    rule); both pair sets are compared as unordered id pairs.
# 4. A 200k set is made from the 20k (each sequence plus 9 copies with
#    random point substitutions at 60..100% identity) and timed.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=$TOP/bin
OUT=${1:-$(mktemp -d "${TMPDIR:-/tmp}/plm-bench-leak.XXXXXX")}
mkdir -p "$OUT"
cd "$OUT"
FA=$TOP/tests/data/uniprot_20k.fasta.gz
[ -f "$FA" ] || FA=$TOP/../shared/data/uniprot_sample_20k.fasta.gz
MINSIM=${MINSIM:-0.5}
T=${THREADS:-2}

now() { date +%s.%N; }
secs() { echo "$1 $2" | awk '{printf "%.2f", $2 - $1}'; }

"$BIN/fasta-cat" "$FA" >u.mp
"$BIN/strat-split" -r train=0.8,val=0.1,test=0.1 --seed 11 u.mp >s.mp

t0=$(now)
"$BIN/leak-check" -T -s "$MINSIM" --threads "$T" s.mp >leak20k.tsv || true
t1=$(now)
echo "leak-check 20k: $(secs "$t0" "$t1") s, $(($(wc -l <leak20k.tsv) - 3)) pairs"

# FASTA of test (query) and train+val (target) from the split stream
/usr/bin/python3 - <<'PY'
import msgpack
with open("s.mp", "rb") as f:
    up = msgpack.Unpacker(f, raw=False)
    hdr = next(up)
    names = [x[0] for x in hdr["fields"]]
    i, s, p = names.index("id"), names.index("seq"), names.index("split")
    q, t, ids = open("q.fa", "w"), open("t.fa", "w"), open("ids.tsv", "w")
    n = 0
    for row in up:
        if isinstance(row, dict):
            continue
        # mmseqs rewrites UniProt-style headers: name records by number
        (q if row[p] == "test" else t).write(f">{n}\n{row[s]}\n")
        ids.write(f"{n}\t{row[i]}\n")
        n += 1
PY
t0=$(now)
mmseqs easy-search q.fa t.fa mm.m8 tmp --threads "$T" -v 1 \
	--format-output query,target,pident,qstart,qend,qlen,tstart,tend,tlen >/dev/null
t1=$(now)
echo "mmseqs easy-search 20k (test vs train+val): $(secs "$t0" "$t1") s"
# identity >= 90 over >= 80% of the shorter sequence; pairs as "a\tb", a < b
awk -F'\t' 'NR == FNR { id[$1] = $2; next }
	$1 != $2 { $1 = id[$1]; $2 = id[$2];
	ql = $6; tl = $9; sh = ql < tl ? ql : tl;
	cov = (ql < tl ? $5 - $4 + 1 : $8 - $7 + 1) / sh;
	if ($3 >= 90 && cov >= 0.8) print ($1 < $2 ? $1 "\t" $2 : $2 "\t" $1) }' ids.tsv mm.m8 |
	sort -u >mm.pairs
tail -n +4 leak20k.tsv | awk -F'\t' '{print ($1 < $2 ? $1 "\t" $2 : $2 "\t" $1)}' |
	sort -u >lc.pairs
both=$(comm -12 mm.pairs lc.pairs | wc -l)
nm=$(wc -l <mm.pairs)
nl=$(wc -l <lc.pairs)
echo "agreement at mmseqs id>=0.9 cov>=0.8 vs leak-check sim>=$MINSIM:"
echo "  mmseqs pairs $nm, leak-check pairs $nl, both $both"
awk -v b="$both" -v m="$nm" -v l="$nl" 'BEGIN {
	printf "  leak-check finds %.1f%% of mmseqs pairs; mmseqs confirms %.1f%% of leak-check pairs\n",
		m ? 100 * b / m : 0, l ? 100 * b / l : 0 }'

# 200k: every sequence and 9 mutated copies
/usr/bin/python3 - <<'PY'
import msgpack, random
rng = random.Random(11)
AA = "ACDEFGHIKLMNPQRSTVWY"
with open("s.mp", "rb") as f, open("big.tsv", "w") as o:
    up = msgpack.Unpacker(f, raw=False)
    hdr = next(up)
    names = [x[0] for x in hdr["fields"]]
    i, s = names.index("id"), names.index("seq")
    o.write("id:str\tseq:str\tsplit:str\n")
    splits = ["train"] * 8 + ["val", "test"]
    for row in up:
        if isinstance(row, dict):
            continue
        seq = row[s]
        o.write(f"{row[i]}\t{seq}\t{rng.choice(splits)}\n")
        for c in range(9):
            p = rng.uniform(0.6, 1.0)
            x = list(seq)
            for j in rng.sample(range(len(x)), round((1 - p) * len(x))):
                x[j] = rng.choice(AA)
            o.write(f"{row[i]}_m{c}\t{''.join(x)}\t{rng.choice(splits)}\n")
PY
t0=$(now)
PLM_LEAK_STATS=1 "$BIN/leak-check" -T -s "$MINSIM" --threads "$T" big.tsv >leak200k.tsv 2>err200k || true
t1=$(now)
echo "leak-check 200k: $(secs "$t0" "$t1") s, $(($(wc -l <leak200k.tsv) - 3)) pairs"
tail -n 1 err200k
echo "files in $OUT"
