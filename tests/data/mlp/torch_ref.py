"""torch_ref.py — PyTorch replay of an mlp-train run, for
tests/t7100-mlp-train.sh.

  torch_ref.py INIT.mlp DATA.tsv EPOCHS LR BATCH

INIT.mlp is the checkpoint of `mlp-train --epochs 0` (the initial weights
and the standardisation).  Trains nn.Linear/ReLU layers with those weights
on the train rows in input order (mlp-train --no-shuffle), SGD momentum
0.9, StepLR(2, 0.5), BCEWithLogitsLoss or CrossEntropyLoss, and prints per
epoch: epoch, train loss (mean of the batch losses weighted by batch
size), val loss.
"""
import sys, msgpack, numpy as np, torch
ck = msgpack.unpackb(open(sys.argv[1], 'rb').read())
data, epochs, lr, bs = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
torch.set_num_threads(1)
rows = [l.rstrip('\n').split('\t') for l in open(data) if not l.startswith('#')]
hdr = rows[0]; rows = rows[1:]
ci = {h.split(':')[0]: i for i, h in enumerate(hdr)}
names = ck['labels']['names']; pos = ck['labels']['pos']
def xs(s): return [r for r in rows if r[ci['split']] == s]
def mk(rs):
    X = torch.tensor(np.array([[float(v) for v in r[ci['emb']].split(',')] for r in rs], dtype=np.float32))
    if ck['norm'] is not None:
        X = (X - torch.frombuffer(bytearray(ck['norm']['mean']), dtype=torch.float32)) / torch.frombuffer(bytearray(ck['norm']['std']), dtype=torch.float32)
    cls = [names.index(r[ci['label']]) for r in rs]
    if ck['arch']['head'] == 'binary':
        y = torch.tensor([float(c == pos) for c in cls])
    else:
        y = torch.tensor(cls)
    return X, y
Xt, yt = mk(xs('train')); Xv, yv = mk(xs('val'))
dims = ck['arch']['dims']; layers = []
for l in range(len(dims) - 1):
    lin = torch.nn.Linear(dims[l], dims[l + 1])
    with torch.no_grad():
        lin.weight.copy_(torch.frombuffer(bytearray(ck['params'][2 * l]), dtype=torch.float32).view(dims[l + 1], dims[l]))
        lin.bias.copy_(torch.frombuffer(bytearray(ck['params'][2 * l + 1]), dtype=torch.float32))
    layers.append(lin)
    if l + 2 < len(dims): layers.append(torch.nn.ReLU())
net = torch.nn.Sequential(*layers)
binary = ck['arch']['head'] == 'binary'
lossf = torch.nn.BCEWithLogitsLoss() if binary else torch.nn.CrossEntropyLoss()
def L(z, y): return lossf(z.squeeze(1), y) if binary else lossf(z, y)
opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
sch = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
for e in range(epochs):
    net.train(); s = 0.0
    for i in range(0, len(Xt), bs):
        opt.zero_grad(); l = L(net(Xt[i:i + bs]), yt[i:i + bs]); l.backward(); opt.step()
        s += l.item() * len(Xt[i:i + bs])
    sch.step(); net.eval()
    with torch.no_grad(): vl = L(net(Xv), yv).item()
    print("%d\t%.9g\t%.9g" % (e + 1, s / len(Xt), vl))
