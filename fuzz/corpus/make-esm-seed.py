#!/usr/bin/env python3
"""Writes the seed of fuzz-esm-load: config.json, "#safetensors", then a
model.safetensors of an ESM-2-shaped model small enough to mutate quickly
(hidden 8, 2 heads, 1 layer, FFN 16, with the masked-LM head).  Standard
library only; the weights come from a fixed linear congruential sequence.

    python3 fuzz/corpus/make-esm-seed.py > fuzz/corpus/fuzz-esm-load/tiny
"""
import json
import struct
import sys

H, HEADS, F, V, N = 8, 2, 16, 33, 1

config = {
    "architectures": ["EsmForMaskedLM"], "model_type": "esm",
    "hidden_size": H, "num_attention_heads": HEADS, "num_hidden_layers": N,
    "intermediate_size": F, "vocab_size": V, "layer_norm_eps": 1e-05,
    "hidden_act": "gelu", "position_embedding_type": "rotary",
    "token_dropout": True, "emb_layer_norm_before": False,
    "mask_token_id": 32, "pad_token_id": 1, "eos_token_id": 2,
    "max_position_embeddings": 1026, "tie_word_embeddings": True,
}

shapes = [("esm.embeddings.word_embeddings.weight", [V, H]),
          ("esm.encoder.emb_layer_norm_after.bias", [H]),
          ("esm.encoder.emb_layer_norm_after.weight", [H])]
for i in range(N):
    p = "esm.encoder.layer.%d." % i
    shapes += [(p + "attention.self.query.weight", [H, H]),
               (p + "attention.self.query.bias", [H]),
               (p + "attention.self.key.weight", [H, H]),
               (p + "attention.self.key.bias", [H]),
               (p + "attention.self.value.weight", [H, H]),
               (p + "attention.self.value.bias", [H]),
               (p + "attention.output.dense.weight", [H, H]),
               (p + "attention.output.dense.bias", [H]),
               (p + "attention.LayerNorm.gamma", [H]),
               (p + "attention.LayerNorm.beta", [H]),
               (p + "intermediate.dense.weight", [F, H]),
               (p + "intermediate.dense.bias", [F]),
               (p + "output.dense.weight", [H, F]),
               (p + "output.dense.bias", [H]),
               (p + "LayerNorm.gamma", [H]),
               (p + "LayerNorm.beta", [H])]
shapes += [("lm_head.dense.weight", [H, H]), ("lm_head.dense.bias", [H]),
           ("lm_head.layer_norm.weight", [H]),
           ("lm_head.layer_norm.bias", [H]), ("lm_head.bias", [V])]

state = 12345
def value():
    global state
    state = (state * 1103515245 + 12345) % 2**31
    return (state / 2**31 - 0.5) * 0.2

header, data = {"__metadata__": {"format": "pt"}}, b""
for name, shape in shapes:
    n = 1
    for d in shape:
        n *= d
    one = name.endswith(("gamma", "norm_after.weight", "norm.weight"))
    vals = [1.0] * n if one else [value() for _ in range(n)]
    blob = struct.pack("<%df" % n, *vals)
    header[name] = {"dtype": "F32", "shape": shape,
                    "data_offsets": [len(data), len(data) + len(blob)]}
    data += blob
hj = json.dumps(header, separators=(",", ":")).encode()
hj += b" " * (-len(hj) % 8)
out = sys.stdout.buffer
out.write(json.dumps(config, indent=1).encode())
out.write(b"\n#safetensors\n")
out.write(struct.pack("<Q", len(hj)) + hj + data)
