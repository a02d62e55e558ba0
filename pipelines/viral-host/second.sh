#!/bin/bash
# second.sh BIN FILE FIELD NAME IDS — one second feature set FILE as a record
# stream of id and emb on standard output, whatever form it came in:
#
#   *.npy          a float array [N, D]; ids one per line in the same path
#                  with .ids for .npy (feat-import --ids)
#   *.npz          array NAME and string array IDS of the archive
#   *.h5 *.hdf5    dataset NAME and string dataset IDS of the file
#   anything else  a record stream with id and FIELD
#
# feat-import refuses a count of ids other than N, duplicate or empty ids
# and non-finite values; its message is the one the pre-flight shows.
set -o pipefail -eu
bin=$1 f=$2 field=$3 name=$4 ids=$5
case $f in
*.npy)
	exec "$bin/feat-import" --ids "${f%.npy}.ids" "$f" ;;
*.npz)
	exec "$bin/feat-import" --array "$name" --ids-array "$ids" "$f" ;;
*.h5 | *.hdf5)
	exec "$bin/feat-import" --dataset "$name" --ids-dataset "$ids" "$f" ;;
*)
	exec "$bin/rec-cut" -f "id,emb=$field" "$f" ;;
esac
