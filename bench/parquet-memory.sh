#!/bin/sh
# bench/parquet-memory.sh — reading Parquet in constant memory.
#
# Writes UniRef-shaped files with plmkit's own writer (columns ur50_id,
# ur90_id, sequence: the 20k UniProt sample, each pass rotated so that no
# sequence repeats; SNAPPY, BENCH_ROW_GROUP rows per row group, default
# 20000) of about each size in BENCH_MB (default "200 2000" MB), then
# reads each once with
#   rec-cat FILE > /dev/null                 (all three columns)
#   rec-cut -f ur90_id FILE > /dev/null      (one column)
# under /usr/bin/time -v and prints the file size, its rows and row
# groups, and the peak RSS.  The peak RSS does not depend on the file size:
# it is the program plus, per column read, one page and the column chunk's
# dictionary (man 5 plm-stream, "Parquet input").
#
# The files are big: they go to $BENCH_DIR/parquet-memory, or to a
# temporary directory in TMPDIR removed at the end.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
sizes=${BENCH_MB:-200 2000}
rg=${BENCH_ROW_GROUP:-20000}
[ -x /usr/bin/time ] || { echo "bench: parquet-memory: needs /usr/bin/time" >&2; exit 1; }
bench_dir parquet-memory
echo "load: $(cut -d ' ' -f 1-3 /proc/loadavg)"
"$bin/fasta-cat" "$top/tests/data/uniprot_20k.fasta.gz" 2>/dev/null |
	"$bin/rec-cut" -T -f id,seq | sed 1d >"$dir/seqs.txt"

# peak RSS in kB of "$@" with standard output to /dev/null
peak () {
	{ /usr/bin/time -v "$@" >/dev/null; } 2>&1 |
		sed -n 's/.*Maximum resident set size (kbytes): //p'
}

for mb in $sizes; do
	f=$dir/uniref-${mb}M.parquet
	if [ ! -s "$f" ]; then
		echo "bench: writing $f" >&2
		awk -F '\t' -v want=$((mb * 1000000)) -v rows="$f.rows" '
			BEGIN { OFS = "\t"; print "ur50_id", "ur90_id", "sequence" }
			{ id[NR] = $1; seq[NR] = $2 }
			END {
				for (p = 0; bytes < want; p++)
					for (i = 1; i <= NR && bytes < want; i++) {
						s = seq[i]; k = p % length(s) + 1
						s = substr(s, k) substr(s, 1, k - 1)
						print "UniRef50_" p "_" int(i / 7), "UniRef90_" p "_" id[i], s
						bytes += length(s) + 40; n++
					}
				print n >rows
			}' "$dir/seqs.txt" |
			PLM_PARQUET=codec=snappy,row_group=$rg "$bin/rec-cat" -o "$f" -
	fi
	n=$(cat "$f.rows")
	echo "parquet-memory: $(wc -c <"$f") bytes, $n rows, $(( (n + rg - 1) / rg )) row groups:" \
		"rec-cat max RSS $(peak "$bin/rec-cat" "$f") kB," \
		"rec-cut -f ur90_id max RSS $(peak "$bin/rec-cut" -f ur90_id "$f") kB"
done
echo "load: $(cut -d ' ' -f 1-3 /proc/loadavg)"
