#!/bin/sh
# The record stream format (man 5 plm-stream) as other programs write it:
# streams built with Python's msgpack, every encoding a value may legally
# use, and every malformed stream the reader must refuse with the record
# number.  Also replays the fuzzers' crash inputs (tests/data/fuzz/).
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

HAVE_MSGPACK='test_have_python msgpack'

# mk NAME 'python expression list of objects'  — writes NAME.rec
mk () {
	$PY - "$1" "$2" <<-\EOF
	import msgpack, struct, sys
	H = lambda fields, **kw: dict(plm=1, fields=[list(f) for f in fields], meta={"prov": []}, **kw)
	T = lambda n: {"end": n}
	F = lambda *xs: struct.pack("<%df" % len(xs), *xs)
	objs = eval(sys.argv[2])
	with open(sys.argv[1] + ".rec", "wb") as f:
	    for o in objs:
	        f.write(msgpack.packb(o, use_bin_type=True))
	EOF
}

# A raw tail: mkraw NAME 'objects' 'hex bytes appended'
mkraw () {
	mk "$1" "$2" && $PY -c 'import sys; open(sys.argv[1] + ".rec", "ab").write(bytes.fromhex(sys.argv[2]))' "$1" "$3"
}

# bad NAME 'objects' 'expected message (grep -F)'
bad () {
	mk "$1" "$2" &&
	test_exit 1 rec-cat --typed -o "$1.out" "$1.rec" 2>"$1.err" &&
	grep -F "rec-cat: $1.rec: $3" "$1.err" &&
	test_path_is_missing "$1.out"
}

S3='[("id", "str"), ("n", "int"), ("v", "f32[2]")]'

