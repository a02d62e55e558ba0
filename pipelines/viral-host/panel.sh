#!/bin/sh
# panel.sh OUT — print the test metric panel of a viral-host run and where
# its report and plots are.
O=$1
awk -F'\t' '/^#/ || /:str/ || $1 != "overall" { next }
	{ v[$2] = $3; lo[$2] = $4; hi[$2] = $5; n = $6 }
	END {
		printf "test panel: %d proteins, %d viral (positive); 95%% bootstrap intervals\n", n, v["tp"] + v["fn"]
		split("auroc auprc f1 mcc accuracy balanced_accuracy precision recall brier ece", m, " ")
		for (i = 1; i <= 10; i++)
			if (v[m[i]] == "\\N") printf "  %-18s undefined\n", m[i]
			else printf "  %-18s %.4f  [%.4f, %.4f]\n", m[i], v[m[i]], lo[m[i]], hi[m[i]]
	}' "$O/metrics.tsv"
echo "report: $O/report.md"
echo "plots:  $(cd "$O" && ls plots/*.svg | sed "s|^|$O/|" | tr '\n' ' ')"
