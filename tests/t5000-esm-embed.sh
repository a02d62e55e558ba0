#!/bin/sh
# esm-embed: golden outputs of the reference implementation (tiny F32 and F16
# checkpoints; the 8M-shaped one, opt-in: PLM_ESM2_8M=DIR), batch
# invariance, truncation, pooling, f16, failures, --shard.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

E2=$DATA/esm2
TINY=$E2/esm2_tiny
# The 8M-shaped hub checkpoint (model.safetensors, golden.safetensors) is
# not in the repository: PLM_ESM2_8M names its directory.
T8M=${PLM_ESM2_8M-}
NEED_PY='test_have_python numpy msgpack'
NEED_8M="test_opt_in PLM_ESM2_8M 'set PLM_ESM2_8M=DIR to run the 8M-shaped golden test' && $NEED_PY"
golden_check () { "$PY" "$E2/golden_check.py" "$@"; }

# One thread: the tests do not take the CPU from other tests run alongside.
emb () { esm-embed --threads 1 "$@"; }

test_expect_success 'setup' '
	{ printf "id:str\tseq:str\n" && cat "$E2/sequences.tsv"; } >seqs.tsv &&
	rec-cat -M seqs.tsv >seqs.rec &&
	cut -f1 "$E2/sequences.tsv" >ids &&
	test $(wc -l <ids) -eq 9
'

# golden MODEL WHAT ARGS...: embed every sequence, compare with golden WHAT
golden () {
	m=$1 what=$2
	shift 2
	emb --model "$m" --max-len 0 -o g.rec "$@" seqs.rec &&
	golden_check golden "$m/golden.safetensors" g.rec "$what" --tol 1e-5 >log ||
	{ cat log; return 1; }
}

for m in esm2_tiny esm2_tiny_f16; do
	test_expect_success_if "$NEED_PY" "$m: hidden states of every layer" "
		golden $E2/$m hidden.0 --pool none --layer 0 &&
		golden $E2/$m hidden.1 --pool none --layer 1 &&
		golden $E2/$m hidden.2 --pool none --layer 2 &&
		golden $E2/$m hidden.2 --pool none &&
		golden $E2/$m hidden.1 --pool none --layer -2 &&
		golden $E2/$m hidden.0 --pool none --layer -3
	"
	test_expect_success_if "$NEED_PY" "$m: mean of the last layer, logits" "
		golden $E2/$m mean &&
		golden $E2/$m mean --pool mean --layer 2 --batch-tokens 300 &&
		golden $E2/$m logits --logits
	"
	test_expect_success_if "$NEED_PY" "$m: --pool max and cls" "
		golden $E2/$m max --pool max &&
		golden $E2/$m cls --pool cls
	"
done

test_expect_success_if "$NEED_PY" 'the checker fails on a wrong layer' '
	emb --model "$TINY" --max-len 0 --pool none --layer 1 -o g.rec seqs.rec &&
	test_must_fail golden_check golden "$TINY/golden.safetensors" g.rec hidden.2 >log &&
	grep "^BAD" log
'

test_expect_success_if "$NEED_8M" '8M-shaped hub checkpoint: layers 0, 3, 6, mean' '
	test -f "$T8M/model.safetensors" && test -f "$T8M/golden.safetensors" &&
	golden "$T8M" hidden.0 --pool none --layer 0 &&
	golden "$T8M" hidden.3 --pool none --layer 3 &&
	golden "$T8M" hidden.6 --pool none --layer -1 &&
	golden "$T8M" mean
'

test_expect_success 'output order is input order; fields added' '
	emb --model "$TINY" --batch-tokens 200 --typed -o out.tsv seqs.rec &&
	body out.tsv | head -n 1 >head &&
	printf "id:str\tseq:str\temb:f32[64]\ttruncated:int\n" >expect &&
	test_cmp expect head &&
	rec-cut --typed -f id out.tsv >o &&
	body o | tail -n +2 >actual &&
	test_cmp ids actual
'

