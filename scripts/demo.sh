#!/bin/sh
# scripts/demo.sh — `make demo`: a real-data run of the tools on the bundled
# 20k UniProt sample, printed stage by stage (the command, then a one-line
# result).  Everything goes into DEMO_DIR (default ./demo-out).
#
#   viral vs host labels from the organism field → dedup → stats → frozen
#   stratified split → leak-check (and what to do about its findings) →
#   k-mer features → MLP → metrics by split; the membership pipeline; ESM-2
#   plumbing on 50 sequences with a tiny random-weight model.
#
# Stages whose program is not in PLM_BIN (kmer-feat, mlp-train, mlp-predict,
# esm-embed) are skipped with a note, never faked.
# Environment: DEMO_DIR, PLM_BIN (default bin/ of this tree), SEED (11).

set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PLM_BIN:-$TOP/bin}
SEED=${SEED:-11}
DEMO_DIR=${DEMO_DIR:-./demo-out}
DATA=$TOP/tests/data/uniprot_20k.fasta.gz
ESM=$TOP/tests/data/esm2/esm2_tiny
VIRAL_RE='[Vv]irus|[Pp]hage|[Vv]iroid'
PATH="$BIN:$PATH"
LC_ALL=C
export PATH LC_ALL

mkdir -p "$DEMO_DIR" || exit 1
D=$(cd "$DEMO_DIR" && pwd) || exit 1
cd "$D" || exit 1
rm -f ./*.err

now () { date +%s%N; }
T0=$(now)
STAGE=0

stage () {
	STAGE=$((STAGE + 1))
	printf '\n== %d. %s\n' "$STAGE" "$1"
}

# run 'COMMAND' [may-fail|optional]: print it, run it (stderr kept in
# last.err, exit status in $rc).  A failure stops the demo, except with
# may-fail (the caller judges $rc) and optional (a stage the later ones can
# do without: reported, remembered in $FAILED, the demo goes on and exits
# 1 at the end; returns 1).
FAILED=
run () {
	printf '  $ %s\n' "$1"
	t=$(now)
	eval "$1" 2>last.err
	rc=$?
	secs=$(awk -v a="$t" -v b="$(now)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	[ $rc -eq 0 ] || [ "${2:-}" = may-fail ] && return 0
	echo "  !! failed (exit $rc):" >&2
	head -n 20 last.err | sed -e 's/^/     /' >&2
	[ "${2:-}" = optional ] || exit 1
	FAILED="$FAILED $STAGE"
	return 1
}

say () { printf '  -> %s (%ss)\n' "$*" "$secs"; }
note () { printf '     %s\n' "$@"; }
has () { [ -x "$BIN/$1" ]; }

# count EXPR FILE: records of FILE for which EXPR holds
count () { rec-filter --count "$1" "$2"; }

# rows: the data lines of a TSV stream (no #plm/#meta lines, no column line)
rows () { awk '/^#/ { next } !h { h = 1; next } { print }'; }

# table FILE: a TSV stream as aligned text, types dropped from the column line
table () {
	awk -F'\t' '/^#/ { next }
		!h { h = 1; for (i = 1; i <= NF; i++) sub(/:.*/, "", $i) }
		{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } r[++n] = NR; if (NF > nf) nf = NF }
		END { for (k = 1; k <= n; k++) { printf "     "; for (i = 1; i <= nf; i++) printf "%-*s  ", w[i], c[r[k], i]; printf "\n" } }' "$1"
}

echo "plmkit demo: $(basename "$DATA") ($(rec-cat --version 2>&1 | head -n 1)), output in $D"
for t in kmer-feat mlp-train mlp-predict esm-embed; do
	has $t || echo "note: $BIN/$t is not built: its stage is skipped"
done

# ---------------------------------------------------------------------------
stage "ingest: FASTA to records, ESM-ready sequences, UniProt header fields"
run "fasta-cat --clean --uniprot -o all.rec $DATA"
say "$(count 'len>=0' all.rec) records; $(sed -e 's/^fasta-cat: //' last.err)"

# ---------------------------------------------------------------------------
stage "label viral vs host from the organism (OS=) field"
run "rec-put -o labelled.rec 'label = organism ~ \"$VIRAL_RE\" ? \"viral\" : \"host\"' all.rec"
say "$(count 'label==viral' labelled.rec) viral, $(count 'label==host' labelled.rec) host"
note "A name match, not taxonomy: tax-kingdom needs an NCBI taxdump, and the" \
     "test fixture (tests/data/taxdump) covers none of these taxids."

# ---------------------------------------------------------------------------
stage "deduplicate by sequence hash (the first copy in input order wins)"
run "hash-dedup -o uniq.rec labelled.rec"
say "$(sed -e 's/^hash-dedup: //' last.err)"

