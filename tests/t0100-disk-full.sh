#!/bin/sh
# Disk full: every tool that writes a file, writing it onto a 1 MB tmpfs,
# exits 1 with a message naming the problem -- no crash, no sanitizer
# report (run it with PLM_BIN=build-san/bin), no partial or temporary file
# left behind.  Big outputs fail in the middle of the stream; small ones
# fail at the first flush, with a filler file taking all the free space.
# /dev/full (written in place) needs no mount and is checked always.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

TD="$DATA/taxdump"
TINY="$DATA/esm2/esm2_tiny"

# disk_full CMD...: exit status exactly 1 (a crash under the sanitizers
# exits 1 too, hence the report check), the tool's own message about the
# full disk, and nothing in full/ but the filler.
disk_full () {
	"$@" >out 2>err
	code=$?
	if [ $code -ne 1 ]; then
		echo "disk_full: exit $code, not 1: $*" >&2
		cat err >&2
		return 1
	fi
	# Memory still held at exit(1) is not what this checks (LeakSanitizer)
	if grep -q "ERROR: AddressSanitizer\|runtime error" err; then
		echo "disk_full: sanitizer report: $*" >&2
		cat err >&2
		return 1
	fi
	if ! grep -q "^$1: .*No space left on device" err; then
		echo "disk_full: no message about the full disk: $*" >&2
		cat err >&2
		return 1
	fi
	left=$(ls -A full 2>/dev/null | grep -v "^filler\$")
	if [ -n "$left" ]; then
		echo "disk_full: left behind in full/: $left" >&2
		return 1
	fi
}

# Take every free block of full/; unfill gives them back.
fill () { dd if=/dev/zero of=full/filler bs=4k 2>/dev/null; test -s full/filler; }
unfill () { rm -f full/filler; }
# leave KB: take all but KB of the free space of full/.
leave () {
	free=$(df -k full | awk "NR == 2 { print \$4 }")
	dd if=/dev/zero of=full/filler bs=1k count=$((free - $1)) 2>/dev/null
}

test_expect_success 'setup' '
	fasta-cat --clean "$DATA/uniprot_20k.fasta.gz" -o all.rec 2>/dev/null &&
	rec-head -n 4000 all.rec >u.rec &&
	test $(wc -c <u.rec) -gt 2000000 &&
	rec-put split=train u.rec >sp.rec &&
	rec-put taxid:int=9606 u.rec >tx.rec &&
	kmer-feat --aac u.rec -o A.rec &&
	kmer-feat --dpc u.rec -o B.rec &&
	rec-cat -M "$DATA/metrics/binary.tsv" >bin.rec &&
	gen lin 300 6 1 >lin.tsv &&
	rec-filter "split!=test" lin.tsv -o lin-tv.rec &&
	mlp-train --hidden 4 --epochs 2 -o lin.mlp lin-tv.rec 2>/dev/null &&
	printf "id:str\tseq:str\temb:f32[16]\n" >e.tsv &&
	i=0 && while [ $i -lt 300 ]; do
		printf "e%d\tMKV%d\t%d,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n" \
			$i $i $i >>e.tsv
		i=$((i + 1))
	done &&
	emb-cache import --signature 00ff --layer 6 --pool mean --max-len 1022 \
		c.h5 e.tsv 2>/dev/null
'

test_expect_success '/dev/full as the output (written in place): exit 1, a message' '
	test_error "^rec-cat: .*No space left on device" rec-cat -o /dev/full u.rec &&
	! grep -q "ERROR: AddressSanitizer\|runtime error" err
'

# Every tool with -o /dev/full: exit 1, its message, and no sanitizer
# report of any kind, LeakSanitizer's included (with PLM_SAN=1, the build
# under the sanitizers reports memory lost on the exit-1 paths).
dev_full () {
	"$@" -o /dev/full >out 2>err
	code=$?
	if [ $code -ne 1 ] || ! grep -q "^$1: .*No space left on device" err ||
	   grep -q "Sanitizer\|runtime error" err; then
		echo "dev_full: exit $code: $*" >&2
		cat err >&2
		return 1
	fi
}

test_expect_success 'every tool with -o /dev/full: exit 1, no sanitizer report' '
	dev_full rec-cat u.rec &&
	dev_full rec-cut -f id,seq u.rec &&
	dev_full rec-filter "len>=0" u.rec &&
	dev_full rec-head -n 10 u.rec &&
	dev_full rec-put x=1 u.rec &&
	dev_full rec-sample -p 1 u.rec &&
	dev_full rec-join -k id --prefix r_ u.rec u.rec &&
	dev_full rec-stats -c seq u.rec &&
	dev_full rec-fasta u.rec &&
	dev_full fasta-cat "$DATA/uniprot_20k.fasta.gz" &&
	dev_full hash-dedup -q u.rec &&
	dev_full kmer-feat --aac u.rec &&
	dev_full len-bin --edges 0,100000 u.rec &&
	dev_full strat-split -r a=0.5,b=0.5 u.rec &&
	dev_full tax-kingdom --taxdump "$TD" tx.rec &&
	dev_full pair-make -g len sp.rec &&
	dev_full clust-weight -k id u.rec &&
	dev_full leak-check sp.rec &&
	dev_full feat-merge -k id -x emb A.rec B.rec &&
	dev_full metrics bin.rec &&
	dev_full mlp-predict --allow-seen --model lin.mlp lin.tsv &&
	dev_full emb-cache export c.h5 &&
	dev_full emb-cache get c.h5 e.tsv
'