test_expect_success 'a later section with other fields: its own header, values kept' '
	printf "id:str\tseq:str\na\tMKV\n" >s1.tsv &&
	printf "id:int\tn:int\tv:f32[2]\tseq:str\n7\t5\t1,-2\tMKVL\n8\t\t0.5,3\tMK\n" >s2.tsv &&
	emb --model "$TINY" --typed -o out.tsv s1.tsv s2.tsv &&
	rec-cut --typed --complement -f emb out.tsv >cut.tsv &&
	body cut.tsv >actual &&
	cat >expect <<-\EOT &&
	id:str	seq:str	truncated:int
	a	MKV	
	id:int	n:int	v:f32[2]	seq:str	truncated:int
	7	5	1,-2	MKVL	
	8		0.5,3	MK	
	EOT
	test_cmp expect actual &&
	grep -c "	emb:f32\[64\]	" out.tsv >n &&
	echo 2 >expect && test_cmp expect n
'

test_expect_success 'meta.prov names the model signature, layer and pool' '
	emb --model "$TINY" --layer -2 --pool max --typed -o out.tsv seqs.rec &&
	grep "^#meta" out.tsv >meta &&
	grep "\"tool\":\"esm-embed\"" meta &&
	grep "\"model\":\"[0-9a-f]\{16\}\",\"layer\":\"1\",\"pool\":\"max\"" meta
'

# Each sequence alone, then all together with a small and a large budget.
test_expect_success_if "$NEED_PY" 'batch invariance' '
	i=0 &&
	while read -r id seq; do
		i=$((i + 1)) &&
		printf "id:str\tseq:str\n%s\t%s\n" "$id" "$seq" >one.tsv &&
		emb --model "$TINY" -o alone$i.rec one.tsv || return 1
	done <"$E2/sequences.tsv" &&
	rec-cat -M alone?.rec >alone.rec &&
	emb --model "$TINY" --batch-tokens 64 -v -o small.rec seqs.rec 2>err &&
	grep "alone in a larger workspace" err &&
	emb --model "$TINY" --batch-tokens 100000 -o large.rec seqs.rec &&
	golden_check same small.rec alone.rec emb --tol 1e-6 --n 9 &&
	golden_check same large.rec alone.rec emb --tol 1e-6 --n 9
'

test_expect_success_if "$NEED_PY" '--max-len 5: truncated field, first 5 residues' '
	emb --model "$TINY" --max-len 5 -o t5.rec seqs.rec 2>err &&
	echo "esm-embed: 8 records truncated to 5 residues" >expect &&
	test_cmp expect err &&
	golden_check field t5.rec truncated >actual &&
	awk -F "\t" "{ print \$1 \"\t\" (length(\$2) > 5 ? length(\$2) : \"nil\") }" \
		"$E2/sequences.tsv" >expect &&
	test_cmp expect actual &&
	{ printf "id:str\tseq:str\n" &&
	  awk -F "\t" "{ print \$1 \"\t\" substr(\$2, 1, 5) }" "$E2/sequences.tsv"
	} >cut5.tsv &&
	emb --model "$TINY" --max-len 0 -o c5.rec cut5.tsv &&
	golden_check same t5.rec c5.rec emb --tol 1e-6 --n 9
'

test_expect_success_if "$NEED_PY" 'default --max-len 1022 on the 1241-residue sequence' '
	emb --model "$TINY" -o t.rec seqs.rec 2>err &&
	echo "esm-embed: 1 record truncated to 1022 residues" >expect &&
	test_cmp expect err &&
	golden_check field t.rec truncated | grep -v nil >actual &&
	printf "tr|A0A0A6J0Z5|A0A0A6J0Z5_CANAX\t1241\n" >expect &&
	test_cmp expect actual &&
	{ printf "id:str\tseq:str\n" &&
	  awk -F "\t" "{ print \$1 \"\t\" substr(\$2, 1, 1022) }" "$E2/sequences.tsv"
	} >cut.tsv &&
	emb --model "$TINY" --max-len 0 -o c.rec cut.tsv 2>err &&
	test ! -s err &&
	golden_check same t.rec c.rec emb --tol 1e-6 --n 9 &&
	emb --model "$TINY" --max-len 0 -o full.rec seqs.rec &&
	test_must_fail golden_check same t.rec full.rec emb --tol 1e-3 >log &&
	grep "^BAD tr|A0A0A6J0Z5|A0A0A6J0Z5_CANAX" log &&
	test $(grep -c "^ok" log) -eq 8
