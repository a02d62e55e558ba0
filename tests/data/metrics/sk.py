"""Reference values for tests/t7000-metrics.sh from scikit-learn.

  sk.py gen CASE IN.tsv REF.json    random data (fixed seed) + sklearn values
  sk.py cmp REF.json OUT.tsv        compare `metrics -T` output to REF

A metric that metrics(1) calls undefined must be nil in OUT; every other
value must agree with sklearn to 1e-9 absolute.  The undefined rules are
restated here from the man page, independently of lib/metrics.c."""
import json
import sys
import warnings

warnings.filterwarnings("ignore")
np = skm = calibration_curve = None


def load():
    """numpy and sklearn only where needed: cmp runs without them."""
    global np, skm, calibration_curve
    import numpy as np
    from sklearn import metrics as skm
    from sklearn.calibration import calibration_curve
TOL = 1e-9
NIL = None


def f(x):
    return None if x is None else float(x)


def binary_ref(y, s, thr, bins):
    """y: 0/1 ints, s: float64 scores."""
    y = np.asarray(y, dtype=int)
    pred = (s >= thr).astype(int)
    P, N, PP = int(y.sum()), int((1 - y).sum()), int(pred.sum())
    both = P > 0 and N > 0
    tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    r = {
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred) if both else NIL,
        "precision": skm.precision_score(y, pred, zero_division=0) if PP else NIL,
        "recall": skm.recall_score(y, pred, zero_division=0) if P else NIL,
        "specificity": skm.recall_score(y, pred, pos_label=0, zero_division=0) if N else NIL,
        "f1": skm.f1_score(y, pred, zero_division=0) if P + PP else NIL,
        "mcc": skm.matthews_corrcoef(y, pred) if both and 0 < PP < len(y) else NIL,
        "auroc": skm.roc_auc_score(y, s) if both else NIL,
        "average_precision": skm.average_precision_score(y, s) if P else NIL,
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
    }
    if np.all((s >= 0) & (s <= 1)):
        r["log_loss"] = skm.log_loss(y, s, labels=[0, 1])
        r["brier"] = skm.brier_score_loss(y, s, pos_label=1)
        pt, pp = calibration_curve(y, s, n_bins=bins, strategy="uniform")
        edges = np.linspace(0.0, 1.0, bins + 1)
        cnt = np.bincount(np.searchsorted(edges[1:-1], s), minlength=bins)
        cnt = cnt[cnt > 0]
        r["ece"] = float(np.sum(cnt / len(y) * np.abs(pt - pp)))
    else:
        r["log_loss"] = r["brier"] = r["ece"] = NIL
    return {k: f(v) for k, v in r.items()}


def multi_ref(y, pred, P, k, names):
    """y, pred: class indices; P: n x k float64 or None."""
    L = np.union1d(y, pred)
    sup = np.bincount(y, minlength=k)
    npred = np.bincount(pred, minlength=k)
    never_pred = any(npred[c] == 0 for c in L)
    never_true = any(sup[c] == 0 for c in L)
    r = {
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "precision_macro": NIL if never_pred else
            skm.precision_score(y, pred, average="macro", zero_division=0),
        "recall_macro": NIL if never_true else
            skm.recall_score(y, pred, average="macro", zero_division=0),
        "f1_macro": skm.f1_score(y, pred, average="macro", zero_division=0),
        "precision_micro": skm.precision_score(y, pred, average="micro"),
        "recall_micro": skm.recall_score(y, pred, average="micro"),
        "f1_micro": skm.f1_score(y, pred, average="micro"),
        "precision_weighted": NIL if any(sup[c] > 0 and npred[c] == 0 for c in L)
            else skm.precision_score(y, pred, average="weighted", zero_division=0),
        "recall_weighted": skm.recall_score(y, pred, average="weighted", zero_division=0),
        "f1_weighted": skm.f1_score(y, pred, average="weighted", zero_division=0),
        "mcc": skm.matthews_corrcoef(y, pred)
            if len(np.unique(y)) > 1 and len(np.unique(pred)) > 1 else NIL,
    }
    if P is not None:
        r["log_loss"] = skm.log_loss(y, P, labels=list(range(k)))
        if np.all(sup > 0):
            if k > 2:
                r["auroc_ovr_macro"] = skm.roc_auc_score(
                    y, P, multi_class="ovr", average="macro", labels=list(range(k)))
            else:
                r["auroc_ovr_macro"] = np.mean(
                    [skm.roc_auc_score(y == c, P[:, c]) for c in range(k)])
        else:
            r["auroc_ovr_macro"] = NIL
    r = {m: f(v) for m, v in r.items()}
    cm = skm.confusion_matrix(y, pred, labels=list(range(k)))
    for a in range(k):
        for b in range(k):
            r["confusion|%s|%s" % (names[a], names[b])] = float(cm[a, b])
    return r


