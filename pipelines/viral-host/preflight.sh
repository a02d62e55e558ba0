#!/bin/bash
# preflight.sh BIN SAMPLE.tsv SECOND_DIR EXT FIELD DIM — checks before any
# embedding.  For every FASTA file of the sample: its second feature set
# SECOND_DIR/STEM.EXT exists, is a readable record stream with fields id and
# FIELD, FIELD a vector of DIM values, and it has every id of the FASTA file.
# Base names must be unique (SECOND is one directory) and ids unique across
# the files.  Every problem is listed, then exit 1; on success a summary goes
# to stdout.
set -o pipefail -u
bin=$1 sample=$2 sec=$3 ext=$4 field=$5 dim=$6
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
np=0
problem () { np=$((np + 1)); printf 'preflight: %s\n' "$*" >>"$tmp/problems"; }

# ids: the id column of a record stream or FASTA file, one per line, sorted
ids () { "$bin/rec-cut" -T -f id "$1" 2>"$tmp/err" | awk '/^#/ { next } !h { h = 1; next } { print }'; }

if [ ! -d "$sec" ]; then
	problem "$sec: second feature directory not found"
fi
dups=$(cut -f3 "$sample" | sort | uniq -d | head -n 5 | tr '\n' ' ')
[ -z "$dups" ] || problem "base names used by more than one FASTA file (SECOND is one directory): $dups"

nf=0 nrec=0
while IFS='	' read -r cat fa stem; do
	nf=$((nf + 1))
	s=$sec/$stem$ext
	if ! ids "$fa" | sort >"$tmp/fa.ids"; then
		problem "$fa: unreadable: $(head -n 1 "$tmp/err")"
		continue
	fi
	n=$(wc -l <"$tmp/fa.ids"); nrec=$((nrec + n))
	[ "$n" -gt 0 ] || problem "$fa: no records"
	sed "s|\$|	$stem|" "$tmp/fa.ids" >>"$tmp/all.ids"
	if [ ! -e "$s" ]; then
		problem "$fa: second feature file $s is missing"
		continue
	fi
	cols=$("$bin/rec-head" -T -n 0 "$s" 2>"$tmp/err" | awk '!/^#/ { print; exit }' | tr '\t' '\n')
	if [ -z "$cols" ]; then
		problem "$s: not a record stream: $(head -n 1 "$tmp/err")"
		continue
	fi
	printf '%s\n' "$cols" | grep -q '^id:' || problem "$s: no field id"
	ty=$(printf '%s\n' "$cols" | sed -n "s/^$field://p")
	if [ -z "$ty" ]; then
		problem "$s: no field $field"
	else
		d=$(printf '%s\n' "$ty" | sed -n 's/^\(f32\|f16\|bf16\)\[\([0-9]*\)\]$/\2/p')
		if [ -z "$d" ]; then
			problem "$s: field $field is $ty, not a vector (f32[N], f16[N], bf16[N])"
		elif [ "$d" != "$dim" ]; then
			problem "$s: field $field has dimension $d, SECOND_DIM is $dim"
		fi
	fi
	if ! ids "$s" | sort >"$tmp/s.ids"; then
		problem "$s: unreadable: $(head -n 1 "$tmp/err")"
		continue
	fi
	miss=$(comm -23 "$tmp/fa.ids" "$tmp/s.ids" | wc -l)
	if [ "$miss" -gt 0 ]; then
		problem "$s: $miss of the $n ids of $fa missing, e.g. $(comm -23 "$tmp/fa.ids" "$tmp/s.ids" | head -n 5 | tr '\n' ' ')"
	fi
done <"$sample"

if [ -s "$tmp/all.ids" ]; then
	dup=$(cut -f1 "$tmp/all.ids" | sort | uniq -d | wc -l)
	[ "$dup" -eq 0 ] || problem "$dup id(s) in more than one place, e.g. $(sort "$tmp/all.ids" | awk -F'\t' '$1 == p { print $1 " (" q ", " $2 ")"; if (++k == 3) exit } { p = $1; q = $2 }' | tr '\n' ' ')"
fi

if [ "$np" -gt 0 ]; then
	cat "$tmp/problems" >&2
	echo "preflight: $np problem(s) in $nf FASTA files; nothing embedded" >&2
	exit 1
fi
echo "preflight: ok: $nf FASTA files, $nrec records, each with its second feature set ($field, $dim values) covering every id"
