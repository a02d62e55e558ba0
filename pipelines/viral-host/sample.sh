#!/bin/bash
# sample.sh BIN FILES.tsv SEED 'HOSTS' — the files of a viral-host run.
#
# FILES.tsv: "category<TAB>path" per FASTA file found.  Every viral file is
# used; per host category ceil(n_viral / 7) files are drawn (all of them when
# it has fewer), then n_viral of those when they are more: rec-sample --quota
# and rec-sample -n, both seeded with SEED, on a record stream of the file
# names (sorted by path, so the draw depends only on the files and the seed).
# Writes "category<TAB>path<TAB>stem" lines, viral first, to stdout.
set -o pipefail -eu
bin=$1 files=$2 seed=$3 hosts=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

stem () { b=${1##*/}; b=${b%.gz}; b=${b%.zst}; echo "${b%.*}"; }

nv=$(awk -F'\t' '$1 == "viral"' "$files" | wc -l)
nh=$(awk -F'\t' '$1 != "viral"' "$files" | wc -l)
if [ "$nv" -eq 0 ] || [ "$nh" -eq 0 ]; then
	echo "sample: $nv viral and $nh host FASTA files found: need at least one of each" \
		"(DATA/viral/ and DATA/{${hosts// /,}}/)" >&2
	exit 1
fi
per=$(( (nv + 6) / 7 ))

{ printf '#plm\t1\nid:str\tcategory:str\n'
  awk -F'\t' '$1 != "viral" { print $2 "\t" $1 }' "$files" | sort; } >"$tmp/host.tsv"
{ printf '#plm\t1\ncategory:str\tquota:int\n'
  for c in $hosts; do printf '%s\t%d\n' "$c" "$per"; done; } >"$tmp/quota.tsv"

"$bin/rec-sample" --quota "$tmp/quota.tsv" -s "$seed" "$tmp/host.tsv" 2>"$tmp/err" |
	"$bin/rec-sample" --typed -n "$nv" -s "$seed" 2>>"$tmp/err" |
	awk -F'\t' '/^#/ { next } !h { h = 1; next } { print $2 "\t" $1 }' >"$tmp/hosts"

awk -F'\t' '$1 == "viral"' "$files" | sort -k2 | cat - "$tmp/hosts" |
while IFS='	' read -r c f; do
	printf '%s\t%s\t%s\n' "$c" "$f" "$(stem "$f")"
done