test_expect_success_if "$HAVE_MSGPACK" 'every legal encoding of each type' '
	mk enc "[H([(\"s\",\"str\"),(\"i\",\"int\"),(\"f\",\"float\"),(\"b\",\"bool\"),(\"h\",\"f16[1]\")], extra={\"ignored\": 1}),
		[\"x\" * 40, 200, 1, True, b\"\\x00\\x3c\"],
		[\"y\" * 300, -40000, -7, False, None],
		[\"\", 2**63 - 1, 1.5, None, b\"\\x00\\x7c\"],
		[None, -2**63, float(\"-inf\"), True, b\"\\x01\\x00\"],
		T(4)]" &&
	rec-cat --typed enc.rec >enc.tsv &&
	grep -v "^#" enc.tsv >got &&
	x40=$(printf "%040d" 0 | tr 0 x) && y300=$(printf "%0300d" 0 | tr 0 y) &&
	printf "s:str\ti:int\tf:float\tb:bool\th:f16[1]\n" >want &&
	printf "%s\t200\t1\ttrue\t1\n" $x40 >>want &&
	printf "%s\t-40000\t-7\tfalse\t\n" $y300 >>want &&
	printf "\t9223372036854775807\t1.5\t\tinf\n" >>want &&
	printf "\\\\N\t-9223372036854775808\t-inf\ttrue\t5.9604645e-08\n" >>want &&
	test_cmp want got
'

test_expect_success_if "$HAVE_MSGPACK" 'float32 on the wire is read as a float' '
	$PY -c "
import msgpack
p = msgpack.Packer(use_single_float=True)
open(\"f32.rec\", \"wb\").write(p.pack(dict(plm=1, fields=[[\"x\", \"float\"]])) + p.pack([0.1]) + p.pack({\"end\": 1}))
" &&
	rec-cat --typed f32.rec >f32.tsv &&
	tail -n 1 f32.tsv >got && echo 0.10000000149011612 >want && test_cmp want got
'

test_expect_success_if "$HAVE_MSGPACK" 'bin8/16/32 and str8/16/32 headers' '
	mk bins "[H([(\"s\",\"str\"),(\"m\",\"f32[*,1]\")]),
		[\"a\" * 70000, F(*range(70000))],
		[\"b\", F(1)], T(2)]" &&
	rec-cat -M bins.rec >bins2.rec &&
	$PY -c "
import msgpack
a = list(msgpack.Unpacker(open(\"bins.rec\", \"rb\")))
b = list(msgpack.Unpacker(open(\"bins2.rec\", \"rb\")))
assert a[1:] == b[1:], \"rows differ\"
assert len(b[1][1]) == 280000
"
'

test_expect_success_if "$HAVE_MSGPACK" 'EOF right after a trailer ends cleanly; same header again is absorbed' '
	mk two "[H($S3), [\"a\", 1, F(1, 2)], T(1), H($S3), [\"b\", 2, None], T(1)]" &&
	rec-cat --typed two.rec >two.tsv &&
	test $(grep -c "^#plm" two.tsv) -eq 1 &&
	grep -v "^#" two.tsv | sed 1d >got &&
	printf "a\t1\t1,2\nb\t2\t\n" >want && test_cmp want got
'

test_expect_success_if "$HAVE_MSGPACK" 'an empty section is fine' '
	mk empty2 "[H($S3), T(0), H([(\"x\", \"int\")]), [5], T(1)]" &&
	rec-cat --typed empty2.rec >e.tsv &&
	test $(grep -c "^#plm" e.tsv) -eq 2 &&
	tail -n 1 e.tsv >got && echo 5 >want && test_cmp want got
'

test_expect_success_if "$HAVE_MSGPACK" 'row too narrow' '
	bad narrow "[H($S3), [\"a\", 1, None], [\"b\", 2], T(2)]" \
		"record 2: expected 3 fields, got 2"
'

test_expect_success_if "$HAVE_MSGPACK" 'row too wide' '
	bad wide "[H($S3), [\"a\", 1, None, 4], T(1)]" \
		"record 1: expected 3 fields, got 4"
'

test_expect_success_if "$HAVE_MSGPACK" 'str where int expected' '
	bad strint "[H($S3), [\"a\", 1, None], [\"b\", 2, None], [\"c\", \"3\", None], T(3)]" \
		"record 3: field '"'"'n'"'"' (int): got str"
'

test_expect_success_if "$HAVE_MSGPACK" 'float where int expected' '
	bad fltint "[H($S3), [\"a\", 1.0, None], T(1)]" \
		"record 1: field '"'"'n'"'"' (int): got float"
'

test_expect_success_if "$HAVE_MSGPACK" 'int where str expected' '
	bad intstr "[H($S3), [7, 1, None], T(1)]" \
		"record 1: field '"'"'id'"'"' (str): got int"
'

test_expect_success_if "$HAVE_MSGPACK" 'bin of the wrong length for f32[2]' '
	bad binlen "[H($S3), [\"a\", 1, F(1)], T(1)]" \
		"record 1: field '"'"'v'"'"' (f32[2]): 4 bytes, expected 8"
'

test_expect_success_if "$HAVE_MSGPACK" 'list where a vector expected' '
	bad veclist "[H($S3), [\"a\", 1, [1.0, 2.0]], T(1)]" \
		"record 1: field '"'"'v'"'"' (f32[2]): got array"
'

test_expect_success_if "$HAVE_MSGPACK" 'f32[*,N] bin not a multiple of 4N' '
	bad matlen "[H([(\"m\", \"f32[*,3]\")]), [F(1, 2, 3)], [F(1, 2, 3, 4)], T(2)]" \
		"record 2: field '"'"'m'"'"' (f32[*,3]): 16 bytes, not a positive multiple of 12"
'

test_expect_success_if "$HAVE_MSGPACK" 'int where bool expected' '
	bad boolint "[H([(\"b\", \"bool\")]), [1], T(1)]" \
		"record 1: field '"'"'b'"'"' (bool): got int"
'

test_expect_success_if "$HAVE_MSGPACK" 'a map where a row should be' '
	bad maprow "[H($S3), [\"a\", 1, None], {\"id\": \"b\"}, T(2)]" \
		"record 2: expected a row, got a map"
'

test_expect_success_if "$HAVE_MSGPACK" 'trailer count that does not match' '
	bad trailer "[H($S3), [\"a\", 1, None], T(2)]" \
		"trailer after record 1: \"end\" says a different count, the section has 1 rows"
'

test_expect_success_if "$HAVE_MSGPACK" 'no trailer: truncated input' '
	bad notrailer "[H($S3), [\"a\", 1, None]]" \
		"truncated input after record 1"
'

test_expect_success_if "$HAVE_MSGPACK" 'header without plm' '
	bad noplm "[dict(fields=[[\"a\", \"str\"]]), T(0)]" \
		"header: not a plm stream header"
'

test_expect_success_if "$HAVE_MSGPACK" 'header without fields' '
	bad nofields "[dict(plm=1), T(0)]" "header: no \"fields\" list"
'

test_expect_success_if "$HAVE_MSGPACK" 'unknown type string' '
	bad unktype "[H([(\"a\", \"f64[3]\")]), T(0)]" \
		"header: unknown type '"'"'f64[3]'"'"' for field '"'"'a'"'"'"
'

test_expect_success_if "$HAVE_MSGPACK" 'duplicate field names' '
	bad dupname "[H([(\"a\", \"str\"), (\"a\", \"int\")]), T(0)]" \
		"header: duplicate field name '"'"'a'"'"'"
'

test_expect_success_if "$HAVE_MSGPACK" 'field entry that is not [name, type]' '
	bad badfield "[H([(\"a\",)]), T(0)]" "header: field 1 is not [name, type]"
'

test_expect_success_if "$HAVE_MSGPACK" 'a row after a trailer' '
	bad rowafter "[H($S3), T(0), [\"a\", 1, None], T(1)]" \
		"header after record 0: expected a header map, got array"
'

test_expect_success_if "$HAVE_MSGPACK" 'garbage bytes (0xc1) between rows' '
	mkraw garb "[H($S3), [\"a\", 1, None], [\"b\", 2, None]]" "c1c1c1" &&
	test_exit 1 rec-cat --typed garb.rec >out 2>err &&
	grep -F "rec-cat: garb.rec: record 3: not MessagePack" err
'

test_expect_success_if "$HAVE_MSGPACK" 'an array claiming 2^32-1 elements' '
	mkraw huge "[H($S3)]" "ddffffffff" &&
	test_exit 1 rec-cat --typed huge.rec >out 2>err &&
	grep -F "rec-cat: huge.rec: record 1: MessagePack array or map too large" err
'

test_expect_success_if "$HAVE_MSGPACK" 'a str claiming 4 GB, then EOF' '
	mkraw bigstr "[H($S3)]" "93dbffffffff41" &&
	test_exit 1 rec-cat --typed bigstr.rec >out 2>err &&
	grep -F "rec-cat: bigstr.rec: truncated input in record 1" err
'

# nest N: a JSON object nested N deep ({"a":{"a":...1...}})
nest () {
	i=0 o= c=
	while [ $i -lt "$1" ]; do o="$o{\"a\":" c="$c}" i=$((i + 1)); done
	printf '%s1%s' "$o" "$c"
}

test_expect_success 'TSV #meta nested as deep as MessagePack allows round-trips' '
	printf "#plm\t1\n#meta\t%s\nid:str\nx\n" "$(nest 23)" >m23.tsv &&
	rec-cat -M -o m23.rec m23.tsv &&
	rec-cat --typed -o m23.out m23.rec &&
	grep -F "$(printf "#meta\t%s,\"prov\":" "$(nest 23 | sed "s/}\$//")")" m23.out
'

test_expect_success 'TSV #meta nested deeper than MessagePack allows' '
	printf "#plm\t1\n#meta\t%s\nid:str\nx\n" "$(nest 24)" >m24.tsv &&
	test_exit 1 rec-cat -M -o m24.rec m24.tsv 2>err &&
	echo "rec-cat: m24.tsv:2: #meta: nested deeper than 23 levels (the limit of the MessagePack form)" >expect &&
	test_cmp expect err &&
	test_path_is_missing m24.rec
'

test_expect_success_if "$HAVE_MSGPACK" 'MessagePack meta nested too deep: a header error' '
	$PY -c "import msgpack, sys
m = 1
for _ in range(24): m = {\"a\": m}
h = dict(plm=1, fields=[[\"id\", \"str\"]], meta=m)
sys.stdout.buffer.write(msgpack.packb(h) + msgpack.packb({\"end\": 0}))" >m24mp.rec &&
	test_exit 1 rec-cat --typed -o m24mp.out m24mp.rec 2>err &&
	echo "rec-cat: m24mp.rec: header: MessagePack nested deeper than 24 levels (meta at most 23)" >expect &&
	test_cmp expect err &&
	test_path_is_missing m24mp.out
'

test_expect_success 'TSV: a NUL byte inside an int value is named' '
	printf "id:str\tn:int\na\t12\0003\n" >nul.tsv &&
	test_exit 1 rec-cat --typed -o nul.out nul.tsv 2>err &&
	echo "rec-cat: nul.tsv:2: field '"'"'n'"'"' (int): the value contains a NUL byte (at byte 3)" >expect &&
	test_cmp expect err &&
	test_path_is_missing nul.out
'

test_expect_success 'TSV: CRLF line ends are read as LF' '
	printf "#plm\t1\r\nid:str\tn:int\r\na\t1\r\nb\t2\r\n" >crlf.tsv &&
	printf "#plm\t1\nid:str\tn:int\na\t1\nb\t2\n" >lf.tsv &&
	rec-cat --typed -o crlf.out crlf.tsv &&
	rec-cat --typed -o lf.out lf.tsv &&
	grep -v "^#meta" crlf.out >a && grep -v "^#meta" lf.out >b &&
	test_cmp b a
'

test_expect_success 'TSV: CR-only line ends are named, not a version or field error' '
	printf "#plm\t1\rid:str\tn:int\ra\t1\r" >cr1.tsv &&
	printf "id:str\tn:int\ra\t1\r" >cr2.tsv &&
	for f in cr1 cr2; do
		test_exit 1 rec-cat --typed -o $f.out $f.tsv 2>err &&
		echo "rec-cat: $f.tsv:1: CR line endings (a carriage return without a line feed): convert them to LF" >expect &&
		test_cmp expect err &&
		test_path_is_missing $f.out || return 1
	done
'

test_expect_success_if "$HAVE_MSGPACK" 'a MessagePack row before its header is named' '
	mk rowfirst "[[\"a\", 1, None], H($S3), T(1)]" &&
	test_exit 1 rec-cat --typed -o rowfirst.out rowfirst.rec 2>err &&
	echo "rec-cat: rowfirst.rec: record 1: a MessagePack row (array) before any header: a stream starts with its header map" >expect &&
	test_cmp expect err &&
	mk rowfirst16 "[[\"a\"] * 20, H($S3), T(1)]" &&
	test_exit 1 rec-cat --typed -o rowfirst.out rowfirst16.rec 2>err &&
	grep -F "rec-cat: rowfirst16.rec: record 1: a MessagePack row (array) before any header" err &&
	test_path_is_missing rowfirst.out
'

test_expect_success 'TSV: text that is not a stream' '
	printf "hello world\nsecond\tline\n" >hello.txt &&
	test_exit 1 rec-cat --typed hello.txt >out 2>err &&
	grep -F "rec-cat: hello.txt:2: expected 1 fields, got 2" err
'

# Each saved input goes to the program that reads what its target fuzzes
# (the file name starts with the target's name).
test_expect_success 'fuzzer crash inputs no longer crash' '
	mkdir -p model &&
	cp "$DATA"/esm2/esm2_tiny/config.json "$DATA"/esm2/esm2_tiny/vocab.txt model/ &&
	for f in "$DATA"/fuzz/*; do
		[ -f "$f" ] || continue
		case ${f##*/} in
		fuzz-mlpckpt-*) mlp-predict -m "$f" /dev/null ;;
		fuzz-npy-*) printf "a\n" >ids && feat-import --ids ids "$f" ;;
		fuzz-safetensors-*|fuzz-esm-load-*)
			cp "$f" model/model.safetensors &&
			echo ">a" | esm-embed --model model /dev/null ;;
		fuzz-fasta-*) fasta-cat --typed "$f" ;;
		fuzz-expr-*)
			# the target reads the text up to its first NUL; a
			# syntax error is a usage error (exit 2)
			e=$(perl -0 -ne "chomp; print; exit" "$f") &&
			printf "id:str\tlen:int\tx:float\tb:bool\tv:f32[1]\na\t1\t0.5\ttrue\t1\n" >e.tsv &&
			rec-put "$e" e.tsv; test $? -le 2 && rec-filter "$e" e.tsv
			test $? -le 2 ;;
		*) rec-cat --typed "$f" ;;
		esac >out 2>err
		code=$?
		if [ $code -gt 1 ] || grep -q "Sanitizer\|runtime error" err; then
			echo "exit $code on $f" && cat err && return 1
		fi
	done
'

test_expect_success 'checkpoint declaring a huge array: refused before allocating' '
	test_exit 1 mlp-predict -m "$DATA"/fuzz/fuzz-mlpckpt-huge-array \
		/dev/null 2>err &&
	grep -F "fuzz-mlpckpt-huge-array: not a plmkit MLP checkpoint (truncated or not MessagePack)" err
'

test_done
