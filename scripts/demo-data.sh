#!/bin/sh
# scripts/demo-data.sh OUTDIR — the viral-host pipeline's input, made from
# the bundled 20k UniProt sample (tests/data/uniprot_20k.fasta.gz):
#
#   OUTDIR/data/viral/viral-K.fasta        records whose organism (OS=) names a
#                                          virus, phage or viroid, in NVIRAL files
#   OUTDIR/data/CATEGORY/CATEGORY-K.fasta  a seeded sample of NHOST other records,
#                                          in HOSTFILES files per host category
#   OUTDIR/second/STEM.rec                 per FASTA file: id + emb, the 400
#                                          dipeptide frequencies (kmer-feat --dpc)
#
# Host categories: the bundled data has no usable taxonomy (tests/data/taxdump
# is a test fixture that covers none of its taxids), so a host record's
# category is the hash of its id modulo 7 (rec-shard -n 7, the hash of
# --shard), in the order vertebrate invertebrate plant fungi bacteria archaea
# protozoa: deterministic, and as arbitrary as that sounds.  Files within a
# category are by the hash of the sequence, the viral files by that of the id
# (rec-shard).
# Environment: PLM_BIN (default bin/ of this tree), NVIRAL (14), NHOST (3500),
# HOSTFILES (4), SEED (42).  Rebuilds nothing when OUTDIR/stamp matches.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PLM_BIN:-$TOP/bin}
NVIRAL=${NVIRAL:-14}
NHOST=${NHOST:-3500}
HOSTFILES=${HOSTFILES:-4}
SEED=${SEED:-42}
SRC=$TOP/tests/data/uniprot_20k.fasta.gz
VIRAL_RE='[Vv]irus|[Pp]hage|[Vv]iroid'
HOSTS="vertebrate invertebrate plant fungi bacteria archaea protozoa"
OUT=${1:?usage: demo-data.sh OUTDIR}

stamp="src=$(cksum <"$SRC") nviral=$NVIRAL nhost=$NHOST hostfiles=$HOSTFILES seed=$SEED re=$VIRAL_RE"
if [ -f "$OUT/stamp" ] && [ "$(cat "$OUT/stamp")" = "$stamp" ]; then
	exit 0
fi
rm -rf "$OUT/data" "$OUT/second" "$OUT/tmp" "$OUT/stamp"
mkdir -p "$OUT/tmp" "$OUT/second"
t=$OUT/tmp

"$BIN/fasta-cat" --clean --uniprot -o "$t/all.rec" "$SRC" 2>/dev/null
"$BIN/rec-filter" -o "$t/viral.rec" "organism~$VIRAL_RE" "$t/all.rec"
"$BIN/rec-filter" --invert "organism~$VIRAL_RE" "$t/all.rec" |
	"$BIN/rec-sample" -n "$NHOST" -s "$SEED" -o "$t/host.rec"

# fasta PREFIX CATEGORY N: PREFIX.0 .. PREFIX.(N-1) to data/CATEGORY/CATEGORY-K.fasta
fasta () {
	mkdir -p "$OUT/data/$2"
	k=0
	while [ $k -lt "$3" ]; do
		"$BIN/rec-fasta" -o "$OUT/data/$2/$2-$k.fasta" "$1.$k"
		k=$((k + 1))
	done
}
"$BIN/rec-shard" -n "$NVIRAL" "$t/viral" "$t/viral.rec"
fasta "$t/viral" viral "$NVIRAL"
"$BIN/rec-shard" -n 7 "$t/host" "$t/host.rec"
i=0
for c in $HOSTS; do
	"$BIN/rec-shard" -k seq -n "$HOSTFILES" "$t/$c" "$t/host.$i"
	fasta "$t/$c" "$c" "$HOSTFILES"
	i=$((i + 1))
done

# The second feature set: dipeptide composition, per FASTA file.
for f in "$OUT"/data/*/*.fasta; do
	s=$(basename "$f" .fasta)
	"$BIN/kmer-feat" --dpc "$f" 2>/dev/null | "$BIN/rec-cut" -f id,emb -o "$OUT/second/$s.rec"
done
rm -rf "$t"
echo "$stamp" >"$OUT/stamp"
