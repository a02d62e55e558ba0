#!/bin/sh
# bench/seq-cluster.sh — seq-cluster's time, peak memory and largest
# cluster at 20k, 200k and 1M real sequences, in both modes:
#   k-mer    seq-cluster --min-sim 0.5 (near-duplicates by 5-mer
#            containment, leak-check's measure)
#   aligned  seq-cluster --min-id 0.5 (also candidates down to 5-mer
#            containment 0.05 joined when a local alignment has >= 50%
#            identity and E <= 0.001)
# with the split grouped by each mode's clusters checked by leak-check
# (--min-sim 0.5: exit 0 expected for both); beside them mmseqs2
# easy-cluster --min-seq-id 0.5 and the same grouped split, and for every
# split the cross-split pairs at >= 50% identity.
#
#   sh bench/seq-cluster.sh [OUTDIR]
#
# Environment: SIZES (default "20k 200k 1M"), THREADS (2), MMSEQS_SIZES
# (the sizes that get mmseqs2 easy-cluster; default "20k 200k"),
# SEARCH_SIZES (the sizes whose pairs are counted; default "20k"),
# SAMPLE_SIZES (the sizes whose pairs are estimated from a sample of
# queries; default "200k 1M"), SAMPLE_Q (the sample's size; 5000), SEEDS
# (the strat-split seeds the pairs are counted over; default 11 to 20),
# REUSE=1 (take the clusters an earlier run left in OUTDIR instead of
# clustering again: for the pair counts alone), CHANCE_SIZES (the sizes
# also clustered with every sequence's residues shuffled; default
# "200k 1M").
#
# Chance.  Every run prints seq-cluster's search statistics
# (PLM_CLUSTER_STATS=1): the posting entries walked ("hits").  The same
# records with their residues shuffled (numpy, seed 11: same lengths and
# composition, no homology left) show how many of those hits are k-mers
# that unrelated sequences share by chance, the part of the search that
# grows as the square of the input whatever the families.
#
# Sets (ids s0, s1, ... in input order):
#   20k   the bundled UniProt sample (tests/data/uniprot_20k.fasta.gz);
#   200k  the first 200,000 sequences of the 459,503 of Debian's
#         metastudent-data (UniProt, 2014; dataset_201401/MFO, dumped with
#         blastdbcmd from ncbi-blast+);
#   1M    all 459,503, then mutated copies (numpy, seed 11) of the first
#         540,497 of them in turn: each copy has a share of its residues,
#         drawn uniformly in [0.02, 0.5], substituted at random.
# Splits are train/val/test = 0.8/0.1/0.1 (strat-split) grouped by
# cluster.  A "pair at >= 50% identity" is a hit of mmseqs easy-search of
# the whole set against itself (run once per size, kept in OUTDIR) with
# pident >= 50 whose query is in test and target in train or val; "cov80"
# counts those whose alignment also covers >= 80% of the shorter
# sequence.  A split's count depends on which clusters its seed puts in
# test, so each method's is given as the mean (min-max) over SEEDS.
# Where the all-against-all search is too costly (SAMPLE_SIZES), SAMPLE_Q
# sequences drawn at random (awk srand(11)) are searched against the
# whole set once (easy-search --max-seqs 1000), and a split's count is
# estimated as the pairs of the sampled queries that fall in test times
# (test size / sampled queries in test); printed with the number of
# sampled test queries behind it (the estimate's relative error is
# about 1 / sqrt of the queries that have any pair).
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
SEARCH_SIZES=${SEARCH_SIZES:-20k}
SAMPLE_SIZES=${SAMPLE_SIZES:-200k 1M}
SEEDS=${SEEDS:-11 12 13 14 15 16 17 18 19 20}
T=${THREADS:-2}
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

# split CL.mp SEED OUT.mp: train/val/test grouped by cluster
split() {
	"$BIN/strat-split" -r train=0.8,val=0.1,test=0.1 -s "$2" -g cluster \
		-o "$3" "$1" 2>/dev/null
}

# pairs CL.mp M8: over SEEDS, the test -> train+val hits at >= 50%
# identity of M8 (all against all): "mean (min-max) pairs, cov80 mean"
pairs() {
	for s in $SEEDS; do
		split "$1" "$s" sp.mp
		"$BIN/rec-cut" --typed -f id,split sp.mp | grep -v '^#' | sed 1d >sp.tsv
		awk -F'\t' 'NR == FNR { s[$1] = $2; next }
			$1 != $2 && $3 >= 50 && s[$1] == "test" && s[$2] != "test" {
				p[$1 "\t" $2] = 1
				sh = $6 < $9 ? $6 : $9
				cov = ($6 < $9 ? $5 - $4 + 1 : $8 - $7 + 1) / sh
				if (cov >= 0.8) c[$1 "\t" $2] = 1 }
			END { np = 0; nc = 0; for (k in p) np++; for (k in c) nc++
				print np, nc }' sp.tsv "$2"
	done | awk '{ n++; s += $1; c += $2; if (n == 1 || $1 < lo) lo = $1
			if ($1 > hi) hi = $1 }
		END { printf "%.0f (%d-%d) pairs at >= 50%% identity, %.0f with cov80, over %d seeds", s / n, lo, hi, c / n, n }'
	rm -f sp.mp sp.tsv
}