# ---------------------------------------------------------------------------
stage "label balance and lengths"
run "rec-stats -T -c label -o stats.tsv uniq.rec"
say "summary of $(count 'len>=0' uniq.rec) unique sequences"
table stats.tsv
for l in viral host; do
	rec-filter "label==$l" uniq.rec | rec-stats -T >stats.$l.tsv
	printf '     %-5s median length %s, longest %s\n' $l \
		"$(awk -F'\t' '$1 == "median" { print $5 }' stats.$l.tsv)" \
		"$(awk -F'\t' '$1 == "max" { print $5 }' stats.$l.tsv)"
done

# ---------------------------------------------------------------------------
stage "stratified train/val/test split, frozen in a hash-locked manifest"
rm -f split.manifest.tsv   # the demo draws its split afresh each run
run "strat-split -r train=0.8,val=0.1,test=0.1 -b label -s $SEED --manifest split.manifest.tsv -o split.rec uniq.rec"
DIGEST=$(sed -n 's/^#digest\t//p' split.manifest.tsv)
say "manifest digest $DIGEST"
rec-cut -T -f split,label split.rec | rows | sort | uniq -c |
	awk '{ printf "     %-6s %-6s %6d\n", $2, $3, $1 }'
run "strat-split --lock split.manifest.tsv -o relock.rec uniq.rec"
if [ "$(rec-cut -T -f id,split relock.rec | sed '/^#/d')" = "$(rec-cut -T -f id,split split.rec | sed '/^#/d')" ]; then
	say "--lock reproduces the frozen split record for record"
else
	echo "  !! --lock did not reproduce the split" >&2; exit 1
fi
run "rec-filter 'len>=60' uniq.rec | strat-split --lock split.manifest.tsv -o changed.rec" may-fail
if [ $rc -eq 1 ] && [ ! -e changed.rec ]; then
	say "refused as it should be (exit 1, nothing written):"
	tail -n 1 last.err | sed -e 's/^/       /'
	head -n 1 last.err | sed -e 's/^/       e.g. /'
else
	echo "  !! strat-split --lock accepted a changed input (exit $rc)" >&2; exit 1
fi

# ---------------------------------------------------------------------------
stage "leak-check: copies and near-copies across train/val/test"
rm -f leaks.rec
run "leak-check --forbid train:test,val:test,train:val -o leaks.rec split.rec" may-fail
case $rc in
0)	say "exit 0: no test record has a copy or near-copy in train/val"
	cp split.rec final.rec ;;
1)	[ -f leaks.rec ] || { cat last.err >&2; exit 1; }
	say "exit 1: $(count 'exact==true' leaks.rec) exact and $(count 'exact==false' leaks.rec) near-duplicate pairs (5-mer containment >= 0.5) cross train/val/test"
	note "Expected for UniProt: homologs from related organisms.  The rail works:" \
	     "exit 1 with a complete report (leaks.rec).  Closest pairs:"
	rec-cut -T -f a,b,sim leaks.rec | rows | sort -t'	' -k3,3gr | head -n 3 |
		awk -F'\t' '{ printf "       %-32s %-32s sim %.3f\n", $1, $2, $3 }'
	note "Remedy here: val and test records with a near-copy in an earlier split" \
	     "move to val_nd / test_nd (kept as panels of their own, to show what" \
	     "leakage does to metrics; never trained on).  Real runs split by" \
	     "cluster instead (strat-split -g cluster, with UniRef50 cluster ids)."
	run "rec-cut -f id=b leaks.rec | hash-dedup -q -k id | rec-put near_dup=1 >leaked-ids.rec"
	run "rec-join --left -k id split.rec leaked-ids.rec >joined.rec"
	run "rec-filter 'near_dup==1 && split==val' joined.rec | rec-put split=val_nd >val_nd.rec"
	run "rec-filter 'near_dup==1 && split==test' joined.rec | rec-put split=test_nd >test_nd.rec"
	run "rec-filter --invert 'near_dup==1' joined.rec | rec-cat -o final.rec - val_nd.rec test_nd.rec"
	say "val $(count 'split==val' final.rec) left, $(count 'split==val_nd' final.rec) to val_nd; test $(count 'split==test' final.rec) left, $(count 'split==test_nd' final.rec) to test_nd"
	rm -f leaks2.rec
	run "leak-check --forbid train:test,val:test,train:val -o leaks2.rec final.rec" may-fail
	[ $rc -eq 0 ] || { echo "  !! leak-check still finds pairs (exit $rc)" >&2; cat last.err >&2; exit 1; }
	say "exit 0: the purged val and test splits pass" ;;
*)	echo "  !! leak-check failed (exit $rc)" >&2; cat last.err >&2; exit 1 ;;
esac

# ---------------------------------------------------------------------------
stage "k-mer composition features (kmer-feat)"
FEAT=
if ! has kmer-feat; then
	note "skipped: bin/kmer-feat is not built (cmd/kmer-feat.c is in progress)"
