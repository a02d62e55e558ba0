#!/usr/bin/env python3
"""bench/mlp_quality_peers.py — scikit-learn and PyTorch peers of
bench/mlp-quality.sh.

  mlp_quality_peers.py FEAT.tsv THREADS

FEAT.tsv: `rec-cat -T` of id, split, label, x (f32[D]).  Both peers use
the train rows to fit, standardised with the train rows' mean and
population std (as mlp-train), the val rows for early stopping (val loss,
patience 10, best weights restored), and report test AUROC, average
precision and F1 at 0.5 on stdout as TSV rows: tool, auroc, auprc, f1.
Architecture: D -> 512 -> 1 (ReLU), Adam lr 1e-3, batch 64, seed 1.
"""
import copy
import sys

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score
from sklearn.neural_network import MLPClassifier

PATIENCE, EPOCHS, BATCH, LR = 10, 200, 64, 1e-3


def load(path):
    split, y, xs = [], [], []
    hdr = None
    for line in open(path):
        if line.startswith('#'):
            continue
        f = line.rstrip('\n').split('\t')
        if hdr is None:
            hdr = [h.split(':')[0] for h in f]
            ci = {h: i for i, h in enumerate(hdr)}
            continue
        split.append(f[ci['split']])
        y.append(int(f[ci['label']]))
        xs.append(np.array(f[ci['x']].split(','), dtype=np.float32))
    return np.array(split), np.array(y), np.stack(xs)


def report(name, y, p):
    print('%s\t%.4f\t%.4f\t%.4f' % (name, roc_auc_score(y, p),
                                   average_precision_score(y, p),
                                   f1_score(y, p >= 0.5)))


def logloss(y, p):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def sklearn_peer(X, y, tr, va, te):
    clf = MLPClassifier(hidden_layer_sizes=(512,), activation='relu',
                        solver='adam', learning_rate_init=LR,
                        batch_size=BATCH, alpha=0.0, random_state=1)
    best, best_loss, bad = None, np.inf, 0
    for _ in range(EPOCHS):
        clf.partial_fit(X[tr], y[tr], classes=[0, 1])
        vl = logloss(y[va], clf.predict_proba(X[va])[:, 1])
        if vl < best_loss:
            best, best_loss, bad = copy.deepcopy(clf), vl, 0
        else:
            bad += 1
            if bad >= PATIENCE:
                break
    report('scikit-learn MLPClassifier', y[te], best.predict_proba(X[te])[:, 1])


def torch_peer(X, y, tr, va, te, threads):
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    xt, yt = torch.tensor(X[tr]), torch.tensor(y[tr], dtype=torch.float32)
    xv, yv = torch.tensor(X[va]), torch.tensor(y[va], dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 512),
                              torch.nn.ReLU(), torch.nn.Linear(512, 1))
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    lossf = torch.nn.BCEWithLogitsLoss()
    best, best_loss, bad = None, np.inf, 0
    for _ in range(EPOCHS):
        net.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            lossf(net(xt[idx]).squeeze(1), yt[idx]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            vl = lossf(net(xv).squeeze(1), yv).item()
        if vl < best_loss:
            best, best_loss, bad = copy.deepcopy(net.state_dict()), vl, 0
        else:
            bad += 1
            if bad >= PATIENCE:
                break
    net.load_state_dict(best)
    with torch.no_grad():
        p = torch.sigmoid(net(torch.tensor(X[te])).squeeze(1)).numpy()
    report('PyTorch MLP', y[te], p)


def main():
    split, y, X = load(sys.argv[1])
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    tr, va, te = split == 'train', split == 'val', split == 'test'
    mu = X[tr].astype(np.float64).mean(0)
    sd = X[tr].astype(np.float64).std(0)
    sd[sd == 0] = 1
    X = ((X - mu) / sd).astype(np.float32)
    sklearn_peer(X, y, tr, va, te)
    torch_peer(X, y, tr, va, te, threads)


if __name__ == '__main__':
    main()