# pairs_sampled CL.mp M8 IDS: the same estimated from the sampled queries
# IDS (one id a line) and their hits M8 against the whole set
pairs_sampled() {
	for s in $SEEDS; do
		split "$1" "$s" sp.mp
		"$BIN/rec-cut" --typed -f id,split sp.mp | grep -v '^#' | sed 1d >sp.tsv
		awk -F'\t' 'FILENAME == ARGV[1] { s[$1] = $2; nt += $2 == "test"; next }
			FILENAME == ARGV[2] { if (s[$1] == "test") nq++; next }
			$1 != $2 && $3 >= 50 && s[$1] == "test" && s[$2] != "test" {
				p[$1 "\t" $2] = 1
				sh = $6 < $9 ? $6 : $9
				cov = ($6 < $9 ? $5 - $4 + 1 : $8 - $7 + 1) / sh
				if (cov >= 0.8) c[$1 "\t" $2] = 1 }
			END { np = 0; nc = 0; for (k in p) np++; for (k in c) nc++
				f = nq ? nt / nq : 0
				print np * f, nc * f, nq }' sp.tsv "$3" "$2"
	done | awk '{ n++; s += $1; c += $2; q += $3
			if (n == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
		END { printf "%.0f (%.0f-%.0f) pairs at >= 50%% identity (estimated from %.0f sampled test queries a split), %.0f with cov80, over %d seeds", s / n, lo, hi, q / n, c / n, n }'
	rm -f sp.mp sp.tsv
}

# timed WHO MODE TAG IN OUT ARGS...: seq-cluster ARGS on IN into OUT with
# its search statistics; time and stderr kept in time.TAG and err.TAG
timed() {
	who=$1 mode=$2 tag=$3 in=$4 out=$5
	shift 5
	PLM_CLUSTER_STATS=1 /usr/bin/time -v -o time.$tag \
		"$BIN/seq-cluster" --threads "$T" "$@" -o "$out" "$in" 2>err.$tag
	echo "$who: seq-cluster $* ($mode): $(tv time.$tag)"
	sed 's/^/  /' err.$tag
}

# cluster N MODE ARGS...: seq-cluster on set N, clusters in cl.MODE.N.mp
cluster() {
	n=$1 mode=$2
	shift 2
	if [ "${REUSE:-0}" = 1 ] && [ -s cl.$mode.$n.mp ]; then
		echo "$n: seq-cluster $* ($mode): cl.$mode.$n.mp of an earlier run"
		return
	fi
	timed "$n" $mode $mode.$n set.$n.mp cl.$mode.$n.mp "$@"
	split cl.$mode.$n.mp 11 split.$mode.$n.mp
	rc=0
	"$BIN/leak-check" --typed --threads "$T" --min-sim 0.5 -o /dev/null \
		split.$mode.$n.mp 2>err.lc.$mode.$n || rc=$?
	echo "  leak-check --min-sim 0.5 on the grouped split: exit $rc"
}

make_sets
echo "seq-cluster --threads $T on $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for n in $SIZES; do
	cluster $n kmer --min-sim 0.5
	cluster $n aligned --min-id 0.5
	mm=0
	case " $MMSEQS_SIZES " in *" $n "*) mm=1 ;; esac
	[ "${REUSE:-0}" = 1 ] && [ -s cl.mm.$n.mp ] && {
		echo "$n: mmseqs easy-cluster: cl.mm.$n.mp of an earlier run"
		mm=0
	}
	if [ $mm = 1 ]; then
		"$BIN/rec-fasta" -w 0 set.$n.mp >in.$n.fa
		t0=$(date +%s.%N)
		mmseqs easy-cluster in.$n.fa mm.$n tmp.mm.$n --min-seq-id 0.5 \
			--threads "$T" -v 1 >/dev/null
		t1=$(date +%s.%N)
		rm -rf tmp.mm.$n
		echo "$n: mmseqs easy-cluster --min-seq-id 0.5: $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s wall, $(cut -f1 mm.${n}_cluster.tsv | sort -u | wc -l) clusters"
		"$BIN/rec-cat" --typed set.$n.mp | grep -v '^#' >in.$n.tsv
		awk -F'\t' 'NR == FNR { c[$2] = $1; next }
			FNR == 1 { print $0 "\tcluster:str"; next }
			{ print $0 "\t" c[$1] }' mm.${n}_cluster.tsv in.$n.tsv |
			"$BIN/rec-cat" -M -o cl.mm.$n.mp
		split cl.mm.$n.mp 11 split.mm.$n.mp
		rc=0
		"$BIN/leak-check" --threads "$T" --min-sim 0.5 -o /dev/null \
			split.mm.$n.mp 2>err.lc.mm.$n || rc=$?
		echo "  leak-check --min-sim 0.5 on the mmseqs2-grouped split: exit $rc: $(tail -n 1 err.lc.mm.$n)"
	fi
	case " $SAMPLE_SIZES " in *" $n "*)
		[ -s in.$n.fa ] || "$BIN/rec-fasta" -w 0 set.$n.mp >in.$n.fa
		if [ ! -s sample.$n.m8 ]; then
			awk -v q="${SAMPLE_Q:-5000}" '/^>/ { n++ } END { srand(11)
				for (i = 0; i < n; i++) a[i] = i
				for (i = 0; i < q && i < n; i++) { j = i + int(rand() * (n - i))
					t = a[i]; a[i] = a[j]; a[j] = t; print "s" a[i] } }' \
				in.$n.fa | sort >sample.$n.ids
			awk 'NR == FNR { w[">" $1] = 1; next } /^>/ { k = $1 in w } k' \
				sample.$n.ids in.$n.fa >sample.$n.fa
			t0=$(date +%s.%N)
			mmseqs easy-search sample.$n.fa in.$n.fa sample.$n.m8 tmp.q.$n \
				--threads "$T" -v 1 --max-seqs 1000 \
				--format-output query,target,pident,qstart,qend,qlen,tstart,tend,tlen >/dev/null
			t1=$(date +%s.%N)
			rm -rf tmp.q.$n
			echo "$n: mmseqs easy-search, $(wc -l <sample.$n.ids) sampled queries against all: $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s wall"
		fi
		echo "  left across the k-mer split:   $(pairs_sampled cl.kmer.$n.mp sample.$n.m8 sample.$n.ids)"
		echo "  left across the aligned split: $(pairs_sampled cl.aligned.$n.mp sample.$n.m8 sample.$n.ids)"
		if [ -s cl.mm.$n.mp ]; then
			echo "  left across the mmseqs2 split: $(pairs_sampled cl.mm.$n.mp sample.$n.m8 sample.$n.ids)"
		fi
		;;
	esac
	case " $SEARCH_SIZES " in *" $n "*) ;; *) continue ;; esac
	[ -s in.$n.fa ] || "$BIN/rec-fasta" -w 0 set.$n.mp >in.$n.fa
	if [ ! -s allvsall.$n.m8 ]; then
		t0=$(date +%s.%N)
		mmseqs easy-search in.$n.fa in.$n.fa allvsall.$n.m8 tmp.s.$n \
			--threads "$T" -v 1 \
			--format-output query,target,pident,qstart,qend,qlen,tstart,tend,tlen >/dev/null
		t1=$(date +%s.%N)
		rm -rf tmp.s.$n
		echo "$n: mmseqs easy-search, all against all: $(echo "$t0 $t1" | awk '{printf "%.1f", $2 - $1}') s wall"
	fi
	echo "  left across the k-mer split:   $(pairs cl.kmer.$n.mp allvsall.$n.m8)"
	echo "  left across the aligned split: $(pairs cl.aligned.$n.mp allvsall.$n.m8)"
	if [ -s cl.mm.$n.mp ]; then
		echo "  left across the mmseqs2 split: $(pairs cl.mm.$n.mp allvsall.$n.m8)"
	fi
done
for n in ${CHANCE_SIZES-200k 1M}; do
	[ -s set.$n.mp ] || continue
	[ -s shuf.$n.mp ] || {
		"$BIN/rec-cut" --typed -f id,seq set.$n.mp | grep -v '^#' |
			$PY -c '
import sys
import numpy as np
rng = np.random.default_rng(11)
print(sys.stdin.readline(), end="")
for line in sys.stdin:
    i, s = line.rstrip("\n").split("\t")
    x = np.frombuffer(s.encode(), dtype=np.uint8).copy()
    rng.shuffle(x)
    print(i + "\t" + x.tobytes().decode())
' | "$BIN/rec-cat" -M -o shuf.$n.mp
	}
	timed "$n shuffled" kmer shuf.kmer.$n shuf.$n.mp /dev/null --min-sim 0.5
	timed "$n shuffled" aligned shuf.aligned.$n shuf.$n.mp /dev/null --min-id 0.5
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg); files in $dir"
