#!/usr/bin/env python3
"""The PyTorch peer of bench/esm-embed.sh: ESM-2 mean-pooled embeddings with
a plain PyTorch forward pass, batched as fair-esm's scripts/extract.py
batches.

  esm_torch.py --model DIR --input SEQS.tsv [--threads N] [--toks 4096]
               [--max-len 1022] [--bf16] [--check ESM.rec] [--out OUT.npy]

SEQS.tsv: id<TAB>sequence per line.  The forward pass is written here
(fair-esm and transformers are not installed): embedding, token-dropout
scaling (0.88 / (1 - mask ratio)), pre-LayerNorm blocks, rotary position
embedding on q and k, softmax attention with a key padding mask, erf GELU,
emb_layer_norm_after; mean over the residue rows.  Batches: sequences
sorted by length, grown while (longest + 1) * count <= --toks (fair-esm's
FastaBatchedDataset.get_batch_indices with extra_toks_per_seq=1, on the
lengths before truncation), padded with <pad>, truncated to --max-len.

--bf16: the forward pass under torch.autocast("cpu", dtype=torch.bfloat16)
(Linear layers and matmuls in bfloat16 through oneDNN, LayerNorm and
softmax in float32), PyTorch's own mixed precision on CPU.

Prints "torch: N sequences, R residues, S s, X residues/s" (forward passes
only, loading excluded).  --check: compare with esm-embed's MessagePack
output (same ids, field emb), print the largest relative error
max|a-b|/max|b| over the sequences and exit 1 if it is over 1e-4.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as Fn

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "data", "esm2"))
import safetensors_np  # noqa: E402


def read_safetensors(path):
    out = {}
    for name, a in safetensors_np.read_safetensors(path).items():
        key = name[4:] if name.startswith("esm.") else name
        out[key] = torch.from_numpy(a.astype(np.float32))
    return out


class Esm:
    def __init__(self, d):
        with open(d + "/config.json") as f:
            c = json.load(f)
        with open(d + "/vocab.txt") as f:
            vocab = [ln.strip() for ln in f if ln.strip()]
        self.tok = {t: i for i, t in enumerate(vocab)}
        self.N = c["num_hidden_layers"]
        self.H = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.hd = self.H // self.heads
        self.eps = c.get("layer_norm_eps", 1e-5)
        self.token_dropout = c.get("token_dropout", True)
        w = read_safetensors(d + "/model.safetensors")
        g = lambda k: w[k.replace(".weight", ".gamma")
                        .replace(".bias", ".beta")] if k not in w else w[k]
        self.embed = w["embeddings.word_embeddings.weight"]
        self.layers = []
        for i in range(self.N):
            p = "encoder.layer.%d." % i
            L = {k: g(p + k) for k in (
                "attention.LayerNorm.weight", "attention.LayerNorm.bias",
                "attention.self.query.weight", "attention.self.query.bias",
                "attention.self.key.weight", "attention.self.key.bias",
                "attention.self.value.weight", "attention.self.value.bias",
                "attention.output.dense.weight",
                "attention.output.dense.bias",
                "LayerNorm.weight", "LayerNorm.bias",
                "intermediate.dense.weight", "intermediate.dense.bias",
                "output.dense.weight", "output.dense.bias")}
            inv = w.get(p + "attention.self.rotary_embeddings.inv_freq")
            if inv is None:
                inv = 1.0 / (10000 ** (torch.arange(0, self.hd, 2,
                                                    dtype=torch.float32)
                                       / self.hd))
            L["inv_freq"] = inv
            self.layers.append(L)
        self.lnf_w = g("encoder.emb_layer_norm_after.weight")
        self.lnf_b = g("encoder.emb_layer_norm_after.bias")

    def tokens(self, seqs):
        """<cls> seq <eos> <pad>..., one row per sequence."""
        T = max(len(s) for s in seqs) + 2
        t = torch.full((len(seqs), T), self.tok["<pad>"], dtype=torch.long)
        unk = self.tok["<unk>"]
        for i, s in enumerate(seqs):
            ids = [self.tok["<cls>"]] + [self.tok.get(a, unk) for a in s] \
                + [self.tok["<eos>"]]
            t[i, :len(ids)] = torch.tensor(ids)
        return t

    @staticmethod
    def rotate_half(x):
        a, b = x.chunk(2, dim=-1)
        return torch.cat((-b, a), dim=-1)

    def forward(self, t):
        B, T = t.shape
        H, nh, hd = self.H, self.heads, self.hd
        pad = t.eq(self.tok["<pad>"])
        x = Fn.embedding(t, self.embed)
        if self.token_dropout:
            lengths = (~pad).sum(-1)
            ratio = t.eq(self.tok["<mask>"]).sum(-1).float() / lengths
            x = x.masked_fill(t.eq(self.tok["<mask>"]).unsqueeze(-1), 0.0)
            x = x * (1 - 0.15 * 0.8) / (1 - ratio)[:, None, None]
        x = x * (~pad).unsqueeze(-1).type_as(x)
        keymask = pad[:, None, None, :]                  # B,1,1,T
        pos = torch.arange(T, dtype=torch.float32)
        for L in self.layers:
            h = Fn.layer_norm(x, (H,), L["attention.LayerNorm.weight"],
                              L["attention.LayerNorm.bias"], self.eps)
            q = Fn.linear(h, L["attention.self.query.weight"],
                          L["attention.self.query.bias"]) * hd ** -0.5
            k = Fn.linear(h, L["attention.self.key.weight"],
                          L["attention.self.key.bias"])
            v = Fn.linear(h, L["attention.self.value.weight"],
                          L["attention.self.value.bias"])
            q, k, v = (y.view(B, T, nh, hd).transpose(1, 2) for y in (q, k, v))
            f = torch.outer(pos, L["inv_freq"])
            e = torch.cat((f, f), dim=-1)
            cos, sin = e.cos()[None, None], e.sin()[None, None]
            q = q * cos + self.rotate_half(q) * sin
            k = k * cos + self.rotate_half(k) * sin
            s = torch.matmul(q, k.transpose(-1, -2))
            s = s.masked_fill(keymask, float("-inf"))
            a = torch.matmul(torch.softmax(s, dim=-1), v)
            a = a.transpose(1, 2).reshape(B, T, H)
            x = x + Fn.linear(a, L["attention.output.dense.weight"],
                              L["attention.output.dense.bias"])
            h = Fn.layer_norm(x, (H,), L["LayerNorm.weight"],
                              L["LayerNorm.bias"], self.eps)
            h = Fn.gelu(Fn.linear(h, L["intermediate.dense.weight"],
                                  L["intermediate.dense.bias"]))
            x = x + Fn.linear(h, L["output.dense.weight"],
                              L["output.dense.bias"])
        return Fn.layer_norm(x, (H,), self.lnf_w, self.lnf_b, self.eps)


def batches(seqs, toks, extra=1):
    """fair-esm's FastaBatchedDataset.get_batch_indices."""
    sizes = sorted((len(s), i) for i, s in enumerate(seqs))
    out, buf, mx = [], [], 0
    for sz, i in sizes:
        sz += extra
        if max(sz, mx) * (len(buf) + 1) > toks and buf:
            out.append(buf)
            buf, mx = [], 0
        mx = max(mx, sz)
        buf.append(i)
    if buf:
        out.append(buf)
    return out


