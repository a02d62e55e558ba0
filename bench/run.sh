#!/bin/sh
# make bench: run every bench/*.sh in turn (lib.sh is their helpers).  Each
# prints the machine, then its own table with the peer in the same run and
# the ratio.  BENCH_DIR holds the big inputs
# (default: $TMPDIR/plmkit-bench, /tmp without TMPDIR, kept between runs).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export PLM_TOP="$top" PATH="$top/bin:$PATH"
export BENCH_DIR="${BENCH_DIR:-${TMPDIR:-/tmp}/plmkit-bench}"
mkdir -p "$BENCH_DIR"
PLM_DEPS_EXTRA="seqtk hyperfine time python3-torch mmseqs2 ncbi-blast+ metastudent-data libdnnl-dev" sh "$top/scripts/install-deps.sh"
status=0
for b in "$top"/bench/*.sh; do
	case $(basename "$b") in run.sh|lib.sh) continue ;; esac
	echo "== $(basename "$b" .sh)"
	sh "$b" || { echo "bench: $(basename "$b") failed" >&2; status=1; }
done
exit $status