'

# FastESM (FastESM2_650's config: model_type "fast_esm", FastEsmForMaskedLM)
# is ESM-2 whose embedding layer skips the token-dropout rescaling: the same
# weights give exactly what ESM-2 gives with token_dropout false, and not
# what it gives with the rescaling.  Its --max-len default is 2046.
test_expect_success 'FastESM checkpoint: ESM-2 without the token-dropout step; --max-len 2046' '
	mkdir fast nodrop &&
	cp "$TINY"/* fast/ && cp "$TINY"/* nodrop/ &&
	sed -e "s/\"model_type\": \"esm\"/\"model_type\": \"fast_esm\"/" \
		-e "s/\"EsmForMaskedLM\"/\"FastEsmForMaskedLM\"/" "$TINY/config.json" >fast/config.json &&
	grep -q "\"token_dropout\": true" fast/config.json &&
	grep -q "\"model_type\": \"fast_esm\"" fast/config.json &&
	sed "s/\"token_dropout\": true/\"token_dropout\": false/" "$TINY/config.json" >nodrop/config.json &&
	grep -q "\"token_dropout\": false" nodrop/config.json &&
	for m in fast nodrop "$TINY"; do
		emb --model "$m" --max-len 0 seqs.rec | rec-cut -T -f id,emb | body >"$(basename "$m").tsv" ||
		return 1
	done &&
	test $(rows fast.tsv | wc -l) -eq 9 &&
	test_cmp nodrop.tsv fast.tsv &&
	! cmp -s esm2_tiny.tsv fast.tsv &&
	emb -v --model fast -o long.rec seqs.rec 2>err &&
	grep "^esm-embed: FastESM2 (no token-dropout rescaling); --max-len 2046 (the model.s)$" err &&
	! grep truncated err &&
	emb -v --model "$TINY" -o /dev/null seqs.rec 2>err &&
	grep "^esm-embed: ESM-2 (token-dropout rescaling); --max-len 1022 (the model.s)$" err &&
	sed "s/\"model_type\": \"esm\"/\"model_type\": \"bert\"/" "$TINY/config.json" >nodrop/config.json &&
	test_error "^esm-embed: nodrop/config.json: model_type \"bert\" is not supported" \
		emb --model nodrop -o bad.rec seqs.rec &&
	test ! -e bad.rec
'

# --long window: windows of --max-len residues every --stride, the last one
# ending with the sequence; per residue the mean over the windows that
# cover it, then pooled.  Rebuilt from the windows embedded one by one.
window_check () { "$PY" "$E2/window_check.py" "$@"; }
test_expect_success_if "$NEED_PY" '--long window: averaged windows, pooled; a 3000-residue sequence gives 3000 rows' '
	awk -F "\t" "{ s = s \$2 } END { print \"long\t\" substr(s, 1, 250) }" "$E2/sequences.tsv" >l.body &&
	{ printf "id:str\tseq:str\n" && cat l.body; } >l.tsv &&
	{ printf "id:str\tseq:str\n" &&
	  awk -F "\t" "{ for (k = 0; k < 4; k++) print \"w\" k \"\t\" substr(\$2, 1 + (k < 3 ? 50 * k : 150), 100) }" l.body
	} >w.tsv &&
	emb --model "$TINY" --pool none --max-len 0 -o w.rec w.tsv &&
	for p in none mean max; do
		emb --model "$TINY" --long window --max-len 100 --stride 50 --pool $p -o l.$p.rec l.tsv 2>err &&
		echo "esm-embed: 1 record embedded in windows of 100 residues, stride 50" >expect &&
		test_cmp expect err &&
		window_check w.rec l.$p.rec long 250 100 50 $p || return 1
	done &&
	awk -F "\t" "{ s = s \$2 } END { while (length(t) < 3000) t = t s; print \"big\t\" substr(t, 1, 3000) }" "$E2/sequences.tsv" >big.body &&
	{ printf "id:str\tseq:str\n" && cat big.body; } >big.tsv &&
	emb --model "$TINY" --long window --pool none -o big.rec big.tsv 2>err &&
	echo "esm-embed: 1 record embedded in windows of 1022 residues, stride 511" >expect &&
	test_cmp expect err &&
	"$PY" -c "
import sys; sys.path.insert(0, \"$E2\")
from golden_check import read_records
r, = read_records(\"big.rec\")
assert r[\"emb\"].shape == (3000, 64), r[\"emb\"].shape
assert r[\"windows\"] == 5 and r[\"truncated\"] is None, (r[\"windows\"], r[\"truncated\"])
"
'

test_expect_success_if "$NEED_PY" '--long window: sequences that fit are embedded as by truncate' '
	emb --model "$TINY" -o t.rec seqs.rec 2>/dev/null &&
	emb --model "$TINY" --long window --max-len 2000 -o w2.rec seqs.rec 2>err &&
	test ! -s err &&
	test_must_fail golden_check same t.rec w2.rec emb --tol 0 >log &&
	test $(grep -c "^ok" log) -eq 8 &&
	grep "^BAD tr|A0A0A6J0Z5|A0A0A6J0Z5_CANAX" log &&
	golden_check field w2.rec windows | cut -f 2 | sort -u >actual &&
	echo nil >expect && test_cmp expect actual
'

test_expect_success '--long window: usage errors' '
	test_usage_error "cls" emb --model "$TINY" --long window --pool cls seqs.rec &&
	test_usage_error "logits" emb --model "$TINY" --long window --logits seqs.rec &&
	test_usage_error "cache" emb --model "$TINY" --long window --cache c.h5 seqs.rec &&
	test_usage_error "more than the window" emb --model "$TINY" --long window --max-len 10 --stride 11 seqs.rec &&
	test_usage_error "^esm-embed: --stride is for --long window" emb --model "$TINY" --stride 5 seqs.rec &&
	test_usage_error "whole sequences" emb --model "$TINY" --long window --max-len 0 seqs.rec
'

# Progress on a terminal (script(1) gives a pseudo-terminal): counted in
# residues, redrawn as batches and layers go, the fraction never goes down,
# and 100% appears once, in the last line that has one.
test_expect_success_if 'command -v script >/dev/null' 'progress on a terminal: residues, monotone, 100% only at the end' '
	rec-head -n 2500 -o p.rec.gz "$DATA/uniprot_20k.fasta.gz" &&
	script -qfec "\"$PLM_BIN/esm-embed\" --threads 1 --batch-tokens 1024 --model \"$TINY\" -o p.out p.rec.gz" pty.log >/dev/null &&
	test -s p.out &&
	tr "\r" "\n" <pty.log | sed -n "s/^esm-embed: .* residues, .*(\([0-9.]*\)%, ETA .*/\1/p" >pct &&
	test $(wc -l <pct) -ge 3 &&
	awk "\$1 + 0 < p + 0 { print \"down at line \" NR \": \" p \" -> \" \$1; bad = 1 } { p = \$1 } END { exit bad }" pct &&
	test "$(tail -n 1 pct)" = 100.0 &&
	test $(grep -c "^100.0$" pct) -eq 1
