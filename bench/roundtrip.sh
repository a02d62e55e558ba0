#!/bin/sh
# bench/roundtrip.sh — throughput of the record-stream round trip
#   fasta-cat FILE | rec-cat -T | rec-cat -M | rec-stats
# on the bench FASTA built by bench/fasta-cat.sh (or the 20k sample repeated
# when that is absent), in MB of FASTA per second, plus each stage alone.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
dir=${BENCH_DIR:-${TMPDIR:-/tmp}/plmkit-bench}
mkdir -p "$dir"
fa=$dir/big.fasta
if [ ! -s "$fa" ]; then
	fa=$dir/rt.fasta
	if [ ! -s "$fa" ]; then
		gzip -dc "$top/tests/data/uniprot_20k.fasta.gz" >"$dir/one.fa"
		for r in 1 2 3 4 5 6 7 8 9 10; do
			sed "s/^>\([^ ]*\)/>\1_r$r/" "$dir/one.fa"
		done >"$fa.tmp" && mv "$fa.tmp" "$fa"
		rm -f "$dir/one.fa"
	fi
fi
bytes=$(wc -c <"$fa")
"$bin/fasta-cat" -M "$fa" >"$dir/rt.plm"
"$bin/rec-cat" -T "$dir/rt.plm" >"$dir/rt.tsv"

t() { # seconds of wall time for "$@" (a shell string), best of 3
	best=""
	for i in 1 2 3; do
		s=$(date +%s.%N)
		sh -c "$1" >/dev/null
		e=$(date +%s.%N)
		d=$(echo "$e - $s" | bc)
		if [ -z "$best" ] || [ "$(echo "$d < $best" | bc)" = 1 ]; then best=$d; fi
	done
	echo "$best"
}
mbs() { echo "scale=1; $bytes / $1 / 1000000" | bc; }

echo "roundtrip: input $fa, $bytes bytes, $(grep -c '^>' "$fa") records"
full=$(t "'$bin/fasta-cat' -M '$fa' | '$bin/rec-cat' -T | '$bin/rec-cat' -M | '$bin/rec-stats' -M")
a=$(t "'$bin/fasta-cat' -M '$fa'")
b=$(t "'$bin/rec-cat' -T '$dir/rt.plm'")
c=$(t "'$bin/rec-cat' -M '$dir/rt.tsv'")
d=$(t "'$bin/rec-stats' -M '$dir/rt.plm'")
printf '%-44s %8s s %8s MB/s\n' "pipeline fasta-cat|rec-cat -T|rec-cat -M|rec-stats" "$full" "$(mbs "$full")"
printf '%-44s %8s s %8s MB/s\n' "fasta-cat -M" "$a" "$(mbs "$a")"
printf '%-44s %8s s %8s MB/s\n' "rec-cat -T (MessagePack -> TSV)" "$b" "$(mbs "$b")"
printf '%-44s %8s s %8s MB/s\n' "rec-cat -M (TSV -> MessagePack)" "$c" "$(mbs "$c")"
printf '%-44s %8s s %8s MB/s\n' "rec-stats" "$d" "$(mbs "$d")"
rm -f "$dir/rt.plm" "$dir/rt.tsv"
