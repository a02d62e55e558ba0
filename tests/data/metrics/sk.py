"""Reference values for tests/t7000-metrics.sh from scikit-learn.

  sk.py gen DIR              write DIR/*.tsv (hundreds of random cases, one
                             --by case group each), DIR/runs (one
                             `metrics` command line per run) and
                             DIR/ref.json (sklearn's values per run)
  sk.py cmp DIR              compare each run's DIR/RUN.out (`metrics -T`)
                             with DIR/ref.json
  sk.py boot IN OUT R S CI   recompute a stratified bootstrap

A metric that metrics(1) calls undefined must be nil in OUT, with a reason;
every other value must agree with sklearn to 1e-9 absolute.  The undefined
rules and the threshold rules (youden, f1) are restated here from the man
page, independently of lib/metrics.c."""
import json
import os
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


# ---- binary -----------------------------------------------------------------

def choose(y, s, rule):
    """The threshold rule of metrics(1): among the distinct scores, the one
    maximising J = TPR - FPR (youden) or F1, compared exactly (integers),
    ties to the highest threshold.  None when undefined."""
    P, N = int(y.sum()), int(len(y) - y.sum())
    if rule == "youden" and (P == 0 or N == 0) or rule == "f1" and P == 0:
        return None
    best = thr = None
    for t in sorted(set(s.tolist()), reverse=True):
        hit = s >= t
        tp, fp = int(y[hit].sum()), int(hit.sum() - y[hit].sum())
        if rule == "youden":
            key = (tp * N - fp * P, 1)
        else:
            key = (2 * tp, 2 * tp + fp + (P - tp))
        if best is None or key[0] * best[1] > best[0] * key[1]:
            best, thr = key, t
    return thr


RANK_CACHE = {}


def rank_ref(y, s, bins):
    """The threshold-independent binary metrics (cached: every threshold
    setting reuses them)."""
    key = (y.tobytes(), s.tobytes(), bins)
    if key not in RANK_CACHE:
        RANK_CACHE[key] = rank_ref1(y, s, bins)
    return dict(RANK_CACHE[key])


def rank_ref1(y, s, bins):
    P, N = int(y.sum()), int(len(y) - y.sum())
    r = {
        "auroc": skm.roc_auc_score(y, s) if P and N else NIL,
        "auprc": skm.average_precision_score(y, s) if P else NIL,
        "prevalence": P / len(y),
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
    return r


THR_METRICS = ["accuracy", "balanced_accuracy", "precision", "recall",
               "specificity", "f1", "mcc", "tp", "fp", "fn", "tn"]


def thr_ref(y, pred):
    """The metrics that need predicted labels (few sklearn calls: each
    costs about a millisecond of input checks)."""
    P, N, PP = int(y.sum()), int(len(y) - y.sum()), int(pred.sum())
    both = P > 0 and N > 0
    cm = skm.confusion_matrix(y, pred, labels=[0, 1])
    tn, fp, fn, tp = cm.ravel()
    # per class [0, 1]: precision, recall (of class 0 = specificity), F1
    pr, rc, f1, _ = skm.precision_recall_fscore_support(
        y, pred, labels=[0, 1], average=None, zero_division=0)
    return {
        "accuracy": np.trace(cm) / len(y),      # = accuracy_score
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred) if both else NIL,
        "precision": pr[1] if PP else NIL,
        "recall": rc[1] if P else NIL,
        "specificity": rc[0] if N else NIL,
        "f1": f1[1] if P + PP else NIL,
        "mcc": skm.matthews_corrcoef(y, pred) if both and 0 < PP < len(y) else NIL,
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
    }


def binary_ref(y, s, rule, bins, pred=None):
    """rule: a number, 'youden' or 'f1'; pred: given predictions."""
    r = rank_ref(y, s, bins)
    if pred is not None:
        r.update(thr_ref(y, pred))
    else:
        thr = rule if not isinstance(rule, str) else choose(y, s, rule)
        r["threshold"] = thr
        if isinstance(rule, str):       # chosen with --tune-on-scored
            r["threshold_tuned_on_scored"] = 1.0
        if thr is None:
            r.update({m: NIL for m in THR_METRICS})
        else:
            r.update(thr_ref(y, (s >= thr).astype(int)))
    return {k: f(v) for k, v in r.items()}