def read_esm_embed(path):
    import msgpack
    embs, fields = {}, None
    with open(path, "rb") as f:
        for obj in msgpack.Unpacker(f, raw=False):
            if isinstance(obj, dict):
                if "fields" in obj:
                    fields = [n for n, _ in obj["fields"]]
                continue
            r = dict(zip(fields, obj))
            embs[r["id"]] = np.frombuffer(r["emb"], "<f4")
    return embs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--toks", type=int, default=4096)
    ap.add_argument("--max-len", type=int, default=1022)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--check")
    ap.add_argument("--out")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ids, seqs = [], []
    with open(a.input) as f:
        for line in f:
            i, s = line.rstrip("\n").split("\t")
            ids.append(i)
            seqs.append(s)
    m = Esm(a.model)
    embs = [None] * len(seqs)
    res = 0
    t0 = time.monotonic()
    amp = torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16)
    with torch.inference_mode(), amp:
        for b in batches(seqs, a.toks):
            cut = [seqs[i][:a.max_len] if a.max_len else seqs[i] for i in b]
            x = m.forward(m.tokens(cut)).float()
            for j, i in enumerate(b):
                n = len(cut[j])
                embs[i] = x[j, 1:n + 1].mean(0).numpy()
                res += n
    dt = time.monotonic() - t0
    print("torch: %d sequences, %d residues, %.2f s, %.1f residues/s, "
          "%d threads%s" % (len(seqs), res, dt, res / dt,
                            torch.get_num_threads(),
                            ", autocast bf16" if a.bf16 else ""))
    if a.out:
        np.save(a.out, np.stack(embs))
    if a.check:
        other = read_esm_embed(a.check)
        worst, wid = 0.0, None
        for i, e in zip(ids, embs):
            o = other[i].astype(np.float64)
            r = np.abs(o - e).max() / max(np.abs(e).max(), 1e-30)
            if r > worst:
                worst, wid = r, i
        print("check: max relative error %.3g (%s) over %d sequences"
              % (worst, wid, len(ids)))
        if len(other) != len(ids) or worst > 1e-4:
            sys.exit("check: esm-embed and PyTorch disagree")


if __name__ == "__main__":
    main()