elif run "kmer-feat --aac --dpc --field kmer -o feat.rec final.rec" optional; then
	FEAT=kmer
	DIM=$(rec-head -T -n 0 feat.rec | sed -n '/^[^#]/{s/\t/\n/g;p;q}' |
		sed -n 's/^kmer:f32\[\(.*\)\]$/\1/p')
	say "field kmer: $DIM features per sequence (20 residue + 400 dipeptide frequencies)"
fi

# ---------------------------------------------------------------------------
stage "MLP classifier (mlp-train, mlp-predict)"
PRED=
if [ -z "$FEAT" ]; then
	note "skipped: needs the k-mer features of the previous stage"
elif ! has mlp-train || ! has mlp-predict; then
	for t in mlp-train mlp-predict; do
		has $t || note "skipped: bin/$t is not built (cmd/$t.c is in progress)"
	done
elif run "rec-filter -o trainval.rec 'split==train||split==val' feat.rec" &&
     run "mlp-train --x $FEAT --y label --pos viral --hidden 64 --epochs 40 --patience 5 --class-weight balanced --seed $SEED --log train-log.tsv --out model.mlp trainval.rec" optional; then
	mlp-predict --info --model model.mlp >model.info 2>/dev/null
	say "best epoch $(awk -F'\t' '$1 == "best_epoch" { print $2 }' model.info) of $(awk -F'\t' '$1 == "epochs" { print $2 }' model.info), val loss $(awk -F'\t' '$1 == "best_val_loss" { printf "%.4f", $2 }' model.info); per-epoch log in train-log.tsv"
	if run "rec-filter 'split!=train&&split!=val' feat.rec | mlp-predict --model model.mlp -o pred.rec" optional; then
		say "$(count 'score>=0' pred.rec) records scored (mlp-predict refuses the model's own training and validation records)"
		PRED=pred.rec
	fi
fi

# ---------------------------------------------------------------------------
stage "metrics by split"
if [ -z "$PRED" ]; then
	note "skipped: no predictions (see above)"
elif run "metrics -T --y label --pos viral --score score --by split --require auroc -o metrics.tsv $PRED" optional; then
	say "panels per split (full table in metrics.tsv)"
	awk -F'\t' '/^#/ || /:str/ { next }
		{ if (!($1 in seen)) { seen[$1] = 1; order[++np] = $1 } v[$1, $2] = $3; n[$1] = $6 }
		END { split("accuracy balanced_accuracy f1 mcc auroc auprc", m, " ")
			split("accuracy bal_acc f1 mcc auroc auprc", hd, " ")
			printf "     %-14s %6s", "group", "n"; for (j = 1; j <= 6; j++) printf " %9s", hd[j]; printf "\n"
			for (i = 1; i <= np; i++) { p = order[i]; printf "     %-14s %6d", p, n[p]
				for (j = 1; j <= 6; j++) printf " %9.4f", v[p, m[j]]; printf "\n" } }' metrics.tsv
	note "val_nd/test_nd hold records with a near-copy in train (or val): their" \
	     "scores are inflated by leakage; split=test is the honest number."
fi

# ---------------------------------------------------------------------------
stage "ESM-2 embeddings (esm-embed) of 50 test sequences"
if ! has esm-embed; then
	note "skipped: bin/esm-embed is not built (cmd/esm-embed.c is in progress)"
elif run "rec-filter 'split==test && len<=1022' final.rec | rec-sample -n 50 -s $SEED | esm-embed --model $ESM -o esm50.rec" optional; then
	EDIM=$(rec-head -T -n 0 esm50.rec | sed -n '/^[^#]/{s/\t/\n/g;p;q}' | sed -n 's/^emb://p')
	say "$(count 'len>=0' esm50.rec) records with field emb $EDIM"
	note "The model in tests/data/esm2/esm2_tiny has RANDOM weights (2 layers," \
	     "hidden 64): this shows the plumbing, not biology.  With a real" \
	     "checkpoint: esm-embed --model DIR/esm2_t33_650M_UR50D (1280-d)."
fi

# ---------------------------------------------------------------------------
stage "membership / held-out sets (pipelines/membership)"
run "make -s -C $TOP/pipelines/membership OUT=$D/membership BIN=$BIN SEED=$SEED >membership.log"
grep -q '^check: all passed' membership.log || { echo "  !! membership checks did not pass" >&2; exit 1; }
say "checks passed: $(sed -n 's/^check: //p' membership.log | grep -v 'all passed' | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
sed -n '/^membership sets/,$p' membership/report.txt | sed -e 's/^/     /'

rm -f last.err
printf '\n== done in %ss; files in %s\n' \
	"$(awk -v a="$T0" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')" "$D"
if [ -n "$FAILED" ]; then
	echo "demo: stage(s)$FAILED failed (see the !! lines above)" >&2
	exit 1
fi