'

test_expect_success_if "$NEED_PY" '--dtype f16 is the f32 output rounded' '
	emb --model "$TINY" -o f32.rec seqs.rec 2>/dev/null &&
	emb --model "$TINY" --dtype f16 -o f16.rec seqs.rec 2>/dev/null &&
	golden_check f16 f32.rec f16.rec &&
	emb --model "$TINY" --dtype f16 --typed seqs.rec 2>/dev/null >f16.tsv &&
	body f16.tsv | head -n 1 | grep "	emb:f16\[64\]	"
'

test_expect_success 'empty and missing sequences: reported, --failed has them' '
	printf "id:str\tseq:str\na\tMKV\nb\t\nc\t\\\\N\nd\tMK\n" >e.tsv &&
	emb --model "$TINY" --failed f.tsv --typed -o out.tsv e.tsv 2>err &&
	cat >expect <<-\EOT &&
	esm-embed: record 2: id '\''b'\'': empty sequence
	esm-embed: record 3: id '\''c'\'': missing sequence
	esm-embed: 2 records not embedded (written to the --failed file)
	EOT
	test_cmp expect err &&
	rec-cut --typed -f id out.tsv >o && body o >actual &&
	printf "id:str\na\nd\n" >expect && test_cmp expect actual &&
	body f.tsv >actual &&
	printf "id:str\tseq:str\treason:str\nb\t\tempty sequence\nc\t\\\\N\tmissing sequence\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'without --failed, records not embedded fail the run after the rest' '
	test_exit 1 emb --model "$TINY" --cache e.h5 -o out.rec e.tsv 2>err &&
	cat >expect <<-\EOT &&
	esm-embed: record 2: id '\''b'\'': empty sequence
	esm-embed: record 3: id '\''c'\'': missing sequence
	esm-embed: 2 of 4 records not embedded: id '\''b'\'' (empty sequence), id '\''c'\'' (missing sequence); give --failed FILE to write them there and the rest to the output
	EOT
	test_cmp expect err &&
	test_path_is_missing out.rec &&
	emb-cache ls e.h5 >ls &&
	grep "^rows	2\$" ls && grep "^failed	1\$" ls
