#!/bin/sh
# Install the Debian packages plmkit needs to build and test, if missing.
# Called by `make check`, `make demo` and `make bench`; says what it installs.
# PLM_DEPS_EXTRA adds packages (bench/run.sh asks for the peers this way).
set -e
need="gcc make pkg-config perl zlib1g-dev libzstd-dev zstd gzip libopenblas-dev
libhdf5-dev libmsgpack-dev libxxhash-dev libisal-dev hdf5-tools mandoc seqkit python3 python3-numpy
tmux bsdutils parallel
python3-msgpack python3-h5py python3-sklearn python3-pandas libxml2-utils libsnappy-dev nodejs $PLM_DEPS_EXTRA"
# the Parquet tests' oracles (DuckDB, hyparquet) are npm packages; a
# nodejs that bundles npm (NodeSource's) needs no Debian npm
command -v npm >/dev/null 2>&1 || need="$need npm"
missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done

# The Parquet readers the tests compare with (tests/parquet-oracle.js):
# DuckDB and polars, npm packages kept in build/node.  Without them those
# tests are skipped, so a failed download is not an error here.
npm_oracles () {
	dir=$(cd "$(dirname "$0")/.." && pwd)/build/node
	want="@duckdb/node-api@1.5.6-r.1"
	[ "$(uname -m)" = x86_64 ] &&
		want="$want nodejs-polars@0.25.2 nodejs-polars-linux-x64-gnu@0.25.2"
	miss=""
	for m in $want; do
		[ -d "$dir/node_modules/${m%@*}" ] || miss="$miss $m"
	done
	[ -z "$miss" ] || ! command -v npm >/dev/null 2>&1 && return 0
	echo "install-deps: npm install into build/node:$miss" >&2
	mkdir -p "$dir" &&
	npm install --prefix "$dir" --no-audit --no-fund -E $miss >&2 ||
		echo "install-deps: npm install failed: the Parquet reader tests will be skipped" >&2
}

if [ -z "$missing" ]; then
	npm_oracles
	exit 0
fi
echo "install-deps: installing:$missing" >&2
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: no apt-get here; install these yourself:$missing" >&2
	exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends $missing >&2
npm_oracles
