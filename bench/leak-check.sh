#!/bin/sh
# bench/leak-check.sh — leak-check's time, peak memory and recall at 20k,
# 200k and 1M sequences; optionally (BENCH_MMSEQS=1, about 5 minutes) its
# agreement with mmseqs2 on the real 20k data.
#
#   sh bench/leak-check.sh [OUTDIR]
#
# Environment: MINSIM (default 0.5), THREADS (2), SIZES (space-separated
# record counts for the synthetic sets, multiples of the source size;
# default "200000 1000000"), BENCH_MMSEQS=1 for the mmseqs2 cross-check.
#
# 1. The 20k UniProt sample is split 80/10/10 (strat-split, seed 11) and
#    checked as it is.
# 2. Synthetic sets of N records are made from it (seeded, numpy): every
#    real sequence (the "original"), then per original c = N/20000 - 1
#    derived records: the first five are near-duplicates with exactly
#    round((1 - p) L) substitutions at identity p = 99, 95, 90, 80, 70 %
#    (ids ORIG_pP), the rest are shuffles of the original (same length and
#    composition, unrelated 5-mers; ids ORIG_sJ).  Every record gets a split
#    at random, train/val/test = 0.8/0.1/0.1.  Built once per OUTDIR.
# 3. Each set is timed under /usr/bin/time -v (wall, user + sys CPU, peak
#    RSS); recall per identity level = original-mutant pairs reported /
#    such pairs that cross a forbidden boundary.
# 4. With BENCH_MMSEQS=1: mmseqs easy-search, test against train+val of
#    the 20k split, keeps hits with identity >= 90% over >= 80% of the
#    shorter sequence (the usual "near-duplicate" rule); both pair sets are
#    compared as unordered id pairs.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
top=$TOP
. "$top/bench/lib.sh"
BIN=$bin
OUT=${1:-$(mktemp -d "${TMPDIR:-/tmp}/plm-bench-leak.XXXXXX")}
mkdir -p "$OUT"
cd "$OUT"
FA=$TOP/tests/data/uniprot_20k.fasta.gz
MINSIM=${MINSIM:-0.5}
T=${THREADS:-2}
SIZES=${SIZES:-200000 1000000}
bench_python leak-check numpy msgpack
PY=$py

now() { date +%s.%N; }
secs() { echo "$1 $2" | awk '{printf "%.2f", $2 - $1}'; }

[ -s s.mp ] || {
	"$BIN/fasta-cat" "$FA" >u.mp
	"$BIN/strat-split" -r train=0.8,val=0.1,test=0.1 --seed 11 u.mp >s.mp
}

# timed LABEL INPUT REPORT: leak-check under /usr/bin/time -v
timed() {
	PLM_LEAK_STATS=1 /usr/bin/time -v -o "time.$1" "$BIN/leak-check" -T \
		-s "$MINSIM" --threads "$T" -o "$3" "$2" 2>"err.$1" || true
	tail -n 1 "err.$1" >"stats.$1"
	awk -F': ' -v l="$1" -v p="$(($(wc -l <"$3") - 3))" '
		/Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0
			for (k = 1; k <= n; k++) w = w * 60 + t[k] }
		/User time|System time/ { c += $2 }
		/Maximum resident set size/ { m = $2 }
		END { printf "%-8s %9.2f s %9.2f s %9.1f MB %9d\n", l, w, c, m / 1024, p }' "time.$1"
}

# gen N: the synthetic set of N records as a record stream, gen.N.mp
gen() {
	[ -s "gen.$1.mp" ] && return 0
	$PY - "$1" <<'PY'
import sys, msgpack, numpy as np
N = int(sys.argv[1])
with open("s.mp", "rb") as f:
    up = msgpack.Unpacker(f, raw=False)
    names = [x[0] for x in next(up)["fields"]]
    i, s = names.index("id"), names.index("seq")
    recs = [(r[i], r[s]) for r in up if not isinstance(r, dict)]
c = N // len(recs) - 1
rng = np.random.default_rng(11)
AA = np.frombuffer(b"ACDEFGHIKLMNPQRSTVWY", dtype=np.uint8)
levels = (99, 95, 90, 80, 70)
split = np.array(["train", "val", "test"])
with open(f"gen.{N}.tsv", "w") as o:
    o.write("id:str\tseq:str\tsplit:str\n")
    for rid, seq in recs:
        x = np.frombuffer(seq.encode(), dtype=np.uint8)
        out = [(rid, seq)]
        for j in range(c):
            if j < len(levels):
                y = x.copy()
                pos = rng.choice(len(y), round((1 - levels[j] / 100) * len(y)), replace=False)
                # a different letter: shift by 1..19 within the alphabet
                idx = np.searchsorted(AA, y[pos])
                ok = (idx < 20) & (AA[np.minimum(idx, 19)] == y[pos])
                idx = np.where(ok, idx, 0)
                y[pos] = AA[(idx + rng.integers(1, 20, len(pos))) % 20]
                out.append((f"{rid}_p{levels[j]}", y.tobytes().decode()))
            else:
                out.append((f"{rid}_s{j}", rng.permutation(x).tobytes().decode()))
        sp = split[np.searchsorted([0.8, 0.9], rng.random(len(out)), side="right")]
        for (a, b), p in zip(out, sp):
            o.write(f"{a}\t{b}\t{p}\n")
PY
	"$BIN/rec-cat" -M -o "gen.$1.mp" "gen.$1.tsv"
	rm -f "gen.$1.tsv"
}

# recall LABEL STREAM REPORT: per identity level, original-mutant pairs
# across a forbidden boundary found / present
recall() {
	"$BIN/rec-cut" -T -f id,split "$2" | grep -v '^#' | sed 1d >"ids.$1"
	awk -F'\t' '
		FNR == 1 { f++ }
		f == 1 { sp[$1] = $2; next }
		f == 2 && FNR > 3 { seen[$1 "\t" $2] = 1; seen[$2 "\t" $1] = 1; next }
		END {
			for (id in sp) {
				if (!match(id, /_p[0-9]+$/)) continue
				o = substr(id, 1, RSTART - 1); lv = substr(id, RSTART + 2)
				a = sp[o]; b = sp[id]
				if (!((a == "test") != (b == "test"))) continue
				tot[lv]++; if ((o "\t" id) in seen) hit[lv]++
			}
			printf "  recall (original vs copy across the boundary):"
			n = split("99 95 90 80 70", L, " ")
			for (i = 1; i <= n; i++)
				printf " %s%%: %d/%d", L[i], hit[L[i]], tot[L[i]]
			printf "\n"
		}' "ids.$1" "$3"
	awk -F'\t' 'NR > 3 && ($1 ~ /_s[0-9]+$/ || $2 ~ /_s[0-9]+$/) { n++ }
		END { printf "  pairs with a shuffled copy: %d\n", n }' "$3"
}

echo "leak-check --min-sim $MINSIM --threads $T on $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-8s %11s %11s %12s %9s\n" records wall cpu "peak RSS" pairs
timed 20k s.mp leak20k.tsv
for n in $SIZES; do
	gen "$n"
	timed "$n" "gen.$n.mp" "leak$n.tsv"
	recall "$n" "gen.$n.mp" "leak$n.tsv"
	sed 's/^leak-check: /  /' "stats.$n"
done

[ "${BENCH_MMSEQS:-0}" = 1 ] || { echo "files in $OUT (BENCH_MMSEQS=1 adds the mmseqs2 cross-check)"; exit 0; }

# FASTA of test (query) and train+val (target) from the split stream
$PY - <<'PY'
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
echo "files in $OUT"