'

test_expect_success 'the first five records not embedded are named, then a count' '
	{ printf "id:str\tseq:str\n" &&
	  for i in 1 2 3 4 5 6 7; do printf "x%d\t\n" $i; done &&
	  printf "ok\tMKV\n"; } >seven.tsv &&
	test_exit 1 emb --model "$TINY" -o out.rec seven.tsv 2>err &&
	echo "esm-embed: 7 of 8 records not embedded: id '\''x1'\'' (empty sequence), id '\''x2'\'' (empty sequence), id '\''x3'\'' (empty sequence), id '\''x4'\'' (empty sequence), id '\''x5'\'' (empty sequence), ...; give --failed FILE to write them there and the rest to the output" >expect &&
	tail -n 1 err >actual && test_cmp expect actual &&
	test $(grep -c "empty sequence\$" err) -eq 7 &&
	test_path_is_missing out.rec &&
	emb --model "$TINY" --failed f7.rec --typed -o out.tsv seven.tsv 2>/dev/null &&
	rec-cut --typed -f id out.tsv >o && body o >actual &&
	printf "id:str\nok\n" >expect && test_cmp expect actual
'

test_expect_success '--max-len 0: a sequence over the budget gets its own workspace' '
	emb --model "$TINY" --max-len 0 --batch-tokens 16 -v --typed -o out.tsv seqs.rec 2>err &&
	grep "9 records, 3287 residues in [0-9]* batches" err &&
	grep "; 6 alone in a larger workspace" err &&
	test $(body out.tsv | wc -l) -eq 10
'

test_expect_success 'bad checkpoint directory: exit 1, message, no output' '
	test_error "^esm-embed: .*nowhere" emb --model nowhere -o out.rec seqs.rec &&
	test_path_is_missing out.rec &&
	mkdir bad && cp "$TINY/config.json" "$TINY/vocab.txt" bad/ &&
	printf "junk" >bad/model.safetensors &&
	test_error "^esm-embed: .*bad/model.safetensors" emb --model bad -o out.rec seqs.rec &&
	test_path_is_missing out.rec
'

test_expect_success 'a non-finite weight: exit 1 naming the tensor, no output' '
	mkdir inf && cp "$TINY/config.json" "$TINY/vocab.txt" "$TINY/model.safetensors" inf/ &&
	chmod u+w inf/model.safetensors &&
	# The data region ends with lm_head.layer_norm.weight (F32 [64]):
	# its last float becomes +Inf (little-endian 0x7f800000).
	size=$(wc -c <inf/model.safetensors) &&
	printf "\000\000\200\177" |
	dd of=inf/model.safetensors bs=1 seek=$((size - 4)) conv=notrunc 2>/dev/null &&
	test $(wc -c <inf/model.safetensors) -eq $size &&
	test_exit 1 emb --model inf -o bad.rec seqs.rec 2>err &&
	echo "esm-embed: inf/model.safetensors: tensor '\''lm_head.layer_norm.weight'\'': non-finite value (inf) at index 63" >expect &&
	test_cmp expect err &&
	test_path_is_missing bad.rec
