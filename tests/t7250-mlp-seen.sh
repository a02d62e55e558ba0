#!/bin/sh
# mlp-train keeps the sequence hashes of its training and validation
# records; mlp-predict refuses a sequence the model saw under any id
# (--allow-seen scores it and counts it), says when only ids can be
# checked, and still loads checkpoints written before the hashes were kept.
. "${PLM_TOP:-$(dirname "$0")/..}/tests/lib.sh"

# gen's records with a sequence per record: MKV<number>W
withseq () {
	awk -F"\t" -v OFS="\t" 'NR == 1 { print $0, "seq:str"; next }
		{ n = substr($1, 2); print $0, "MKV" n "W" }'
}

test_expect_success 'setup' '
	gen lin 300 6 1 | withseq >lin.tsv &&
	rec-filter "split!=test" lin.tsv -o tv.rec &&
	rec-filter "split==test" lin.tsv -o test.rec &&
	mlp-train --hidden 8 --lr 0.01 --epochs 5 -o s.mlp tv.rec 2>/dev/null
'

test_expect_success 'the checkpoint keeps one 16-byte hash per train and val sequence' '
	mlp-predict --model s.mlp --info >info &&
	grep -q "^seq_field	seq$" info &&
	grep -q "^train_seqs	180$" info &&
	grep -q "^val_seqs	60$" info
'

test_expect_success_if 'test_have_python msgpack' 'the hashes: sorted, unique, 16 bytes each' '
	"$PY" -c "
