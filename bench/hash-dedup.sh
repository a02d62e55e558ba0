#!/bin/sh
# bench/hash-dedup.sh — hash-dedup against seqkit rmdup -s: time, peak RSS
# and memory per unique sequence, on >= 2 million real-derived sequences.
#
# Data (built once in BENCH_DIR, seeded, from the real 20k UniProt
# sample): BENCH_COPIES (default 100) copies of the 20,000 sequences, each
# copy made distinct by inserting a two-residue tag after the first
# residue (so copies never collide, and each copy keeps the sample's own
# 1,199 duplicate sequences), plus about 10% exact re-occurrences of
# earlier records under new ids, interleaved.  The generator prints the
# expected number of unique sequences; the bench checks hash-dedup keeps
# exactly that many and the same ids as seqkit.
#
# Timed (each under /usr/bin/time -v, the best CPU time of $BENCH_REPS):
#   hash-dedup big.rec > /dev/null              (records in, records out)
#   hash-dedup big.fa > /dev/null               (FASTA in, like seqkit)
#   fasta-cat big.fa | hash-dedup > /dev/null   (FASTA through a pipe)
#   seqkit rmdup -s -P big.fa > /dev/null       (-P: protein, no revcomp)
# Memory per unique sequence = (peak RSS - peak RSS of rec-cat on the same
# records, i.e. the stream buffers) / unique sequences.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
reps=${BENCH_REPS:-3}
copies=${BENCH_COPIES:-100}
src=$top/tests/data/uniprot_20k.fasta.gz
bench_python hash-dedup

bench_dir hash-dedup
fa=$dir/dedup-$copies.fa
if [ ! -s "$fa" ] || [ ! -s "$fa.expect" ]; then
	echo "bench: building $fa" >&2
	$py - "$src" "$fa" "$copies" <<'PY'
import gzip, random, sys
src, out, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
recs, name, seq = [], None, []
for line in gzip.open(src, "rt"):
    line = line.rstrip("\n")
    if line.startswith(">"):
        if name is not None:
            recs.append((name, "".join(seq)))
        name, seq = line[1:].split(" ", 1)[0], []
    else:
        seq.append(line)
recs.append((name, "".join(seq)))
aa = "ACDEFGHIKLMNPQRSTVWY"
rng = random.Random(42)
emitted, uniq, total, dup = [], set(), 0, 0
with open(out + ".tmp", "w") as f:
    for r in range(copies):
        tag = aa[r // 20 % 20] + aa[r % 20] + ("" if r < 400 else str(r))
        for i, (n, s) in enumerate(recs):
            t = s[:1] + tag + s[1:]
            f.write(">%s_c%d\n%s\n" % (n, r, t))
            total += 1
            uniq.add(t)
            emitted.append((r, i))
            if rng.random() < 0.1:
                rr, ii = emitted[rng.randrange(len(emitted))]
                n2, s2 = recs[ii]
                tag2 = aa[rr // 20 % 20] + aa[rr % 20] + ("" if rr < 400 else str(rr))
                f.write(">dup%d_%s\n%s\n" % (dup, n2, s2[:1] + tag2 + s2[1:]))
                dup += 1
                total += 1
open(out + ".expect", "w").write("%d %d\n" % (total, len(uniq)))
import os
os.rename(out + ".tmp", out)
PY
fi
read total uniq <"$fa.expect"
rec=$dir/dedup-$copies.rec
[ -s "$rec" ] || "$bin/fasta-cat" -o "$rec" "$fa"
echo "bench: $fa: $total records, $uniq unique sequences, $(wc -c <"$fa") bytes"

printf "%-40s %10s %10s %12s\n" "command" "wall" "cpu" "peak RSS"
bench_run "hash-dedup big.rec" "'$bin/hash-dedup' -q '$rec'"
t_hd=$cpu; w_hd=$wall; m_hd=$rss
bench_run "hash-dedup big.fa" "'$bin/hash-dedup' -q '$fa'"
t_hfa=$cpu; w_hfa=$wall
bench_run "fasta-cat big.fa | hash-dedup" "'$bin/fasta-cat' '$fa' | '$bin/hash-dedup' -q"
t_fhd=$cpu; w_fhd=$wall
bench_run "hash-dedup --expect $uniq big.rec" "'$bin/hash-dedup' -q --expect $uniq '$rec'"
m_exp=$rss
bench_run "seqkit rmdup -s -P big.fa" "seqkit rmdup -s -P -j 2 '$fa'"
t_sk=$cpu; w_sk=$wall; m_sk=$rss
# The same records through rec-cat: reader and writer without the set.
bench_run "rec-cat big.rec (baseline)" "'$bin/rec-cat' '$rec'"
m_base=$rss

# Correctness: exactly the expected survivors, and the same ids as seqkit.
"$bin/hash-dedup" -o "$dir/out.rec" "$rec" 2>"$dir/counts.txt"
"$bin/rec-cut" -T -f id "$dir/out.rec" | grep -v '^#' | sed 1d >"$dir/ids.plm"
seqkit rmdup -s -P "$fa" 2>/dev/null | grep '^>' | sed 's/^>//; s/ .*//' >"$dir/ids.seqkit"
kept=$(wc -l <"$dir/ids.plm")
[ "$kept" -eq "$uniq" ] || { echo "bench: kept $kept, expected $uniq" >&2; exit 1; }
cmp -s "$dir/ids.plm" "$dir/ids.seqkit" || { echo "bench: survivors differ from seqkit" >&2; exit 1; }
echo "survivors: $kept, identical to seqkit rmdup -s ($(cat "$dir/counts.txt" | sed 's/^hash-dedup: //'))"

awk -v a="$t_hd" -v b="$t_fhd" -v s="$t_sk" -v wa="$w_hd" -v wb="$w_fhd" -v ws="$w_sk" \
    -v f="$t_hfa" -v wf="$w_hfa" \
    -v m="$m_hd" -v me="$m_exp" -v ms="$m_sk" -v m0="$m_base" -v u="$uniq" 'BEGIN {
	printf "speed, seqkit / hash-dedup: cpu %.2fx (records), %.2fx (FASTA), %.2fx (FASTA pipeline); wall %.2fx, %.2fx, %.2fx\n",
		s / a, s / f, s / b, ws / wa, ws / wf, ws / wb
	printf "peak RSS: hash-dedup %.1f MB, seqkit %.1f MB (%.2fx less)\n", m / 1024, ms / 1024, ms / m
	printf "memory per unique sequence: %.1f bytes (%.1f with --expect) above the %.1f MB of rec-cat; bound 32\n",
		(m - m0) * 1024 / u, (me - m0) * 1024 / u, m0 / 1024
}'
