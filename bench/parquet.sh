#!/bin/sh
# bench/parquet.sh — reading Parquet: plmkit against DuckDB.
#
# Writes a UniRef-shaped shard with DuckDB: 1,000,000 rows (BENCH_ROWS) of
# ur50_id, ur90_id, sequence (the 20k UniProt sample repeated), SNAPPY,
# dictionary-encoded ids.  Checks that plmkit reads the same values (an
# MD5 over all of them from both), then times, best of $BENCH_REPS runs:
#   rec-cat FILE > /dev/null                    (every column, MessagePack out)
#   DuckDB COPY (SELECT * FROM FILE) TO '/dev/null' (FORMAT csv)
#   rec-cut -f ur50_id,ur90_id,sequence FILE > /dev/null
#   DuckDB SELECT count(*), sum(length(...)) of the three columns, with
#        threads=1 and threads=2 (decodes every value, writes nothing)
# and prints the seconds, rec-cat's maximum RSS, the load average and the
# ratios DuckDB / plmkit (> 1: plmkit faster), node's start-up subtracted
# from DuckDB's aggregate times.  Goal: >= 1.
#
# DuckDB is npm @duckdb/node-api under node, installed into build/node.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
reps=${BENCH_REPS:-3}
rows=${BENCH_ROWS:-1000000}
bin=${PLM_BIN:-$top/bin}
nd=$top/build/node
command -v node >/dev/null 2>&1 || { echo "bench: parquet: needs node" >&2; exit 1; }
[ -d "$nd/node_modules/@duckdb/node-api" ] ||
	npm install --prefix "$nd" --no-audit --no-fund @duckdb/node-api >&2
export NODE_PATH=$nd/node_modules
bench_dir parquet
duck () { node "$top/tests/parquet-oracle.js" sql-tsv "$@"; }
f=$dir/uniref-$rows.parquet
if [ ! -s "$f" ]; then
	echo "bench: writing $f" >&2
	"$bin/fasta-cat" -T "$top/tests/data/uniprot_20k.fasta.gz" |
		"$bin/rec-cut" -f id,seq -T | grep -v '^#' | sed 1d >"$dir/seqs.txt"
	duck "CREATE TABLE s AS SELECT row_number() OVER () - 1 AS k, * FROM read_csv('$dir/seqs.txt', delim = '\t', header = false, quote = '', columns = {'id': 'VARCHAR', 'seq': 'VARCHAR'})" \
		"COPY (SELECT 'UniRef50_' || (i % 7919) AS ur50_id, 'UniRef90_' || s.id AS ur90_id, s.seq AS sequence FROM range($rows) t(i) JOIN s ON s.k = i % (SELECT count(*) FROM s) ORDER BY i) TO '$f' (FORMAT parquet, COMPRESSION snappy)" \
		"SELECT 1" >/dev/null
fi
want=$(duck "SELECT md5(string_agg(ur50_id || chr(9) || ur90_id || chr(9) || sequence || chr(10), '' ORDER BY file_row_number)) FROM read_parquet('$f', file_row_number = true)")
got=$("$bin/rec-cat" -T "$f" | grep -v '^#' | sed 1d | md5sum | cut -d ' ' -f 1)
[ "$want" = "$got" ] || { echo "bench: parquet: values differ from DuckDB's" >&2; exit 1; }
echo "parquet: $rows rows, $(wc -c <"$f") bytes, values equal DuckDB's (md5 $got)"
best () {   # best wall seconds of $reps runs of "$@"
	b=
	for _ in $(seq "$reps"); do
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		b=$(echo "$s $e ${b:-1e9}" | awk '{ t = $2 - $1; print (t < $3 ? t : $3) }')
	done
	echo "$b"
}
echo "load: $(cut -d ' ' -f 1-3 /proc/loadavg)"
tp=$(best "$bin/rec-cat" "$f")
tc=$(best "$bin/rec-cut" -f ur50_id,ur90_id,sequence "$f")
td=$(best duck "COPY (SELECT * FROM read_parquet('$f')) TO '/dev/null' (FORMAT csv)" "SELECT 1")
t0=$(best duck "SELECT 1")
rss=$( { /usr/bin/time -v "$bin/rec-cat" "$f" >/dev/null; } 2>&1 | sed -n 's/.*Maximum resident set size (kbytes): //p')
echo "parquet: rec-cat ${tp}s (max RSS ${rss} kB), rec-cut -f (3 columns) ${tc}s, DuckDB CSV to /dev/null ${td}s (node start ${t0}s)"
echo "parquet: ratio DuckDB CSV/rec-cat $(echo "$td $tp" | awk '{ printf "%.2f", $1 / $2 }')"
# Fair: DuckDB decodes all three columns without writing anything, with
# one and two threads; node's start-up is subtracted.
agg="SELECT count(*), sum(length(ur50_id)), sum(length(ur90_id)), sum(length(sequence)) FROM read_parquet('$f')"
for th in 1 2; do
	ta=$(best duck "SET threads = $th" "$agg")
	echo "parquet: DuckDB $agg, threads=$th: ${ta}s, less node start $(echo "$ta $t0" | awk '{ printf "%.3f", $1 - $2 }')s;" \
		"ratio DuckDB/rec-cat $(echo "$ta $t0 $tp" | awk '{ printf "%.2f", ($1 - $2) / $3 }')," \
		"DuckDB/rec-cut $(echo "$ta $t0 $tc" | awk '{ printf "%.2f", ($1 - $2) / $3 }')"
done
echo "load: $(cut -d ' ' -f 1-3 /proc/loadavg)"