def bin_case(rng, i):
    """One random binary data set: tiny to medium n, every kind of edge."""
    kinds = ["cont", "ties", "perfect", "inverted", "const", "pos-only",
             "neg-only", "edges", "outside", "zero-one", "half"]
    kind = kinds[i % len(kinds)]
    n = int(rng.choice([1, 2, 3, 4, 5, 7, 10, 25, 60, 200]))
    prev = float(rng.choice([0.03, 0.1, 0.3, 0.5, 0.7, 0.97]))
    y = (rng.random(n) < prev).astype(int)
    if kind == "pos-only":
        y[:] = 1
    elif kind == "neg-only":
        y[:] = 0
    elif n >= 2 and i % 3:
        y[0], y[1] = 1, 0           # most cases have both classes
    s = np.clip(rng.normal(0.35 + 0.3 * y, 0.25), 0, 1)
    if kind == "ties":
        s = np.round(s, 1)
    elif kind == "perfect":
        s = np.where(y == 1, rng.uniform(0.6, 1, n), rng.uniform(0, 0.4, n))
    elif kind == "inverted":
        s = np.where(y == 0, rng.uniform(0.6, 1, n), rng.uniform(0, 0.4, n))
    elif kind == "const":
        s = np.full(n, 0.5)
    elif kind == "edges":           # on the calibration bin edges
        s = rng.integers(0, 11, n) / 10
    elif kind == "outside":         # not probabilities (logits)
        s = rng.normal(0.5 * y, 2)
    elif kind == "zero-one":        # log loss clipping
        s = rng.choice([0.0, 1.0, 0.5, 1e-17, 1 - 1e-16], n)
    elif kind == "half":            # scores equal to the thresholds
        s = rng.choice([0.3, 0.5, 0.7], n)
    return y, s.astype(float)


# ---- multi-class ------------------------------------------------------------

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
        "mcc": skm.matthews_corrcoef(y, pred)
            if len(np.unique(y)) > 1 and len(np.unique(pred)) > 1 else NIL,
    }
    prfs = skm.precision_recall_fscore_support
    for avg in ("macro", "micro", "weighted"):
        pr, rc, f1, _ = prfs(y, pred, average=avg, zero_division=0)
        r["precision_" + avg], r["recall_" + avg], r["f1_" + avg] = pr, rc, f1
    if never_pred:
        r["precision_macro"] = NIL
    if never_true:
        r["recall_macro"] = NIL
    if any(sup[c] > 0 and npred[c] == 0 for c in L):
        r["precision_weighted"] = NIL
    labs = list(range(k))
    pc, rc, fc, _ = prfs(y, pred, labels=labs, average=None, zero_division=0)
    for c in range(k):
        nm = names[c]
        r["precision[class=%s]" % nm] = pc[c] if npred[c] else NIL
        r["recall[class=%s]" % nm] = rc[c] if sup[c] else NIL
        r["f1[class=%s]" % nm] = fc[c] if sup[c] + npred[c] else NIL
        r["support[class=%s]" % nm] = sup[c]
        if P is not None:
            r["auroc[class=%s]" % nm] = skm.roc_auc_score(y == c, P[:, c]) \
                if 0 < sup[c] < len(y) else NIL
    if P is not None:
        r["log_loss"] = skm.log_loss(y, P, labels=labs)
        if np.all(sup > 0):
            if k > 2:
                r["auroc_ovr_macro"] = skm.roc_auc_score(
                    y, P, multi_class="ovr", average="macro", labels=labs)
            else:
                r["auroc_ovr_macro"] = np.mean(
                    [skm.roc_auc_score(y == c, P[:, c]) for c in range(k)])
        else:
            r["auroc_ovr_macro"] = NIL
    cm = skm.confusion_matrix(y, pred, labels=labs)
    for a in range(k):
        for b in range(k):
            r["confusion[true=%s,pred=%s]" % (names[a], names[b])] = cm[a, b]
    return {m: f(v) for m, v in r.items()}


def mc_case(rng, i, k):
    """Class labels and float32 probability rows."""
    kind = ["soft", "ties", "perfect", "one-class", "absent", "uniform"][i % 6]
    n = int(rng.choice([1, 2, 3, 5, 9, 30, 120]))
    p = np.array([0.5, 0.25, 0.15, 0.07, 0.03][:k])
    y = rng.choice(k, size=n, p=p / p.sum())
    if kind == "one-class":
        y[:] = y[0]
    elif kind == "absent":
        y[y == k - 1] = 0
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.2
    if kind == "ties":
        logits = np.round(logits)
    elif kind == "uniform":
        logits[:] = 0
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    P = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    if kind == "perfect":
        P = np.eye(k, dtype=np.float32)[y]
    return y, P