def fmt32(x):
    return repr(float(np.float32(x)))


def softmax_rows(rng, n, k, y, sharp, quant):
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += sharp
    if quant:
        logits = np.round(logits * quant) / quant      # ties
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return p


def gen(case, inpath, refpath):
    rng = np.random.default_rng(20240607)
    ref = {}
    if case.startswith("bin"):
        if case == "bin-ties":
            n, prev, thr, bins, by = 3000, 0.3, 0.5, 15, ["train", "val", "test"]
        elif case == "bin-imbalanced":
            n, prev, thr, bins, by = 6000, 0.03, 0.3, 10, None
        else:   # bin-panels: a one-class panel and a tiny one
            n, prev, thr, bins, by = 600, 0.4, 0.5, 15, ["a", "b"]
        y = (rng.random(n) < prev).astype(int)
        s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
        if case == "bin-ties":
            s = np.round(s, 2)
        panel = rng.choice(by, size=n) if by else None
        if case == "bin-panels":
            panel[y == 1] = "a"                 # panel b: negatives only
            panel[:3] = "c"                     # panel c: 3 rows
            y[:3] = [1, 0, 1]
            s[:3] = [0.5, 0.5, 0.2]
        lab = np.where(y == 1, "virus", "host") if case == "bin-imbalanced" else y
        with open(inpath, "w") as fp:
            fp.write("id:str\tlabel:%s\tscore:float%s\n" % (
                "str" if case == "bin-imbalanced" else "int",
                "\tsplit:str" if by else ""))
            for i in range(n):
                fp.write("r%d\t%s\t%r%s\n" % (i, lab[i], float(s[i]),
                         "\t" + panel[i] if by else ""))
        ref["overall"] = binary_ref(y, s, thr, bins)
        if by:
            for v in sorted(set(panel)):
                m = panel == v
                ref["split=" + v] = binary_ref(y[m], s[m], thr, bins)
    else:
        k = 4 if case != "multi-k3" else 3
        n = 2500
        y = rng.choice(k, size=n, p=[0.4, 0.3, 0.2, 0.1][:k] / np.sum([0.4, 0.3, 0.2, 0.1][:k]))
        panel = rng.choice(["bacteria", "archaea", "viruses"], size=n)
        # archaea: class 3 never occurs (ovr auroc undefined there)
        if k == 4:
            y[(panel == "archaea") & (y == 3)] = 0
        names = ["c%d" % c for c in range(k)] if case == "multi-classes" else \
            [str(c) for c in range(k)]
        if case == "multi-pred":
            pred = np.where(rng.random(n) < 0.6, y, rng.choice(k, size=n))
            # one class never predicted in viruses
            pred[(panel == "viruses") & (pred == 2)] = 1
            P = None
            names = ["alpha", "beta", "gamma", "delta"]
            with open(inpath, "w") as fp:
                fp.write("label:str\tpred:str\tkingdom:str\n")
                for i in range(n):
                    fp.write("%s\t%s\t%s\n" % (names[y[i]], names[pred[i]], panel[i]))
            # metrics(1) sorts pred-only class names; remap indices to that
            order = sorted(range(k), key=lambda c: names[c])
            rank = {c: r for r, c in enumerate(order)}
            y = np.array([rank[c] for c in y])
            pred = np.array([rank[c] for c in pred])
            names = [names[c] for c in order]
        else:
            P32 = softmax_rows(rng, n, k, y, 1.2, 2 if case != "multi-k3" else 0)
            P = P32.astype(np.float64)
            pred = P.argmax(axis=1)
            with open(inpath, "w") as fp:
                fp.write("label:%s\tscore:f32[%d]\tkingdom:str\n" % (
                    "str" if case == "multi-classes" else "int", k))
                for i in range(n):
                    fp.write("%s\t%s\t%s\n" % (names[y[i]],
                             ",".join(fmt32(x) for x in P32[i]), panel[i]))
        ref["overall"] = multi_ref(y, pred, P, k, names)
        for v in sorted(set(panel)):
            m = panel == v
            ref["kingdom=" + v] = multi_ref(y[m], pred[m],
                                            None if P is None else P[m], k, names)
    with open(refpath, "w") as fp:
        json.dump(ref, fp, indent=0, sort_keys=True)


