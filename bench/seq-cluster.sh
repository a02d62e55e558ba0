#!/bin/sh
# bench/seq-cluster.sh — seq-cluster's time, peak memory and largest
# cluster at 20k, 200k and 1M real sequences; the split grouped by its
# clusters checked by leak-check; beside it mmseqs2 easy-cluster
# --min-seq-id 0.5 and the same grouped split, and for both splits the
# cross-split pairs at >= 50% identity that mmseqs easy-search finds.
#
#   sh bench/seq-cluster.sh [OUTDIR]
#
# Environment: SIZES (default "20k 200k 1M"), THREADS (2), MINSIM (0.5),
# MMSEQS_SIZES (the sizes that get the mmseqs2 comparison; default
# "20k 200k").
#
# Sets (ids s0, s1, ... in input order):
#   20k   the bundled UniProt sample (tests/data/uniprot_20k.fasta.gz);
#   200k  the first 200,000 sequences of the 459,503 of Debian's
#         metastudent-data (UniProt, 2014; dataset_201401/MFO, dumped with
#         blastdbcmd from ncbi-blast+);
#   1M    all 459,503, then mutated copies (numpy, seed 11) of the first
#         540,497 of them in turn: each copy has a share of its residues,
#         drawn uniformly in [0.02, 0.5], substituted at random.
# Splits are train/val/test = 0.8/0.1/0.1 (strat-split, seed 11) grouped
# by cluster.  A "pair at >= 50% identity" is an mmseqs easy-search hit
# (test against train+val) with pident >= 50; "cov80" counts those whose
# alignment also covers >= 80% of the shorter sequence.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
if [ $# -gt 0 ]; then
	dir=$1
	mkdir -p "$dir"
else
	bench_dir seq-cluster
fi
cd "$dir"
BIN=$bin
SIZES=${SIZES:-20k 200k 1M}
MMSEQS_SIZES=${MMSEQS_SIZES:-20k 200k}
T=${THREADS:-2}
MINSIM=${MINSIM:-0.5}
MFO=/usr/share/metastudent-data/dataset_201401/MFO/goasp.fasta
for c in mmseqs blastdbcmd; do
	command -v $c >/dev/null 2>&1 ||
		{ echo "bench: seq-cluster needs $c (mmseqs2, ncbi-blast+)" >&2; exit 1; }
done
[ -e "$MFO.psq" ] || { echo "bench: seq-cluster needs metastudent-data" >&2; exit 1; }
bench_python seq-cluster numpy
PY=$py

# numbered N: "id:str seq:str" TSV from "seq" lines on stdin
numbered() {
	awk 'BEGIN { print "id:str\tseq:str" } { print "s" NR - 1 "\t" $0 }'
}

make_sets() {
	[ -s set.20k.mp ] || {
		"$BIN/fasta-cat" "$top/tests/data/uniprot_20k.fasta.gz" |
			"$BIN/rec-cut" --typed -f seq | grep -v '^#' | sed 1d |
			numbered | "$BIN/rec-cat" -M -o set.20k.mp
	}
	[ -s mfo.seq ] || blastdbcmd -db "$MFO" -entry all -outfmt '%s' >mfo.seq
	[ -s set.200k.mp ] || head -n 200000 mfo.seq | numbered |
		"$BIN/rec-cat" -M -o set.200k.mp
	[ -s set.1M.mp ] || {
		$PY - <<'PY'
import numpy as np
seqs = [l.rstrip("\n") for l in open("mfo.seq")]
rng = np.random.default_rng(11)
AA = np.frombuffer(b"ACDEFGHIKLMNPQRSTVWY", dtype=np.uint8)
with open("mut.seq", "w") as o:
    for i in range(1000000 - len(seqs)):
        x = np.frombuffer(seqs[i % len(seqs)].encode(), dtype=np.uint8).copy()
        k = int(round(rng.uniform(0.02, 0.5) * len(x)))
        pos = rng.choice(len(x), k, replace=False)
        x[pos] = AA[rng.integers(0, 20, k)]
        o.write(x.tobytes().decode() + "\n")
PY
		cat mfo.seq mut.seq | numbered | "$BIN/rec-cat" -M -o set.1M.mp
	}
}

# wall s, CPU s, peak MB of a /usr/bin/time -v file
tv() {
	awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); w = 0
			for (k = 1; k <= n; k++) w = w * 60 + t[k] }
		/User time|System time/ { c += $2 }
		/Maximum resident set size/ { m = $2 }
		END { printf "%.1f s wall, %.1f s CPU, %.0f MB peak", w, c, m / 1024 }' "$1"
}

