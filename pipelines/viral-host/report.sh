#!/bin/bash
# report.sh BIN OUT MODEL DATA SECOND — the markdown report of a viral-host
# run, on stdout: inputs, data counts per category, the split table, the
# decisions taken on the validation split (threshold, calibrator), the test
# metric panel, plot links, the model's digest and the manifest's digest.
set -o pipefail -eu
bin=$1 O=$2 model=$3 data=$4 sec=$5

rows () { awk '/^#/ { next } !h { h = 1; next } { print }'; }
digest () { sed -n 's/^#digest\t//p' "$1"; }
info () { "$bin/mlp-predict" --info --model "$O/model.mlp" | awk -F'\t' -v k="$1" '$1 == k { print $2 }'; }

echo "# Viral vs host: report"
echo
echo "- data: \`$data\` (FASTA per category directory), second feature set: \`$sec\`"
echo "- protein model: \`$model\` ($(sed -n 's/^feat-merge: //p' "$O/feat-merge.log"): ESM-2 then the second set)"
echo "- parameters: \`$(cat "$O/params")\`"
echo "- $(cat "$O/preflight.ok")"
echo
echo "## Data"
echo
echo "Files found and used per category (host files sampled: ceil(n_viral/7) per"
echo "category, then n_viral in all; the sample is \`sample.tsv\`), and proteins used."
echo
echo "| category | label | files found | files used | proteins |"
echo "|---|---|---:|---:|---:|"
"$bin/rec-cut" --typed -f category "$O/features.rec" | rows | sort | uniq -c | awk '{ print $2 "\t" $1 }' >"$O/report.counts"
awk -F'\t' '
	FILENAME ~ /files.tsv$/ { found[$1]++; next }
	FILENAME ~ /sample.tsv$/ { used[$1]++; next }
	{ n[$1] = $2 }
	END {
		split("viral vertebrate invertebrate plant fungi bacteria archaea protozoa", c, " ")
		for (i = 1; i <= 8; i++) {
			printf "| %s | %s | %d | %d | %d |\n", c[i], i == 1 ? "viral" : "host", found[c[i]], used[c[i]], n[c[i]]
			F += found[c[i]]; U += used[c[i]]; N += n[c[i]]
		}
		printf "| all | | %d | %d | %d |\n", F, U, N
	}' "$O/files.tsv" "$O/sample.tsv" "$O/report.counts"
rm -f "$O/report.counts"
echo
echo "## Splits"
echo
echo "One strat-split run stratified by label, records with the same sequence in one"
echo "split: test, then validation from the rest (\`--then\`), seed $(sed -n 's/^#seed\t//p' "$O/split.manifest.tsv");"
echo "ratios \`$(sed -n 's/^#ratios\t//p' "$O/split.manifest.tsv")\`, then \`$(sed -n 's/^#then\t//p' "$O/split.manifest.tsv")\`"
echo "(\`split.manifest.tsv\`, which records this recipe)."
echo
echo "| split | viral | host | all |"
echo "|---|---:|---:|---:|"
"$bin/rec-cut" --typed -f split,label "$O/split.rec" | rows |
	awk -F'\t' '{ n[$1, $2]++; t[$1]++ }
	END { split("train val test", s, " ")
		for (i = 1; i <= 3; i++) printf "| %s | %d | %d | %d |\n", s[i], n[s[i], "viral"], n[s[i], "host"], t[s[i]] }'
echo
# metric NAME FILE: the overall value of a metric
metric () { awk -F'\t' -v m="$1" '/^#/ || /:str/ { next } $1 == "overall" && $2 == m { print $3 }' "$2"; }
cal () { sed -n "s/.*\"$1\":\\([^,}]*\\).*/\\1/p" "$O/val.cal"; }
echo "## Decisions from the validation split"
echo
echo "The validation records chose the early-stopping epoch; they are scored with"
echo "\`mlp-predict --allow-val\` (\`val.pred.rec\`, none of them a training record) and"
echo "decide what the test split only applies:"
echo
printf -- '- threshold %.4f: Youden'"'"'s J on the %s validation proteins (`metrics --threshold youden\n' \
	"$(metric threshold "$O/val.metrics.tsv")" "$(awk -F'\t' '/^#/ || /:str/ { next } { n = $6 } END { print n }' "$O/val.metrics.tsv")"
echo "  --tune-on-scored\`, \`val.metrics.tsv\`; there AUROC $(printf %.4f "$(metric auroc "$O/val.metrics.tsv")"));"
echo "- calibration: Platt scaling on the logit (\`mlp-calibrate\`, \`val.cal\`: a $(printf %.4f "$(cal a)"), b $(printf %.4f "$(cal b)"));"
echo "  the test predictions carry the calibrated score as \`score_cal\`."
echo
echo "## Test metrics"
echo
echo "$(awk -F'\t' '/^#/ || /:str/ { next } { n = $6 } END { print n }' "$O/metrics.tsv") test proteins, positive class viral, threshold $(printf %.4f "$(metric threshold "$O/metrics.tsv")")"
echo "from the validation split (\`metrics --threshold-from val.metrics.tsv\`); 95% bootstrap"
echo "intervals (stratified by class; \`metrics.tsv\` has every row). The calibrated rows"
echo "score the same predictions after the validation split's calibrator (no interval)."
echo
echo "| metric | value | 95% interval |"
echo "|---|---:|---|"
awk -F'\t' '/^#/ || /:str/ || $1 != "overall" { next }
	$2 ~ /^(auroc|auprc|f1|mcc|accuracy|balanced_accuracy|precision|recall|specificity|log_loss|brier|ece)$/ {
		if ($3 == "\\N") printf "| %s | undefined (%s) | |\n", $2, $7
		else printf "| %s | %.4f | [%.4f, %.4f] |\n", $2, $3, $4, $5 }
	$2 ~ /_calibrated$/ {
		if ($3 == "\\N") printf "| %s | undefined (%s) | |\n", $2, $7
		else printf "| %s | %.4f | |\n", $2, $3 }' "$O/metrics.tsv"
echo
echo "## Plots"
echo
for p in overall.roc overall.pr overall.calibration training; do
	[ -f "$O/plots/$p.svg" ] && echo "- [$p](plots/$p.svg)"
done
echo
echo "## Model and provenance"
echo
echo "- classifier: \`model.mlp\`, sha256 \`$(sha256sum "$O/model.mlp" | cut -d' ' -f1)\`"
echo "  ($(info dims) MLP, preset $(info arg.preset), best epoch $(info best_epoch) of $(info epochs),"
echo "  validation loss $(info best_val_loss); train digest $(info train_digest), val digest $(info val_digest))"
sd=$(digest "$O/split.manifest.tsv")
if [ "$(info split_digest)" = "$sd" ]; then same="the model's split digest is the same"; else same="the model's split digest differs: $(info split_digest)"; fi
echo "- split manifest \`split.manifest.tsv\`: digest \`$sd\` ($same)"
echo "- calibrator \`val.cal\`: fitted on $(cal rows) validation predictions, digest \`$(cal digest | tr -d '"')\`"
echo "- per-epoch log \`train-log.tsv\`; predictions \`val.pred.rec\` (validation), \`pred.rec\` (test)"
