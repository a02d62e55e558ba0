#!/bin/sh
# pipelines/slurm/submit.sh — esm-embed over SHARDS shards as one Slurm array
# job, then a merge job that starts when every task has succeeded.
#
#   sh pipelines/slurm/submit.sh [NAME=value ...] [sbatch options ...]
#   sh pipelines/slurm/submit.sh OUT=/scratch/emb IN=seqs.fasta.gz HEAD= \
#       MODEL=/models/esm2_t33_650M_UR50D SHARDS=64 THREADS=4 --partition=cpu
#
# NAME=value sets a parameter (BIN MODEL IN HEAD PREP OUT SHARDS THREADS
# EMBED, see README.md); every other argument goes to both sbatch calls.
# Prints "ARRAY_JOBID MERGE_JOBID" on stdout.  OUT must be on a file system
# the compute nodes share, and its path must not contain white space.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

BIN=$top/bin
MODEL=$top/tests/data/esm2/esm2_tiny
IN=$top/tests/data/uniprot_20k.fasta.gz
HEAD=1000
PREP=
OUT=$PWD/slurm-out
SHARDS=4
THREADS=1
EMBED='--max-len 1022'

for a; do
	shift
	case $a in
	BIN=*|MODEL=*|IN=*|HEAD=*|PREP=*|OUT=*|SHARDS=*|THREADS=*|EMBED=*)
		eval "${a%%=*}=\${a#*=}" ;;
	*)	set -- "$@" "$a" ;;
	esac
done

abs () { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
BIN=$(abs "$BIN") MODEL=$(abs "$MODEL") IN=$(abs "$IN") OUT=$(abs "$OUT")
: "${PREP:=$BIN/fasta-cat --clean}"
case $SHARDS in ''|*[!0-9]*|0) echo "submit: SHARDS=$SHARDS: not a positive number" >&2; exit 2 ;; esac
case $OUT in *[[:space:]]*) echo "submit: OUT=$OUT: white space in the path" >&2; exit 2 ;; esac
command -v sbatch >/dev/null 2>&1 || { echo "submit: sbatch not found" >&2; exit 1; }

# The input, prepared here (fasta-cat runs at hundreds of MB/s).  The same
# parameters as last time keep input.rec and the finished shards: the
# array's tasks then skip their shard, and a failed one resumes from its
# cache.  Other parameters start afresh.
mkdir -p "$OUT/logs"
printf 'IN=%s HEAD=%s MODEL=%s SHARDS=%s EMBED=%s PREP=%s\n' \
	"$IN" "$HEAD" "$MODEL" "$SHARDS" "$EMBED" "$PREP" >"$OUT/params.new"
if cmp -s "$OUT/params.new" "$OUT/params" && test -s "$OUT/input.rec"; then
	rm -f "$OUT/params.new"
	echo "submit: $OUT: same parameters, finished shards are kept" >&2
else
	rm -f "$OUT"/shard-* "$OUT/input.rec" "$OUT/cache.h5" "$OUT/shards.rec" "$OUT/emb.rec"
	if [ -n "$HEAD" ]; then
		$PREP "$IN" | "$BIN/rec-head" -n "$HEAD" -o "$OUT/input.rec"
	else
		$PREP "$IN" | "$BIN/rec-cat" -o "$OUT/input.rec"
	fi
	mv "$OUT/params.new" "$OUT/params"
fi
rm -f "$OUT/cache.h5" "$OUT/shards.rec" "$OUT/emb.rec"

PLM_BIN=$BIN PLM_MODEL=$MODEL PLM_OUT=$OUT PLM_SHARDS=$SHARDS PLM_EMBED=$EMBED
export PLM_BIN PLM_MODEL PLM_OUT PLM_SHARDS PLM_EMBED

# --parsable prints "jobid" or "jobid;cluster".
arr=$(sbatch --parsable --export=ALL --array=0-$((SHARDS - 1)) \
	--job-name=plm-embed --cpus-per-task="$THREADS" --chdir="$OUT" \
	--output="$OUT/logs/embed-%A_%a.log" "$@" "$here/embed-shard.sbatch")
arr=${arr%%;*}
# afterok on an array job: every task must end with exit status 0.  A task
# that fails makes the dependency impossible and the merge job is cancelled.
mrg=$(sbatch --parsable --export=ALL --dependency=afterok:"$arr" \
	--kill-on-invalid-dep=yes --job-name=plm-merge --cpus-per-task="$THREADS" \
	--chdir="$OUT" --output="$OUT/logs/merge-%j.log" "$@" "$here/merge.sbatch")
mrg=${mrg%%;*}
echo "submit: array job $arr (tasks 0-$((SHARDS - 1))), merge job $mrg after it; results in $OUT" >&2
echo "$arr $mrg"
