#!/bin/sh
# bench/fasta-cat.sh — fasta-cat against seqkit, seqtk and zcat.
#
# Builds a FASTA of at least 200 MB from the real 20k UniProt sample
# (repeated, each copy's ids suffixed _rN so ids stay unique; sequences
# wrapped at 60 columns like UniProt's own downloads; BENCH_WRAP=0 keeps
# them on one line), gzips it, then times, best of $BENCH_REPS runs:
#   fasta-cat -M FILE > /dev/null       (parse + MessagePack records)
#   seqkit seq FILE > /dev/null
#   seqtk seq FILE > /dev/null
#   zcat FILE.gz > /dev/null            (gzip only: the floor for .gz input)
# and prints MB/s (uncompressed FASTA bytes per second) and ratios.
# Targets: fasta-cat >= seqkit and seqtk on plain input (aim 2x), and
# fasta-cat >= zcat on gzip input.
#
# BENCH_DIR keeps the data between runs (default: a temporary directory,
# removed at the end).  PLM_BIN: where fasta-cat is (default ./bin).
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
reps=${BENCH_REPS:-3}
src=$top/tests/data/uniprot_20k.fasta.gz

if ! command -v seqtk >/dev/null 2>&1; then
	echo "bench: seqtk missing; installing it with apt-get" >&2
	PLM_DEPS_EXTRA=seqtk sh "$top/scripts/install-deps.sh" || true
fi

if [ -n "$BENCH_DIR" ]; then
	dir=$BENCH_DIR
	mkdir -p "$dir"
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/plm-bench.XXXXXX")
	trap 'rm -rf "$dir"' EXIT
fi
fa=$dir/big.fasta
if [ ! -s "$fa.gz" ]; then
	echo "bench: building $fa (>= 200 MB)" >&2
	gzip -dc "$src" >"$dir/one.fa"
	one=$(wc -c <"$dir/one.fa")
	n=$(( (200000000 + one - 1) / one ))
	r=1
	: >"$fa.tmp"
	while [ $r -le $n ]; do
		awk -v r=$r -v w="${BENCH_WRAP:-60}" '
			/^>/ { sub(/^>[^ ]*/, "&_r" r); print; next }
			w == 0 { print; next }
			{ for (i = 1; i <= length($0); i += w) print substr($0, i, w) }
		' "$dir/one.fa" >>"$fa.tmp"
		r=$((r + 1))
	done
	mv "$fa.tmp" "$fa"
	gzip -6 -c "$fa" >"$fa.gz.tmp" && mv "$fa.gz.tmp" "$fa.gz"
	rm -f "$dir/one.fa"
fi
bytes=$(wc -c <"$fa")
echo "bench: $fa: $bytes bytes, $(grep -c '^>' "$fa") records; gz $(wc -c <"$fa.gz") bytes"

# Besides wall-clock seconds, CPU seconds (user + system, from GNU time when
# it is there) show the work each tool does, whatever else the CPU runs.
timer=
[ -x /usr/bin/time ] && /usr/bin/time -f "%e" -o /dev/null true 2>/dev/null &&
	timer=/usr/bin/time

# best "WALL CPU" of $reps runs of "$@" > /dev/null
best() {
	b=
	i=0
	while [ $i -lt "$reps" ]; do
		if [ -n "$timer" ]; then
			$timer -f "%e %U %S" -o "$dir/time" "$@" >/dev/null ||
				{ echo "bench: failed: $*" >&2; exit 1; }
			t=$(awk '{ printf "%.3f %.3f", $1, $2 + $3 }' "$dir/time")
		else
			t0=$(date +%s.%N)
			"$@" >/dev/null || { echo "bench: failed: $*" >&2; exit 1; }
			t=$(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.3f -", $2 - $1 }')
		fi
		b=$(echo "$t $b" | awk 'NF == 2 { print $1, $2; next }
			{ w = $1 < $3 ? $1 : $3; c = ($2 != "-" && $2 < $4) ? $2 : $4; print w, c }')
		i=$((i + 1))
	done
	echo "$b"
}

mbs() { echo "$bytes $1" | awk '$2 == "-" { print "-"; next } { printf "%.0f", $1 / ($2 > 0 ? $2 : 0.001) / 1e6 }'; }
# ratio FASTA_CAT OTHER: OTHER's time / fasta-cat's, wall and CPU
ratio() { echo "$1 $2" | awk '{ printf "%.2f (CPU %s)", $3 / $1, ($2 == "-" || $2 == 0) ? "-" : sprintf("%.2f", $4 / $2) }'; }

printf '%-24s %8s %8s %9s %9s\n' "command" "wall s" "MB/s" "CPU s" "CPU MB/s"
row() {
	set -- "$1" $2
	printf '%-24s %8s %8s %9s %9s\n' "$1" "$2" "$(mbs "$2")" "$3" "$(mbs "$3")"
}

fc=$(best "$bin/fasta-cat" -M "$fa");        row "fasta-cat -M (plain)" "$fc"
sk=$(best seqkit seq "$fa");                 row "seqkit seq (plain)" "$sk"
st=
if command -v seqtk >/dev/null 2>&1; then
	st=$(best seqtk seq "$fa");          row "seqtk seq (plain)" "$st"
fi
fcz=$(best "$bin/fasta-cat" -M "$fa.gz");    row "fasta-cat -M (gz)" "$fcz"
skz=$(best seqkit seq "$fa.gz");             row "seqkit seq (gz)" "$skz"
stz=
if [ -n "$st" ]; then
	stz=$(best seqtk seq "$fa.gz");      row "seqtk seq (gz)" "$stz"
fi
zc=$(best gzip -dc "$fa.gz");                row "zcat (gz)" "$zc"

echo "ratios (> 1: fasta-cat faster):"
echo "  plain: vs seqkit $(ratio "$fc" "$sk")${st:+, vs seqtk $(ratio "$fc" "$st")}"
echo "  gz:    vs seqkit $(ratio "$fcz" "$skz")${stz:+, vs seqtk $(ratio "$fcz" "$stz")}, vs zcat $(ratio "$fcz" "$zc")"