'

test_expect_success 'vocab.txt not the ESM-2 alphabet: exit 1 naming the line' '
	mkdir voc && cp "$TINY/config.json" "$TINY/model.safetensors" voc/ &&
	sed "5s/^L\$/l/" "$TINY/vocab.txt" >voc/vocab.txt &&
	test_error "^esm-embed: voc/vocab.txt:5: token '\''l'\'' where the ESM-2 alphabet has '\''L'\''" emb --model voc -o bad.rec seqs.rec &&
	sed "6s/^A\$/L/" "$TINY/vocab.txt" >voc/vocab.txt &&
	test_error "^esm-embed: voc/vocab.txt:6: duplicate token '\''L'\'' (also on line 5)" emb --model voc -o bad.rec seqs.rec &&
	test_path_is_missing bad.rec
'

test_expect_success 'missing field, wrong type: exit 1, no output' '
	printf "id:str\tsequence:str\na\tMKV\n" >noseq.tsv &&
	test_exit 1 emb --model "$TINY" -o out.rec noseq.tsv 2>err &&
	echo "esm-embed: noseq.tsv: no field '\''seq'\'' in input (fields: id, sequence)" >expect &&
	test_cmp expect err &&
	test_path_is_missing out.rec &&
	printf "name:str\tseq:str\na\tMKV\n" >noid.tsv &&
	test_exit 1 emb --model "$TINY" -o out.rec noid.tsv 2>err &&
	echo "esm-embed: noid.tsv: no field '\''id'\'' in input (fields: name, seq)" >expect &&
	test_cmp expect err &&
	printf "id:str\tseq:int\na\t5\n" >int.tsv &&
	test_exit 1 emb --model "$TINY" -o out.rec int.tsv 2>err &&
	echo "esm-embed: int.tsv: field '\''seq'\'' is int: it must be str" >expect &&
	test_cmp expect err &&
	test_path_is_missing out.rec
'

test_expect_success 'truncated input stream: exit 1, no output' '
	size=$(wc -c <seqs.rec) &&
	head -c $((size - 3)) seqs.rec >trunc.rec &&
	test_error "^esm-embed: .*truncated" emb --model "$TINY" -o out.rec trunc.rec &&
	test_path_is_missing out.rec &&
	: >empty.rec &&
	test_exit 1 emb --model "$TINY" -o out.rec empty.rec 2>err &&
	test_path_is_missing out.rec
'

test_expect_success 'usage errors exit 2' '
	test_exit 2 emb seqs.rec 2>err && grep -- "--model" err &&
	test_usage_error "out of range" emb --model "$TINY" --layer 3 seqs.rec &&
	test_exit 2 emb --model "$TINY" --layer -4 seqs.rec 2>err &&
	test_exit 2 emb --model "$TINY" --pool sum seqs.rec 2>err &&
	test_exit 2 emb --model "$TINY" --dtype f64 seqs.rec 2>err &&
	test_exit 2 emb --model "$TINY" --dtype f16 --pool none seqs.rec 2>err &&
	test_exit 2 emb --model "$TINY" --shard 2/2 seqs.rec 2>err
'

test_expect_success '--shard K/N partitions the records' '
	for k in 0 1 2; do
		emb --model "$TINY" --shard $k/3 --typed -o s$k.tsv seqs.rec 2>/dev/null &&
		rec-cut --typed -f id s$k.tsv >c$k && body c$k | tail -n +2 >i$k ||
		return 1
	done &&
	test -s i0 && test -s i1 && test -s i2 &&
	cat i0 i1 i2 | sort >actual &&
	sort ids >expect &&
	test_cmp expect actual
'

test_expect_success '-v names the matrix kernel, the model and the throughput' '
	emb --model "$TINY" -v -o /dev/null seqs.rec 2>err &&
	grep "^esm-embed: matrix kernel [a-z0-9]*, 1 threads" err &&
	grep "^esm-embed: model .*: 2 layers, hidden 64, 4 heads, ffn 256" err &&
	grep "residues/s" err
'

test_done