def fmt32(x):
    return repr(float(np.float32(x)))


# ---- gen / cmp ----------------------------------------------------------------

def gen(outdir):
    rng = np.random.default_rng(20240607)
    runs, ref = [], {}

    # binary: 132 data sets, one file, three threshold settings, and a
    # fourth run with given predictions
    cases = [bin_case(rng, i) for i in range(132)]
    with open(os.path.join(outdir, "bin.tsv"), "w") as fp:
        fp.write("case:int\tlabel:int\tscore:float\tpred:int\n")
        for c, (y, s) in enumerate(cases):
            for a, b in zip(y, s):
                fp.write("%d\t%d\t%r\t%d\n" % (c, a, float(b),
                         int(b >= 0.6) if (c + int(a)) % 5 else 1 - a))
    Y = np.concatenate([y for y, _ in cases])
    S = np.concatenate([s for _, s in cases])
    Pred = np.array([int(b >= 0.6) if (c + int(a)) % 5 else 1 - a
                     for c, (y, s) in enumerate(cases) for a, b in zip(y, s)])
    Case = np.concatenate([np.full(len(y), c) for c, (y, _) in enumerate(cases)])
    setting = [("bin-05", "", 0.5, 10), ("bin-youden", "--threshold youden --tune-on-scored", "youden", 10),
               ("bin-f1", "--threshold f1 --tune-on-scored", "f1", 10),
               ("bin-pred", "--pred pred --bins 7", None, 7)]
    for name, args, rule, bins in setting:
        runs.append("%s %s bin.tsv" % (name, args))
        sel = lambda m: None if rule is not None else Pred[m]
        r = {"overall": binary_ref(Y, S, rule, bins, sel(slice(None)))}
        for c in range(len(cases)):
            m = Case == c
            r["case=%d" % c] = binary_ref(Y[m], S[m], rule, bins, sel(m))
        ref[name] = r

    # multi-class with probabilities: k = 3 and k = 5, 30 data sets each
    for k in (3, 5):
        cases = [mc_case(rng, i, k) for i in range(30)]
        name = "mc%d" % k
        with open(os.path.join(outdir, name + ".tsv"), "w") as fp:
            fp.write("case:int\tlabel:int\tscore:f32[%d]\n" % k)
            for c, (y, P) in enumerate(cases):
                for a, row in zip(y, P):
                    fp.write("%d\t%d\t%s\n" % (c, a, ",".join(fmt32(x) for x in row)))
        runs.append("%s  %s.tsv" % (name, name))
        names = [str(c) for c in range(k)]
        Y = np.concatenate([y for y, _ in cases])
        P = np.concatenate([p for _, p in cases]).astype(np.float64)
        r = {"overall": multi_ref(Y, P.argmax(axis=1), P, k, names)}
        for c, (y, p) in enumerate(cases):
            p = p.astype(np.float64)
            r["case=%d" % c] = multi_ref(y, p.argmax(axis=1), p, k, names)
        ref[name] = r

    # multi-class, predicted classes only, str names (sorted by metrics)
    names = ["delta", "alpha", "gamma", "beta"]
    order = sorted(range(4), key=lambda c: names[c])
    rank = {c: i for i, c in enumerate(order)}
    cases = []
    for i in range(30):
        y, P = mc_case(rng, i, 4)
        pred = np.where(rng.random(len(y)) < 0.6, y, rng.choice(4, size=len(y)))
        cases.append((y, pred))
    with open(os.path.join(outdir, "mcpred.tsv"), "w") as fp:
        fp.write("case:int\tlabel:str\tpred:str\n")
        for c, (y, pred) in enumerate(cases):
            for a, b in zip(y, pred):
                fp.write("%d\t%s\t%s\n" % (c, names[a], names[b]))
        for a in range(4):      # every name occurs: the class set is fixed
            fp.write("99\t%s\t%s\n" % (names[a], names[a]))
    cases.append((np.arange(4), np.arange(4)))
    runs.append("mcpred  mcpred.tsv")
    srt = [names[c] for c in order]
    remap = lambda v: np.array([rank[c] for c in v], dtype=int)
    Y = remap(np.concatenate([y for y, _ in cases]))
    Pr = remap(np.concatenate([p for _, p in cases]))
    r = {"overall": multi_ref(Y, Pr, None, 4, srt)}
    for c, (y, p) in enumerate(cases):
        r["case=%d" % (c if c < 30 else 99)] = multi_ref(remap(y), remap(p), None, 4, srt)
    ref["mcpred"] = r

    with open(os.path.join(outdir, "ref.json"), "w") as fp:
        json.dump(ref, fp, sort_keys=True)
    with open(os.path.join(outdir, "runs"), "w") as fp:
        fp.write("\n".join(runs) + "\n")
    n = sum(len(v) - 1 for v in ref.values())
    print("%d runs, %d groups" % (len(ref), n))


