#!/bin/sh
# bench/emb-cache.sh — the embedding cache's hit path and feat-merge.
#
# 1. Cache hit path: the real 20k UniProt sample (fasta-cat --clean) is
#    copied 5 times with changed ids (id#1 .. id#5) into a 100k-record
#    stream of id and seq.  A first `esm-embed --cache` run with the tiny
#    test model (tests/data/esm2/esm2_tiny, 64-d, --max-len
#    $BENCH_MAXLEN, default 100, to keep the build short) computes each
#    distinct sequence once and fills the cache; the second run on the
#    same stream is all hits and is timed: records/s, next to rec-cat
#    copying the same stream (the I/O floor) and to the output with
#    nothing to look up.
# 2. feat-merge of two 100k x 1024 streams (kmer-feat --k 3 / --k 2
#    --dim 1024 of the same stream, fields id and emb, MessagePack):
#    records/s and peak RSS (GNU time -v), output to /dev/null.
#
# Files go to $BENCH_DIR/emb-cache (default BENCH_DIR: $TMPDIR/plmkit-bench),
# ~1 GB.  The load average is printed before and after: wall times count
# waiting for a core.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/plmkit-bench}/emb-cache
maxlen=${BENCH_MAXLEN:-100}
th=${BENCH_THREADS:-2}
src=$top/tests/data/uniprot_20k.fasta.gz
tiny=$top/tests/data/esm2/esm2_tiny
for p in esm-embed emb-cache feat-merge fasta-cat rec-cut rec-cat kmer-feat; do
	[ -x "$bin/$p" ] || { echo "bench: $bin/$p missing: run make" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: needs GNU time (/usr/bin/time)" >&2; exit 1; }
PATH=$bin:$PATH
mkdir -p "$dir"
cd "$dir"
echo "load: $(cut -d ' ' -f1-3 /proc/loadavg)"

now () { date +%s.%N; }
rate () { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
secs () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# peak RSS in MB from a GNU time -v log
rss () { awk -F: '/Maximum resident/ { printf "%.0f", $2 / 1024 }' "$1"; }

# ---- 1. the cache hit path ----
if [ ! -s s100k.rec ]; then
	fasta-cat --clean "$src" -o s20k.rec
	rec-cut -T -f id,seq s20k.rec | grep -v '^#' >s20k.tsv
	{
		head -n 1 s20k.tsv
		for k in 1 2 3 4 5; do
			tail -n +2 s20k.tsv | awk -F '\t' -v k=$k \
				'BEGIN { OFS = "\t" } { $1 = $1 "#" k; print }'
		done
	} | rec-cat -M -o s100k.rec
	rm -f s20k.tsv
fi
n=$(rec-cat -T s100k.rec | grep -vc '^#')
n=$((n - 1))
rm -f c.h5 c.h5-journal
t0=$(now)
esm-embed --model "$tiny" --threads "$th" --max-len "$maxlen" --cache c.h5 \
	-v -o /dev/null s100k.rec 2>fill.log
t1=$(now)
rows=$(emb-cache ls c.h5 | sed -n 's/^rows\t//p')
echo "cache fill: $n records, $rows distinct sequences computed in $(secs $t0 $t1) s"
grep '^esm-embed: cache' fill.log
echo "cache file: $(stat -c %s c.h5) bytes"

t0=$(now)
/usr/bin/time -v esm-embed --model "$tiny" --threads "$th" --max-len "$maxlen" \
	--cache c.h5 -v -o hits.rec s100k.rec 2>hit.log
t1=$(now)
grep -q "cache c.h5: $n of $n records answered by the cache, 0 computed" hit.log ||
	{ echo "bench: the second run was not all hits:" >&2; cat hit.log >&2; exit 1; }
echo "cache hit path: $n records in $(secs $t0 $t1) s = $(rate $n $t0 $t1) records/s, peak RSS $(rss hit.log) MB"

t0=$(now)
esm-embed --cache c.h5 --cache-only -o /dev/null s100k.rec 2>/dev/null
t1=$(now)
echo "--cache-only (no model): $(rate $n $t0 $t1) records/s"

t0=$(now)
emb-cache get c.h5 -o /dev/null s100k.rec
t1=$(now)
echo "emb-cache get: $(rate $n $t0 $t1) records/s"

t0=$(now)
rec-cat -M -o copy.rec hits.rec
t1=$(now)
echo "rec-cat of the output (I/O floor): $(rate $n $t0 $t1) records/s ($(stat -c %s hits.rec) bytes)"
rm -f copy.rec hits.rec

# ---- 2. feat-merge of two 100k x 1024 streams ----
if [ ! -s k3.rec ] || [ ! -s k2.rec ]; then
	kmer-feat --kmer 3 --dim 1024 s100k.rec | rec-cut -f id,emb -o k3.rec
	kmer-feat --kmer 2 --dim 1024 s100k.rec | rec-cut -f id,emb -o k2.rec
fi
echo "feat-merge inputs: k3.rec $(stat -c %s k3.rec) bytes, k2.rec $(stat -c %s k2.rec) bytes"
t0=$(now)
/usr/bin/time -v feat-merge -v k3.rec k2.rec -k id -x emb --field emb \
	-o /dev/null 2>merge.log
t1=$(now)
grep '^feat-merge' merge.log
echo "feat-merge 2 x $n x 1024: $(secs $t0 $t1) s = $(rate $n $t0 $t1) records/s, peak RSS $(rss merge.log) MB"
echo "load: $(cut -d ' ' -f1-3 /proc/loadavg)"
