#!/usr/bin/env python3
"""bench/mlp_torch.py — the PyTorch peer of mlp-train (bench/mlp-train.sh).

  mlp_torch.py gen OUT N D SEED   write a plm record stream (MessagePack) of
                                  N rows: id, split (80% train, 20% val),
                                  label (0/1, a noisy linear rule), emb f32[D]
  mlp_torch.py train FILE EPOCHS THREADS
                                  the same model as mlp-train --preset
                                  viral-host (D -> 512 -> 1, ReLU, SGD lr 2e-4
                                  momentum 0.9, batch 32, StepLR 10/0.85,
                                  standardised features) for EPOCHS epochs
                                  without early stopping; prints
                                  "seconds_per_epoch <x>" (mean over epochs,
                                  training and validation loss included)
"""
import sys
import time

import msgpack
import numpy as np


def gen(out, n, d, seed):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=d).astype(np.float32)
    with open(out, "wb") as f:
        f.write(msgpack.packb({"plm": 1, "fields": [["id", "str"], ["split", "str"],
                               ["label", "int"], ["emb", "f32[%d]" % d]],
                               "meta": {"prov": []}}))
        for i in range(n):
            x = rng.normal(size=d).astype(np.float32)
            y = int(float(x @ w) + rng.normal() * 8 > 0)
            f.write(msgpack.packb(["r%d" % i, "val" if i % 5 == 4 else "train", y,
                                   x.astype("<f4").tobytes()]))
        f.write(msgpack.packb({"end": n}))


def load(path):
    ids, split, y, xs = [], [], [], []
    with open(path, "rb") as f:
        up = msgpack.Unpacker(f, raw=False)
        hdr = next(up)
        names = [a for a, _ in hdr["fields"]]
        for o in up:
            if isinstance(o, dict):
                continue
            r = dict(zip(names, o))
            split.append(r["split"])
            y.append(r["label"])
            xs.append(np.frombuffer(r["emb"], dtype="<f4"))
    return np.array(split), np.array(y, dtype=np.float32), np.stack(xs)


def train(path, epochs, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(11)
    split, y, x = load(path)
    tr, va = split == "train", split == "val"
    mu, sd = x[tr].mean(0), x[tr].std(0)
    sd[sd == 0] = 1
    x = (x - mu) / sd
    xt, yt = torch.tensor(x[tr]), torch.tensor(y[tr])
    xv, yv = torch.tensor(x[va]), torch.tensor(y[va])
    d = x.shape[1]
    net = torch.nn.Sequential(torch.nn.Linear(d, 512), torch.nn.ReLU(),
                              torch.nn.Linear(512, 1))
    lossf = torch.nn.BCEWithLogitsLoss()
    opt = torch.optim.SGD(net.parameters(), lr=2e-4, momentum=0.9)
    sch = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.85)
    t0 = time.perf_counter()
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            loss = lossf(net(xt[idx]).squeeze(1), yt[idx])
            loss.backward()
            opt.step()
        sch.step()
        net.eval()
        with torch.no_grad():
            lossf(net(xv).squeeze(1), yv).item()
    print("seconds_per_epoch %.4f" % ((time.perf_counter() - t0) / epochs))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        train(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
