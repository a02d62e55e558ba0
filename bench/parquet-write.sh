#!/bin/sh
# bench/parquet-write.sh — writing Parquet: plmkit (rec-cat -o x.parquet)
# against DuckDB's COPY ... TO 'x.parquet', both snappy, on the membership
# workflow's shape: BENCH_ROWS (default 1,000,000) rows of ur50_id,
# ur90_id (40 and 4 rows an id: dictionary pages) and a real sequence
# (the 20k UniProt sample, each row's copy made distinct by a tag).
#
# Timed (each under /usr/bin/time -v, the best CPU time of $BENCH_REPS):
#   rec-cat -o x.parquet mem.rec     records in (the writer alone)
#   rec-cat -o x.parquet mem.tsv     TSV in
#   DuckDB COPY from its own table   (a database file; threads=1 and all)
#   DuckDB COPY from read_csv(mem.tsv)
# DuckDB runs in node (the npm package @duckdb/node-api, make deps), so
# its times include starting node (about 0.2 s).  Both outputs are read
# back by DuckDB and must hold the same rows.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
reps=${BENCH_REPS:-3}
rows=${BENCH_ROWS:-1000000}
src=$top/tests/data/uniprot_20k.fasta.gz
nm=$top/build/node/node_modules
if [ ! -d "$nm/@duckdb/node-api" ]; then
	echo "bench: parquet-write needs the npm package @duckdb/node-api in build/node (make deps)" >&2
	exit 1
fi
export NODE_PATH=$nm
duck="node $top/tests/parquet-oracle.js sql"

bench_dir parquet-write
tsv=$dir/mem-$rows.tsv
if [ ! -s "$tsv" ]; then
	echo "bench: building $tsv" >&2
	gzip -dc "$src" | awk -v rows="$rows" '
		/^>/ { if (s != "") q[n++] = s; s = ""; next }
		{ s = s $0 }
		END {
			if (s != "") q[n++] = s
			print "ur50_id:str\tur90_id:str\tsequence:str"
			for (i = 0; i < rows; i++) {
				t = q[i % n]
				printf "UniRef50_P%05d\tUniRef90_Q%06d\t%s%d%s\n",
					int(i / 40), int(i / 4), substr(t, 1, 1),
					int(i / n), substr(t, 2)
			}
		}' >"$tsv.tmp"
	mv "$tsv.tmp" "$tsv"
fi
rec=$dir/mem-$rows.rec
[ -s "$rec" ] || "$bin/rec-cat" -o "$rec" "$tsv"
db=$dir/mem-$rows.duckdb
if [ ! -s "$db" ]; then
	rm -f "$db"
	$duck "ATTACH '$db' AS m" "CREATE TABLE m.t AS SELECT * FROM read_csv('$tsv', delim='\t', header=true, quote='', escape='', columns={'ur50_id': 'VARCHAR', 'ur90_id': 'VARCHAR', 'sequence': 'VARCHAR'})" >/dev/null
fi
echo "bench: $tsv: $rows rows, $(wc -c <"$tsv") bytes"

out=$dir/out
copy="COPY %s TO '$out.duck.parquet' (FORMAT parquet, COMPRESSION snappy)"
printf "%-40s %10s %10s %12s\n" "command" "wall" "cpu" "peak RSS"
bench_run "rec-cat -o x.parquet mem.rec (snappy)" \
	"PLM_PARQUET=codec=snappy '$bin/rec-cat' -o '$out.plm.parquet' '$rec'"
w_rec=$wall; c_rec=$cpu
bench_run "rec-cat -o x.parquet mem.tsv (snappy)" \
	"PLM_PARQUET=codec=snappy '$bin/rec-cat' -o '$out.plm.parquet' '$tsv'"
w_tsv=$wall; c_tsv=$cpu
# shellcheck disable=SC2059 # copy is the format
bench_run "DuckDB COPY table, threads=1" \
	"$duck \"ATTACH '$db' AS m (READ_ONLY)\" \"SET threads=1\" \"$(printf "$copy" m.t)\""
w_d1=$wall; c_d1=$cpu
# shellcheck disable=SC2059
bench_run "DuckDB COPY table, threads=$(nproc)" \
	"$duck \"ATTACH '$db' AS m (READ_ONLY)\" \"$(printf "$copy" m.t)\""
w_dn=$wall
# shellcheck disable=SC2059
bench_run "DuckDB COPY read_csv(mem.tsv), threads=1" \
	"$duck \"SET threads=1\" \"$(printf "$copy" "(SELECT * FROM read_csv('$tsv', delim='\t', header=true, quote='', escape='', columns={'ur50_id': 'VARCHAR', 'ur90_id': 'VARCHAR', 'sequence': 'VARCHAR'}))")\""
w_dc=$wall; c_dc=$cpu

# the same rows in both files
$duck "SELECT count(*), count(DISTINCT ur50_id), count(DISTINCT ur90_id), sum(length(sequence)) FROM '$out.plm.parquet'" >"$dir/a.json"
$duck "SELECT count(*), count(DISTINCT ur50_id), count(DISTINCT ur90_id), sum(length(sequence)) FROM '$out.duck.parquet'" >"$dir/b.json"
if ! cmp -s "$dir/a.json" "$dir/b.json"; then
	echo "bench: the two Parquet files differ: $(cat "$dir/a.json") vs $(cat "$dir/b.json")" >&2
	exit 1
fi
echo "rows read back (both): $(cat "$dir/a.json")"
echo "file size: plmkit $(wc -c <"$out.plm.parquet") bytes, DuckDB $(wc -c <"$out.duck.parquet") bytes"
awk -v a="$w_rec" -v b="$w_d1" -v c="$c_rec" -v d="$c_d1" -v e="$w_dn" \
	-v f="$w_tsv" -v g="$w_dc" -v h="$c_tsv" -v k="$c_dc" 'BEGIN {
	printf "ratio records → Parquet / DuckDB table → Parquet, threads=1: wall %.2f, cpu %.2f\n", a / b, c / d
	printf "ratio records → Parquet / DuckDB table → Parquet, all threads: wall %.2f\n", a / e
	printf "ratio TSV → Parquet / DuckDB read_csv → Parquet, threads=1: wall %.2f, cpu %.2f\n", f / g, h / k
}'