def read_out(path):
    rows = {}
    with open(path) as fp:
        lines = [l.rstrip("\n") for l in fp if not l.startswith("#")]
    head = [h.split(":")[0] for h in lines[0].split("\t")]
    for l in lines[1:]:
        d = dict(zip(head, l.split("\t")))
        key = d["metric"]
        if key == "confusion":
            key = "confusion|%s|%s" % (d["true"], d["pred"])
        v = None if d["value"] == "" else float(d["value"])
        rows.setdefault(d["panel"], {})[key] = (v, d)
    return rows


def cmp(refpath, outpath):
    ref = json.load(open(refpath))
    out = read_out(outpath)
    bad = 0
    checked = 0
    if sorted(ref) != sorted(out):
        print("panels differ: want %s got %s" % (sorted(ref), sorted(out)))
        return 1
    for p in ref:
        if sorted(ref[p]) != sorted(out[p]):
            print("%s: metrics differ: want %s got %s" % (
                p, sorted(ref[p]), sorted(out[p])))
            bad += 1
            continue
        for m, want in ref[p].items():
            got = out[p][m][0]
            checked += 1
            if want is None or got is None:
                if want is not got:
                    print("%s %s: want %r got %r" % (p, m, want, got))
                    bad += 1
            elif not abs(got - want) <= TOL:
                print("%s %s: want %.17g got %.17g (diff %.3g)" % (
                    p, m, want, got, got - want))
                bad += 1
    print("checked %d values, %d bad" % (checked, bad))
    return 1 if bad or checked == 0 else 0


# ---- bootstrap: plm_rng (xoshiro256** seeded by splitmix64) in Python ----

M64 = (1 << 64) - 1


class Rng:
    def __init__(self, seed):
        x = seed
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    def next(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M64
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, n):
        m = self.next() * n
        lo = m & M64
        if lo < n:
            t = ((1 << 64) - n) % n
            while lo < t:
                m = self.next() * n
                lo = m & M64
        return m >> 64


def boot(inpath, outpath, reps, seed, ci):
    """Recompute a binary bootstrap with sklearn on the same resamples."""
    y, s = [], []
    with open(inpath) as fp:
        head = [h.split(":")[0] for h in next(fp).rstrip("\n").split("\t")]
        yi, si = head.index("label"), head.index("score")
        for l in fp:
            t = l.rstrip("\n").split("\t")
            y.append(int(t[yi]))
            s.append(float(t[si]))
    y, s = np.array(y), np.array(s)
    order = np.argsort(-s, kind="stable")   # metrics resamples sorted rows
    y, s = y[order], s[order]
    n = len(y)
    rng = Rng(seed)
    fns = {
        "auroc": lambda yy, ss: skm.roc_auc_score(yy, ss),
        "average_precision": lambda yy, ss: skm.average_precision_score(yy, ss),
        "accuracy": lambda yy, ss: skm.accuracy_score(yy, ss >= 0.5),
        "mcc": lambda yy, ss: skm.matthews_corrcoef(yy, ss >= 0.5),
        "brier": lambda yy, ss: skm.brier_score_loss(yy, ss),
        "log_loss": lambda yy, ss: skm.log_loss(yy, ss, labels=[0, 1]),
    }
    vals = {m: [] for m in fns}
    for _ in range(reps):
        idx = np.array([rng.below(n) for _ in range(n)])
        for m, fn in fns.items():
            vals[m].append(fn(y[idx], s[idx]))
    out = read_out(outpath)["overall"]
    bad = 0
    for m in fns:
        lo = np.quantile(vals[m], (1 - ci) / 2)
        hi = np.quantile(vals[m], (1 + ci) / 2)
        d = out[m][1]
        glo, ghi = float(d["lo"]), float(d["hi"])
        if not (abs(glo - lo) <= TOL and abs(ghi - hi) <= TOL):
            print("%s: want [%.17g, %.17g] got [%.17g, %.17g]" % (m, lo, hi, glo, ghi))
            bad += 1
    print("bootstrap: %d metrics, %d bad" % (len(fns), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] != "cmp":
        load()
    if sys.argv[1] == "gen":
        gen(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "cmp":
        sys.exit(cmp(sys.argv[2], sys.argv[3]))
    elif sys.argv[1] == "boot":
        sys.exit(boot(sys.argv[2], sys.argv[3], int(sys.argv[4]),
                      int(sys.argv[5]), float(sys.argv[6])))