def read_out(path):
    """{group: {metric: (value or None, row dict)}} of `metrics -T` output."""
    rows = {}
    with open(path) as fp:
        lines = [l.rstrip("\n") for l in fp if not l.startswith("#")]
    head = [h.split(":")[0] for h in lines[0].split("\t")]
    for l in lines[1:]:
        d = dict(zip(head, l.split("\t")))
        v = None if d["value"] == "" else float(d["value"])
        rows.setdefault(d["group"], {})[d["metric"]] = (v, d)
    return rows


def cmp_run(name, ref, out):
    bad = checked = 0
    if sorted(ref) != sorted(out):
        print("%s: groups differ: want %s got %s" % (name, sorted(ref), sorted(out)))
        return 1, 0
    for g in ref:
        if sorted(ref[g]) != sorted(out[g]):
            print("%s %s: metrics differ: want %s got %s" % (
                name, g, sorted(ref[g]), sorted(out[g])))
            bad += 1
            continue
        for m, want in ref[g].items():
            got, row = out[g][m]
            checked += 1
            nil_ok = (row["reason"] not in ("", "\\N")) == (got is None)
            if want is None or got is None:
                if want is not got:
                    print("%s %s %s: want %r got %r" % (name, g, m, want, got))
                    bad += 1
            elif not abs(got - want) <= TOL:
                print("%s %s %s: want %.17g got %.17g (diff %.3g)" % (
                    name, g, m, want, got, got - want))
                bad += 1
            if not nil_ok:
                print("%s %s %s: reason %r with value %r" % (
                    name, g, m, row["reason"], got))
                bad += 1
    return bad, checked


def cmp(outdir):
    ref = json.load(open(os.path.join(outdir, "ref.json")))
    bad = checked = groups = 0
    for name in ref:
        b, c = cmp_run(name, ref[name], read_out(os.path.join(outdir, name + ".out")))
        bad += b
        checked += c
        groups += len(ref[name]) - 1
    print("checked %d values in %d groups of %d runs, %d bad" % (
        checked, groups, len(ref), bad))
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
    """Recompute a binary bootstrap with sklearn on the same resamples:
    rows sorted by score (descending, stable), drawn within each class
    (negatives first), n_c draws of below(n_c) per class."""
    y, s = [], []
    with open(inpath) as fp:
        head = [h.split(":")[0] for h in next(fp).rstrip("\n").split("\t")]
        yi, si = head.index("label"), head.index("score")
        for l in fp:
            t = l.rstrip("\n").split("\t")
            y.append(int(t[yi]))
            s.append(float(t[si]))
    y, s = np.array(y), np.array(s)
    order = np.argsort(-s, kind="stable")
    y, s = y[order], s[order]
    strata = [np.flatnonzero(y == 0), np.flatnonzero(y == 1)]
    rng = Rng(seed)
    fns = {
        "auroc": lambda yy, ss: skm.roc_auc_score(yy, ss),
        "auprc": lambda yy, ss: skm.average_precision_score(yy, ss),
        "accuracy": lambda yy, ss: skm.accuracy_score(yy, ss >= 0.5),
        "mcc": lambda yy, ss: skm.matthews_corrcoef(yy, ss >= 0.5),
        "brier": lambda yy, ss: skm.brier_score_loss(yy, ss),
        "log_loss": lambda yy, ss: skm.log_loss(yy, ss, labels=[0, 1]),
        "prevalence": lambda yy, ss: yy.mean(),
    }
    vals = {m: [] for m in fns}
    for _ in range(reps):
        idx = np.array([rows[rng.below(len(rows))] for rows in strata
                        for _ in range(len(rows))])
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
        gen(sys.argv[2])
    elif sys.argv[1] == "cmp":
        sys.exit(cmp(sys.argv[2]))
    elif sys.argv[1] == "boot":
        sys.exit(boot(sys.argv[2], sys.argv[3], int(sys.argv[4]),
                      int(sys.argv[5]), float(sys.argv[6])))
