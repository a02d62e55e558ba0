#!/bin/sh
# Lint the man pages with mandoc; any warning fails.
status=0
for m in "$@"; do
	out=$(mandoc -T lint -W warning "$m" 2>&1) || true
	if [ -n "$out" ]; then
		echo "$out" >&2
		status=1
	fi
done
[ $status -eq 0 ] && echo "manlint: $# pages ok"
exit $status
