#!/usr/bin/env python3
"""Write an ESM-2 checkpoint with random weights, in the Hugging Face hub's
layout and key naming (config.json, vocab.txt, model.safetensors), for the
benchmarks: real weights cannot be downloaded here, and speed does not
depend on the values.

  make_esm_ckpt.py DIR SHAPE [--seed S]
  SHAPE: 8M, 35M, 150M, 650M, or LAYERS,HIDDEN,HEADS,FFN

Keys as the published esm2_t12_35M_UR50D etc. have them: esm. prefix,
LayerNorm.weight/bias, a rotary inv_freq per layer, the unused position
table, the contact head and the LM head (decoder tied to the word
embeddings: same values, stored again).  The safetensors file is written
by hand: 8-byte little-endian header length, JSON header, data.
"""
import json
import os
import sys

import numpy as np

SHAPES = {
    "8M": (6, 320, 20, 1280),
    "35M": (12, 480, 20, 1920),
    "150M": (30, 640, 20, 2560),
    "650M": (33, 1280, 20, 5120),
}

VOCAB = ["<cls>", "<pad>", "<eos>", "<unk>", "L", "A", "G", "V", "S", "E",
         "R", "T", "I", "D", "P", "K", "Q", "N", "F", "Y", "M", "H", "W",
         "C", "X", "B", "U", "Z", "O", ".", "-", "<null_1>", "<mask>"]


def tensors(N, H, heads, F, rng):
    V = len(VOCAB)
    hd = H // heads

    def w(*shape):
        return (rng.standard_normal(shape, np.float32) * 0.02).astype("<f4")

    def ln():
        return (1 + rng.standard_normal(H, np.float32) * 0.1).astype("<f4")

    def b(n):
        return (rng.standard_normal(n, np.float32) * 0.01).astype("<f4")

    inv = (1.0 / 10000 ** (np.arange(0, hd, 2, dtype=np.float32) / hd)
           ).astype("<f4")
    t = {}
    word = (rng.standard_normal((V, H), np.float32)).astype("<f4")
    t["esm.embeddings.word_embeddings.weight"] = word
    t["esm.embeddings.position_embeddings.weight"] = w(1026, H)
    for i in range(N):
        p = "esm.encoder.layer.%d." % i
        for n in ("query", "key", "value"):
            t[p + "attention.self.%s.weight" % n] = w(H, H)
            t[p + "attention.self.%s.bias" % n] = b(H)
        t[p + "attention.self.rotary_embeddings.inv_freq"] = inv
        t[p + "attention.output.dense.weight"] = w(H, H)
        t[p + "attention.output.dense.bias"] = b(H)
        t[p + "attention.LayerNorm.weight"] = ln()
        t[p + "attention.LayerNorm.bias"] = b(H)
        t[p + "intermediate.dense.weight"] = w(F, H)
        t[p + "intermediate.dense.bias"] = b(F)
        t[p + "output.dense.weight"] = w(H, F)
        t[p + "output.dense.bias"] = b(H)
        t[p + "LayerNorm.weight"] = ln()
        t[p + "LayerNorm.bias"] = b(H)
    t["esm.encoder.emb_layer_norm_after.weight"] = ln()
    t["esm.encoder.emb_layer_norm_after.bias"] = b(H)
    t["esm.contact_head.regression.weight"] = w(1, N * heads)
    t["esm.contact_head.regression.bias"] = b(1)
    t["lm_head.dense.weight"] = w(H, H)
    t["lm_head.dense.bias"] = b(H)
    t["lm_head.layer_norm.weight"] = ln()
    t["lm_head.layer_norm.bias"] = b(H)
    t["lm_head.decoder.weight"] = word
    t["lm_head.bias"] = b(V)
    return t


def write_safetensors(path, t):
    head, off = {}, 0
    for name in sorted(t):
        a = np.ascontiguousarray(t[name])
        head[name] = {"dtype": "F32", "shape": list(a.shape),
                      "data_offsets": [off, off + a.nbytes]}
        off += a.nbytes
    head["__metadata__"] = {"format": "pt"}
    hj = json.dumps(head, separators=(",", ":")).encode()
    hj += b" " * (-len(hj) % 8)         # align the data to 8 bytes
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(np.uint64(len(hj)).astype("<u8").tobytes())
        f.write(hj)
        for name in sorted(t):
            f.write(np.ascontiguousarray(t[name]).tobytes())
    os.replace(tmp, path)


def main():
    args = sys.argv[1:]
    seed = 1
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    out, shape = args
    if shape in SHAPES:
        N, H, heads, F = SHAPES[shape]
    else:
        N, H, heads, F = (int(x) for x in shape.split(","))
    os.makedirs(out, exist_ok=True)
    cfg = {
        "architectures": ["EsmForMaskedLM"],
        "attention_probs_dropout_prob": 0.0,
        "emb_layer_norm_before": False,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "hidden_size": H,
        "initializer_range": 0.02,
        "intermediate_size": F,
        "layer_norm_eps": 1e-05,
        "mask_token_id": 32,
        "max_position_embeddings": 1026,
        "model_type": "esm",
        "num_attention_heads": heads,
        "num_hidden_layers": N,
        "pad_token_id": 1,
        "position_embedding_type": "rotary",
        "token_dropout": True,
        "torch_dtype": "float32",
        "vocab_size": len(VOCAB),
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    with open(os.path.join(out, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    rng = np.random.default_rng(seed)
    write_safetensors(os.path.join(out, "model.safetensors"),
                      tensors(N, H, heads, F, rng))


if __name__ == "__main__":
    main()