# pairs SPLIT.mp LABEL: mmseqs easy-search of test against train+val
pairs() {
	"$BIN/rec-filter" 'split=="test"' "$1" | "$BIN/rec-fasta" -w 0 >q.$2.fa
	"$BIN/rec-filter" 'split!="test"' "$1" | "$BIN/rec-fasta" -w 0 >t.$2.fa
	mmseqs easy-search q.$2.fa t.$2.fa m8.$2 tmp.$2 --threads "$T" -v 1 \
		--format-output query,target,pident,qstart,qend,qlen,tstart,tend,tlen >/dev/null
	rm -rf tmp.$2
	awk -F'\t' '$3 >= 50 { p[$1 "\t" $2] = 1
			sh = $6 < $9 ? $6 : $9
			cov = ($6 < $9 ? $5 - $4 + 1 : $8 - $7 + 1) / sh
			if (cov >= 0.8) c[$1 "\t" $2] = 1 }
		END { np = 0; nc = 0; for (k in p) np++; for (k in c) nc++
			printf "%d pairs at >= 50%% identity (%d with cov80)", np, nc }' m8.$2
}

make_sets
echo "seq-cluster --min-sim $MINSIM --threads $T on $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $SIZES; do
	in=set.$n.mp
	/usr/bin/time -v -o time.sc.$n "$BIN/seq-cluster" --threads "$T" \
		--min-sim "$MINSIM" -o cl.$n.mp "$in" 2>err.sc.$n
	echo "$n: seq-cluster $(tv time.sc.$n)"
	sed 's/^/  /' err.sc.$n
	"$BIN/strat-split" -r train=0.8,val=0.1,test=0.1 -s 11 -g cluster \
		-o split.sc.$n.mp cl.$n.mp 2>/dev/null
	rc=0
	/usr/bin/time -v -o time.lc.$n "$BIN/leak-check" --typed --threads "$T" \
		--min-sim "$MINSIM" -o leak.$n.tsv split.sc.$n.mp 2>err.lc.$n || rc=$?
	echo "  leak-check on the grouped split: exit $rc ($(tv time.lc.$n))"
	case " $MMSEQS_SIZES " in *" $n "*) ;; *) continue ;; esac
	"$BIN/rec-fasta" -w 0 "$in" >in.$n.fa
	t0=$(date +%s.%N)
	mmseqs easy-cluster in.$n.fa mm.$n tmp.mm.$n --min-seq-id 0.5 \
		--threads "$T" -v 1 >/dev/null
	t1=$(date +%s.%N)
	rm -rf tmp.mm.$n
	echo "  mmseqs easy-cluster --min-seq-id 0.5: $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s wall, $(cut -f1 mm.${n}_cluster.tsv | sort -u | wc -l) clusters"
	"$BIN/rec-cat" --typed "$in" | grep -v '^#' >in.$n.tsv
	awk -F'\t' 'NR == FNR { c[$2] = $1; next }
		FNR == 1 { print $0 "\tcluster:str"; next }
		{ print $0 "\t" c[$1] }' mm.${n}_cluster.tsv in.$n.tsv |
		"$BIN/strat-split" -r train=0.8,val=0.1,test=0.1 -s 11 -g cluster \
		-o split.mm.$n.mp 2>/dev/null
	rc=0
	"$BIN/leak-check" --threads "$T" --min-sim "$MINSIM" -o /dev/null \
		split.mm.$n.mp 2>err.lcmm.$n || rc=$?
	echo "  leak-check on the mmseqs2-grouped split: exit $rc: $(tail -n 1 err.lcmm.$n)"
	echo "  left across the seq-cluster split: $(pairs split.sc.$n.mp sc$n)"
	echo "  left across the mmseqs2 split:     $(pairs split.mm.$n.mp mm$n)"
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg); files in $dir"
