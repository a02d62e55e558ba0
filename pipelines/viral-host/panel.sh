#!/bin/sh
# panel.sh OUT — print the test metric panel of a viral-host run (the
# threshold and the calibrator come from the validation split) and where its
# report and plots are.
O=$1
awk -F'\t' '/^#/ || /:str/ || $1 != "overall" { next }
	FILENAME ~ /val\.metrics\.tsv$/ { nv = $6; next }
	{ v[$2] = $3; lo[$2] = $4; hi[$2] = $5; n = $6 }
	function f(x) { return x == "\\N" ? "undefined" : sprintf("%.4f", x) }
	END {
		printf "test panel: %d proteins, %d viral (positive); 95%% bootstrap intervals\n", n, v["tp"] + v["fn"]
		printf "  %-18s %s  chosen on the validation split (Youden'"'"'s J, %d proteins)\n", "threshold", f(v["threshold"]), nv
		split("auroc auprc f1 mcc accuracy balanced_accuracy precision recall brier ece", m, " ")
		for (i = 1; i <= 10; i++)
			if (v[m[i]] == "\\N") printf "  %-18s undefined\n", m[i]
			else printf "  %-18s %.4f  [%.4f, %.4f]\n", m[i], v[m[i]], lo[m[i]], hi[m[i]]
		printf "  %-18s %s  Platt calibrator fitted on the validation split\n", "brier_calibrated", f(v["brier_calibrated"])
		printf "  %-18s %s\n", "ece_calibrated", f(v["ece_calibrated"])
	}' "$O/val.metrics.tsv" "$O/metrics.tsv"
echo "report: $O/report.md"
echo "plots:  $(cd "$O" && ls plots/*.svg | sed "s|^|$O/|" | tr '\n' ' ')"