# A tmpfs of 1 MB: mounting needs root (CAP_SYS_ADMIN) and a kernel that
# lets this container mount.
mkdir full
if ! mount -t tmpfs -o size=1m tmpfs full 2>/dev/null; then
	test_count=$((test_count + 1))
	echo "ok $test_count # skip the tools on a full disk (needs: mount of a 1 MB tmpfs)"
	test_done
fi
trap 'umount "$TRASH/full" 2>/dev/null; rm -rf "$TRASH"' EXIT
trap 'exit 1' INT TERM HUP

test_expect_success 'record tools: the output fails mid-stream' '
	disk_full rec-cat -o full/o.rec u.rec &&
	disk_full rec-cat --typed -o full/o.tsv u.rec &&
	disk_full rec-cat -o full/o.rec.gz all.rec &&
	disk_full rec-cut -f id,seq -o full/o.rec u.rec &&
	disk_full rec-filter "len>=0" -o full/o.rec u.rec &&
	disk_full rec-head -n 100000 -o full/o.rec u.rec &&
	disk_full rec-put x=1 -o full/o.rec u.rec &&
	disk_full rec-sample -p 1 -o full/o.rec u.rec &&
	disk_full rec-join -k id --prefix r_ -o full/o.rec u.rec u.rec &&
	disk_full rec-stats -c seq -o full/o.rec u.rec &&
	disk_full fasta-cat -o full/o.rec "$DATA/uniprot_20k.fasta.gz"
'

test_expect_success 'rec-shard: no shard left, no use after free' '
	disk_full rec-shard -n 3 full/shard u.rec &&
	disk_full rec-shard -n 3 --suffix .gz full/shard all.rec
'

test_expect_success 'hash-dedup: records and --write-hashes' '
	disk_full hash-dedup -q -o full/o.rec u.rec &&
	fill &&
	disk_full hash-dedup -q --write-hashes full/h.txt -o o.rec u.rec &&
	test_path_is_missing o.rec &&
	unfill
'

test_expect_success 'dataset tools' '
	disk_full kmer-feat --dpc -o full/o.rec u.rec &&
	disk_full len-bin --edges 0,100000 -o full/o.rec u.rec &&
	disk_full strat-split -r a=0.5,b=0.5 -o full/o.rec u.rec &&
	disk_full tax-kingdom --taxdump "$TD" -o full/o.rec tx.rec &&
	disk_full pair-make -g len -o full/o.rec sp.rec &&
	fill &&
	disk_full clust-weight -k id -o full/o.rec u.rec &&
	disk_full leak-check -o full/o.rec sp.rec &&
	disk_full len-bin --quantiles 3 --ref u.rec --targets 9 \
		--targets-out full/t.rec -o o.rec u.rec &&
	test_path_is_missing o.rec &&
	unfill
'

test_expect_success 'features, metrics, MLP' '
	fill &&
	disk_full feat-merge -k id -x emb A.rec B.rec -o full/o.rec &&
	disk_full metrics -o full/o.rec bin.rec &&
	disk_full mlp-train --hidden 4 --epochs 2 -o full/m.mlp lin-tv.rec &&
	disk_full mlp-predict --allow-seen --model lin.mlp -o full/o.rec lin.tsv &&
	unfill
'

test_expect_success 'emb-cache: export, get' '
	fill &&
	disk_full emb-cache export -o full/o.rec c.h5 &&
	disk_full emb-cache get -o full/o.rec c.h5 e.tsv &&
	unfill
'

# The HDF5 cases fail inside HDF5 (a failed flush leaves a file that
# HDF5's exit handler used to crash on): 64 KB free holds an empty cache
# file, a journal and its copy, not the first 256 KB chunk of emb.
test_expect_success 'emb-cache merge: the new file fails inside HDF5' '
	rm -f full/* &&
	leave 64 &&
	disk_full emb-cache merge full/m.h5 c.h5 &&
	unfill
'

test_expect_success 'emb-cache import: the commit fails, the journal is kept, a rerun finishes' '
	rm -f full/* &&
	leave 64 &&
	test_exit 1 emb-cache import --signature 00ff --layer 6 --pool mean \
		--max-len 1022 full/n.h5 e.tsv 2>err &&
	! grep -q "ERROR: AddressSanitizer\|runtime error" err &&
	grep "^emb-cache: full/n.h5: commit failed (No space left on device)" err &&
	test_path_is_missing full/n.h5-commit &&
	test -s full/n.h5-journal &&
	unfill &&
	emb-cache commit full/n.h5 2>err &&
	test_path_is_missing full/n.h5-journal &&
	emb-cache info full/n.h5 >info &&
	grep "^rows	300\$" info &&
	rm -f full/*
'

test_expect_success 'esm-embed: -o, and --cache whose commit fails' '
	rm -f full/* &&
	printf "id:str\tseq:str\na\tMKVLAAGIVGLLLA\nb\tMSTNPKPQRKTKRN\n" >s.tsv &&
	fill &&
	disk_full esm-embed --threads 1 --model "$TINY" -o full/o.rec s.tsv &&
	unfill &&
	leave 64 &&
	test_exit 1 esm-embed --threads 1 --model "$TINY" --cache full/s.h5 \
		-o o.rec s.tsv 2>err &&
	! grep -q "ERROR: AddressSanitizer\|runtime error" err &&
	grep "^esm-embed: full/s.h5: commit failed (No space left on device)" err &&
	test_path_is_missing o.rec &&
	test_path_is_missing full/s.h5-commit &&
	rm -f full/*
'

test_done
