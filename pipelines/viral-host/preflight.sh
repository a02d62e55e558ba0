#!/bin/bash
# preflight.sh BIN SAMPLE.tsv SECOND EXT FIELD DIM NAME IDS — checks before
# any embedding.  SECOND is a directory of one second feature set per FASTA
# file (SECOND/STEM.EXT: a record stream, .npy with STEM.ids, .npz or HDF5;
# see second.sh) or one file, a table for all of them.  For every FASTA file
# of the sample: its second feature set exists and reads, has fields id and
# a vector of DIM values (FIELD of a record stream; array or dataset NAME),
# no id twice, and every id of the FASTA file.  Base names must be unique
# (SECOND is one directory) and ids unique across the files.  Every problem
# is listed, then exit 1; on success a summary goes to stdout.
set -o pipefail -u
bin=$1 sample=$2 sec=$3 ext=$4 field=$5 dim=$6 name=$7 idsname=$8
here=$(dirname "$0")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
np=0
problem () { np=$((np + 1)); printf 'preflight: %s\n' "$*" >>"$tmp/problems"; }

# ids FILE: the id column of a record stream or FASTA file, one per line
ids () { "$bin/rec-cut" --typed -f id "$1" 2>"$tmp/err" | awk '/^#/ { next } !h { h = 1; next } { print }'; }

# second FILE: FILE as a record stream in $tmp/s.rec, its vector checked
# (field, dimension, unique ids) and its ids, sorted, in $tmp/s.ids; 1 (the
# problem noted) when it cannot be used
second () {
	if ! "$here/second.sh" "$bin" "$1" "$field" "$name" "$idsname" >"$tmp/s.rec" 2>"$tmp/err"; then
		problem "$1: unreadable: $(sed "s|^[a-z-]*: ||" "$tmp/err" | head -n 1)"
		return 1
	fi
	if ! "$bin/feat-merge" --check -k id -x emb --dims "$dim,$dim" "$tmp/s.rec" "$tmp/s.rec" 2>"$tmp/err"; then
		problem "$1: $(sed -n "1{s|^feat-merge: ||; s|$tmp/s.rec: ||; s|--dims declares \\([0-9]*\\) for input 1|SECOND_DIM is \\1|; s|'emb'|'$field'|; p}" "$tmp/err")"
		return 1
	fi
	ids "$tmp/s.rec" | sort >"$tmp/s.ids"
}

table=""
if [ -f "$sec" ]; then
	table=$sec
	second "$sec" && mv "$tmp/s.ids" "$tmp/table.ids" || table=none
elif [ ! -d "$sec" ]; then
	problem "$sec: second feature directory (or table) not found"
fi
if [ -z "$table" ]; then
	dups=$(cut -f3 "$sample" | sort | uniq -d | head -n 5 | tr '\n' ' ')
	[ -z "$dups" ] || problem "base names used by more than one FASTA file (SECOND is one directory): $dups"
fi

nf=0 nrec=0
while IFS='	' read -r cat fa stem; do
	nf=$((nf + 1))
	if ! ids "$fa" | sort >"$tmp/fa.ids"; then
		problem "$fa: unreadable: $(head -n 1 "$tmp/err")"
		continue
	fi
	n=$(wc -l <"$tmp/fa.ids"); nrec=$((nrec + n))
	[ "$n" -gt 0 ] || problem "$fa: no records"
	sed "s|\$|	$stem|" "$tmp/fa.ids" >>"$tmp/all.ids"
	if [ -n "$table" ]; then
		[ "$table" = none ] && continue
		s=$table
		cp "$tmp/table.ids" "$tmp/s.ids"
	else
		s=$sec/$stem$ext
		if [ ! -e "$s" ]; then
			problem "$fa: second feature file $s is missing"
			continue
		fi
		second "$s" || continue
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
echo "preflight: ok: $nf FASTA files, $nrec records, each with its second feature set ($dim values) covering every id"