import msgpack, sys
d = msgpack.unpackb(open(\"s.mlp\", \"rb\").read())[\"data\"]
t, v = d[\"train_seqs\"], d[\"val_seqs\"]
assert len(t) == 180 * 16 and len(v) == 60 * 16, (len(t), len(v))
k = [(int.from_bytes(t[i:i+8], \"little\"), int.from_bytes(t[i+8:i+16], \"little\")) for i in range(0, len(t), 16)]
assert k == sorted(set(k))
assert d[\"seq_field\"] == \"seq\"
"
'

test_expect_success 'unseen records: scored, nothing said' '
	mlp-predict -T --model s.mlp -o p.tsv test.rec 2>err &&
	test ! -s err &&
	test $(rows p.tsv | wc -l) -eq 60
'

# r0 r1 (train) and r3 (val) under new ids, with r4 (test) as it is
test_expect_success 'a known sequence under a new id is refused, listed with what it matched' '
	{ printf "#plm\t1\n"; rec-cat --typed lin.tsv | body | head -n 1;
	  rec-cat --typed lin.tsv | rows | awk -F"\t" -v OFS="\t" "\$1 == \"r0\" || \$1 == \"r1\" || \$1 == \"r3\" { \$1 = \"new\" substr(\$1, 2) } \$1 ~ /^new|^r4$/"; } >renamed.tsv &&
	test $(rows renamed.tsv | wc -l) -eq 4 &&
	test_error "record 1: id .new0. was seen by the model: 2 records were in its training data and 1 in its validation data (3 of them by sequence under another id)" \
		mlp-predict --model s.mlp -o x.rec renamed.tsv &&
	grep -q "renamed.tsv: record 1: id .new0.: the sequence of a training record of the model" err &&
	grep -q "renamed.tsv: record 2: id .new1.: the sequence of a training record of the model" err &&
	grep -q "renamed.tsv: record 3: id .new3.: the sequence of a validation record of the model" err &&
	test_path_is_missing x.rec
'

test_expect_success 'the id check still names ids' '
	rec-filter "split==train" lin.tsv -o train.rec &&
	test_error "180 records were in its training data and 0 in its validation data (0 of them by sequence" \
		mlp-predict --model s.mlp -o x.rec train.rec &&
	grep -q "record 1: id .r0.: the id of a training record of the model" err &&
	test $(grep -c "of a training record of the model" err) -eq 5
'

test_expect_success '--allow-seen scores them and says how many it let through' '
	mlp-predict -T --allow-seen --model s.mlp -o a.tsv renamed.tsv 2>err &&
	test $(rows a.tsv | wc -l) -eq 4 &&
	grep -q "allow-seen: 2 scored records were training and 1 validation records of the model (3 of them by sequence under another id)" err
'

# --allow-val: the model's validation records (where a threshold or a
# calibrator is chosen) are scored; training records stay refused, also a
# validation id that carries a training sequence.
test_expect_success '--allow-val scores validation records only' '
	rec-filter "split==val" lin.tsv -o val.rec &&
	mlp-predict -T --allow-val --model s.mlp -o v.tsv val.rec 2>err &&
	test $(rows v.tsv | wc -l) -eq 60 &&
	grep -q "^mlp-predict: --allow-val: 60 validation records of the model scored (0 of them by sequence under another id): not an evaluation$" err &&
	test_error "record 1: id .new0. was seen by the model: 2 records were in its training data" \
		mlp-predict --allow-val --model s.mlp -o x.rec renamed.tsv &&
	test_path_is_missing x.rec &&
	rec-put "seq = id == \"r3\" ? \"MKV0W\" : seq" val.rec -o val2.rec &&
	test_error "id .r3. was seen by the model: 1 records were in its training data" \
		mlp-predict --allow-val --model s.mlp -o x.rec val2.rec &&
	grep -q "id .r3.: the sequence of a training record of the model" err &&
	test_path_is_missing x.rec
'

test_expect_success 'input without the sequence field: ids only, with a warning' '
	rec-cut -f id,split,label,emb renamed.tsv -o noseq.rec &&
	mlp-predict -T --model s.mlp -o n.tsv noseq.rec 2>err &&
	grep -q "the input has no field .seq. (nor seq_hash): only ids are checked" err &&
	test $(rows n.tsv | wc -l) -eq 4
'

test_expect_success 'a seq_hash field is checked like the sequence' '
	strat-split -r a=1 --manifest h.m renamed.tsv -o /dev/null &&
	{ printf "id\tseq_hash\n"; sed -n "/^id\tseq_hash/,\$p" h.m | sed "1d;\$d" | cut -f1,2; } >h.tsv &&
	rec-join -k id noseq.rec h.tsv -o hashed.rec &&
	test_error "(3 of them by sequence under another id)" mlp-predict --model s.mlp -o x.rec hashed.rec
'

test_expect_success 'a model trained on seq_hash alone checks the seq_hash field' '
	strat-split -r a=1 --manifest tv.m tv.rec -o /dev/null &&
	{ printf "id\tseq_hash\n"; sed -n "/^id\tseq_hash/,\$p" tv.m | sed "1d;\$d" | cut -f1,2; } >tvh.tsv &&
	rec-cut -f id,split,label,emb tv.rec -o tv-cut.rec &&
	rec-join -k id tv-cut.rec tvh.tsv -o tv-hashed.rec &&
	mlp-train --hidden 8 --lr 0.01 --epochs 2 -o hs.mlp tv-hashed.rec 2>/dev/null &&
	mlp-predict --model hs.mlp --info >info &&
	grep -q "^seq_field	seq_hash$" info &&
	grep -q "^train_seqs	180$" info &&
	test_error "(3 of them by sequence under another id)" mlp-predict --model hs.mlp -o x.rec hashed.rec &&
	test_path_is_missing x.rec
'

test_expect_success 'a model trained without sequences checks ids, silently' '
	rec-cut -f id,split,label,emb tv.rec -o tv-noseq.rec &&
	mlp-train --hidden 8 --lr 0.01 --epochs 2 -o ns.mlp tv-noseq.rec 2>/dev/null &&
	mlp-predict --model ns.mlp --info >info &&
	grep -q "^seq_field	none$" info &&
	grep -q "^train_seqs	0$" info &&
	mlp-predict -T --model ns.mlp -o y.tsv renamed.tsv 2>err &&
	test ! -s err
'

test_expect_success_if 'test_have_python msgpack' 'an older checkpoint (no sequence hashes) still loads: ids checked, a warning' '
	"$PY" -c "
import msgpack
ck = msgpack.unpackb(open(\"s.mlp\", \"rb\").read())
for k in (\"seq_field\", \"train_seqs\", \"val_seqs\"):
    del ck[\"data\"][k]
open(\"old.mlp\", \"wb\").write(msgpack.packb(ck))
" &&
	mlp-predict --model old.mlp --info >info &&
	grep -q "^seq_field	(not kept)$" info &&
	mlp-predict -T --model old.mlp -o o.tsv renamed.tsv 2>err &&
	grep -q "the checkpoint keeps no sequence hashes (an older mlp-train): only ids are checked" err &&
	test $(rows o.tsv | wc -l) -eq 4 &&
	test_error "id .r0. was seen by the model" mlp-predict --model old.mlp -o x.rec train.rec
'

test_done
