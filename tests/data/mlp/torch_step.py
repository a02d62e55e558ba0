"""torch_step.py — optimiser steps of an mlp-train run replayed in PyTorch,
for tests/t7100-mlp-train.sh.

  torch_step.py INIT.mlp AFTER.mlp DATA.tsv OPT LR BATCH [MOMENTUM WD NESTEROV]

INIT.mlp is `mlp-train --epochs 0` (initial weights, standardisation),
AFTER.mlp the same run with --epochs 1 --no-shuffle --patience 0: every
batch of the train rows in input order is one step of OPT (sgd, adam,
adamw) with learning rate LR.  Builds the same nn.Linear/ReLU network from
INIT's weights, takes the same steps with torch.optim, and prints the
largest absolute difference from AFTER's parameters; exit 1 when it is
above 1e-6.
"""
import sys

import msgpack
import numpy as np
import torch

a = sys.argv
init = msgpack.unpackb(open(a[1], 'rb').read())
after = msgpack.unpackb(open(a[2], 'rb').read())
data, opt, lr, bs = a[3], a[4], float(a[5]), int(a[6])
mom = float(a[7]) if len(a) > 7 else 0.0
wd = float(a[8]) if len(a) > 8 else 0.0
nest = len(a) > 9 and a[9] == '1'
torch.set_num_threads(1)
rows = [l.rstrip('\n').split('\t') for l in open(data) if not l.startswith('#')]
ci = {h.split(':')[0]: i for i, h in enumerate(rows[0])}
rows = [r for r in rows[1:] if r[ci['split']] == 'train']
names, pos = init['labels']['names'], init['labels']['pos']
X = torch.tensor(np.array([[float(v) for v in r[ci['emb']].split(',')]
                           for r in rows], dtype=np.float32))
if init['norm'] is not None:
    X = (X - torch.frombuffer(bytearray(init['norm']['mean']), dtype=torch.float32)) \
        / torch.frombuffer(bytearray(init['norm']['std']), dtype=torch.float32)
binary = init['arch']['head'] == 'binary'
cls = [names.index(r[ci['label']]) for r in rows]
y = torch.tensor([float(c == pos) for c in cls]) if binary else torch.tensor(cls)
dims, layers = init['arch']['dims'], []
for l in range(len(dims) - 1):
    lin = torch.nn.Linear(dims[l], dims[l + 1])
    with torch.no_grad():
        lin.weight.copy_(torch.frombuffer(bytearray(init['params'][2 * l]),
                                          dtype=torch.float32).view(dims[l + 1], dims[l]))
        lin.bias.copy_(torch.frombuffer(bytearray(init['params'][2 * l + 1]),
                                        dtype=torch.float32))
    layers.append(lin)
    if l + 2 < len(dims):
        layers.append(torch.nn.ReLU())
net = torch.nn.Sequential(*layers)
if opt == 'sgd':
    o = torch.optim.SGD(net.parameters(), lr=lr, momentum=mom,
                        weight_decay=wd, nesterov=nest)
elif opt == 'adam':
    o = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=wd)
else:
    o = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=wd)
lossf = torch.nn.BCEWithLogitsLoss() if binary else torch.nn.CrossEntropyLoss()
for i in range(0, len(X), bs):
    o.zero_grad()
    z = net(X[i:i + bs])
    loss = lossf(z.squeeze(1), y[i:i + bs]) if binary else lossf(z, y[i:i + bs])
    loss.backward()
    o.step()
worst = 0.0
for l, lin in enumerate(m for m in net if isinstance(m, torch.nn.Linear)):
    for k, t in ((2 * l, lin.weight), (2 * l + 1, lin.bias)):
        ours = np.frombuffer(after['params'][k], dtype='<f4')
        worst = max(worst, float(np.abs(ours - t.detach().numpy().ravel()).max()))
print("%.3g" % worst)
sys.exit(worst > 1e-6)
