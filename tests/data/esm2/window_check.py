#!/usr/bin/env python3
"""Check esm-embed --long window (tests/t5000-esm-embed.sh).

  window_check.py PIECES.rec OUT.rec ID L W STRIDE POOL

PIECES.rec: esm-embed --pool none --max-len 0 of the windows of record ID
(ids w0, w1, ..: window k starts at k * STRIDE, the last one at L - W).
OUT.rec: esm-embed --long window --max-len W --stride STRIDE --pool POOL of
the whole sequence (L residues).  Rebuilds the expected vector from the
pieces (per residue: a float32 sum in window order divided by the count;
mean: a float64 sequential sum over residues divided by L; max) and
requires bit equality."""
import sys

import numpy as np

sys.dont_write_bytecode = True
from golden_check import read_records  # noqa: E402

pieces, out, rid, L, W, S, pool = sys.argv[1:8]
L, W, S = int(L), int(W), int(S)
P = {r["id"]: r["emb"] for r in read_records(pieces)}
nw = (L - W + S - 1) // S + 1
starts = [k * S if k + 1 < nw else L - W for k in range(nw)]
H = P["w0"].shape[-1]
acc = np.zeros((L, H), np.float32)
cnt = np.zeros(L, np.float32)
for k, s in enumerate(starts):
    x = P["w%d" % k]
    assert x.shape == (W, H), x.shape
    acc[s:s + W] += x
    cnt[s:s + W] += 1
acc /= cnt[:, None]
if pool == "none":
    want = acc
elif pool == "mean":
    want = (np.cumsum(acc.astype(np.float64), axis=0)[-1] / L).astype(np.float32)
else:
    want = acc.max(axis=0)
got = [r for r in read_records(out) if r["id"] == rid]
assert len(got) == 1, "record %s: %d in output" % (rid, len(got))
g = got[0]
assert g["windows"] == nw, (g["windows"], nw)
e = g["emb"]
assert e.shape == want.shape, (e.shape, want.shape)
if e.tobytes() != want.tobytes():
    sys.exit("%s: %s differs: max |diff| %g" % (rid, pool, float(np.abs(e - want).max())))
print("ok %s %s windows=%d" % (rid, pool, nw))
