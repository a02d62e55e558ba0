#!/bin/sh
# scripts/demo-viral-host.sh — `make demo`: pipelines/viral-host end to end
# on data made from the bundled 20k UniProt sample (scripts/demo-data.sh):
# all 1,750 viral proteins in 14 files, 3,500 host proteins in 4 files per
# host category (categories by the hash of the id: the bundled data has no
# usable taxonomy), the second feature set kmer-feat --dpc (400 values) per
# file, ESM-2 embeddings from tests/data/esm2/esm2_tiny, a checkpoint with
# RANDOM weights.  Prints the metric panel and where the report and plots are.
# Environment: DEMO_DIR (default ./demo-out), PLM_BIN (default bin/ of this
# tree), THREADS (2).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PLM_BIN:-$TOP/bin}
DEMO_DIR=${DEMO_DIR:-./demo-out}
mkdir -p "$DEMO_DIR"
D=$(cd "$DEMO_DIR" && pwd)
T0=$(date +%s)

echo "plmkit demo: pipelines/viral-host on the bundled UniProt sample, output in $D/viral-host"
echo
echo "NOTE: the protein model is tests/data/esm2/esm2_tiny, an ESM-2-shaped checkpoint"
echo "      (2 layers, 64-d) with RANDOM WEIGHTS: its embeddings carry no biology."
echo "      Whatever the classifier learns here comes mostly from the second feature"
echo "      set (dipeptide composition, kmer-feat --dpc).  For real work:"
echo "      MODEL=esm2_t33_650M_UR50D/ SECOND=your 768-d set (1280 + 768 = 2048)."
echo

echo "== data: scripts/demo-data.sh $D/viral-host-input"
PLM_BIN=$BIN sh "$TOP/scripts/demo-data.sh" "$D/viral-host-input"
echo "   $(ls "$D"/viral-host-input/data/viral | wc -l) viral FASTA files, $(ls "$D"/viral-host-input/data/*/*.fasta | grep -cv /viral/) host FASTA files, $(ls "$D"/viral-host-input/second | wc -l) second feature files (400-d)"
echo

echo "== make -C pipelines/viral-host DATA=... SECOND=... SECOND_DIM=400 MODEL=tests/data/esm2/esm2_tiny"
make --no-print-directory -s -C "$TOP/pipelines/viral-host" BIN="$BIN" \
	DATA="$D/viral-host-input/data" SECOND="$D/viral-host-input/second" SECOND_DIM=400 \
	MODEL="$TOP/tests/data/esm2/esm2_tiny" OUT="$D/viral-host" THREADS="${THREADS:-2}"
echo
echo "(ESM-2 weights are random: see the NOTE above.)"
echo "== done in $(( $(date +%s) - T0 )) s"
